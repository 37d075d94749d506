/**
 * police.uk open data: import monthly street and outcomes files, set a partnership's area, and
 * summarise a month. The data is shared (one force's file serves every partnership in it) and read
 * through a partnership's area, so these tables carry no partnership_id (see src/db/schema.ts).
 * The command line (the system actor) or a coordinator may import; a partnership's coordinator (or
 * the command line) sets its area.
 */
import fs from 'node:fs';
import { parse as parseSync } from 'csv-parse/sync';
import { and, count, desc, eq, getTableColumns, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import {
  CopyRowError,
  instanceLock,
  queryRows,
  withCopySession,
  type CopySession,
  type Db,
  type Tx,
} from '../db/client.js';
import {
  partnershipAreas,
  policeCrimeCounts,
  policeOutcomes,
  policeStreetCrimes,
  policeUkImports,
  users,
} from '../db/schema.js';
import {
  CsvRowSplitter,
  isPoliceUkMonth,
  lineOfRow,
  mayHoldHexNumber,
  mayHoldSpaceAtValueEnd,
  OUTCOMES_HEADERS,
  PoliceUkFileError,
  recognisePoliceUkHeader,
  STREET_HEADERS,
  type PoliceUkKind,
} from '../documents/police-uk.js';
import { canManageEvidence } from '../domain/evidence.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { getPartnershipBySlug } from './plan-read.js';
import { refreshAreaCounts, refreshMonthCounts } from './police-counts.js';
import { replaceForceMonth, startForceMonth, textLiteral, type NewForceMonth } from './police-months.js';

/**
 * The file is read this much at a time, and its whole rows go to COPY as they come (on PGlite a
 * COPY of their own each, which PGlite holds whole: a 200 MB file never is).
 */
const READ_BYTES = 1024 * 1024;

export { PoliceUkFileError };

export interface PoliceUkImportResult {
  file: string;
  kind: PoliceUkKind;
  force: string;
  month: string;
  rows: number;
  /** Rows of this (force, month, kind) that the import replaced. */
  replaced: number;
}

/** While the file is read into the database: its rows so far, and the bytes read of the whole. */
export type ImportProgress = (rowsSoFar: number, bytesRead: number, totalBytes: number) => void;

/** While the checked rows are written to the police table: rows written of the file's rows. */
export type WriteProgress = (rowsWritten: number, rows: number) => void;

export interface ImportOptions {
  onProgress?: ImportProgress;
  onWrite?: WriteProgress;
  /** The file's name in messages and the result, when the path is a temporary file's (an upload). */
  name?: string;
  /** Stops the import (the server is stopping): nothing is written. */
  signal?: AbortSignal;
  /**
   * Told which way the file was written: 'fast' (PostgreSQL: COPY straight into the police table,
   * then checked) or 'detailed' (staged, every row checked, then written; PGlite, or the fast path
   * rolled back). For tests and the benchmark.
   */
  onPath?: (path: 'fast' | 'detailed') => void;
  /** Runs in the import's transaction once the rows are in: what commits with them (an upload's state). */
  beforeCommit?: (tx: Tx, result: PoliceUkImportResult) => Promise<void>;
}

/**
 * police.uk data is shared open data: the operator (the command line) or any partnership's
 * coordinator may import a file; it serves every partnership whose area it covers.
 */
function requireImporter(actor: Actor): void {
  if (actor.system || actor.member?.role === 'coordinator') return;
  throw new ForbiddenError('Only a coordinator or the operator (the command line) may import police.uk data');
}

/**
 * Imports one police.uk file as a stream, never holding it in memory, and lets the database read it.
 * The header row is checked here (a file that is not police.uk's is refused at once). A force's
 * month is a table of its own (police-months.ts), made new by each import and put in place of the
 * one before when the rows are in and counted. On PostgreSQL, the fast path (importFast): in one
 * transaction the file is COPied straight into the new table, each row checked as it comes (the
 * table's CHECK), then counted, swapped in and audited; a file it cannot vouch for is rolled back
 * and goes the detailed way (importRows), as every file does on PGlite:
 * 1. the rows are COPied as CSV into a temporary table of text columns, `n` numbering them in the
 *    file's order (staging: no police table is touched, and on the embedded database other
 *    queries run between the chunks, so a page polling the progress is answered);
 * 2. one query checks every row there (the first bad one is refused, naming its line);
 * 3. in one transaction: INSERT … SELECT the rows into the new table of the file's (force, month),
 *    count it (refreshMonthCounts), put it in place of the month's table before (a re-import
 *    replaces the month) and record the audit event.
 * Any bad row stops the import before step 3, with a PoliceUkFileError naming the file and the line.
 */
export async function importPoliceUkFile(
  db: Db,
  file: string,
  actor: Actor,
  options: ImportOptions = {},
): Promise<PoliceUkImportResult> {
  requireImporter(actor);
  const name = options.name ?? file;
  let totalBytes: number;
  try {
    totalBytes = (await fs.promises.stat(file)).size;
  } catch (error) {
    throw new PoliceUkFileError(`${name}: cannot read it: ${(error as Error).message}`);
  }
  const { header, firstRow } = readStart(file);
  const kind = wrapFileError(name, () => recognisePoliceUkHeader(header));
  const source = { file, name, kind, totalBytes };
  try {
    return await withCopySession(db, async (session) => {
      const first = session.kind === 'postgres' ? fastPathKey(firstRow) : undefined;
      const fast = first && (await importFast(session, source, first, actor, options));
      options.onPath?.(fast ? 'fast' : 'detailed');
      return fast || (await importRows(session, source, actor, options));
    });
  } catch (error) {
    throw toFileError(name, error);
  }
}

function toFileError(file: string, error: unknown): unknown {
  if (error instanceof PoliceUkFileError && !error.message.startsWith(`${file}: `)) {
    return new PoliceUkFileError(`${file}: ${error.message}`);
  }
  return error;
}

function wrapFileError<T>(file: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw toFileError(file, error);
  }
}

