/**
 * The plan as a table for spreadsheets: one row per action, with the Word plan's columns and the
 * action's id. The same columns make the CSV plan (here) and the XLSX workbook (plan-sheet.ts,
 * one sheet per section). Documented in docs/plan-spreadsheet.md.
 *
 * Multi-item cells (leads, partners, resources, expected outcomes) hold one item a line. An aim
 * with no actions still gets a row, with the action columns empty. What a table cannot carry is
 * left out: headline aims, priorities, objectives, the plan's own paragraphs, an aim's delivery
 * principles and when a progress update was recorded.
 *
 * Reading is shared by both formats: a CSV is one table, a workbook one table per sheet, and
 * every problem names where it is (a CSV's line; a sheet, row and column of a workbook).
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { aimNumberParts, isAimNumber } from '../domain/numbering.js';
import { formatParties, parseLines, parseParties } from '../domain/parties.js';
import {
  planSchema,
  type FileProblem,
  type PlanFileAction,
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
  'Action id',
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
export const ACTION_COLUMNS: readonly PlanCsvColumn[] = [
  'Action',
  'Lead',
  'Partners',
  'Resources',
  'Expected outcomes',
  ...QUARTER_COLUMNS,
  'Progress without a quarter',
  'Action id',
];

export const progressColumn = (q: Quarter) => `Q${q} progress` as const;
export const statusColumn = (q: Quarter) => `Q${q} status` as const;

/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^'[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

// ---------------------------------------------------------------------------------------------
// The table a plan makes

/** An action with its id in the database when it comes from there: the "Action id" column. */
export type TableAction = PlanFileAction & { id?: number | undefined };

/** What the table is made from: a plan file's sections (a plan file plan fits), with action ids. */
export interface TablePlan {
  sections: readonly {
    number: number;
    title: string;
    aims: readonly {
      number: string;
      title: string;
      addedOn?: string | null | undefined;
      actions: readonly TableAction[];
    }[];
  }[];
}

export type PlanTableRow = Record<PlanCsvColumn, string>;

function emptyRow(): PlanTableRow {
  return Object.fromEntries(PLAN_CSV_COLUMNS.map((c) => [c, ''])) as PlanTableRow;
}

function progressIn(action: PlanFileAction, quarter: Quarter | null): PlanFileProgress | undefined {
  return action.progress.find((p) => p.quarter === quarter);
}

/** An action's cells, as the table writes them (and as an import compares them). */
export function actionCells(action: TableAction): Partial<PlanTableRow> {
  const cells: Partial<PlanTableRow> = {
    Action: action.description,
    Lead: formatParties(action.leads),
    Partners: formatParties(action.partners),
    Resources: action.resources.join('\n'),
    'Expected outcomes': action.expectedOutcomes.join('\n'),
    'Progress without a quarter': progressIn(action, null)?.text ?? '',
    'Action id': action.id === undefined ? '' : String(action.id),
  };
  for (const q of QUARTERS) {
    const progress = progressIn(action, q);
    cells[progressColumn(q)] = progress?.text ?? '';
    cells[statusColumn(q)] = progress?.status ? STATUS_LABELS[progress.status] : '';
  }
  return cells;
}

/** The rows of each section, in the plan's order: a workbook makes a sheet of each. */
export function planTableSections(
  plan: TablePlan,
): { number: number; title: string; rows: PlanTableRow[] }[] {
  return plan.sections.map((section) => {
    const rows: PlanTableRow[] = [];
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
    return { number: section.number, title: section.title, rows };
  });
}

/**
 * The plan as CSV text: UTF-8 with a byte-order mark (so Excel reads it as UTF-8) and CRLF line
 * ends; cells holding several lines are quoted. A cell that a spreadsheet would run as a formula
 * is written with a leading apostrophe, which readPlanCsv takes off again. Actions without an id
 * (a plan file's, a snapshot's) leave "Action id" empty.
 */
