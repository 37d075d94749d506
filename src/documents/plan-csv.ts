/**
 * The plan as one CSV table for spreadsheets: one row per action, with the Word plan's columns.
 * Documented in docs/plan-file.md ("The CSV plan").
 *
 * Multi-item cells (leads, partners, resources, expected outcomes) hold one item a line. An aim
 * with no actions still gets a row, with the action columns empty. What a table cannot carry is
 * left out: headline aims, priorities, objectives, the plan's own paragraphs, an aim's delivery
 * principles and when a progress update was recorded.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { aimNumberParts, isAimNumber } from '../domain/numbering.js';
import { formatParties, parseLines, parseParties } from '../domain/parties.js';
import {
  planSchema,
  type FileProblem,
  type PlanFileAction,
  type PlanFileAim,
  type PlanFilePlan,
  type PlanFileProgress,
} from '../domain/plan-file.js';
import { parsePlanYear, QUARTERS, type Quarter } from '../domain/quarters.js';
import { parseStatus, STATUSES, STATUS_LABELS, type Status } from '../domain/status.js';

const QUARTER_COLUMNS = QUARTERS.flatMap((q) => [`Q${q} progress`, `Q${q} status`] as const);

export const PLAN_CSV_COLUMNS = [
  'Section',
  'Section title',
  'Aim',
  'Aim title',
  'Aim added on',
  'Action',
  'Lead',
  'Partners',
  'Resources',
  'Expected outcomes',
  ...QUARTER_COLUMNS,
  'Progress without a quarter',
] as const;
export type PlanCsvColumn = (typeof PLAN_CSV_COLUMNS)[number];

/** Without these a row cannot be placed in the plan. */
export const REQUIRED_PLAN_CSV_COLUMNS: readonly PlanCsvColumn[] = [
  'Section',
  'Section title',
  'Aim',
  'Aim title',
  'Action',
];

/** The columns that describe an action; all empty on a row that only names an aim. */
const ACTION_COLUMNS: readonly PlanCsvColumn[] = [
  'Action',
  'Lead',
  'Partners',
  'Resources',
  'Expected outcomes',
  ...QUARTER_COLUMNS,
  'Progress without a quarter',
];

const progressColumn = (q: Quarter) => `Q${q} progress` as const;
const statusColumn = (q: Quarter) => `Q${q} status` as const;

/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

// ---------------------------------------------------------------------------------------------
// Writing

type Row = Record<PlanCsvColumn, string>;

function emptyRow(): Row {
  return Object.fromEntries(PLAN_CSV_COLUMNS.map((c) => [c, ''])) as Row;
}

function progressIn(action: PlanFileAction, quarter: Quarter | null): PlanFileProgress | undefined {
  return action.progress.find((p) => p.quarter === quarter);
}

function actionCells(action: PlanFileAction): Partial<Row> {
  const cells: Partial<Row> = {
    Action: action.description,
    Lead: formatParties(action.leads),
    Partners: formatParties(action.partners),
    Resources: action.resources.join('\n'),
    'Expected outcomes': action.expectedOutcomes.join('\n'),
    'Progress without a quarter': progressIn(action, null)?.text ?? '',
  };
  for (const q of QUARTERS) {
    const progress = progressIn(action, q);
    cells[progressColumn(q)] = progress?.text ?? '';
    cells[statusColumn(q)] = progress?.status ? STATUS_LABELS[progress.status] : '';
  }
  return cells;
}

function planRows(plan: PlanFilePlan): Row[] {
  const rows: Row[] = [];
  for (const section of plan.sections) {
    const sectionCells = { Section: String(section.number), 'Section title': section.title };
    if (section.aims.length === 0) rows.push({ ...emptyRow(), ...sectionCells });
    for (const aim of section.aims) {
      const aimCells = {
        ...sectionCells,
        Aim: aim.number,
        'Aim title': aim.title,
        'Aim added on': aim.addedOn ?? '',
      };
      if (aim.actions.length === 0) rows.push({ ...emptyRow(), ...aimCells });
      for (const action of aim.actions) rows.push({ ...emptyRow(), ...aimCells, ...actionCells(action) });
    }
  }
  return rows;
}

/**
 * The plan as CSV text: UTF-8 with a byte-order mark (so Excel reads it as UTF-8) and CRLF line
 * ends; cells holding several lines are quoted. A cell that a spreadsheet would run as a formula
 * is written with a leading apostrophe, which readPlanCsv takes off again.
 */
