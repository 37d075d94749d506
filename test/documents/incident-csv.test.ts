/**
 * A council's CSV of fly-tipping and graffiti (test/fixtures/council): a semicolon file with a BOM,
 * a quoted cell over two lines, dates in six forms (an Excel day number among them) and an empty
 * one; a file of monthly totals with a thousands separator; a date that does not exist.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkMapping,
  countIncidents,
  guessMapping,
  parseIncidentMonth,
  readCouncilCsv,
  type CouncilCsv,
  type IncidentMapping,
} from '../../src/documents/incident-csv.js';

const fixture = (name: string) =>
  fs.readFileSync(fileURLToPath(new URL(`../fixtures/council/${name}`, import.meta.url)));

function read(name: string): CouncilCsv {
  const result = readCouncilCsv(fixture(name));
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.csv;
}

const STREET_MAPPING: IncidentMapping = {
  dateColumn: 'Date Received',
  kindColumn: 'Category',
  wholeKind: null,
  flyTippingValues: ['Fly tipping'],
  graffitiValues: ['Graffiti - offensive'],
  countColumn: null,
  skipUnreadable: false,
};

describe('dates as councils write them', () => {
  it.each([
    ['2024-05-03', '2024-05'],
    ['03/05/2024', '2024-05'],
    ['3/5/24', '2024-05'],
    ['03.05.2024', '2024-05'],
    ['3 May 2024', '2024-05'],
    ['Friday 3rd May 2024', '2024-05'],
    ['May 2024', '2024-05'],
    ['May-24', '2024-05'],
    ['Sept 2023', '2023-09'],
    ['2024-05', '2024-05'],
    ['05/2024', '2024-05'],
    ['45415', '2024-05'],
    ['45658.5', '2025-01'],
    ['2024-05-31T23:10:00Z', '2024-05'],
    ['07/08/2024 09:15', '2024-08'],
  ])('reads %s as %s (day first)', (text, month) => {
    expect(parseIncidentMonth(text)).toBe(month);
  });

  it.each(['31/02/2024', '2024-04-31', '13/13/2024', 'Maybe 2024', '', '12', '1899-12-31', '100000'])(
    'refuses %s',
    (text) => {
      expect(parseIncidentMonth(text)).toBeUndefined();
    },
  );
});

describe('reading a council file', () => {
  it('reads a semicolon file with a BOM, naming each row by the line it starts on', () => {
    const csv = read('street-scene-reports.csv');
    expect(csv.delimiter).toBe(';');
    expect(csv.columns).toEqual(['Ref', 'Date Received', 'Category', 'Ward', 'Notes']);
    expect(csv.rows).toHaveLength(9);
    expect(csv.rows[0]).toEqual({
      line: 2,
      cells: ['SS-101', '03/05/2024', 'Fly tipping', 'Bedwell', 'Mattress; two bags'],
    });
    // SS-105's note runs over lines 6 and 7; the rows after it keep their own lines.
    expect(csv.rows.map((r) => [r.cells[0], r.line])).toContainEqual(['SS-105', 6]);
    expect(csv.rows.map((r) => [r.cells[0], r.line])).toContainEqual(['SS-108', 10]);
  });

  it('refuses an empty file and a header with no rows', () => {
    expect(readCouncilCsv(Buffer.from(''))).toEqual({
      ok: false,
      problems: [{ message: 'the file is empty' }],
    });
    expect(readCouncilCsv(Buffer.from('Date,Type\n'))).toMatchObject({ ok: false });
  });

  it('reads Windows-1252 text as Excel writes it, and names repeated or empty headers apart', () => {
    const result = readCouncilCsv(
      Buffer.from('Date,Type,Type,\n01/04/2024,Caf\xe9 graffiti,x,y\n', 'latin1'),
    );
    expect(result).toMatchObject({
      ok: true,
      csv: {
        columns: ['Date', 'Type', 'Type (2)', 'Column 4'],
        rows: [{ line: 2, cells: ['01/04/2024', 'Café graffiti', 'x', 'y'] }],
      },
    });
  });
});

describe('counting with a mapping', () => {
  it('refuses the file when a date cannot be read, naming its line and column', () => {
    const result = countIncidents(read('street-scene-reports.csv'), STREET_MAPPING);
    expect(result).toEqual({
      ok: false,
      problems: [{ line: 10, column: 'Date Received', message: 'the date is empty' }],
    });
  });

  it('counts by kind and month when unreadable rows are left out, zeros for months with none', () => {
    const result = countIncidents(read('street-scene-reports.csv'), {
      ...STREET_MAPPING,
      skipUnreadable: true,
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { counts } = result;
    expect(counts.kinds).toEqual(['fly_tipping', 'graffiti']);
    expect([counts.firstMonth, counts.lastMonth]).toEqual(['2024-05', '2024-08']);
    expect(counts.counts.map((c) => `${c.kind} ${c.month} ${c.incidents}`)).toEqual([
      'fly_tipping 2024-05 2',
      'fly_tipping 2024-06 1',
      'fly_tipping 2024-07 0',
      'fly_tipping 2024-08 1',
      'graffiti 2024-05 1',
      'graffiti 2024-06 1',
      'graffiti 2024-07 0',
      'graffiti 2024-08 1',
    ]);
    expect(counts.rowsCounted).toBe(7);
    expect(counts.ignored).toEqual([{ value: 'Abandoned vehicle', rows: 1, lines: [5] }]);
    expect(counts.unreadable).toEqual([{ line: 10, column: 'Date Received', message: 'the date is empty' }]);
  });

  it('adds up a file of monthly totals of one kind, thousands separators included', () => {
    const csv = read('monthly-totals.csv');
    const result = countIncidents(csv, {
      dateColumn: 'Month',
      kindColumn: null,
      wholeKind: 'fly_tipping',
      flyTippingValues: [],
      graffitiValues: [],
      countColumn: 'Fly-tips cleared',
      skipUnreadable: false,
    });
    expect(result.ok && result.counts.counts).toEqual([
      { kind: 'fly_tipping', month: '2024-04', incidents: 1204 },
      { kind: 'fly_tipping', month: '2024-05', incidents: 97 },
      { kind: 'fly_tipping', month: '2024-06', incidents: 0 },
      { kind: 'fly_tipping', month: '2024-07', incidents: 112 },
    ]);
  });

  it('names a day that does not exist by its line, CRLF line ends and all', () => {
    const result = countIncidents(read('bad-date.csv'), {
      ...STREET_MAPPING,
      dateColumn: 'Date',
      kindColumn: 'Type',
      flyTippingValues: ['fly-tipping'],
      graffitiValues: ['GRAFFITI'],
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([
      expect.objectContaining({
        line: 4,
        column: 'Date',
        message: expect.stringContaining('“2024-04-31” is not a date'),
      }),
    ]);
  });

  it('checks the mapping against the columns', () => {
    const columns = read('street-scene-reports.csv').columns;
    expect(checkMapping(columns, STREET_MAPPING)).toEqual([]);
    expect(
      checkMapping(columns, { ...STREET_MAPPING, dateColumn: 'When', graffitiValues: ['fly TIPPING'] }).map(
        (p) => p.field,
      ),
    ).toEqual(['dateColumn', 'graffitiValues']);
    expect(checkMapping(columns, { ...STREET_MAPPING, kindColumn: null }).map((p) => p.field)).toEqual([
      'kindColumn',
    ]);
  });

  it('guesses a first mapping from the column names and values', () => {
    expect(guessMapping(read('street-scene-reports.csv'))).toEqual({
      ...STREET_MAPPING,
      flyTippingValues: ['Fly tipping'],
      graffitiValues: ['Graffiti - offensive'],
    });
  });
});