export function writePlanCsv(plan: TablePlan): string {
  return stringify(
    planTableSections(plan).flatMap((s) => s.rows.map((row) => PLAN_CSV_COLUMNS.map((c) => row[c]))),
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
// Reading tables: a CSV's one, or a workbook's sheets

/** Where a row is: a line of a CSV file, or a row of a workbook's sheet. */
export interface Place {
  sheet?: string | undefined;
  row: number;
}

/** A problem with where it is, in words (`where`) and in parts for a table of problems. */
export interface TableProblem extends FileProblem {
  sheet?: string | undefined;
  row?: number | undefined;
  column?: string | undefined;
}

/** One row of cells as read, with where it is. */
export interface TableRecord {
  place: Place;
  cells: string[];
}

/** A table to read: its header row and the rows under it. */
export interface PlanTable {
  /** The sheet's name; none for a CSV. */
  sheet?: string | undefined;
  header: TableRecord;
  records: TableRecord[];
}

/** An action as read: the aim it is under, its place among the aim's actions, its id and row. */
export interface ReadAction {
  aim: string;
  index: number;
  id: number | undefined;
  place: Place;
}

/** A plan read from a table, with where each part of it is. */
export interface PlanTableRead {
  plan: PlanFilePlan;
  sections: { number: number; place: Place }[];
  aims: { number: string; place: Place }[];
  actions: ReadAction[];
  /** Where each column is, table by table (a sheet's columns may be in another order). */
  columns: { sheet: string | undefined; indexes: Partial<Record<PlanCsvColumn, number>> }[];
}

export type PlanTableResult = ({ ok: true } & PlanTableRead) | { ok: false; problems: TableProblem[] };

/** "A", "B", … "Z", "AA": a spreadsheet's name for the column at this index (from 0). */
export function columnLetter(index: number): string {
  let n = index + 1;
  let letters = '';
  while (n > 0) {
    const rest = (n - 1) % 26;
    letters = String.fromCharCode(65 + rest) + letters;
    n = Math.floor((n - 1) / 26);
  }
  return letters;
}

/** "line 7" in a CSV; 'sheet "2 Violence", row 7' in a workbook. */
export function describePlace(place: Place): string {
  return place.sheet === undefined ? `line ${place.row}` : `sheet "${place.sheet}", row ${place.row}`;
}

export function problemAt(
  place: Place,
  message: string,
  column?: { name: string; index: number | undefined },
): TableProblem {
  let where = describePlace(place);
  if (column) {
    where += `, column "${column.name}"`;
    if (place.sheet !== undefined && column.index !== undefined) where += ` (${columnLetter(column.index)})`;
  }
  return { where, message, sheet: place.sheet, row: place.row, column: column?.name };
}

function normaliseHeader(value: string): string {
  return value.trim().replace(/\s+/g, ' ').toLowerCase();
}

const KNOWN_COLUMNS = new Map<string, PlanCsvColumn>(PLAN_CSV_COLUMNS.map((c) => [normaliseHeader(c), c]));

/** Maps a header to the known columns; unknown, repeated and missing columns are problems. */
function readHeader(header: TableRecord, problems: TableProblem[]): Map<PlanCsvColumn, number> {
  const indexes = new Map<PlanCsvColumn, number>();
  header.cells.forEach((raw, index) => {
    const name = raw.trim();
    if (!name) return; // a spreadsheet's empty column; a value under it is reported by row
    const at = { name, index };
    const column = KNOWN_COLUMNS.get(normaliseHeader(name));
    if (column) {
      if (indexes.has(column)) problems.push(problemAt(header.place, `repeats the column "${column}"`, at));
      else indexes.set(column, index);
      return;
    }
    const quarter = /^q(\d+) (progress|status)$/.exec(normaliseHeader(name));
    problems.push(
      problemAt(
        header.place,
        quarter
          ? `unknown quarter Q${quarter[1]}: the quarters are Q1 to Q4`
          : `unknown column "${name}": the columns are ${PLAN_CSV_COLUMNS.join(', ')}`,
        at,
      ),
    );
  });
  for (const column of REQUIRED_PLAN_CSV_COLUMNS) {
    if (!indexes.has(column)) problems.push(problemAt(header.place, `missing column "${column}"`));
  }
  return indexes;
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
  place: Place;
  addedOnPlace: Place | undefined;
  actions: { id: number | undefined; place: Place }[];
}

type PlanFileAim = PlanFilePlan['sections'][number]['aims'][number];

interface SectionDraft {
  number: number;
  title: string;
  place: Place;
  aims: Map<string, AimDraft>;
}

/** One row, read and checked cell by cell; the plan is only built when no row has a problem. */
class RowReader {
  constructor(
    readonly cells: string[],
    readonly place: Place,
    private readonly indexes: Map<PlanCsvColumn, number>,
    private readonly problems: TableProblem[],
    private readonly clean: (value: string | undefined) => string,
  ) {}

  get(column: PlanCsvColumn): string {
    const index = this.indexes.get(column);
    return index === undefined ? '' : this.clean(this.cells[index]);
  }

  has(column: PlanCsvColumn): boolean {
    return this.indexes.has(column);
  }

  problem(column: PlanCsvColumn | undefined, message: string): void {
    this.problems.push(
      problemAt(this.place, message, column && { name: column, index: this.indexes.get(column) }),
    );
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

function readActionId(row: RowReader): number | undefined {
  const value = row.get('Action id');
  if (!value) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) === 0) {
    row.problem(
      'Action id',
      `"${value}" is not an action id: keep the number the export wrote, or leave it empty for a new action`,
    );
    return undefined;
  }
  return Number(value);
}

function readAction(row: RowReader): { action: PlanFileAction; id: number | undefined } | undefined {
  const description = row.get('Action');
  const otherCells = ACTION_COLUMNS.filter((c) => c !== 'Action' && row.get(c));
  if (!description) {
    if (otherCells.length) {
      row.problem('Action', `is empty, but the row gives ${otherCells.map((c) => `"${c}"`).join(', ')}`);
    }
    return undefined;
  }
  return {
    action: {
      description,
      leads: parseParties(row.get('Lead')),
      partners: parseParties(row.get('Partners')),
      resources: parseLines(row.get('Resources')),
      expectedOutcomes: parseLines(row.get('Expected outcomes')),
      progress: readProgress(row),
    },
    id: readActionId(row),
  };
}

function readRow(row: RowReader, sections: Map<number, SectionDraft>, ids: Map<number, Place>): void {
  const sectionNumber = readSectionNumber(row);
  const sectionTitle = row.required('Section title', 'section title');
  const aimNumber = row.get('Aim');
  const aimTitle = row.get('Aim title');
  const addedOnText = row.get('Aim added on');
  const read = readAction(row);

  if (read?.id !== undefined) {
    const first = ids.get(read.id);
    if (first) {
      row.problem(
        'Action id',
        `repeats action id ${read.id}, already on ${describePlace(first)}: one row per action`,
      );
    } else ids.set(read.id, row.place);
  }

  let section: SectionDraft | undefined;
  if (sectionNumber !== undefined && sectionTitle !== undefined) {
    section = sections.get(sectionNumber);
    if (!section) {
      section = { number: sectionNumber, title: sectionTitle, place: row.place, aims: new Map() };
      sections.set(sectionNumber, section);
    } else if (section.title !== sectionTitle) {
      row.problem(
        'Section title',
        `section ${sectionNumber} is titled "${section.title}" on ${describePlace(section.place)}: one number, one title`,
      );
    }
  }

  // A row with neither aim number nor aim title and no action names a section with no aims yet.
  if (!aimNumber && !aimTitle && !addedOnText && !read && row.has('Aim')) return;

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
      place: row.place,
      addedOnPlace: addedOn ? row.place : undefined,
      actions: [],
    };
    section.aims.set(aimNumber, draft);
  } else {
    if (draft.aim.title !== aimTitle) {
      row.problem(
        'Aim',
        `aim ${aimNumber} is "${draft.aim.title}" on ${describePlace(draft.place)}, but "${aimTitle}" here: one number, one aim`,
      );
    }
    if (addedOn && draft.aim.addedOn && draft.aim.addedOn !== addedOn) {
      row.problem(
        'Aim added on',
        `differs from ${describePlace(draft.addedOnPlace!)} (${draft.aim.addedOn}) for the same aim ${aimNumber}`,
      );
    } else if (addedOn && !draft.aim.addedOn) {
      draft.aim.addedOn = addedOn;
      draft.addedOnPlace = row.place;
    }
  }
  if (read) {
    draft.aim.actions.push(read.action);
    draft.actions.push({ id: read.id, place: row.place });
  }
}

