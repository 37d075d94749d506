/**
 * A council's own CSV of fly-tipping and graffiti: any shape, as long as it has a header row. Read
 * once to list its columns and a few rows; then, with a mapping (which column is the date, which
 * says the kind or that the whole file is one kind, and optionally a count column for a file of
 * monthly totals), counted by kind and month. Pure: bytes in, rows and counts out.
 *
 * Quirks of real council exports handled here: a byte-order mark, semicolons instead of commas
 * (spreadsheets set to European formats), Windows-1252 text from older Excel, and dates in every
 * form a spreadsheet writes them: 2024-05-03, 03/05/2024 (UK: day first), 3 May 2024, May 2024,
 * May-24, 2024-05, and Excel's day numbers (45415).
 */
import { parse } from 'csv-parse/sync';

export const INCIDENT_KINDS = ['fly_tipping', 'graffiti'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const INCIDENT_KIND_LABELS: Record<IncidentKind, string> = {
  fly_tipping: 'Fly-tipping',
  graffiti: 'Graffiti',
};

export function isIncidentKind(value: unknown): value is IncidentKind {
  return (INCIDENT_KINDS as readonly unknown[]).includes(value);
}

/** A problem with the file: where (line, column) when it is one cell's. */
export interface IncidentProblem {
  line?: number;
  column?: string;
  message: string;
}

export function describeProblem(p: IncidentProblem): string {
  const where = [
    p.line === undefined ? undefined : `line ${p.line}`,
    p.column === undefined ? undefined : `column “${p.column}”`,
  ].filter(Boolean);
  return where.length ? `${capitalise(where.join(', '))}: ${p.message}` : capitalise(p.message);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The file as read: its columns (named uniquely) and its data rows with their line numbers. */
export interface CouncilCsv {
  delimiter: ',' | ';';
  columns: string[];
  rows: { line: number; cells: string[] }[];
}

export type CouncilCsvRead = { ok: true; csv: CouncilCsv } | { ok: false; problems: IncidentProblem[] };

/** UTF-8 (with or without a BOM); text that is not valid UTF-8 is read as Windows-1252, as Excel writes it. */
function decode(data: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    text = new TextDecoder('windows-1252').decode(data);
  }
  return text.replace(/^\uFEFF/, '');
}

/** Commas unless the header line has more semicolons than commas (outside quotes). */
function detectDelimiter(text: string): ',' | ';' {
  let commas = 0;
  let semicolons = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c === ',') commas++;
    else if (!quoted && c === ';') semicolons++;
  }
  return semicolons > commas ? ';' : ',';
}

/** Reads the whole file: a header row, then data rows. Blank lines and rows of empty cells are skipped. */
export function readCouncilCsv(data: Uint8Array): CouncilCsvRead {
  const text = decode(data);
  if (text.trim() === '') return { ok: false, problems: [{ message: 'the file is empty' }] };
  const delimiter = detectDelimiter(text);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    return {
      ok: false,
      problems: [
        {
          line,
          message: `this is not a CSV file we can read (${(error as Error).message}); save it from the spreadsheet as “CSV UTF-8”`,
        },
      ],
    };
  }
  const [header, ...body] = records;
  if (!header) return { ok: false, problems: [{ message: 'the file is empty' }] };
  const seen = new Map<string, number>();
  const columns = header.record.map((raw, i) => {
    const name = raw.replace(/\s+/g, ' ').trim() || `Column ${i + 1}`;
    const n = (seen.get(name.toLowerCase()) ?? 0) + 1;
    seen.set(name.toLowerCase(), n);
    return n === 1 ? name : `${name} (${n})`;
  });
  const rows = body
    .filter(({ record }) => record.some((cell) => cell.trim() !== ''))
    .map(({ record, info }) => ({
      // csv-parse counts to the record's end; a quoted cell with line breaks began lines before.
      line: info.lines - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0),
      cells: record.map((c) => c.trim()),
    }));
  if (!rows.length) {
    return { ok: false, problems: [{ message: 'the file has a header row but no rows under it' }] };
  }
  return { ok: true, csv: { delimiter, columns, rows } };
}

