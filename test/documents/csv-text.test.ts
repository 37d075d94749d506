/**
 * CSV downloads of the dashboard's and the evidence pages' tables: a heading from people or an
 * imported file that a spreadsheet would run as a formula is written with a leading apostrophe;
 * the app's own figures ("+1", "-2") are written as they are.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvText } from '../../src/documents/csv-text.js';
import { tableCsv } from '../../src/documents/dashboard-tables.js';
import { trendTableCsv } from '../../src/documents/trend-tables.js';

const read = (csv: string) => parse(csv, { bom: true }) as string[][];

describe('CSV text', () => {
  it('neutralises formula starts, and only those', () => {
    expect(['=1+1', '+44 1438', '-x', '@SUM(A1)', '\tx', '\uFF1D1'].map(csvText)).toEqual([
      "'=1+1",
      "'+44 1438",
      "'-x",
      "'@SUM(A1)",
      "'\tx",
      "'\uFF1D1",
    ]);
    expect(['Stevenage 001A', 'Anti-social behaviour', '', "'quoted"].map(csvText)).toEqual([
      'Stevenage 001A',
      'Anti-social behaviour',
      '',
      "'quoted",
    ]);
  });

  it('guards the dashboard’s headings and leaves its changes as figures', () => {
    const csv = tableCsv({
      id: 'by-section',
      caption: 'Statuses by section',
      columns: [
        { label: 'Section', numeric: false },
        { label: 'On track', numeric: true },
      ],
      rows: [{ header: '=HYPERLINK("http://example.org","x")', cells: [{ text: '3', change: '\u22122' }] }],
      changeLabel: 'change since Q2',
      empty: '',
    });
    expect(read(csv)).toEqual([
      ['Section', 'On track', 'On track change since Q2'],
      ['\'=HYPERLINK("http://example.org","x")', '3', '-2'],
    ]);
  });

  it('guards the trend tables’ headings (neighbourhoods, types) from the files', () => {
    const csv = trendTableCsv({
      id: 'hotspots-3',
      caption: 'Hotspots',
      columns: [
        { label: 'Neighbourhood', numeric: false },
        { label: 'Crimes', numeric: true },
      ],
      rows: [{ header: '@cmd', cells: ['12'] }],
      empty: '',
    });
    expect(read(csv)).toEqual([
      ['Neighbourhood', 'Crimes'],
      ["'@cmd", '12'],
    ]);
  });
});