/**
 * The file's first line, the header row (police.uk headers hold no quotes or line breaks), and the
 * first data row as far as the first 64 KB hold it (for the fast path's force and month; a guess,
 * which the fast path's checks confirm).
 */
function readStart(file: string): { header: string[]; firstRow: string[] | undefined } {
  const handle = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const length = fs.readSync(handle, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    const end = text.search(/\r?\n/);
    const firstLine = end === -1 ? text : text.slice(0, end);
    if (firstLine.trim() === '')
      throw new PoliceUkFileError('line 1: the file is empty: it has no header row.');
    const [fields] = parseSync(firstLine, { bom: true, relax_quotes: true }) as string[][];
    return { header: fields ?? [], firstRow: end === -1 ? undefined : readFirstRow(text.slice(end)) };
  } finally {
    fs.closeSync(handle);
  }
}

function readFirstRow(rest: string): string[] | undefined {
  const line = /^\r?\n([^\r\n]+)\r?\n/.exec(rest)?.[1];
  if (!line) return undefined;
  try {
    return (parseSync(line, { relax_column_count: true }) as string[][])[0];
  } catch {
    return undefined; // quotes across lines, or not CSV: the detailed path reads and judges it
  }
}

function readHeader(file: string): string[] {
  return readStart(file).header;
}

/** The kind of a police.uk file from its header row; a PoliceUkFileError (line 1) for any other file. */
export function recognisePoliceUkFile(file: string): PoliceUkKind {
  return recognisePoliceUkHeader(readHeader(file));
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImportStoppedError('the import was stopped: the server is stopping.');
}

/** The import was stopped before it wrote anything (the server stopping). */
export class ImportStoppedError extends Error {}

interface ImportFile {
  file: string;
  name: string;
  kind: PoliceUkKind;
  totalBytes: number;
}

/** Each import's staging table has a name of its own (PGlite's one session is every request's). */
let staged = 0;

async function importRows(
  session: CopySession,
  source: ImportFile,
  actor: Actor,
  options: ImportOptions,
): Promise<PoliceUkImportResult> {
  const table = `police_uk_staging_${++staged}`;
  const fields = (source.kind === 'street' ? STREET_HEADERS : OUTCOMES_HEADERS).length;
  const columns = Array.from({ length: fields }, (_, i) => `c${i}`);
  // The staging table has no statistics, so the planner guesses a large cost and PostgreSQL's JIT
  // compiles each query: 170 ms of a 250 ms check on 80,000 rows. Plain interpretation is faster.
  await session.db.execute(sql`set jit = off`);
  await session.db.execute(
    sql.raw(`create temporary table ${table} (n bigint generated always as identity,
      ${columns.map((c) => `${c} text`).join(', ')})`),
  );
  try {
    const { rows, reported } = await stageRows(session, table, columns, source, options);
    if (!rows) {
      throw new PoliceUkFileError('the file has headers but no rows, so it names no force or month.');
    }
    if (reported.rows !== rows || reported.bytesRead !== source.totalBytes) {
      options.onProgress?.(rows, source.totalBytes, source.totalBytes);
    }
    const { force, month } = await checkRows(session.db, table, source);
    const checked = { kind: source.kind, force, month, rows };
    stopIfAborted(options.signal);
    return await session.transaction((tx) => writeRows(tx, table, source.name, checked, actor, options));
  } finally {
    // Outside the transaction (which may have failed); a broken connection is not reused anyway.
    await session.db.execute(sql.raw(`drop table if exists ${table}`)).catch(() => undefined);
    await session.db.execute(sql`reset jit`).catch(() => undefined);
  }
}

/**
 * The file's whole rows as they are read, the header left out, chunks that end at a row's end;
 * `reported` follows the progress last reported.
 */
async function* wholeRows(
  { file, totalBytes }: ImportFile,
  { onProgress, signal }: ImportOptions,
  reported: { rows: number; bytesRead: number },
  inspect?: (chunk: Buffer, rows: number) => void,
): AsyncGenerator<Buffer> {
  const input = fs.createReadStream(file, { highWaterMark: READ_BYTES });
  const splitter = new CsvRowSplitter({ skipHeader: true });
  try {
    for await (const bytes of input as AsyncIterable<Buffer>) {
      stopIfAborted(signal);
      const before = splitter.rows;
      const rows = splitter.push(bytes);
      if (rows) {
        inspect?.(rows, splitter.rows - before);
        Object.assign(reported, { rows: splitter.rows, bytesRead: input.bytesRead });
        onProgress?.(reported.rows, reported.bytesRead, totalBytes);
        yield rows;
      }
    }
    const last = splitter.end();
    if (last) {
      inspect?.(last, 1);
      yield last;
    }
  } finally {
    input.destroy();
  }
}