/** What the coordinator says about the file's columns. Columns are named as `CouncilCsv.columns`. */
export interface IncidentMapping {
  dateColumn: string;
  /** The column that says what kind of incident a row is; null when the whole file is `wholeKind`. */
  kindColumn: string | null;
  wholeKind: IncidentKind | null;
  /** Values of the kind column meaning fly-tipping, and graffiti (compared without case or extra spaces). */
  flyTippingValues: string[];
  graffitiValues: string[];
  /** A column of counts (a file of monthly totals); null: each row is one incident. */
  countColumn: string | null;
  /** Leave out rows whose date or count cannot be read, listing them, instead of refusing the file. */
  skipUnreadable: boolean;
}

/** Problems with the mapping itself, by the form field they belong to. */
export function checkMapping(
  columns: readonly string[],
  mapping: IncidentMapping,
): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const known = (c: string | null) => c === null || columns.includes(c);
  if (!mapping.dateColumn || !known(mapping.dateColumn)) {
    problems.push({ field: 'dateColumn', message: 'Select the column that gives the date of each row' });
  }
  if (mapping.kindColumn === null) {
    if (!mapping.wholeKind) {
      problems.push({
        field: 'kindColumn',
        message: 'Select the column that says the kind of incident, or say the whole file is one kind',
      });
    }
  } else if (!known(mapping.kindColumn)) {
    problems.push({ field: 'kindColumn', message: 'Select a column of the file for the kind of incident' });
  } else {
    if (mapping.kindColumn === mapping.dateColumn) {
      problems.push({
        field: 'kindColumn',
        message: 'The kind of incident must be in a column other than the date',
      });
    }
    const fly = new Set(mapping.flyTippingValues.map(normaliseValue));
    const both = mapping.graffitiValues.map(normaliseValue).filter((v) => fly.has(v));
    if (!mapping.flyTippingValues.length && !mapping.graffitiValues.length) {
      problems.push({
        field: 'flyTippingValues',
        message: `Enter the values of “${mapping.kindColumn}” that mean fly-tipping or graffiti, one a line`,
      });
    } else if (both.length) {
      problems.push({
        field: 'graffitiValues',
        message: `A value cannot mean both fly-tipping and graffiti: ${both.map((v) => `“${v}”`).join(', ')}`,
      });
    }
  }
  if (mapping.countColumn !== null) {
    if (!known(mapping.countColumn)) {
      problems.push({ field: 'countColumn', message: 'Select a column of the file for the counts' });
    } else if (mapping.countColumn === mapping.dateColumn || mapping.countColumn === mapping.kindColumn) {
      problems.push({ field: 'countColumn', message: 'The counts must be in a column of their own' });
    }
  }
  return problems;
}

