/**
 * The incidents page's charts and tables (fly-tipping and graffiti by month; DEFRA's yearly
 * fly-tipping for the district beside its neighbours). Each chart is an SVG image with a title and a
 * description drawn on the server (see charts.ts); each table holds the same figures, and downloads
 * as a CSV made from the same rows, so the three never disagree. Pure: figures in, SVG and text out.
 *
 * Colour never carries the meaning alone: the months are one panel per kind, headed with its name;
 * DEFRA's years are one panel per authority, the district's headed "(district)".
 */
import { stringify } from 'csv-stringify/sync';
import { csvText } from './csv-text.js';
import type { TopLevelSpec } from 'vega-lite';
import { CONFIG, labelledBarLayers, labelSvg, render, type ChartText } from './charts.js';
import { INCIDENT_KIND_LABELS, INCIDENT_KINDS, type IncidentKind } from './incident-csv.js';

export interface IncidentMonth {
  /** '2024-05'. */
  month: string;
  /** 'May 2024'. */
  label: string;
  /** Null where no count of that kind is held for the month. */
  counts: Record<IncidentKind, number | null>;
}

export interface DefraAuthorityFigures {
  code: string;
  name: string;
  isDistrict: boolean;
  /** Total incidents by year ('2021-22'); null where DEFRA gives none (':'). */
  incidents: Record<string, number | null>;
  /** Mid-year population by year, where DEFRA gives one. */
  population: Record<string, number | null>;
}

export const INCIDENT_TABLES = ['monthly', 'defra-incidents', 'defra-per-1000'] as const;
export type IncidentTableId = (typeof INCIDENT_TABLES)[number];

export function isIncidentTableId(value: string): value is IncidentTableId {
  return (INCIDENT_TABLES as readonly string[]).includes(value);
}

export interface IncidentTableCell {
  text: string;
  /** The change on the year before, '+12%', where there is one. */
  change?: string;
}

export interface IncidentTable {
  id: IncidentTableId;
  caption: string;
  /** The first is the row headers' column. */
  columns: { label: string; numeric: boolean }[];
  rows: { header: string; cells: IncidentTableCell[] }[];
  empty: string;
  /** The same figures for the CSV: a header row, then plain numbers ('' where not available). */
  csv: (string | number)[][];
}

export const NOT_AVAILABLE = 'not available';
export const NOT_HELD = 'not held';

const number = (n: number) => n.toLocaleString('en-GB');
const authorityLabel = (a: DefraAuthorityFigures) => (a.isDistrict ? `${a.name} (district)` : a.name);

/** The change from `before` to `now` as a whole percentage, '+12%' or '−5%'; undefined when it has none. */
export function percentChange(
  before: number | null | undefined,
  now: number | null | undefined,
): number | undefined {
  if (before === null || before === undefined || now === null || now === undefined || before === 0)
    return undefined;
  return Math.round(((now - before) / before) * 100);
}

export function formatPercentChange(change: number | undefined): string | undefined {
  if (change === undefined) return undefined;
  return change > 0 ? `+${change}%` : change < 0 ? `\u2212${-change}%` : '0%';
}

/** Incidents per 1,000 people, to one decimal place, where both figures are given. */
export function perThousand(incidents: number | null, population: number | null): number | null {
  if (incidents === null || population === null || population <= 0) return null;
  return Math.round((incidents / population) * 10_000) / 10;
}

/** The years for which at least one authority has both incidents and a population. */
export function populationYears(
  years: readonly string[],
  authorities: readonly DefraAuthorityFigures[],
): string[] {
  return years.filter((y) =>
    authorities.some((a) => perThousand(a.incidents[y] ?? null, a.population[y] ?? null) !== null),
  );
}