/**
 * The file's rows into the staging table with COPY (CSV), the header left out: how many, and the
 * progress last reported.
 */
async function stageRows(
  session: CopySession,
  table: string,
  columns: string[],
  source: ImportFile,
  options: ImportOptions,
): Promise<{ rows: number; reported: { rows: number; bytesRead: number } }> {
  const reported = { rows: 0, bytesRead: 0 };
  try {
    const rows = await session.copyCsv(
      `${table} (${columns.join(', ')})`,
      wholeRows(source, options, reported),
    );
    return { rows, reported };
  } catch (error) {
    if (error instanceof CopyRowError) throw new PoliceUkFileError(copyRowMessage(error, columns.length));
    throw error;
  }
}

/** A row COPY refused, in the words of the checks below; its line counts the header (line 1). */
function copyRowMessage(error: CopyRowError, fields: number): string {
  const line = error.line + 1;
  const missing = /^missing data for column "c(\d+)"/.exec(error.message);
  if (missing)
    return `line ${line}: expected ${fields} fields, found ${missing[1]} (is the file cut short?).`;
  if (error.message.startsWith('extra data after last expected column')) {
    return `line ${line}: expected ${fields} fields, found more.`;
  }
  return `line ${line}: not valid CSV (${error.message}); is the file cut short or damaged?`;
}

/** A value as checked and kept: without the spaces, tabs and line breaks around it. */
const trimmed = (column: string) => `btrim(${column}, E' \\t\\r\\n')`;
const given = (column: string) => `coalesce(${trimmed(column)}, '')`;
const optional = (column: string) => `nullif(${trimmed(column)}, '')`;
/** A decimal number (a coordinate), as police.uk writes them; the exponent's two digits keep it in range. */
const DECIMAL = `'^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]{1,2})?$'`;

/** CASE: a bad coordinate (not a number, or beyond `limit` degrees); empty is not bad. */
function badCoordinate(column: string, limit: number): string {
  return `case when ${given(column)} = '' then false
    when ${trimmed(column)} ~ ${DECIMAL} then abs(${trimmed(column)}::float8) > ${limit}
    else true end`;
}

/**
 * The checks of a row, in order, each with its message (the first that fails is the row's): the
 * month, the coordinates, then the values a row must have, then the force and month of the file's
 * first row. The columns are the file's: c0 Crime ID, c1 Month, c2 Reported by, c3 Falls within,
 * c4 Longitude, c5 Latitude, c6 Location, c7 LSOA code, c8 LSOA name, c9 Crime or Outcome type.
 * A row whose Month and Reported by are written as the first row's (all of them, in a good file)
 * shares that row's month check and cannot differ from it: each is worked out once, in `first`.
 */
function rowProblem(kind: PoliceUkKind): string {
  const empty = (column: string, header: string) => `when ${given(column)} = '' then '"${header}" is empty.'`;
  const asFirst = `(c1 = first.month_as_written and c2 = first.force_as_written)`;
  return `case
    when case when ${asFirst} then not first.month_ok else not ${monthOk('c1')} end
      then '"Month" must be YYYY-MM, not ' || to_json(coalesce(c1, ''))::text || '.'
    when ${badCoordinate('c4', 180)} then '"Longitude" is not a coordinate: ' || to_json(c4)::text || '.'
    when ${badCoordinate('c5', 90)} then '"Latitude" is not a coordinate: ' || to_json(c5)::text || '.'
    when (${given('c4')} = '') <> (${given('c5')} = '')
      then '"Longitude" and "Latitude" must both be given or both empty.'
    ${empty('c2', 'Reported by')}
    ${empty('c3', 'Falls within')}
    ${kind === 'street' ? empty('c9', 'Crime type') : empty('c0', 'Crime ID')}
    ${kind === 'street' ? '' : empty('c9', 'Outcome type')}
    when not ${asFirst} and (${trimmed('c2')} <> first.force or ${trimmed('c1')} <> first.month)
      then 'a police.uk file holds one force''s month; this row is ' || ${trimmed('c2')} || ' ' ||
        ${trimmed('c1')} || ', the file began with ' || first.force || ' ' || first.month || '.'
    end`;
}

const monthOk = (column: string) => `(${given(column)} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')`;

/** The first staged row (numbered 1: COPY fills `n` in the file's order), as the checks use it. */
const firstRow = (table: string) => `select c1 as month_as_written, c2 as force_as_written,
    ${monthOk('c1')} as month_ok, ${trimmed('c2')} as force, ${trimmed('c1')} as month
  from ${table} where n = 1 limit 1`;

/**
 * Every staged row checked in one query; the first bad one (in the file's order) is refused with
 * the line of the file it starts on. Otherwise, the file's force and month.
 */
async function checkRows(
  db: Db,
  table: string,
  { file, kind }: ImportFile,
): Promise<{ force: string; month: string }> {
  const [bad] = await queryRows<{ n: number; problem: string }>(
    db,
    sql.raw(`with first as (${firstRow(table)})
      select n::int as n, problem from (
        select n, ${rowProblem(kind)} as problem from ${table}, first) checked
      where problem is not null order by n limit 1`),
  );
  if (bad) {
    const line = await lineOfRow(fs.createReadStream(file), Number(bad.n));
    throw new PoliceUkFileError(`line ${line}: ${bad.problem}`);
  }
  const [first] = await queryRows<{ force: string; month: string }>(db, sql.raw(firstRow(table)));
  return { force: first!.force, month: first!.month };
}