export function writePlanCsv(plan: PlanFilePlan): string {
  return stringify(
    planRows(plan).map((row) => PLAN_CSV_COLUMNS.map((c) => row[c])),
    {
      bom: true,
      header: true,
      columns: [...PLAN_CSV_COLUMNS],
      record_delimiter: '\r\n',
      quoted_match: /[\r\n]/,
      escape_formulas: true,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Reading

export type PlanCsvResult = { ok: true; plan: PlanFilePlan } | { ok: false; problems: FileProblem[] };

interface CsvRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

const at = (line: number, column?: string) => (column ? `line ${line}, column "${column}"` : `line ${line}`);

function normaliseHeader(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

const KNOWN_COLUMNS = new Map<string, PlanCsvColumn>(PLAN_CSV_COLUMNS.map((c) => [normaliseHeader(c), c]));

/** Maps the header to the known columns; unknown, repeated and missing columns are problems. */
function readHeader(header: readonly string[], problems: FileProblem[]): Map<PlanCsvColumn, number> {
  const indexes = new Map<PlanCsvColumn, number>();
  header.forEach((raw, index) => {
    const name = raw.trim();
    if (!name) return; // a spreadsheet's empty column; a value under it is reported by row

    const column = KNOWN_COLUMNS.get(normaliseHeader(name));
    if (column) {
      if (indexes.has(column))
        problems.push({ where: at(1, name), message: `repeats the column "${column}"` });
      else indexes.set(column, index);
      return;
    }
    const quarter = /^q(\d+) (progress|status)$/.exec(normaliseHeader(name));
    problems.push({
      where: at(1, name),
      message: quarter
        ? `unknown quarter Q${quarter[1]}: the quarters are Q1 to Q4`
        : `unknown column "${name}": the columns are ${PLAN_CSV_COLUMNS.join(', ')}`,
    });
  });
  for (const column of REQUIRED_PLAN_CSV_COLUMNS) {
    if (!indexes.has(column)) problems.push({ where: at(1), message: `missing column "${column}"` });
  }
  return indexes;
}

/**
 * The line a record starts on: csv-parse counts to its end, quoted cells may hold line breaks,
 * and the raw text of a record after skipped blank lines starts with them.
 */
function startLine(record: CsvRecord): number {
  const body = record.raw.replace(/^\n+/, '').replace(/\n$/, '');
  return record.info.lines - (body.match(/\n/g)?.length ?? 0);
}

function cleanCell(value: string | undefined): string {
  if (value === undefined) return '';
  return (FORMULA_START.test(value) ? value.slice(1) : value).trim();
}

/** An ISO date, or the day/month/year a UK spreadsheet turns it into when saving. */
function parseDate(value: string): string | undefined {
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value);
  const uk = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  const [year, month, day] = iso
    ? [iso[1], iso[2], iso[3]]
    : uk
      ? [uk[3], uk[2], uk[1]]
      : [undefined, undefined, undefined];
  if (!year || !month || !day) return undefined;
  const text = `${year}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text) ? text : undefined;
}

const STATUS_CHOICES = STATUSES.map((s) => STATUS_LABELS[s]).join(', ');

interface AimDraft {
  aim: PlanFileAim;
  line: number;
  addedOnLine: number | undefined;
  actionLines: number[];
}

interface SectionDraft {
  number: number;
  title: string;
  line: number;
  aims: Map<string, AimDraft>;
}

/** One row, read and checked cell by cell; the plan is only built when no row has a problem. */
class RowReader {
  constructor(
    readonly cells: string[],
    readonly line: number,
    private readonly indexes: Map<PlanCsvColumn, number>,
    private readonly problems: FileProblem[],
  ) {}

  get(column: PlanCsvColumn): string {
    const index = this.indexes.get(column);
    return index === undefined ? '' : cleanCell(this.cells[index]);
  }

  has(column: PlanCsvColumn): boolean {
    return this.indexes.has(column);
  }

  problem(column: PlanCsvColumn | undefined, message: string): void {
    this.problems.push({ where: at(this.line, column), message });
  }

  /** A value the row must give, when its column is in the file at all. */
  required(column: PlanCsvColumn, what: string): string | undefined {
    const value = this.get(column);
    if (!value && this.has(column)) this.problem(column, `is empty: give the ${what}`);
    return value || undefined;
  }
}

function readSectionNumber(row: RowReader): number | undefined {
  const value = row.required('Section', 'section number');
  if (value === undefined) return undefined;
  const number = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(number >= 1 && number <= 99)) {
    row.problem('Section', `"${value}" is not a section number: write a whole number from 1 to 99, like 3`);
    return undefined;
  }
  return number;
}

function readProgress(row: RowReader): PlanFileProgress[] {
  const progress: PlanFileProgress[] = [];
  for (const q of QUARTERS) {
    const text = row.get(progressColumn(q));
    const statusText = row.get(statusColumn(q));
    let status: Status | null = null;
    if (statusText) {
      const parsed = parseStatus(statusText);
      if (parsed) status = parsed;
      else row.problem(statusColumn(q), `unknown status "${statusText}": use one of: ${STATUS_CHOICES}`);
      if (!text) row.problem(statusColumn(q), `gives a status but "${progressColumn(q)}" is empty`);
    }
    if (text) progress.push({ quarter: q, text, status });
  }
  const undated = row.get('Progress without a quarter');
  if (undated) progress.push({ quarter: null, text: undated, status: null });
  return progress;
}

function readAction(row: RowReader): PlanFileAction | undefined {
  const description = row.get('Action');
  const otherCells = ACTION_COLUMNS.filter((c) => c !== 'Action' && row.get(c));
  if (!description) {
    if (otherCells.length) {
      row.problem('Action', `is empty, but the row gives ${otherCells.map((c) => `"${c}"`).join(', ')}`);
    }
    return undefined;
  }
  return {
    description,
    leads: parseParties(row.get('Lead')),
    partners: parseParties(row.get('Partners')),
    resources: parseLines(row.get('Resources')),
    expectedOutcomes: parseLines(row.get('Expected outcomes')),
    progress: readProgress(row),
  };
}

function readRow(row: RowReader, sections: Map<number, SectionDraft>): void {
  const sectionNumber = readSectionNumber(row);
  const sectionTitle = row.required('Section title', 'section title');
  const aimNumber = row.get('Aim');
  const aimTitle = row.get('Aim title');
  const addedOnText = row.get('Aim added on');
  const action = readAction(row);

  let section: SectionDraft | undefined;
  if (sectionNumber !== undefined && sectionTitle !== undefined) {
    section = sections.get(sectionNumber);
    if (!section) {
      section = { number: sectionNumber, title: sectionTitle, line: row.line, aims: new Map() };
      sections.set(sectionNumber, section);
    } else if (section.title !== sectionTitle) {
      row.problem(
        'Section title',
        `section ${sectionNumber} is titled "${section.title}" on line ${section.line}: one number, one title`,
      );
    }
  }

  // A row with neither aim number nor aim title and no action names a section with no aims yet.
  if (!aimNumber && !aimTitle && !addedOnText && !action && row.has('Aim')) return;

  if (!aimNumber) {
    if (row.has('Aim')) row.problem('Aim', 'is empty: give the aim number, like "3.1"');
  } else if (!isAimNumber(aimNumber)) {
    row.problem('Aim', `"${aimNumber}" is not an aim number: write it like "3.1"`);
  } else if (sectionNumber !== undefined && aimNumberParts(aimNumber)?.[0] !== sectionNumber) {
    row.problem(
      'Aim',
      `aim ${aimNumber} is not in section ${sectionNumber}: its number must start "${sectionNumber}."`,
    );
  }
  if (!aimTitle && row.has('Aim title')) row.problem('Aim title', 'is empty: give the aim title');

  let addedOn: string | null = null;
  if (addedOnText) {
    const date = parseDate(addedOnText);
    if (date) addedOn = date;
    else
      row.problem('Aim added on', `"${addedOnText}" is not a date: write it as YYYY-MM-DD, like 2024-08-01`);
  }

  if (!section || !aimTitle || aimNumberParts(aimNumber)?.[0] !== section.number) return;
  // An aim's rows may be anywhere in the file; they are gathered under its first row.
  let draft = section.aims.get(aimNumber);
  if (!draft) {
    draft = {
      aim: { number: aimNumber, title: aimTitle, addedOn, actions: [], deliveryPrinciples: [] },
      line: row.line,
      addedOnLine: addedOn ? row.line : undefined,
      actionLines: [],
    };
    section.aims.set(aimNumber, draft);
  } else {
    if (draft.aim.title !== aimTitle) {
      row.problem(
        'Aim',
        `aim ${aimNumber} is "${draft.aim.title}" on line ${draft.line}, but "${aimTitle}" here: one number, one aim`,
      );
    }
    if (addedOn && draft.aim.addedOn && draft.aim.addedOn !== addedOn) {
      row.problem(
        'Aim added on',
        `differs from line ${draft.addedOnLine} (${draft.aim.addedOn}) for the same aim ${aimNumber}`,
      );
    } else if (addedOn && !draft.aim.addedOn) {
      draft.aim.addedOn = addedOn;
      draft.addedOnLine = row.line;
    }
  }
  if (action) {
    draft.aim.actions.push(action);
    draft.actionLines.push(row.line);
  }
}

function parseRecords(text: string): { records: CsvRecord[] } | { problem: FileProblem } {
  try {
    const records = parse(text, {
      bom: true,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as CsvRecord[];
    return { records };
  } catch (error) {
    const lines = (error as { lines?: unknown }).lines;
    const reason = error instanceof Error ? error.message.replace(/^[A-Za-z_]+: /, '') : String(error);
    return {
      problem: {
        where: typeof lines === 'number' ? at(lines) : 'the file',
        message: `is not valid CSV: ${reason}`,
      },
    };
  }
}

/** The line of the deepest part of the plan a schema problem's path reaches. */
function lineForPath(lines: Map<string, number>, path: readonly PropertyKey[]): string {
  for (let n = path.length; n > 0; n--) {
    const line = lines.get(path.slice(0, n).join('.'));
    if (line !== undefined) return at(line);
  }
  return 'the file';
}

/**
 * Reads a plan from CSV text (as writePlanCsv writes it, or as a spreadsheet saves it). The whole
 * file is checked before anything is returned, and every problem is reported with its line (the
 * header is line 1; a row is named by the line it starts on) and column.
 */
export function readPlanCsv(text: string, meta: { year: string; title?: string }): PlanCsvResult {
  const problems: FileProblem[] = [];
  const year = parsePlanYear(meta.year);
  if (!year)
    problems.push({ where: 'the plan year', message: `"${meta.year}" is not a plan year like "2024/25"` });

  // One kind of line end: csv-parse counts a CRLF inside a quoted cell as two lines.
  const parsed = parseRecords(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  if ('problem' in parsed) return { ok: false, problems: [...problems, parsed.problem] };
  const [header, ...records] = parsed.records;
  if (!header) return { ok: false, problems: [...problems, { where: 'the file', message: 'is empty' }] };
  const indexes = readHeader(header.record, problems);

  const sections = new Map<number, SectionDraft>();
  let rowCount = 0;
  for (const record of records) {
    if (record.record.every((cell) => !cell.trim())) continue; // a spreadsheet's blank row: ",,,,"
    rowCount++;
    const line = startLine(record);
    if (record.record.length > header.record.length) {
      problems.push({
        where: at(line),
        message: `has ${record.record.length} cells but the header names ${header.record.length} columns`,
      });
    }
    header.record.forEach((name, index) => {
      if (!name.trim() && record.record[index]?.trim()) {
        problems.push({ where: at(line), message: `has a value in column ${index + 1}, which has no name` });
      }
    });
    readRow(new RowReader(record.record, line, indexes, problems), sections);
  }
  if (rowCount === 0 && problems.length === 0) {
    problems.push({ where: 'the file', message: 'has no rows after the header: nothing to import' });
  }
  if (problems.length) return { ok: false, problems };

  const lines = new Map<string, number>();
  const sectionList = [...sections.values()];
  sectionList.forEach((section, s) => {
    lines.set(`sections.${s}`, section.line);
    [...section.aims.values()].forEach((draft, a) => {
      lines.set(`sections.${s}.aims.${a}`, draft.line);
      draft.actionLines.forEach((line, c) => lines.set(`sections.${s}.aims.${a}.actions.${c}`, line));
    });
  });
  const result = planSchema.safeParse({
    year,
    title: meta.title?.trim() || `Action plan ${year}`,
    headlineAims: [],
    priorities: [],
    objectives: [],
    howThePlanIsKept: [],
    sections: sectionList.map((section) => ({
      number: section.number,
      title: section.title,
      aims: [...section.aims.values()].map((draft) => draft.aim),
    })),
  });
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map((issue) => ({
        where: lineForPath(lines, issue.path),
        message: `${issue.path.at(-1) === undefined ? '' : `${String(issue.path.at(-1))} `}${issue.message}`,
      })),
    };
  }
  return { ok: true, plan: result.data };
}