/** Where the deepest part of the plan a schema problem's path reaches is. */
function placeForPath(places: Map<string, Place>, path: readonly PropertyKey[]): Place | undefined {
  for (let n = path.length; n > 0; n--) {
    const place = places.get(path.slice(0, n).join('.'));
    if (place !== undefined) return place;
  }
  return undefined;
}

/** A problem with a cell of a plan that was read: its column's letter is the one in its sheet. */
export function problemInCell(
  read: Pick<PlanTableRead, 'columns'>,
  place: Place,
  column: PlanCsvColumn,
  message: string,
): TableProblem {
  const indexes = read.columns.find((c) => c.sheet === place.sheet)?.indexes;
  return problemAt(place, message, { name: column, index: indexes?.[column] });
}

/** CSV cells: a leading apostrophe the writer put before a formula character is taken off. */
export function cleanCsvCell(value: string | undefined): string {
  if (value === undefined) return '';
  return (FORMULA_START.test(value) ? value.slice(1) : value).trim();
}

/**
 * Reads a plan from tables of the plan's columns: a CSV's one table, or a workbook's sheets.
 * The whole input is checked before anything is returned, and every problem says where it is.
 */
export function readPlanTables(
  tables: readonly PlanTable[],
  meta: { year: string; title?: string },
  options: { clean?: (value: string | undefined) => string } = {},
): PlanTableResult {
  const clean = options.clean ?? ((value: string | undefined) => (value ?? '').trim());
  const problems: TableProblem[] = [];
  const year = parsePlanYear(meta.year);
  if (!year)
    problems.push({ where: 'the plan year', message: `"${meta.year}" is not a plan year like "2024/25"` });

  const sections = new Map<number, SectionDraft>();
  const ids = new Map<number, Place>();
  const columns: PlanTableRead['columns'] = [];
  let rowCount = 0;
  for (const table of tables) {
    const indexes = readHeader(table.header, problems);
    columns.push({ sheet: table.sheet, indexes: Object.fromEntries(indexes) });
    const width = table.header.cells.length;
    for (const record of table.records) {
      if (record.cells.every((cell) => !cell.trim())) continue; // a spreadsheet's blank row: ",,,,"
      rowCount++;
      if (table.sheet === undefined && record.cells.length > width) {
        problems.push(
          problemAt(record.place, `has ${record.cells.length} cells but the header names ${width} columns`),
        );
      }
      const beyond = record.cells.slice(width).findIndex((c) => c.trim());
      if (table.sheet !== undefined && beyond >= 0) {
        problems.push(
          problemAt(record.place, `has a value in column ${columnLetter(width + beyond)}, which has no name`),
        );
      }
      table.header.cells.forEach((name, index) => {
        if (!name.trim() && record.cells[index]?.trim()) {
          problems.push(
            problemAt(
              record.place,
              `has a value in column ${table.sheet === undefined ? index + 1 : columnLetter(index)}, which has no name`,
            ),
          );
        }
      });
      readRow(new RowReader(record.cells, record.place, indexes, problems, clean), sections, ids);
    }
  }
  if (rowCount === 0 && problems.length === 0) {
    problems.push({ where: 'the file', message: 'has no rows after the header: nothing to import' });
  }
  if (problems.length) return { ok: false, problems };

  const places = new Map<string, Place>();
  const read: Omit<PlanTableRead, 'plan'> = { sections: [], aims: [], actions: [], columns };
  const sectionList = [...sections.values()];
  sectionList.forEach((section, s) => {
    places.set(`sections.${s}`, section.place);
    read.sections.push({ number: section.number, place: section.place });
    [...section.aims.values()].forEach((draft, a) => {
      places.set(`sections.${s}.aims.${a}`, draft.place);
      read.aims.push({ number: draft.aim.number, place: draft.place });
      draft.actions.forEach(({ id, place }, c) => {
        places.set(`sections.${s}.aims.${a}.actions.${c}`, place);
        read.actions.push({ aim: draft.aim.number, index: c, id, place });
      });
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
      problems: result.error.issues.map((issue) => {
        const place = placeForPath(places, issue.path);
        const message = `${issue.path.at(-1) === undefined ? '' : `${String(issue.path.at(-1))} `}${issue.message}`;
        return place ? problemAt(place, message) : { where: 'the file', message };
      }),
    };
  }
  return { ok: true, plan: result.data, ...read };
}

// ---------------------------------------------------------------------------------------------
// The CSV plan

interface CsvRecord {
  record: string[];
  raw: string;
  info: { lines: number };
}

/**
 * The line a record starts on: csv-parse counts to its end, quoted cells may hold line breaks,
 * and the raw text of a record after skipped blank lines starts with them.
 */
function startLine(record: CsvRecord): number {
  const body = record.raw.replace(/^\n+/, '').replace(/\n$/, '');
  return record.info.lines - (body.match(/\n/g)?.length ?? 0);
}

function parseRecords(text: string): { records: CsvRecord[] } | { problem: TableProblem } {
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
    const message = `is not valid CSV: ${reason}`;
    return {
      problem:
        typeof lines === 'number' ? problemAt({ row: lines }, message) : { where: 'the file', message },
    };
  }
}

/**
 * Reads a plan from CSV text (as writePlanCsv writes it, or as a spreadsheet saves it). The whole
 * file is checked before anything is returned, and every problem is reported with its line (the
 * header is line 1; a row is named by the line it starts on) and column.
 */
export function readPlanCsv(text: string, meta: { year: string; title?: string }): PlanTableResult {
  // One kind of line end: csv-parse counts a CRLF inside a quoted cell as two lines.
  const parsed = parseRecords(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n'));
  const yearProblem: TableProblem[] = parsePlanYear(meta.year)
    ? []
    : [{ where: 'the plan year', message: `"${meta.year}" is not a plan year like "2024/25"` }];
  if ('problem' in parsed) return { ok: false, problems: [...yearProblem, parsed.problem] };
  const [header, ...records] = parsed.records;
  if (!header) return { ok: false, problems: [...yearProblem, { where: 'the file', message: 'is empty' }] };
  const asRecord = (r: CsvRecord): TableRecord => ({ place: { row: startLine(r) }, cells: r.record });
  return readPlanTables(
    [{ header: { place: { row: 1 }, cells: header.record }, records: records.map(asRecord) }],
    meta,
    { clean: cleanCsvCell },
  );
}
