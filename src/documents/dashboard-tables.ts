/**
 * The dashboard's tables, once: the page shows them beside the charts and each downloads as a
 * CSV, so a table and its CSV never disagree. A status table's cell holds a count and its change
 * from the previous quarter: one cell on the page, two columns in the CSV. Pure.
 */
import { stringify } from 'csv-stringify/sync';
import { csvText } from './csv-text.js';
import {
  COVERAGE_LABELS,
  INVOLVEMENT_LABELS,
  STATUS_COLUMNS,
  formatChange,
  type Dashboard,
  type StatusRowWithChange,
} from '../domain/dashboard.js';
import { SUBMISSION_STATES, SUBMISSION_STATE_LABELS } from '../domain/cycles.js';
import { quarterLabel } from '../domain/quarters.js';
import { SUMMARY_LABELS } from './board-report-words.js';

export const DASHBOARD_TABLES = [
  'by-section',
  'by-priority',
  'by-organisation',
  'submissions',
  'no-update',
  'priority-coverage',
  'organisation-aims',
] as const;
export type DashboardTableId = (typeof DASHBOARD_TABLES)[number];

export function isDashboardTableId(value: string): value is DashboardTableId {
  return (DASHBOARD_TABLES as readonly string[]).includes(value);
}

export interface TableColumn {
  label: string;
  /** A shorter heading for the page ("1.1" for "Aim 1.1"); the rest is read out but not shown. */
  short?: { shown: string; hidden: string };
  numeric: boolean;
}

export interface TableCell {
  text: string;
  /** The change from the previous quarter, "+1", when the table has one. */
  change?: string;
  /** Shown short on the page ("L"), with `text` read out in its place. */
  short?: string;
  /** Marked in words and bold: a priority with few or no live actions. */
  flagged?: boolean;
}

export interface TableRow {
  header: string;
  cells: TableCell[];
  total?: boolean;
  flagged?: boolean;
}

export interface DashboardTable {
  id: DashboardTableId;
  caption: string;
  columns: TableColumn[];
  rows: TableRow[];
  /** "change since Q2": the heading of the change columns of the CSV; null without a previous quarter. */
  changeLabel: string | null;
  /** What to say when the table has no rows. */
  empty: string;
}

function statusTable(
  id: DashboardTableId,
  caption: string,
  rowHeading: string,
  rows: readonly StatusRowWithChange[],
  total: StatusRowWithChange | null,
  changeLabel: string | null,
): DashboardTable {
  const row = (r: StatusRowWithChange, isTotal = false): TableRow => ({
    header: r.label,
    total: isTotal,
    cells: [
      ...STATUS_COLUMNS.map((c) => ({
        text: String(r.counts[c]),
        ...(r.change ? { change: formatChange(r.change[c]) } : {}),
      })),
      { text: String(r.total) },
    ],
  });
  return {
    id,
    caption,
    columns: [
      { label: rowHeading, numeric: false },
      ...STATUS_COLUMNS.map((c) => ({ label: SUMMARY_LABELS[c], numeric: true })),
      { label: 'Total', numeric: true },
    ],
    rows: [...rows.map((r) => row(r)), ...(total ? [row(total, true)] : [])],
    changeLabel,
    empty: 'There are no actions to count.',
  };
}