/**
 * The staged rows of a kind into its table, trimmed and typed. In the file's order: a staging
 * table filled by one session and never updated is read back in the order it was written (no
 * `order by n`, which cost a third of the insert).
 */
function insertRows({ kind, force, month, table: target }: NewForceMonth, table: string): SQL {
  const common = `${trimmed('c2')}, ${trimmed('c3')}, ${optional('c4')}::float8, ${optional('c5')}::float8,
    ${given('c6')}, ${optional('c7')}, ${optional('c8')}`;
  const into = sql.identifier(target);
  if (kind === 'street') {
    return sql`insert into ${into} (force, month, crime_id, reported_by, falls_within,
        longitude, latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome_category, context)
      select ${force}::text, ${month}::text, ${sql.raw(`${optional('c0')}, ${common}, ${trimmed('c9')},
        ${optional('c10')}, ${optional('c11')} from ${table}`)}`;
  }
  return sql`insert into ${into} (force, month, crime_id, reported_by, falls_within,
      longitude, latitude, location, lsoa_code, lsoa_name, outcome_type)
    select ${force}::text, ${month}::text, ${sql.raw(`${trimmed('c0')}, ${common}, ${trimmed('c9')}
      from ${table}`)}`;
}

interface CheckedFile {
  kind: PoliceUkKind;
  force: string;
  month: string;
  rows: number;
}

/** In the import's transaction: the month replaced by the checked rows, counted, audited. */
async function writeRows(
  tx: Tx,
  table: string,
  name: string,
  checked: CheckedFile,
  actor: Actor,
  options: ImportOptions,
): Promise<PoliceUkImportResult> {
  const { kind, force, month, rows } = checked;
  // The month's recount sorts its rows: in memory rather than on disk (4 MB, the default, spills
  // a ten-fold month of a large force). Only for this transaction.
  await tx.execute(sql`set local work_mem = '64MB'`);
  options.onWrite?.(0, rows);
  const written = await startForceMonth(tx, kind, force, month);
  await tx.execute(insertRows(written, table));
  options.onWrite?.(rows, rows);
  await refreshMonthCounts(tx, written);
  const replaced = await replaceForceMonth(tx, written);
  return finishImport(tx, { file: name, kind, force, month, rows, replaced }, actor, options);
}

/** The import's audit event and what commits with it (`beforeCommit`), in its transaction. */
async function finishImport(
  tx: Tx,
  result: PoliceUkImportResult,
  actor: Actor,
  options: ImportOptions,
): Promise<PoliceUkImportResult> {
  const { kind, force, month, rows, replaced } = result;
  await recordAudit(tx, actor, {
    // A coordinator's import is in their partnership's audit trail; the command line's in none.
    partnershipId: actor.member?.partnershipId ?? null,
    kind: 'police_uk.imported',
    entity: 'police_uk_month',
    entityId: `${force} ${month} ${kind}`,
    summary: `Imported police.uk ${kind} data for ${force}, ${month}: ${rows} rows (replacing ${replaced})`,
    after: result,
    viaImport: true,
  });
  await options.beforeCommit?.(tx, result);
  return result;
}

/** The police tables' columns in the order of the file's (the force is the column left out). */
const FILE_COLUMNS: Record<PoliceUkKind, string> = {
  street: `crime_id, month, reported_by, falls_within, longitude, latitude, location, lsoa_code,
    lsoa_name, crime_type, last_outcome_category, context`,
  outcomes: `crime_id, month, reported_by, falls_within, longitude, latitude, location, lsoa_code,
    lsoa_name, outcome_type`,
};

/** The fast path's guess of the file's force and month, from its first row; none if it has none. */
function fastPathKey(firstRow: string[] | undefined): { force: string; month: string } | undefined {
  const force = firstRow?.[2]?.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  const month = firstRow?.[1];
  if (!force || !month || !isPoliceUkMonth(month)) return undefined;
  return { force, month };
}

/** Outside a valid file, what the fast path rolls back for: the detailed path judges the file. */
class NotFastPath extends Error {}

/**
 * SQL false for a row COPY wrote that the detailed path would have written otherwise or refused:
 * a value with spaces, tabs or line breaks around it (the detailed path trims them), an empty
 * value (it writes null, or refuses the row), another force, or a bad coordinate. It is the new
 * table's CHECK (startForceMonth), so COPY refuses such a row as it comes; a row of another month
 * fails the table's own check of its force and month.
 */
function fastPathRowCheck(kind: PoliceUkKind, force: string): SQL {
  const values = ['crime_id', 'falls_within', 'location', 'lsoa_code', 'lsoa_name'].concat(
    kind === 'street' ? ['crime_type', 'last_outcome_category', 'context'] : ['outcome_type'],
  );
  // A value's first character a space, tab or line break (or another control character, or none:
  // those only cost the detailed path). Its last is looked at as the file is read (importFast).
  const spaceFirst = values.map((column) => `ascii(${column}) < 33`);
  // Empty where the detailed path writes null or refuses the row (not `location`: it writes '').
  const empty = values.filter((column) => column !== 'location').map((column) => `${column} = ''`);
  const bad = [
    `reported_by <> ${textLiteral(force)}`,
    '(longitude is null) <> (latitude is null)',
    'abs(longitude) > 180',
    'abs(latitude) > 90',
    ...spaceFirst,
    ...empty,
  ];
  // A CHECK passes a row for which it is null: a null value (an empty optional field) is no fault.
  return sql.raw(`not (${bad.join(' or ')})`);
}

