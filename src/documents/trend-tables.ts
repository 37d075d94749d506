/**
 * The police.uk trends' tables, once: the page shows them beside the charts and each downloads as
 * a CSV (GET /p/:slug/evidence/crime/:table.csv), so a table and its CSV never disagree. Pure.
 */
import { stringify } from 'csv-stringify/sync';
import { csvText } from './csv-text.js';
import { monthLabel, monthRange, shareOf } from '../domain/police-trends.js';

export interface TrendMonth {
  month: string;
  area: number;
  force: number;
}

/** What the tables are made from (the service's CrimeTrends, or a part of it). */
export interface TrendFigures {
  force: string | null;
  months: string[];
  totals: TrendMonth[];
  byType: { crimeType: string; area: number; force: number; monthly: TrendMonth[] }[];
  priorities: {
    priorityId: number;
    title: string;
    crimeTypes: string[];
    area: number;
    force: number;
    monthly: TrendMonth[];
  }[];
  hotspots: { recent: HotspotFigures; year: HotspotFigures };
  outcomes: {
    months: string[];
    monthsWithOutcomes: string[];
    rows: { outcomeType: string; outcomes: number }[];
    total: number;
  };
}

interface HotspotFigures {
  months: string[];
  rows: { lsoaCode: string; lsoaName: string; crimes: number; topCrimeType: string; topCrimes: number }[];
  lsoas: number;
  withoutLocation: number;
}

export interface TrendColumn {
  label: string;
  numeric: boolean;
}

export interface TrendRow {
  header: string;
  cells: string[];
  /** A total, or a line that is not ranked with the others (crimes with no location). */
  total?: boolean;
}

export interface TrendTable {
  id: string;
  caption: string;
  columns: TrendColumn[];
  rows: TrendRow[];
  /** What to say when the table has no rows. */
  empty: string;
}

const n = (value: number) => String(value);
const SHARE = 'Area’s share of the force';

/** Month by month, area beside force, with the area's share. */
export function monthlyTable(id: string, caption: string, series: readonly TrendMonth[]): TrendTable {
  const sum = (key: 'area' | 'force') => series.reduce((s, m) => s + m[key], 0);
  return {
    id,
    caption,
    columns: [
      { label: 'Month', numeric: false },
      { label: 'Area', numeric: true },
      { label: 'Force', numeric: true },
      { label: SHARE, numeric: true },
    ],
    rows: [
      ...series.map((m) => ({
        header: monthLabel(m.month),
        cells: [n(m.area), n(m.force), shareOf(m.area, m.force)],
      })),
      ...(series.length > 1
        ? [
            {
              header: 'All months',
              cells: [n(sum('area')), n(sum('force')), shareOf(sum('area'), sum('force'))],
              total: true,
            },
          ]
        : []),
    ],
    empty: 'No police.uk data is imported for the area yet.',
  };
}

function hotspotTable(id: string, caption: string, h: HotspotFigures): TrendTable {
  return {
    id,
    caption,
    columns: [
      { label: 'Neighbourhood (LSOA)', numeric: false },
      { label: 'LSOA code', numeric: false },
      { label: 'Crimes', numeric: true },
      { label: 'Most common crime type', numeric: false },
      { label: 'Crimes of that type', numeric: true },
    ],
    rows: [
      ...h.rows.map((r) => ({
        header: r.lsoaName,
        cells: [r.lsoaCode, n(r.crimes), r.topCrimeType, n(r.topCrimes)],
      })),
      ...(h.rows.length
        ? [
            {
              header: 'No location recorded (anywhere in the force, so in no area: not a hotspot)',
              cells: ['', n(h.withoutLocation), '', ''],
              total: true,
            },
          ]
        : []),
    ],
    empty: 'No crimes are recorded in the area in these months.',
  };
}

