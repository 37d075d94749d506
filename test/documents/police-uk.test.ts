import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  OUTCOMES_HEADERS,
  parseOutcomeRow,
  parseStreetRow,
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

describe('police.uk rows', () => {
  it('parses a street row, an ASB row without Crime ID and a row without location', () => {
    const rows = parse(fs.readFileSync(STREET, 'utf8')) as string[][];
    const withId = parseStreetRow(rows[1]!, 2);
    expect(withId).toMatchObject({
      line: 2,
      month: '2022-01',
      reportedBy: 'Hertfordshire Constabulary',
      crimeType: 'Violence and sexual offences',
      longitude: -0.667245,
      latitude: 51.817719,
      lsoaCode: 'E01017651',
      lsoaName: 'Aylesbury Vale 009A',
      context: null,
    });
    expect(withId.crimeId).toMatch(/^[0-9a-f]{64}$/);

    const asbIndex = rows.findIndex((r) => r[0] === '' && r[9] === 'Anti-social behaviour');
    const asb = parseStreetRow(rows[asbIndex]!, asbIndex + 1);
    expect(asb.crimeId).toBeNull();
    expect(asb.lastOutcomeCategory).toBeNull();

    const noLocationIndex = rows.findIndex((r, i) => i > 0 && r[4] === '');
    const noLocation = parseStreetRow(rows[noLocationIndex]!, noLocationIndex + 1);
    expect(noLocation).toMatchObject({ longitude: null, latitude: null, lsoaCode: null, lsoaName: null });
  });

  it('parses an outcomes row', () => {
    const [, row] = firstLines(OUTCOMES, 2);
    expect(parseOutcomeRow(row!, 2)).toMatchObject({
      line: 2,
      month: '2022-01',
      outcomeType: 'Investigation complete; no suspect identified',
      location: 'No location',
      longitude: null,
    });
  });

  it('names the line of a corrupted row', () => {
    const [, row] = firstLines(STREET, 2);
    const badMonth = [...row!];
    badMonth[1] = '2022-13';
    expect(() => parseStreetRow(badMonth, 57)).toThrow(/^line 57: "Month" must be YYYY-MM, not "2022-13"\.$/);
    const badLongitude = [...row!];
    badLongitude[4] = 'west';
    expect(() => parseStreetRow(badLongitude, 9)).toThrow(/^line 9: "Longitude" is not a coordinate/);
    const halfLocation = [...row!];
    halfLocation[5] = '';
    expect(() => parseStreetRow(halfLocation, 10)).toThrow(/^line 10: "Longitude" and "Latitude"/);
    const noType = [...row!];
    noType[9] = '';
    expect(() => parseStreetRow(noType, 11)).toThrow(/^line 11: "Crime type" is empty\.$/);
    const [, outcome] = firstLines(OUTCOMES, 2);
    const noCrimeId = [...outcome!];
    noCrimeId[0] = '';
    expect(() => parseOutcomeRow(noCrimeId, 12)).toThrow(/^line 12: "Crime ID" is empty\.$/);
  });

  it('names the line of the last row of a file cut mid-row', () => {
    const text = fs.readFileSync(STREET, 'utf8');
    const lines = text.split('\n');
    // Cut line 101 halfway: what a broken download leaves.
    const cut = `${lines.slice(0, 100).join('\n')}\n${lines[100]!.slice(0, 80)}`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-')), 'cut.csv');
    fs.writeFileSync(file, cut);
    const rows = parse(fs.readFileSync(file, 'utf8'), { relax_column_count: true }) as string[][];
    expect(rows).toHaveLength(101);
    for (let i = 1; i < 100; i++) expect(() => parseStreetRow(rows[i]!, i + 1)).not.toThrow();
    expect(() => parseStreetRow(rows[100]!, 101)).toThrow(
      /^line 101: expected 12 fields, found \d+ \(is the file cut short\?\)\.$/,
    );
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