/**
 * The fast path (PostgreSQL), for a valid file: in one transaction, COPY the file straight into a
 * new table for the first row's force and month (the force from its column's default), whose CHECK
 * constraints refuse a row of another force or month or failing fastPathRowCheck as it comes; then
 * count it, put it in place of the month's table before and audit. A row COPY refuses (a coordinate
 * that is no number, a required value missing, a check), or a value ending in a space seen as the
 * file is read, rolls it all back, and the result is undefined: the detailed path (importRows) then
 * reads the file again, to write it as it always did or refuse it naming the line.
 */
async function importFast(
  session: CopySession,
  source: ImportFile,
  first: { force: string; month: string },
  actor: Actor,
  options: ImportOptions,
): Promise<PoliceUkImportResult | undefined> {
  const { kind } = source;
  const { force, month } = first;
  let checked = false; // past here an error is the import's, not the file's
  try {
    return await session.transaction(async (tx) => {
      await tx.execute(sql`set local work_mem = '64MB'`);
      await tx.execute(sql`set local jit = off`);
      const written = await startForceMonth(tx, kind, force, month, fastPathRowCheck(kind, force));
      const reported = { rows: 0, bytesRead: 0 };
      let spaces = false;
      const inspect = (chunk: Buffer, chunkRows: number) => {
        spaces ||= mayHoldSpaceAtValueEnd(chunk, chunkRows) || mayHoldHexNumber(chunk);
      };
      const rows = await session.copyCsv(
        `"${written.table}" (${FILE_COLUMNS[kind]})`,
        wholeRows(source, options, reported, inspect),
      );
      if (spaces) throw new NotFastPath();
      const counted = await refreshMonthCounts(tx, written);
      if (!rows || counted !== rows) throw new NotFastPath();
      if (reported.rows !== rows || reported.bytesRead !== source.totalBytes) {
        options.onProgress?.(rows, source.totalBytes, source.totalBytes);
      }
      options.onWrite?.(rows, rows);
      stopIfAborted(options.signal);
      checked = true;
      const replaced = await replaceForceMonth(tx, written);
      return finishImport(tx, { file: source.name, kind, force, month, rows, replaced }, actor, options);
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // Class 22 (data: bad CSV, a number that is none) and 23 (a required value missing, a check).
    const refused = typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
    if (!checked && (error instanceof NotFastPath || error instanceof CopyRowError || refused))
      return undefined;
    throw error;
  }
}

export interface PoliceUkArea {
  codes: string[];
  prefixes: string[];
}

/** Replaces a partnership's area: the LSOA codes and LSOA name prefixes it covers. */
export async function setPartnershipArea(
  db: Db,
  actor: Actor,
  slug: string,
  area: PoliceUkArea,
): Promise<PoliceUkArea> {
  const codes = [...new Set(area.codes.map((c) => c.trim()).filter(Boolean))];
  // A prefix keeps its trailing space: "Stevenage " must not match "Stevenageford 001A".
  const prefixes = [...new Set(area.prefixes.filter((p) => p.trim() !== ''))];
  if (!codes.length && !prefixes.length) {
    throw new ValidationError([{ field: 'area', message: 'give at least one LSOA code or name prefix' }]);
  }
  const partnership = await getPartnershipBySlug(db, slug);
  if (!actor.system && !canManageEvidence(actor.member, partnership.id)) {
    throw new ForbiddenError(`Only ${partnership.name}’s coordinator may set its area`);
  }
  return db.transaction(async (tx) => {
    const before = await readArea(tx, partnership.id);
    await tx.delete(partnershipAreas).where(eq(partnershipAreas.partnershipId, partnership.id));
    await tx
      .insert(partnershipAreas)
      .values([
        ...codes.map((value) => ({ partnershipId: partnership.id, kind: 'code', value })),
        ...prefixes.map((value) => ({ partnershipId: partnership.id, kind: 'prefix', value })),
      ]);
    const after = { codes, prefixes };
    await refreshAreaCounts(tx, partnership.id);
    await recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'partnership.area_set',
      entity: 'partnership',
      entityId: partnership.id,
      summary: `Set the police.uk area of ${partnership.name}: ${describeArea(after)}`,
      before,
      after,
    });
    return after;
  });
}

export function describeArea(area: PoliceUkArea): string {
  return [
    ...area.prefixes.map((p) => `LSOA names starting "${p}"`),
    ...(area.codes.length ? [`LSOA codes ${area.codes.join(', ')}`] : []),
  ].join('; ');
}

export async function readArea(db: Db | Tx, partnershipId: number): Promise<PoliceUkArea> {
  const rows = await db
    .select({ kind: partnershipAreas.kind, value: partnershipAreas.value })
    .from(partnershipAreas)
    .where(eq(partnershipAreas.partnershipId, partnershipId))
    .orderBy(partnershipAreas.kind, partnershipAreas.value);
  return {
    codes: rows.filter((r) => r.kind === 'code').map((r) => r.value),
    prefixes: rows.filter((r) => r.kind === 'prefix').map((r) => r.value),
  };
}