/** Every table of the dashboard, in the page's order (the submissions table only while a quarter is open). */
export function dashboardTables(d: Dashboard): DashboardTable[] {
  const q = quarterLabel(d.quarter);
  const when = `${q} ${d.plan.year}`;
  const changeLabel = d.previousQuarter ? `change since ${quarterLabel(d.previousQuarter)}` : null;
  const aimColumns: TableColumn[] = d.aims.map((a) => ({
    label: `Aim ${a.number}`,
    short: { shown: a.number, hidden: 'Aim ' },
    numeric: true,
  }));
  const tables: DashboardTable[] = [
    statusTable('by-section', `Statuses by section, ${when}`, 'Section', d.bySection, d.total, changeLabel),
    statusTable('by-priority', `Statuses by priority, ${when}`, 'Priority', d.byPriority, null, changeLabel),
    statusTable(
      'by-organisation',
      `Statuses by lead organisation, ${when}`,
      'Lead organisation',
      d.byOrganisation,
      null,
      changeLabel,
    ),
  ];
  if (d.submissions) {
    const s = d.submissions;
    tables.push({
      id: 'submissions',
      caption: `Updates for ${quarterLabel(s.quarter)} ${d.plan.year} (open) by where they stand`,
      columns: [
        { label: 'Where the update stands', numeric: false },
        { label: 'Actions', numeric: true },
      ],
      rows: [
        ...SUBMISSION_STATES.map((state) => ({
          header: SUBMISSION_STATE_LABELS[state],
          cells: [{ text: String(s.counts[state]) }],
        })),
        { header: 'All actions', cells: [{ text: String(s.total) }], total: true },
      ],
      changeLabel: null,
      empty: 'The plan has no actions.',
    });
  }
  tables.push(
    {
      id: 'no-update',
      caption: `Aims with no update in ${d.previousQuarter ? `${quarterLabel(d.previousQuarter)} or ` : ''}${q}`,
      columns: [
        { label: 'Aim', numeric: false },
        { label: 'Title', numeric: false },
        { label: 'Last update this year', numeric: false },
      ],
      rows: (d.aimsWithoutUpdate ?? []).map((a) => ({
        header: a.number,
        cells: [{ text: a.title }, { text: a.lastUpdated ? quarterLabel(a.lastUpdated) : 'None' }],
      })),
      changeLabel: null,
      empty: d.aimsWithoutUpdate
        ? `Every aim has an update in ${d.previousQuarter ? `${quarterLabel(d.previousQuarter)} or ` : ''}${q}.`
        : 'From Q2: in Q1 there are not yet two quarters of the year to go without an update.',
    },
    {
      id: 'priority-coverage',
      caption: `Live actions of each aim by priority, ${when}`,
      columns: [
        { label: 'Priority', numeric: false },
        ...aimColumns,
        { label: 'Aims', numeric: true },
        { label: 'Live actions', numeric: true },
        { label: 'Coverage', numeric: false },
      ],
      rows: d.coverage.map((p) => ({
        header: p.title,
        flagged: p.coverage !== 'covered',
        cells: [
          ...p.cells.map((n) => ({ text: n === null ? '' : String(n) })),
          { text: String(p.aims) },
          { text: String(p.liveActions) },
          { text: COVERAGE_LABELS[p.coverage], flagged: p.coverage !== 'covered' },
        ],
      })),
      changeLabel: null,
      empty: 'The plan has no priorities.',
    },
    {
      id: 'organisation-aims',
      caption: `Organisations by aim: lead (L) or partner (P), ${d.plan.year}`,
      columns: [
        { label: 'Organisation', numeric: false },
        ...aimColumns,
        { label: 'Aims led', numeric: true },
        { label: 'Aims as partner', numeric: true },
      ],
      rows: d.organisations.map((o) => ({
        header: o.name,
        cells: [
          ...o.cells.map((c) =>
            c
              ? { text: INVOLVEMENT_LABELS[c], short: c === 'both' ? 'L+P' : c === 'lead' ? 'L' : 'P' }
              : { text: '' },
          ),
          { text: String(o.aimsLed) },
          { text: String(o.aimsAsPartner) },
        ],
      })),
      changeLabel: null,
      empty: 'No organisation leads or partners in an action.',
    },
  );
  return tables;
}

/** A table as CSV: a status table's change from the previous quarter in a column after each count. */
export function tableCsv(table: DashboardTable): string {
  const withChange = (i: number) =>
    table.changeLabel !== null && table.rows.some((r) => r.cells[i - 1]?.change !== undefined);
  // Headings are the plan's own text (sections, priorities, organisations, aims): a spreadsheet must
  // not run them. The figures are the app's own.
  const header = table.columns.flatMap((c, i) =>
    i > 0 && withChange(i)
      ? [csvText(c.label), csvText(`${c.label} ${table.changeLabel}`)]
      : [csvText(c.label)],
  );
  const body = table.rows.map((r) => [
    csvText(r.header),
    ...r.cells.flatMap((cell, j) =>
      withChange(j + 1) ? [cell.text, (cell.change ?? '').replace('\u2212', '-')] : [cell.text],
    ),
  ]);
  // A BOM so that Excel reads the file as UTF-8.
  return '\uFEFF' + stringify([header, ...body]);
}
