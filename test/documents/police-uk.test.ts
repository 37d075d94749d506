import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  CsvRowSplitter,
  lineOfRow,
  mayHoldHexNumber,
  mayHoldSpaceAtValueEnd,
  OUTCOMES_HEADERS,
  PoliceUkFileError,
  recognisePoliceUkHeader,
  STREET_HEADERS,
} from '../../src/documents/police-uk.js';

const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));
const STREET = path.join(DATA, '2022-01-hertfordshire-street.csv');
const OUTCOMES = path.join(DATA, '2022-01-hertfordshire-outcomes.csv');

function firstLines(file: string, n: number): string[][] {
  const text = fs.readFileSync(file, 'utf8').split('\n').slice(0, n).join('\n');
  return parse(text) as string[][];
}

describe('police.uk headers', () => {
  it('recognises the real street and outcomes files by their header rows', () => {
    expect(recognisePoliceUkHeader(firstLines(STREET, 1)[0]!)).toBe('street');
    expect(recognisePoliceUkHeader(firstLines(OUTCOMES, 1)[0]!)).toBe('outcomes');
  });

  it('refuses unknown, reordered or extra headers, naming the expected ones', () => {
    const reordered = [...STREET_HEADERS].reverse();
    const extra = [...OUTCOMES_HEADERS, 'Notes'];
    const renamed = STREET_HEADERS.map((h) => (h === 'Crime type' ? 'Crime Type' : h));
    for (const headers of [reordered, extra, renamed, ['a', 'b']]) {
      expect(() => recognisePoliceUkHeader(headers)).toThrow(PoliceUkFileError);
    }
    expect(() => recognisePoliceUkHeader(renamed)).toThrow(
      /line 1: the headers are not those of a police\.uk street or outcomes file.*Crime ID,Month,Reported by/,
    );
  });
});

/** Every chunk of whole rows the splitter gives for `text` read `size` bytes at a time, joined. */
function split(text: string, size: number): { rows: string[][]; counted: number } {
  const splitter = new CsvRowSplitter({ skipHeader: true });
  const bytes = Buffer.from(text);
  const chunks: string[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    const chunk = splitter.push(bytes.subarray(at, at + size));
    if (chunk) {
      const body = chunk.toString();
      // Each chunk ends at a row's end (or is the last row); never inside a quoted field.
      expect(body.endsWith('\n')).toBe(true);
      chunks.push(body);
    }
  }
  const last = splitter.end();
  if (last) chunks.push(last.toString());
  return { rows: parse(chunks.join('')) as string[][], counted: splitter.rows };
}

describe('splitting a police.uk file into whole rows', () => {
  it('gives back every row of the real file, header left out, whatever the read size', () => {
    const text = fs.readFileSync(STREET, 'utf8');
    const expected = (parse(text) as string[][]).slice(1);
    for (const size of [13, 4096, 1024 * 1024]) {
      const { rows, counted } = split(text, size);
      expect(rows).toEqual(expected);
      expect(counted).toBe(expected.length);
    }
  });

  it('never ends a chunk inside a quoted field holding a line break or a doubled quote', () => {
    const text = 'h1,h2\r\na,"one\r\ntwo ""quoted"" \nthree"\r\nb,"x,y"\r\n"c\n",d';
    for (let size = 1; size <= text.length; size++) {
      expect(split(text, size).rows).toEqual([
        ['a', 'one\r\ntwo "quoted" \nthree'],
        ['b', 'x,y'],
        ['c\n', 'd'],
      ]);
    }
  });

  it('drops blank lines at the end of the file but passes on a blank line between rows', () => {
    for (let size = 1; size <= 12; size++) {
      expect(split('h\na\nb\n\r\n\n', size)).toEqual({ rows: [['a'], ['b']], counted: 4 });
      const splitter = new CsvRowSplitter({ skipHeader: true });
      const chunks = [splitter.push(Buffer.from('h\na\n\nb\n')), splitter.end()];
      expect(Buffer.concat(chunks.filter((c) => c !== undefined)).toString()).toBe('a\n\nb\n');
    }
  });

  it('gives nothing for a file of only a header, with or without its line break', () => {
    for (const text of ['h1,h2', 'h1,h2\n', 'h1,h2\r\n\r\n']) {
      const splitter = new CsvRowSplitter({ skipHeader: true });
      expect(splitter.push(Buffer.from(text))).toBeUndefined();
      expect(splitter.end()).toBeUndefined();
    }
  });
});

describe('the line a row starts on', () => {
  it('counts the lines of the rows before, a quoted line break included', async () => {
    const text = 'h1,h2\na,"one\ntwo"\nb,c\r\n"d\n\n",e\nf,g\n';
    const lineOf = (row: number) => lineOfRow([Buffer.from(text)], row);
    expect(await Promise.all([1, 2, 3, 4].map(lineOf))).toEqual([2, 4, 5, 8]);
  });
});

describe('a value that may end with a space', () => {
  const whole = (text: string, rows: number) => mayHoldSpaceAtValueEnd(Buffer.from(text), rows);

  it('says no for the real file, as the fast path reads it, and for values with spaces inside', () => {
    const text = fs.readFileSync(STREET, 'utf8');
    const body = text.slice(text.indexOf('\n') + 1);
    const rows = body.trimEnd().split('\n').length;
    expect(whole(body, rows)).toBe(false);
    expect(whole('a b,c d,"e, f"\r\ng h,,""\r\n', 2)).toBe(false);
    expect(whole('a,b\nc,d', 2)).toBe(false); // the last row without its line break
  });

  it('says yes for a space or tab at any value’s end, a lone carriage return, or a quoted line break', () => {
    for (const [text, rows] of [
      ['a ,b\n', 1], // before a comma
      ['a,b\t\n', 1], // before the line's end
      ['a,b \r\n', 1], // before a Windows line end
      ['a,"b "\n', 1], // before a closing quote
      ['a,b\nc,d ', 2], // at the file's end
      ['a,b\rc\n', 1], // a carriage return inside a value
      ['a,"b\nc"\n', 1], // a quoted line break (and perhaps one at a value's end)
    ] as const) {
      expect(whole(text, rows), JSON.stringify(text)).toBe(true);
    }
  });
});

describe('a number in hexadecimal', () => {
  it('is seen wherever "0x" is, and not in the real file', () => {
    expect(mayHoldHexNumber(Buffer.from('a,0x1A,b\n'))).toBe(true);
    expect(mayHoldHexNumber(Buffer.from('a, 0X10,b\n'))).toBe(true);
    expect(mayHoldHexNumber(fs.readFileSync(STREET))).toBe(false);
  });
});