function inArea(area: PoliceUkArea, lsoaCode: AnyPgColumn, lsoaName: AnyPgColumn): SQL {
  const tests: SQL[] = area.prefixes.map((p) => sql`starts_with(${lsoaName}, ${p})`);
  if (area.codes.length) tests.push(inArray(lsoaCode, area.codes));
  return or(...tests)!;
}

export interface PoliceUkSummary {
  month: string;
  force: string;
  /** The partnership whose area the counts are restricted to, or null for the whole force. */
  area: string | null;
  rows: number;
  withoutLocation: number;
  byCrimeType: Record<string, number>;
  /** Only when the month's outcomes file was imported. */
  byOutcome?: Record<string, number>;
}

/**
 * A month of street-level data, for the whole force or a partnership's area. With several forces
 * imported for the month, `force` chooses one.
 */
export async function summarisePoliceUkMonth(
  db: Db,
  options: { month: string; area?: string; force?: string },
): Promise<PoliceUkSummary> {
  const { month } = options;
  if (!isPoliceUkMonth(month)) {
    throw new ValidationError([{ field: 'month', message: `give a month as YYYY-MM, not "${month}"` }]);
  }
  // The forces with street data for the month, from the month's counts (kept at import).
  const forces = (
    await db
      .selectDistinct({ force: policeCrimeCounts.force })
      .from(policeCrimeCounts)
      .where(eq(policeCrimeCounts.month, month))
      .orderBy(policeCrimeCounts.force)
  ).map((r) => r.force);
  let force = options.force;
  if (force === undefined) {
    if (forces.length === 0) {
      throw new ValidationError([
        { field: 'month', message: `no police.uk street data is imported for ${month}` },
      ]);
    }
    if (forces.length > 1) {
      throw new ValidationError([
        {
          field: 'force',
          message: `several forces have data for ${month}: choose one (${forces.join(', ')})`,
        },
      ]);
    }
    force = forces[0]!;
  } else if (!forces.includes(force)) {
    throw new ValidationError([
      { field: 'force', message: `no police.uk street data is imported for ${force} in ${month}` },
    ]);
  }

  let areaFilter: { street: SQL; outcomes: SQL } | undefined;
  if (options.area) {
    const partnership = await getPartnershipBySlug(db, options.area);
    const area = await readArea(db, partnership.id);
    if (!area.codes.length && !area.prefixes.length) {
      throw new ValidationError([
        {
          field: 'area',
          message: `${partnership.name} has no police.uk area yet: set it with \`partnership-plan police-uk area\``,
        },
      ]);
    }
    areaFilter = {
      street: inArea(area, policeStreetCrimes.lsoaCode, policeStreetCrimes.lsoaName),
      outcomes: inArea(area, policeOutcomes.lsoaCode, policeOutcomes.lsoaName),
    };
  }

  const street = and(
    eq(policeStreetCrimes.force, force),
    eq(policeStreetCrimes.month, month),
    areaFilter?.street,
  );
  const byCrimeTypeRows = await db
    .select({ crimeType: policeStreetCrimes.crimeType, n: count() })
    .from(policeStreetCrimes)
    .where(street)
    .groupBy(policeStreetCrimes.crimeType)
    .orderBy(desc(count()), policeStreetCrimes.crimeType);
  const [withoutLocation] = await db
    .select({ n: count() })
    .from(policeStreetCrimes)
    .where(and(street, isNull(policeStreetCrimes.longitude)));

  const monthOutcomes = and(eq(policeOutcomes.force, force), eq(policeOutcomes.month, month));
  const [outcomesImported] = await db.select({ n: count() }).from(policeOutcomes).where(monthOutcomes);
  let byOutcome: Record<string, number> | undefined;
  if (outcomesImported && outcomesImported.n > 0) {
    const rows = await db
      .select({ outcomeType: policeOutcomes.outcomeType, n: count() })
      .from(policeOutcomes)
      .where(and(monthOutcomes, areaFilter?.outcomes))
      .groupBy(policeOutcomes.outcomeType)
      .orderBy(desc(count()), policeOutcomes.outcomeType);
    byOutcome = Object.fromEntries(rows.map((r) => [r.outcomeType, r.n]));
  }

  return {
    month,
    force,
    area: options.area ?? null,
    rows: byCrimeTypeRows.reduce((n, r) => n + r.n, 0),
    withoutLocation: withoutLocation?.n ?? 0,
    byCrimeType: Object.fromEntries(byCrimeTypeRows.map((r) => [r.crimeType, r.n])),
    ...(byOutcome ? { byOutcome } : {}),
  };
}

// ——— Files uploaded on the web page, imported in the background ———

/** A file uploaded to the police.uk page, streamed to a temporary file (src/web/forms.ts). */
export interface UploadedPoliceUkFile {
  filename: string;
  path: string;
  bytes: number;
}

/** Where an upload's import stands, for its page and its JSON. */
export interface PoliceUkImportView {
  id: number;
  filename: string;
  state: 'running' | 'done' | 'failed';
  /** While running: waiting behind another file, reading and checking rows, or writing them. */
  phase: 'waiting' | 'checking' | 'writing' | null;
  rows: number;
  rowsWritten: number;
  bytesRead: number;
  totalBytes: number;
  /** 0 to 100, what share of the work is done (checking is the first half, writing the second). */
  percent: number;
  result: PoliceUkImportResult | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
  by: string;
}