/** Every table of the trends page, in the page's order. */
export function trendTables(f: TrendFigures): TrendTable[] {
  const period = monthRange(f.months);
  const tables: TrendTable[] = [
    monthlyTable('monthly-totals', `All crimes by month, area and force, ${period}`, f.totals),
    {
      id: 'crime-types',
      caption: `Crimes by type, area and force, ${period}`,
      columns: [
        { label: 'Crime type', numeric: false },
        { label: 'Area', numeric: true },
        { label: 'Force', numeric: true },
        { label: SHARE, numeric: true },
      ],
      rows: f.months.length
        ? f.byType.map((t) => ({
            header: t.crimeType,
            cells: [n(t.area), n(t.force), shareOf(t.area, t.force)],
          }))
        : [],
      empty: 'No police.uk data is imported for the area yet.',
    },
    {
      id: 'area-by-month',
      caption: `Crimes in the area by type and month, ${period}`,
      columns: [
        { label: 'Crime type', numeric: false },
        ...f.months.map((m) => ({ label: monthLabel(m, true), numeric: true })),
        ...(f.months.length > 1 ? [{ label: 'All months', numeric: true }] : []),
      ],
      rows: f.months.length
        ? f.byType.map((t) => ({
            header: t.crimeType,
            cells: [...t.monthly.map((m) => n(m.area)), ...(f.months.length > 1 ? [n(t.area)] : [])],
          }))
        : [],
      empty: 'No police.uk data is imported for the area yet.',
    },
    {
      id: 'priorities',
      caption: `Each priority’s crimes (its linked crime types), area and force, ${period}`,
      columns: [
        { label: 'Priority', numeric: false },
        { label: 'Crime types linked', numeric: false },
        { label: 'Area', numeric: true },
        { label: 'Force', numeric: true },
        { label: SHARE, numeric: true },
      ],
      rows: f.priorities.map((p) => ({
        header: p.title,
        cells: p.crimeTypes.length
          ? [p.crimeTypes.join('; '), n(p.area), n(p.force), shareOf(p.area, p.force)]
          : ['None', '', '', ''],
      })),
      empty: 'The plan has no priorities.',
    },
    ...f.priorities
      .filter((p) => p.crimeTypes.length)
      .map((p) =>
        monthlyTable(`priority-${p.priorityId}`, `${p.title}: crimes by month, area and force`, p.monthly),
      ),
    hotspotTable(
      'hotspots-3',
      `Hotspots: the area’s neighbourhoods with most crimes, ${monthRange(f.hotspots.recent.months)}`,
      f.hotspots.recent,
    ),
    hotspotTable(
      'hotspots-12',
      `Hotspots: the area’s neighbourhoods with most crimes, ${monthRange(f.hotspots.year.months)}`,
      f.hotspots.year,
    ),
    {
      id: 'outcomes',
      caption: `Outcomes recorded in the area, ${monthRange(f.outcomes.monthsWithOutcomes)}`,
      columns: [
        { label: 'Outcome', numeric: false },
        { label: 'Outcomes', numeric: true },
        { label: 'Share of all outcomes', numeric: true },
      ],
      rows: [
        ...f.outcomes.rows.map((r) => ({
          header: r.outcomeType,
          cells: [n(r.outcomes), shareOf(r.outcomes, f.outcomes.total)],
        })),
        ...(f.outcomes.rows.length
          ? [{ header: 'All outcomes', cells: [n(f.outcomes.total), '100.0%'], total: true }]
          : []),
      ],
      empty: 'No police.uk outcomes file is imported for the area’s latest months.',
    },
  ];
  return tables;
}

/** A table as CSV: its header row and its rows as shown. */
export function trendTableCsv(table: TrendTable): string {
  // Row headings come from the files (neighbourhoods, crime and outcome types) and the plan
  // (priorities): text a spreadsheet must not run. The figures are the app's own.
  const header = table.columns.map((c) => csvText(c.label));
  const body = table.rows.map((r) => [csvText(r.header), ...r.cells]);
  // A BOM so that Excel reads the file as UTF-8.
  return '\uFEFF' + stringify([header, ...body]);
}