export function normaliseValue(value: string): string {
  return value.replace(/\s+/g, ' ').trim().toLowerCase();
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = new Map<string, number>();
for (const [i, short] of MONTHS.entries()) MONTH_NAMES.set(short, i + 1);
for (const [i, long] of [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
].entries())
  MONTH_NAMES.set(long, i + 1);
MONTH_NAMES.set('sept', 9);

const TIME = String.raw`(?:[T ]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[ap]m)?(?:Z|[+-]\d{2}:?\d{2})?)?`;
const ISO_DATE = new RegExp(String.raw`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})${TIME}$`, 'i');
const UK_DATE = new RegExp(String.raw`^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})${TIME}$`, 'i');
const NAMED_DATE = new RegExp(
  String.raw`^(?:[a-z]+,?\s+)?(?:(\d{1,2})(?:st|nd|rd|th)?[\s-]+)?([a-z]+)\.?[\s,-]+(\d{4}|\d{2})${TIME}$`,
  'i',
);
const YEAR_MONTH = /^(\d{4})[-/](\d{1,2})$/;
const MONTH_YEAR = /^(\d{1,2})[/.-](\d{4})$/;
const EXCEL_SERIAL = /^\d{5}(?:\.\d+)?$/;
/** Excel's day numbers for 1 January 1990 and 31 December 2099. */
const EXCEL_FIRST = 32874;
const EXCEL_LAST = 73050;
const FIRST_YEAR = 1990;
const LAST_YEAR = 2099;

function month(year: number, monthNumber: number, day?: number): string | undefined {
  if (year < FIRST_YEAR || year > LAST_YEAR || monthNumber < 1 || monthNumber > 12) return undefined;
  if (day !== undefined) {
    const days = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
    if (day < 1 || day > days) return undefined;
  }
  return `${year}-${String(monthNumber).padStart(2, '0')}`;
}

const fullYear = (text: string) => (text.length === 2 ? 2000 + Number(text) : Number(text));

/** The month ('2024-05') of a date as a council's spreadsheet writes it, or undefined. UK order: day first. */
export function parseIncidentMonth(text: string): string | undefined {
  const value = text.trim();
  let m: RegExpExecArray | null;
  if ((m = ISO_DATE.exec(value))) return month(Number(m[1]), Number(m[2]), Number(m[3]));
  if ((m = UK_DATE.exec(value))) return month(fullYear(m[3]!), Number(m[2]), Number(m[1]));
  if ((m = YEAR_MONTH.exec(value))) return month(Number(m[1]), Number(m[2]));
  if ((m = MONTH_YEAR.exec(value))) return month(Number(m[2]), Number(m[1]));
  if ((m = NAMED_DATE.exec(value))) {
    const monthNumber = MONTH_NAMES.get(m[2]!.toLowerCase());
    if (monthNumber === undefined) return undefined;
    return month(fullYear(m[3]!), monthNumber, m[1] === undefined ? undefined : Number(m[1]));
  }
  if (EXCEL_SERIAL.test(value)) {
    const serial = Math.floor(Number(value));
    if (serial < EXCEL_FIRST || serial > EXCEL_LAST) return undefined;
    // Day 1 is 1 January 1900, and Excel counts a 29 February 1900 that never was: from March 1900 on,
    // day n is n days after 30 December 1899.
    const date = new Date(Date.UTC(1899, 11, 30) + serial * 86_400_000);
    return month(date.getUTCFullYear(), date.getUTCMonth() + 1);
  }
  return undefined;
}

/** A whole number of incidents: 12, 1,234, 12.0; undefined for anything else. */
export function parseIncidentCount(text: string): number | undefined {
  const value = text.trim().replace(/,(?=\d{3}(?:\D|$))/g, '');
  if (!/^\d+(?:\.0+)?$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n <= 10_000_000 ? n : undefined;
}

export interface MonthCount {
  kind: IncidentKind;
  month: string;
  incidents: number;
}

export interface IgnoredValue {
  /** The kind column's value, as first written in the file ('' for an empty cell). */
  value: string;
  rows: number;
  lines: number[];
}

export interface IncidentCounts {
  /**
   * Every month from the file's first to its last, for each kind the file covers, zeros included:
   * a month in the file with no graffiti rows had no graffiti.
   */
  counts: MonthCount[];
  kinds: IncidentKind[];
  firstMonth: string;
  lastMonth: string;
  /** Rows read and counted. */
  rowsCounted: number;
  /** Rows of other kinds, by value of the kind column. */
  ignored: IgnoredValue[];
  /** Rows left out because their date or count could not be read (only with skipUnreadable). */
  unreadable: IncidentProblem[];
}

export type IncidentCountResult =
  { ok: true; counts: IncidentCounts } | { ok: false; problems: IncidentProblem[] };

const IGNORED_LINES_KEPT = 50;

/** The mapping must have passed checkMapping. Reads every row: any unreadable one fails the file (unless skipped). */
export function countIncidents(csv: CouncilCsv, mapping: IncidentMapping): IncidentCountResult {
  const index = (column: string | null) => (column === null ? -1 : csv.columns.indexOf(column));
  const dateAt = index(mapping.dateColumn);
  const kindAt = index(mapping.kindColumn);
  const countAt = index(mapping.countColumn);
  const kindOf = new Map<string, IncidentKind>();
  for (const v of mapping.flyTippingValues) kindOf.set(normaliseValue(v), 'fly_tipping');
  for (const v of mapping.graffitiValues) kindOf.set(normaliseValue(v), 'graffiti');
  const kinds: IncidentKind[] =
    kindAt === -1
      ? [mapping.wholeKind ?? 'fly_tipping']
      : INCIDENT_KINDS.filter((k) => [...kindOf.values()].includes(k));

  const problems: IncidentProblem[] = [];
  const totals = new Map<string, number>();
  const ignored = new Map<string, IgnoredValue>();
  let rowsCounted = 0;
  for (const row of csv.rows) {
    let kind: IncidentKind | undefined = mapping.wholeKind ?? undefined;
    if (kindAt !== -1) {
      const raw = row.cells[kindAt] ?? '';
      kind = kindOf.get(normaliseValue(raw));
      if (!kind) {
        const key = normaliseValue(raw);
        const entry = ignored.get(key) ?? { value: raw, rows: 0, lines: [] };
        entry.rows++;
        if (entry.lines.length < IGNORED_LINES_KEPT) entry.lines.push(row.line);
        ignored.set(key, entry);
        continue;
      }
    }
    const dateText = row.cells[dateAt] ?? '';
    const monthOfRow = parseIncidentMonth(dateText);
    if (!monthOfRow) {
      problems.push({
        line: row.line,
        column: mapping.dateColumn,
        message:
          dateText === ''
            ? 'the date is empty'
            : `“${dateText}” is not a date we can read (write it as 03/05/2024, 2024-05-03, 3 May 2024, May 2024 or 2024-05, between ${FIRST_YEAR} and ${LAST_YEAR})`,
      });
      continue;
    }
    let incidents = 1;
    if (countAt !== -1) {
      const countText = row.cells[countAt] ?? '';
      const n = parseIncidentCount(countText);
      if (n === undefined) {
        problems.push({
          line: row.line,
          column: mapping.countColumn!,
          message:
            countText === ''
              ? 'the count is empty'
              : `“${countText}” is not a count of incidents (a whole number, 0 or more)`,
        });
        continue;
      }
      incidents = n;
    }
    rowsCounted++;
    const key = `${kind}|${monthOfRow}`;
    totals.set(key, (totals.get(key) ?? 0) + incidents);
  }
  if (problems.length && !mapping.skipUnreadable) return { ok: false, problems };
  if (rowsCounted === 0) {
    const seen = [...ignored.values()].map((v) => `“${v.value}”`).slice(0, 10);
    return {
      ok: false,
      problems: problems.length
        ? problems
        : [
            {
              column: mapping.kindColumn ?? undefined,
              message: `no row is fly-tipping or graffiti${seen.length ? `: the values found are ${seen.join(', ')}` : ''}`,
            },
          ],
    };
  }
  const months = [...totals.keys()].map((k) => k.split('|')[1]!).sort();
  const firstMonth = months[0]!;
  const lastMonth = months.at(-1)!;
  const counts: MonthCount[] = [];
  for (const kind of kinds) {
    for (const m of monthRange(firstMonth, lastMonth)) {
      counts.push({ kind, month: m, incidents: totals.get(`${kind}|${m}`) ?? 0 });
    }
  }
  return {
    ok: true,
    counts: {
      counts,
      kinds,
      firstMonth,
      lastMonth,
      rowsCounted,
      ignored: [...ignored.values()].sort((a, b) => b.rows - a.rows),
      unreadable: problems,
    },
  };
}

/** Every month from `first` to `last`, both included ('2024-11' … '2025-02'). */
export function monthRange(first: string, last: string): string[] {
  const out: string[] = [];
  let [y, m] = first.split('-').map(Number) as [number, number];
  const [ly, lm] = last.split('-').map(Number) as [number, number];
  while (y < ly || (y === ly && m <= lm)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
  return out;
}

/** A first guess at the mapping from the column names and values, when nothing is remembered. */
export function guessMapping(csv: CouncilCsv): IncidentMapping {
  const find = (pattern: RegExp, except: (string | null)[] = []) =>
    csv.columns.find((c) => pattern.test(c) && !except.includes(c)) ?? null;
  const dateColumn =
    find(/date|month|reported|received|created|period/i) ??
    csv.columns.find((_, i) => csv.rows.slice(0, 20).some((r) => parseIncidentMonth(r.cells[i] ?? ''))) ??
    csv.columns[0]!;
  const kindColumn = find(/type|category|kind|service|issue|nature/i, [dateColumn]);
  const countColumn = find(/count|total|number|incidents|^n$/i, [dateColumn, kindColumn]);
  const values = kindColumn === null ? [] : distinctValues(csv, kindColumn, 200);
  return {
    dateColumn,
    kindColumn,
    wholeKind: kindColumn === null ? 'fly_tipping' : null,
    flyTippingValues: values.filter((v) => /fly|tip|dump/i.test(v)),
    graffitiValues: values.filter((v) => /graffiti|tag/i.test(v)),
    countColumn,
    skipUnreadable: false,
  };
}

/** A column's distinct values in the order first seen (case and extra spaces ignored), at most `limit`. */
export function distinctValues(csv: CouncilCsv, column: string, limit = 12): string[] {
  const at = csv.columns.indexOf(column);
  if (at === -1) return [];
  const seen = new Map<string, string>();
  for (const row of csv.rows) {
    const value = row.cells[at] ?? '';
    const key = normaliseValue(value);
    if (key !== '' && !seen.has(key)) seen.set(key, value.replace(/\s+/g, ' '));
    if (seen.size >= limit) break;
  }
  return [...seen.values()];
}