interface LiveImport {
  phase: 'waiting' | 'checking' | 'writing';
  rows: number;
  rowsWritten: number;
  bytesRead: number;
  totalBytes: number;
}

/**
 * The imports this process runs, one at a time (two at once would hold two transactions, and on
 * the embedded database they would only queue anyway). Progress lives here, in memory: while a
 * file is written its transaction holds the embedded database's one connection.
 */
const live = new Map<number, LiveImport>();
const running = new Set<{ db: Db; controller: AbortController }>();
let queue: Promise<void> = Promise.resolve();

/** Resolves once no upload is importing or waiting in this process. */
export function policeUkImportsIdle(): Promise<void> {
  return queue;
}

const RESTARTED = 'the server restarted during the import; upload it again.';
const STOPPED = 'the server stopped during the import; upload it again.';

function managedPartnership(actor: Actor, partnership: { id: number; name: string }): void {
  if (!canManageEvidence(actor.member, partnership.id)) {
    throw new ForbiddenError(`Only ${partnership.name}’s coordinator may import police.uk files`);
  }
}

/**
 * Checks the uploaded files' headers (a file with unknown headers is refused, naming it and the
 * expected headers: nothing is recorded), records an import per file ('running'), and queues
 * them to import one after another. Returns the imports' ids. The temporary files are the
 * queue's from here: each is removed once imported or refused.
 */
export async function startPoliceUkUpload(
  db: Db,
  actor: Actor,
  slug: string,
  files: readonly UploadedPoliceUkFile[],
): Promise<number[]> {
  const partnership = await getPartnershipBySlug(db, slug);
  managedPartnership(actor, partnership);
  if (!files.length) {
    throw new ValidationError([{ field: 'files', message: 'Select one or more police.uk CSV files' }]);
  }
  const problems: { field: string; message: string }[] = [];
  for (const file of files) {
    try {
      recognisePoliceUkFile(file.path);
    } catch (error) {
      if (!(error instanceof PoliceUkFileError)) throw error;
      problems.push({ field: 'files', message: `${file.filename}: ${error.message}` });
    }
  }
  if (problems.length) throw new ValidationError(problems);
  const runner = await instanceLock(db);
  const ids = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(policeUkImports)
      .values(
        files.map((file) => ({
          partnershipId: partnership.id,
          userId: actor.userId!,
          filename: file.filename,
          totalBytes: file.bytes,
          runner,
        })),
      )
      .returning({ id: policeUkImports.id });
    await recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'police_uk.upload_started',
      entity: 'police_uk_import',
      entityId: rows.map((r) => r.id).join(','),
      summary: `Uploaded ${files.length === 1 ? 'a police.uk file' : `${files.length} police.uk files`} to import: ${files.map((f) => f.filename).join(', ')}`,
      after: files.map((f, i) => ({ id: rows[i]!.id, filename: f.filename, bytes: f.bytes })),
    });
    return rows.map((r) => r.id);
  });
  files.forEach((file, i) => {
    const id = ids[i]!;
    live.set(id, { phase: 'waiting', rows: 0, rowsWritten: 0, bytesRead: 0, totalBytes: file.bytes });
    queue = queue.then(() => runImport(db, actor, partnership.id, id, file));
  });
  return ids;
}

/** One queued upload: imported, then its row marked done (in the import's transaction) or failed. */
async function runImport(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
  file: UploadedPoliceUkFile,
): Promise<void> {
  const job = { db, controller: new AbortController() };
  running.add(job);
  const progress = live.get(id)!;
  try {
    progress.phase = 'checking';
    await importPoliceUkFile(db, file.path, actor, {
      name: file.filename,
      signal: job.controller.signal,
      onProgress: (rows, bytesRead) => Object.assign(progress, { rows, bytesRead }),
      onWrite: (rowsWritten, rows) => Object.assign(progress, { phase: 'writing', rowsWritten, rows }),
      beforeCommit: async (tx, result) => {
        // Read through by now; gone before the import is seen done.
        await fs.promises.rm(file.path, { force: true });
        await tx
          .update(policeUkImports)
          .set({ state: 'done', rows: result.rows, result, error: null, finishedAt: new Date() })
          .where(eq(policeUkImports.id, id));
      },
    });
  } catch (error) {
    const message =
      error instanceof ImportStoppedError
        ? `${file.filename}: ${STOPPED}`
        : error instanceof PoliceUkFileError
          ? error.message
          : `${file.filename}: the import failed: ${(error as Error).message}`;
    await fs.promises.rm(file.path, { force: true });
    await markFailed(db, actor, partnershipId, id, file.filename, progress.rows, message).catch(
      () => undefined, // the database itself has gone (the server stopping): the start-up clean-up marks it
    );
  } finally {
    running.delete(job);
    live.delete(id);
    await fs.promises.rm(file.path, { force: true });
  }
}

async function markFailed(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
  filename: string,
  rows: number,
  message: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .update(policeUkImports)
      .set({ state: 'failed', rows, error: message, finishedAt: new Date() })
      .where(eq(policeUkImports.id, id));
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'police_uk.import_failed',
      entity: 'police_uk_import',
      entityId: id,
      summary: `The import of police.uk file ${filename} failed; nothing was written: ${message}`,
      after: { id, filename, error: message },
    });
  });
}