export function monthlyTable(months: readonly IncidentMonth[]): IncidentTable {
  const first = months[0];
  const last = months.at(-1);
  return {
    id: 'monthly',
    caption:
      first && last
        ? `Fly-tipping and graffiti incidents by month, ${first.label} to ${last.label}`
        : 'Fly-tipping and graffiti incidents by month',
    columns: [
      { label: 'Month', numeric: false },
      ...INCIDENT_KINDS.map((k) => ({ label: INCIDENT_KIND_LABELS[k], numeric: true })),
    ],
    rows: months.map((m) => ({
      header: m.label,
      cells: INCIDENT_KINDS.map((k) => ({ text: m.counts[k] === null ? NOT_HELD : number(m.counts[k]) })),
    })),
    empty: 'No fly-tipping or graffiti counts are held yet.',
    csv: [
      ['Month', ...INCIDENT_KINDS.map((k) => INCIDENT_KIND_LABELS[k])],
      ...months.map((m) => [m.month, ...INCIDENT_KINDS.map((k) => m.counts[k] ?? '')]),
    ],
  };
}

export function defraIncidentsTable(
  years: readonly string[],
  authorities: readonly DefraAuthorityFigures[],
): IncidentTable {
  return {
    id: 'defra-incidents',
    caption: `Fly-tipping incidents by year (DEFRA), with the change on the year before`,
    columns: [
      { label: 'Authority', numeric: false },
      ...years.map((y) => ({ label: y.replace('-', '/'), numeric: true })),
    ],
    rows: authorities.map((a) => ({
      header: authorityLabel(a),
      cells: years.map((y, i) => {
        const value = a.incidents[y] ?? null;
        const change = i === 0 ? undefined : percentChange(a.incidents[years[i - 1]!], value);
        return {
          text: value === null ? NOT_AVAILABLE : number(value),
          ...(change === undefined ? {} : { change: formatPercentChange(change) }),
        };
      }),
    })),
    empty: 'No figures are held for the district or its neighbours.',
    csv: [
      [
        'Authority',
        'ONS code',
        ...years.flatMap((y, i) => (i === 0 ? [y] : [y, `${y} change on the year before (%)`])),
      ],
      ...authorities.map((a) => [
        authorityLabel(a),
        a.code,
        ...years.flatMap((y, i) => {
          const value = a.incidents[y] ?? null;
          if (i === 0) return [value ?? ''];
          return [value ?? '', percentChange(a.incidents[years[i - 1]!], value) ?? ''];
        }),
      ]),
    ],
  };
}

export function defraPerThousandTable(
  years: readonly string[],
  authorities: readonly DefraAuthorityFigures[],
): IncidentTable {
  const shown = populationYears(years, authorities);
  const rate = (a: DefraAuthorityFigures, y: string) =>
    perThousand(a.incidents[y] ?? null, a.population[y] ?? null);
  return {
    id: 'defra-per-1000',
    caption:
      'Fly-tipping incidents per 1,000 people by year (DEFRA’s incidents and mid-year population estimates)',
    columns: [
      { label: 'Authority', numeric: false },
      ...shown.map((y) => ({ label: y.replace('-', '/'), numeric: true })),
    ],
    rows: shown.length
      ? authorities.map((a) => ({
          header: authorityLabel(a),
          cells: shown.map((y) => {
            const value = rate(a, y);
            return { text: value === null ? NOT_AVAILABLE : value.toFixed(1) };
          }),
        }))
      : [],
    empty: 'DEFRA gives no population for these years, so incidents per 1,000 people cannot be worked out.',
    csv: [
      ['Authority', 'ONS code', ...shown],
      ...authorities.map((a) => [authorityLabel(a), a.code, ...shown.map((y) => rate(a, y) ?? '')]),
    ],
  };
}

