/**
 * DEFRA's LA_incidents and LA_actions sheets for Hertfordshire (src/demo/evidence), as published:
 * ':' for a figure not available, names and a header with trailing spaces, 'East' and 'Eastern'.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { defraFigure, readDefraFlyTipping, type DefraRead } from '../../src/documents/defra-fly-tipping.js';
import { incidentTableCsv, perThousand } from '../../src/documents/incident-charts.js';

const file = (name: string) => fileURLToPath(new URL(`../../src/demo/evidence/${name}`, import.meta.url));
const INCIDENTS = file('LA_incidents_hertfordshire.csv');
const ACTIONS = file('LA_actions_hertfordshire.csv');

function ok(result: DefraRead) {
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result;
}

const incidents = ok(readDefraFlyTipping(fs.readFileSync(INCIDENTS)));
const actions = ok(readDefraFlyTipping(fs.readFileSync(ACTIONS)));
const row = (read: typeof incidents, code: string, year: string) =>
  read.rows.find((r) => r.onsCode === code && r.year === year)!;

describe("DEFRA's sheets by local authority", () => {
  it('tells the two sheets apart by their headers and keeps every row', () => {
    expect(incidents.kind).toBe('incidents');
    expect(actions.kind).toBe('actions');
    expect(incidents.rows).toHaveLength(100);
    expect(actions.rows).toHaveLength(100);
    expect(incidents.years).toEqual([
      '2012-13',
      '2013-14',
      '2014-15',
      '2015-16',
      '2016-17',
      '2017-18',
      '2018-19',
      '2019-20',
      '2020-21',
      '2021-22',
    ]);
  });

  it("reads Stevenage's headline figures", () => {
    expect(row(incidents, 'E07000243', '2012-13')).toMatchObject({
      authority: 'Stevenage',
      region: 'East',
      total: 2403,
    });
    expect(row(incidents, 'E07000243', '2021-22')).toMatchObject({ region: 'Eastern', total: 3223 });
    expect(row(actions, 'E07000243', '2012-13').total).toBe(2650);
  });

  it("turns ':' into null", () => {
    const stevenage = row(incidents, 'E07000243', '2012-13').figures;
    expect(stevenage['Mid population estimates']).toBeNull();
    expect(stevenage['Incidents per 1,000 people']).toBeNull();
    expect(
      row(actions, 'E07000095', '2012-13').figures[
        'Fixed Penalty Notices issued specifically for fly-tipping'
      ],
    ).toBeNull();
  });

  it('trims authority names and headers that end in spaces', () => {
    // As published: "North Hertfordshire  " (two trailing spaces) in 2019-20, and the population header.
    const raw = parse(fs.readFileSync(INCIDENTS, 'utf8')) as string[][];
    expect(raw[0]).toContain('Mid population estimates ');
    const published = raw.find((r) => r[0] === '2019-20' && r[1] === 'E07000099')!;
    expect(published[2]).toBe('North Hertfordshire  ');
    const read = row(incidents, 'E07000099', '2019-20');
    expect(read.authority).toBe('North Hertfordshire');
    expect(read.figures['Mid population estimates']).toBe(133570);
    expect(read.figures).not.toHaveProperty('Mid population estimates ');
  });

  it('reads numbers with thousands separators and keeps text as text', () => {
    expect(defraFigure('1,234')).toBe(1234);
    expect(defraFigure(' : ')).toBeNull();
    expect(defraFigure('[x]')).toBeNull();
    expect(defraFigure('36.0837438423645')).toBeCloseTo(36.08, 2);
    expect(row(incidents, 'E07000243', '2021-22').figures['Reporting basis']).toBe('All incidents');
  });

  it('refuses a file that is not one of the sheets, and a bad row by line and column', () => {
    expect(readDefraFlyTipping('Year,ONS Code,LA Name\n2021-22,E07000243,Stevenage\n')).toMatchObject({
      ok: false,
      problems: [{ line: 1 }],
    });
    const header = 'Year,ONS Code,LA Name,Region,Total Incidents\n';
    expect(
      readDefraFlyTipping(
        `${header}2021-22,E07000243,Stevenage,East,3223\n2021/22,E07000099,North Herts,East,lots\n`,
      ),
    ).toEqual({
      ok: false,
      problems: [
        { line: 3, column: 'Year', message: '“2021/22” is not a financial year like 2021-22' },
        { line: 3, column: 'Total Incidents', message: '“lots” is not a number of incidents' },
      ],
    });
  });

  it('works out incidents per 1,000 people as DEFRA does, where it gives a population', () => {
    const withPopulation = incidents.rows.filter((r) => r.figures['Mid population estimates'] !== null);
    expect(withPopulation.map((r) => r.year)).not.toContain('2018-19');
    expect(withPopulation).toHaveLength(30);
    for (const r of withPopulation) {
      const rate = perThousand(r.total, r.figures['Mid population estimates'] as number);
      expect(rate).toBeCloseTo(r.figures['Incidents per 1,000 people'] as number, 1);
    }
  });

  it('quotes text a spreadsheet would run as a formula in a downloaded table', () => {
    const csv = incidentTableCsv({
      id: 'defra-incidents',
      caption: '',
      columns: [],
      rows: [],
      empty: '',
      csv: [
        ['Authority', '2021-22'],
        ['=HYPERLINK("x")', -3],
      ],
    });
    expect(csv).toBe('\uFEFFAuthority,2021-22\n"\'=HYPERLINK(""x"")",-3\n');
  });
});