/**
 * The server is stopping: every import of this database running or waiting in this process stops
 * (nothing of it is written; its row says so) and this resolves once they have.
 */
export async function stopPoliceUkImports(db: Db): Promise<void> {
  for (const job of running) if (job.db === db) job.controller.abort();
  await queue;
}

/**
 * At start-up: an import still 'running' whose instance has gone is marked failed. On PostgreSQL
 * each instance holds an advisory lock for as long as it lives (instanceLock) and an import row
 * names its instance (`runner`): the import is failed only if that lock can be taken, so a restart
 * of one instance leaves another's imports alone, queued or staging (their rows are not locked).
 * A row with no runner (from before migration 0012) is judged by its start, as on the embedded
 * database, where this one process is every instance: what started before it did has gone.
 */
export async function failInterruptedPoliceUkImports(db: Db, startedBefore: Date): Promise<number> {
  const runner = await instanceLock(db); // this instance's, taken before looking at the others'
  const before = sql`started_at < ${startedBefore.toISOString()}::timestamptz`;
  const gone =
    runner === null
      ? before
      : sql`case when runner is null then ${before} else pg_try_advisory_xact_lock(runner) end`;
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update police_uk_imports set state = 'failed', error = filename || ': ' || ${RESTARTED},
        finished_at = now()
      where id in (select id from police_uk_imports where state = 'running' and ${gone}
        for update skip locked)
      returning id`,
  );
  return rows.length;
}

function viewOf(
  row: typeof policeUkImports.$inferSelect & { by: string },
  progress: LiveImport | undefined,
): PoliceUkImportView {
  const state = row.state as PoliceUkImportView['state'];
  const totalBytes = progress?.totalBytes ?? row.totalBytes;
  const bytesRead = state === 'running' ? (progress?.bytesRead ?? 0) : totalBytes;
  const rows = state === 'running' ? (progress?.rows ?? 0) : row.rows;
  const rowsWritten = state === 'done' ? row.rows : (progress?.rowsWritten ?? 0);
  const checked = totalBytes > 0 ? bytesRead / totalBytes : 0;
  const writtenShare = rows > 0 && progress?.phase === 'writing' ? rowsWritten / rows : 0;
  const percent =
    state === 'done' ? 100 : state === 'failed' ? 0 : Math.floor(50 * checked + 50 * writtenShare);
  return {
    id: row.id,
    filename: row.filename,
    state,
    phase: state === 'running' ? (progress?.phase ?? null) : null,
    rows,
    rowsWritten,
    bytesRead,
    totalBytes,
    percent: Math.min(100, percent),
    result: (row.result as PoliceUkImportResult | null) ?? null,
    error: row.error,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    by: row.by,
  };
}

const importColumns = { ...getTableColumns(policeUkImports), by: users.name };

/** One upload's import, with its progress while this process runs it. The coordinator's only. */
export async function getPoliceUkImport(
  db: Db,
  actor: Actor,
  slug: string,
  id: number,
): Promise<PoliceUkImportView> {
  const partnership = await getPartnershipBySlug(db, slug);
  managedPartnership(actor, partnership);
  const [row] = await db
    .select(importColumns)
    .from(policeUkImports)
    .innerJoin(users, eq(users.id, policeUkImports.userId))
    .where(and(eq(policeUkImports.id, id), eq(policeUkImports.partnershipId, partnership.id)));
  if (!row) throw new NotFoundError(`There is no police.uk import ${id} in ${partnership.name}`);
  return viewOf(row, live.get(id));
}

/** The partnership's recent uploads, newest first. */
export async function listPoliceUkImports(
  db: Db,
  actor: Actor,
  slug: string,
  limit = 20,
): Promise<PoliceUkImportView[]> {
  const partnership = await getPartnershipBySlug(db, slug);
  managedPartnership(actor, partnership);
  const rows = await db
    .select(importColumns)
    .from(policeUkImports)
    .innerJoin(users, eq(users.id, policeUkImports.userId))
    .where(eq(policeUkImports.partnershipId, partnership.id))
    .orderBy(desc(policeUkImports.startedAt), desc(policeUkImports.id))
    .limit(limit);
  return rows.map((row) => viewOf(row, live.get(row.id)));
}

export interface PoliceUkMonthHeld {
  force: string;
  month: string;
  streetRows: number;
  outcomeRows: number;
}

/** The months of police.uk data held, every force's (shared open data), newest first: from the monthly counts. */
export async function policeUkMonthsHeld(db: Db, actor: Actor, slug: string): Promise<PoliceUkMonthHeld[]> {
  const partnership = await getPartnershipBySlug(db, slug);
  managedPartnership(actor, partnership);
  const rows = await queryRows<{ force: string; month: string; street: number; outcomes: number }>(
    db,
    sql`select coalesce(s.force, o.force) as force, coalesce(s.month, o.month) as month,
        coalesce(s.n, 0)::int as street, coalesce(o.n, 0)::int as outcomes
      from (select force, month, sum(crimes) as n from police_crime_counts group by force, month) s
      full join (select force, month, sum(outcomes) as n from police_outcome_counts group by force, month) o
        on o.force = s.force and o.month = s.month
      order by 2 desc, 1`,
  );
  return rows.map((r) => ({
    force: r.force,
    month: r.month,
    streetRows: Number(r.street),
    outcomeRows: Number(r.outcomes),
  }));
}