/** A table as CSV, with a BOM so that Excel reads it as UTF-8. */
export function incidentTableCsv(table: IncidentTable): string {
  // Text from an imported file (an authority's name) that a spreadsheet would run as a formula is quoted.
  const cellText = (cell: string | number) => (typeof cell === 'number' ? String(cell) : csvText(cell));
  return '\uFEFF' + stringify(table.csv.map((row) => row.map(cellText)));
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const BAR = '#1d70b8';
const DISTRICT_BAR = '#003078';

/** One panel per kind held, a bar per month. */
export async function monthlyChartSvg(
  months: readonly IncidentMonth[],
  text: ChartText,
): Promise<string | null> {
  const kinds = INCIDENT_KINDS.filter((k) => months.some((m) => m.counts[k] !== null));
  if (!kinds.length) return null;
  const values = months.flatMap((m) =>
    kinds.map((k) => ({ month: m.label, kind: INCIDENT_KIND_LABELS[k], n: m.counts[k] })),
  );
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values },
    config: CONFIG,
    facet: {
      row: {
        field: 'kind',
        type: 'nominal',
        title: null,
        sort: kinds.map((k) => INCIDENT_KIND_LABELS[k]),
        header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
      },
    },
    spacing: 16,
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: { step: 26 },
      height: 140,
      mark: { type: 'bar', color: BAR },
      encoding: {
        x: {
          field: 'month',
          type: 'ordinal',
          title: null,
          sort: months.map((m) => m.label),
          axis: { labelAngle: -45, labelFontSize: 11 },
        },
        y: { field: 'n', type: 'quantitative', title: 'Incidents', axis: { tickMinStep: 1 } },
      },
    },
  };
  return labelSvg(await render(spec), text);
}

/** One panel per authority (the district first), a bar per year; the same scale in every panel. */
export async function defraIncidentsChartSvg(
  years: readonly string[],
  authorities: readonly DefraAuthorityFigures[],
  text: ChartText,
): Promise<string | null> {
  if (!years.length || !authorities.length) return null;
  const values = authorities.flatMap((a) =>
    years.map((y) => ({
      authority: authorityLabel(a),
      year: y,
      n: a.incidents[y] ?? null,
      district: a.isDistrict,
    })),
  );
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values },
    config: CONFIG,
    facet: {
      field: 'authority',
      type: 'nominal',
      title: null,
      sort: authorities.map(authorityLabel),
      header: { labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' },
    },
    columns: 4,
    spacing: 16,
    spec: {
      width: { step: 14 },
      height: 110,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'year', type: 'ordinal', title: null, axis: { labelAngle: -90, labelFontSize: 10 } },
        y: { field: 'n', type: 'quantitative', title: 'Incidents' },
        color: {
          field: 'district',
          type: 'nominal',
          legend: null,
          scale: { domain: [true, false], range: [DISTRICT_BAR, BAR] },
        },
      },
    },
  };
  return labelSvg(await render(spec), text);
}

/** The latest year with populations: a bar per authority, labelled with its rate. */
export async function perThousandChartSvg(
  year: string,
  authorities: readonly DefraAuthorityFigures[],
  text: ChartText,
): Promise<string | null> {
  const values = authorities
    .map((a) => ({
      authority: authorityLabel(a),
      n: perThousand(a.incidents[year] ?? null, a.population[year] ?? null),
      district: a.isDistrict,
    }))
    .filter((v) => v.n !== null)
    .sort((a, b) => b.n! - a.n!);
  if (!values.length) return null;
  const max = Math.max(1, ...values.map((v) => v.n!));
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    data: { values },
    config: CONFIG,
    width: 420,
    height: { step: 26 },
    layer: labelledBarLayers({
      field: 'authority',
      // Highest first, in the order of `values` (a layer's sort by field would be dropped).
      sort: values.map((v) => v.authority),
      max,
      headroom: 1.15,
      color: {
        field: 'district',
        type: 'nominal',
        legend: null,
        scale: { domain: [true, false], range: [DISTRICT_BAR, BAR] },
      },
      format: '.1f',
    }),
  };
  return labelSvg(await render(spec), text);
}
