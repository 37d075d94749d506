/**
 * police.uk monthly CSV files (data.police.uk/data): "street" (street-level crime and ASB) and
 * "outcomes". Pure: a header row in, the file's kind out; CSV bytes in, chunks that end at a row's
 * end out. A file is recognised only by its exact header row, so a changed format is refused, not
 * guessed. The rows themselves are read and checked by the database (src/services/police-uk.ts).
 */

export const STREET_HEADERS = [
  'Crime ID',
  'Month',
  'Reported by',
  'Falls within',
  'Longitude',
  'Latitude',
  'Location',
  'LSOA code',
  'LSOA name',
  'Crime type',
  'Last outcome category',
  'Context',
] as const;

export const OUTCOMES_HEADERS = [
  'Crime ID',
  'Month',
  'Reported by',
  'Falls within',
  'Longitude',
  'Latitude',
  'Location',
  'LSOA code',
  'LSOA name',
  'Outcome type',
] as const;

export type PoliceUkKind = 'street' | 'outcomes';

/** A file or row that cannot be imported; the message names the line where there is one. */
export class PoliceUkFileError extends Error {}

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

export function isPoliceUkMonth(value: string): boolean {
  return MONTH.test(value);
}

function sameHeaders(fields: readonly string[], expected: readonly string[]): boolean {
  return fields.length === expected.length && fields.every((f, i) => f === expected[i]);
}

/** The file's kind from its header row; anything but the exact police.uk headers is refused. */
export function recognisePoliceUkHeader(fields: readonly string[]): PoliceUkKind {
  if (sameHeaders(fields, STREET_HEADERS)) return 'street';
  if (sameHeaders(fields, OUTCOMES_HEADERS)) return 'outcomes';
  throw new PoliceUkFileError(
    `line 1: the headers are not those of a police.uk street or outcomes file. Found: ${fields.join(',')}. ` +
      `A street file has: ${STREET_HEADERS.join(',')}. An outcomes file has: ${OUTCOMES_HEADERS.join(',')}.`,
  );
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a CSV file's bytes, as they are read, into chunks that end where a row ends: at a line
 * break outside quotes (a quoted field may hold line breaks; a doubled quote inside one toggles
 * twice, so counting quotes is enough). The first row (the header) is left out. Blank lines at the
 * very end of the file are dropped; any other line is passed on as it is, for the reader to judge.
 */
export class CsvRowSplitter {
  /** Rows seen so far, the header not counted: for progress (blank lines held back are counted). */
  rows = 0;
  private inQuotes = false;
  private headerLeft: boolean;
  private rest: Buffer = Buffer.alloc(0);

  constructor(options: { skipHeader: boolean }) {
    this.headerLeft = options.skipHeader;
  }

  /** The next bytes of the file in; out, the whole rows among what came in so far (or nothing). */
  push(bytes: Buffer): Buffer | undefined {
    const all = this.rest.length ? Buffer.concat([this.rest, bytes]) : bytes;
    let at = this.rest.length;
    let start = 0;
    let end = -1; // just after the last row end
    let quote = all.indexOf(QUOTE, at);
    for (;;) {
      if (this.inQuotes) {
        if (quote === -1) break;
        this.inQuotes = false;
        at = quote + 1;
        quote = all.indexOf(QUOTE, at);
        continue;
      }
      const lineEnd = all.indexOf(LF, at);
      if (quote !== -1 && (lineEnd === -1 || quote < lineEnd)) {
        this.inQuotes = true;
        at = quote + 1;
        quote = all.indexOf(QUOTE, at);
        continue;
      }
      if (lineEnd === -1) break;
      at = lineEnd + 1;
      if (this.headerLeft) {
        this.headerLeft = false;
        start = at;
      } else {
        this.rows++;
        end = at;
      }
    }
    if (end === -1) {
      this.rest = all.subarray(start);
      return undefined;
    }
    // Blank lines at the end are held back: they are dropped if nothing but blank lines follows.
    let kept = end;
    while (kept > start && (all[kept - 1] === LF || all[kept - 1] === CR)) kept--;
    kept = kept === start ? start : all.indexOf(LF, kept) + 1;
    this.rest = all.subarray(kept);
    return kept > start ? all.subarray(start, kept) : undefined;
  }

  /** At the end of the file: the last row if it has no line break after it (blank lines dropped). */
  end(): Buffer | undefined {
    let length = this.rest.length;
    while (length > 0 && (this.rest[length - 1] === LF || this.rest[length - 1] === CR)) length--;
    const last = this.headerLeft ? undefined : this.rest.subarray(0, length);
    this.rest = Buffer.alloc(0);
    if (!last?.length) return undefined;
    this.rows++;
    return last;
  }
}

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
/** A space or tab just before a field's end: before a comma, a closing quote or a row's end. */
const atFieldEnd = (space: number) => [COMMA, QUOTE, LF, CR].map((end) => Buffer.from([space, end]));
const SPACE_AT_FIELD_END = atFieldEnd(SPACE);
const TAB_AT_FIELD_END = atFieldEnd(TAB);

/**
 * Whether whole rows of CSV (as CsvRowSplitter gives them; `rows` of them) may hold a value with
 * spaces, tabs or line breaks at its end, or a line break or carriage return inside it: a space or
 * tab before a field's end, a carriage return not ending a line, more lines than rows (a quoted
 * line break), or a space at the very end. May say yes for a value that has none (a quoted ", "),
 * never no for one that has. With a check of each value's first character (done by the database),
 * this tells a file whose values need no trimming without reading its fields.
 */
export function mayHoldSpaceAtValueEnd(chunk: Buffer, rows: number): boolean {
  if (SPACE_AT_FIELD_END.some((pattern) => chunk.includes(pattern))) return true;
  // Tabs are rare: one look for any before four for one at a field's end.
  if (chunk.includes(TAB) && TAB_AT_FIELD_END.some((pattern) => chunk.includes(pattern))) return true;
  const last = chunk[chunk.length - 1];
  if (last === SPACE || last === TAB) return true;
  for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
    if (chunk[at + 1] !== LF) return true;
  }
  let lines = 0;
  for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) lines++;
  // The last row may end without a line break (the file's last).
  return lines > rows;
}

const HEX = [Buffer.from('0x'), Buffer.from('0X')];

/**
 * Whether CSV may hold a number written in hexadecimal (`0x10`), which PostgreSQL reads as a
 * coordinate but the detailed check refuses. Says yes for any "0x" at all.
 */
export function mayHoldHexNumber(chunk: Buffer): boolean {
  return HEX.some((pattern) => chunk.includes(pattern));
}

/**
 * The line (from 1, the header's) on which data row `row` (from 1) starts, reading quotes as
 * CsvRowSplitter does: a quoted line break makes a row span lines. For a message about a row.
 */
export async function lineOfRow(
  bytes: AsyncIterable<Buffer> | Iterable<Buffer>,
  row: number,
): Promise<number> {
  let inQuotes = false;
  let lines = 0;
  let rowsEnded = -1; // the header is row 0
  if (row <= 0) return 1;
  for await (const chunk of bytes) {
    for (const byte of chunk) {
      if (byte === QUOTE) inQuotes = !inQuotes;
      else if (byte === LF) {
        lines++;
        if (!inQuotes && ++rowsEnded === row - 1) return lines + 1;
      }
    }
  }
  return lines + 1;
}
