/**
 * police.uk open data: import monthly street and outcomes files, set a partnership's area, and
 * summarise a month. The data is shared (one force's file serves every partnership in it) and read
 * through a partnership's area, so these tables carry no partnership_id (see src/db/schema.ts).
 * The command line (the system actor) or a coordinator may import; a partnership's coordinator (or
 * the command line) sets its area.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { and, count, desc, eq, getTableColumns, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { queryRows, transactionWithCopy, type CopyIn, type Db, type Tx } from '../db/client.js';
import {
  partnershipAreas,
  policeOutcomes,
  policeStreetCrimes,
  policeUkImports,
  users,
} from '../db/schema.js';
import {
  isPoliceUkMonth,
  parseOutcomeRow,
  parseStreetRow,
  PoliceUkFileError,
  recognisePoliceUkHeader,
  type PoliceUkKind,
} from '../documents/police-uk.js';
import { canManageEvidence } from '../domain/evidence.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { getPartnershipBySlug } from './plan-read.js';
import { refreshAreaCounts, refreshMonthCounts } from './police-counts.js';

/**
 * Rows per INSERT. Each column of a batch travels as one text parameter (the values joined by a
 * separator, split again by string_to_array and unnest in the database): a dozen parameters
 * whatever the batch's size, far faster than a VALUES list of a parameter per value.
 */
const BATCH_ROWS = 10_000;
/** Progress is reported (and a stop looked for) every so many rows read. */
const PROGRESS_EVERY_ROWS = 2_000;
/** Between the values of a column in a batch, and for a null: control characters no police.uk value holds. */
const SEPARATOR = '\x1f';
const NULL_VALUE = '\x1e';
// eslint-disable-next-line no-control-regex -- the separators above must never be part of a value
const CONTROL = /[\x1e\x1f\r\n]/;

/** The columns after force and month, in the order the batches carry them. */
const STREET_COLUMNS = [
  'crimeId',
  'reportedBy',
  'fallsWithin',
  'longitude',
  'latitude',
  'location',
  'lsoaCode',
  'lsoaName',
  'crimeType',
  'lastOutcomeCategory',
  'context',
] as const;
const OUTCOME_COLUMNS = [
  'crimeId',
  'reportedBy',
  'fallsWithin',
  'longitude',
  'latitude',
  'location',
  'lsoaCode',
  'lsoaName',
  'outcomeType',
] as const;

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

/** While the file is read and checked: its rows so far, and the bytes read of the whole. */
export type ImportProgress = (rowsSoFar: number, bytesRead: number, totalBytes: number) => void;

/** While the checked rows are written to the database: rows written of the file's rows. */
export type WriteProgress = (rowsWritten: number, rows: number) => void;

export interface ImportOptions {
  onProgress?: ImportProgress;
  onWrite?: WriteProgress;
  /** The file's name in messages and the result, when the path is a temporary file's (an upload). */
  name?: string;
  /** Stops the import (the server is stopping): nothing is written. */
  signal?: AbortSignal;
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
 * Imports one police.uk file as a stream, in two passes, never holding it in memory:
 * 1. read and check every row (no database work: a web page polling the progress is answered at
 *    once, even on the embedded database, whose one connection a transaction holds), writing the
 *    checked rows in batches to a temporary file;
 * 2. in one transaction: delete the file's (force, month) of its kind, so a re-import replaces
 *    the month, insert the batches, count the month again (refreshMonthCounts) and record the
 *    audit event.
 * Any bad row stops the import in the first pass, before anything is written, with a
 * PoliceUkFileError naming the file and the line.
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
  // The header first, on its own: a file that is not police.uk's is refused before any parsing
  // error further down could hide why.
  wrapFileError(name, () => recognisePoliceUkHeader(readHeader(file)));
  const batches = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-batches-')), 'batches.jsonl');
  try {
    const checked = await wrapFileErrorAsync(name, () => checkAndBatch(file, batches, totalBytes, options));
    // Only `tx` inside: PGlite has one connection, and a query on `db` here would wait forever.
    return await transactionWithCopy(db, (tx, copyIn) =>
      writeBatches(tx, copyIn, name, batches, checked, actor, options),
    );
  } catch (error) {
    throw toFileError(name, error);
  } finally {
    fs.rmSync(path.dirname(batches), { recursive: true, force: true });
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

async function wrapFileErrorAsync<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toFileError(file, error);
  }
}

/** The header row: the file's first line (police.uk headers hold no quotes or line breaks). */
function readHeader(file: string): string[] {
  const handle = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const length = fs.readSync(handle, buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, length).toString('utf8');
    const end = text.search(/\r?\n/);
    const firstLine = end === -1 ? text : text.slice(0, end);
    if (firstLine.trim() === '')
      throw new PoliceUkFileError('line 1: the file is empty: it has no header row.');
    const [fields] = parseSync(firstLine, { bom: true, relax_quotes: true }) as string[][];
    return fields ?? [];
  } finally {
    fs.closeSync(handle);
  }
}

/** The kind of a police.uk file from its header row; a PoliceUkFileError (line 1) for any other file. */
export function recognisePoliceUkFile(file: string): PoliceUkKind {
  return recognisePoliceUkHeader(readHeader(file));
}

interface CheckedFile {
  kind: PoliceUkKind;
  force: string;
  month: string;
  rows: number;
}

function stopIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ImportStoppedError('the import was stopped: the server is stopping.');
}

/** The import was stopped before it wrote anything (the server stopping). */
export class ImportStoppedError extends Error {}

/** Pass 1: every row read and checked, and written in batches (one JSON line each) to `batches`. */
async function checkAndBatch(
  file: string,
  batches: string,
  totalBytes: number,
  { onProgress, signal }: ImportOptions,
): Promise<CheckedFile> {
  const input = fs.createReadStream(file, { highWaterMark: 1024 * 1024 });
  const output = fs.createWriteStream(batches);
  const outputDone = new Promise<void>((resolve, reject) => {
    output.on('error', reject);
    output.on('finish', resolve);
  });
  outputDone.catch(() => undefined);
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  let kind: PoliceUkKind | undefined;
  let columns: readonly string[] = STREET_COLUMNS;
  let force: string | undefined;
  let month: string | undefined;
  let rows = 0;
  let batch: string[][] = [];
  let inBatch = 0;
  let reported = 0;

  const writeBatch = async () => {
    if (!inBatch) return;
    const line = `${JSON.stringify([inBatch, ...batch.map((values) => values.join(SEPARATOR))])}\n`;
    batch = columns.map(() => []);
    inBatch = 0;
    if (!output.write(line)) await new Promise<void>((resolve) => output.once('drain', () => resolve()));
  };

  /** One record of the file, with the line it ends on. */
  const take = async (fields: string[], line: number) => {
    if (!kind) {
      // The header (checked already, before this pass).
      kind = recognisePoliceUkHeader(fields);
      columns = kind === 'street' ? STREET_COLUMNS : OUTCOME_COLUMNS;
      batch = columns.map(() => []);
      return;
    }
    const parsed = kind === 'street' ? parseStreetRow(fields, line) : parseOutcomeRow(fields, line);
    const values = parsed as unknown as Record<string, string | number | null>;
    if (force === undefined || month === undefined) {
      force = parsed.reportedBy;
      month = parsed.month;
    } else if (parsed.reportedBy !== force || parsed.month !== month) {
      throw new PoliceUkFileError(
        `line ${line}: a police.uk file holds one force's month; this row is ${parsed.reportedBy} ` +
          `${parsed.month}, the file began with ${force} ${month}.`,
      );
    }
    for (let i = 0; i < columns.length; i++) {
      const value = values[columns[i]!]!;
      if (value === null) {
        batch[i]!.push(NULL_VALUE);
      } else if (typeof value === 'number') {
        batch[i]!.push(String(value));
      } else {
        if (CONTROL.test(value)) {
          throw new PoliceUkFileError(
            `line ${line}: a value holds a line break or a control character: ${JSON.stringify(value)}.`,
          );
        }
        batch[i]!.push(value);
      }
    }
    rows++;
    if (++inBatch >= BATCH_ROWS) await writeBatch();
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      await take(record, info.lines);
      if (rows - reported >= PROGRESS_EVERY_ROWS) {
        stopIfAborted(signal);
        onProgress?.((reported = rows), input.bytesRead, totalBytes);
      }
    }
    await writeBatch();
    output.end();
    await outputDone;
  } catch (error) {
    if (error instanceof CsvError) {
      const lines = (error as CsvError & { lines?: number }).lines;
      throw new PoliceUkFileError(
        `line ${lines ?? '?'}: not valid CSV (${error.message}); is the file cut short or damaged?`,
      );
    }
    throw error;
  } finally {
    input.destroy();
    output.destroy();
  }
  if (!kind) throw new PoliceUkFileError('the file is empty: it has no header row.');
  if (force === undefined || month === undefined) {
    throw new PoliceUkFileError('the file has headers but no rows, so it names no force or month.');
  }
  if (rows > reported) onProgress?.(rows, totalBytes, totalBytes);
  return { kind, force, month, rows };
}

const text = (value: string) => sql`string_to_array(${value}, ${SEPARATOR}, ${NULL_VALUE})`;
const float = (value: string) => sql`string_to_array(${value}, ${SEPARATOR}, ${NULL_VALUE})::float8[]`;

/** One batch of checked rows into its table: each column one parameter, split and unnested by the database. */
function insertBatch(kind: PoliceUkKind, force: string, month: string, columns: string[]): SQL {
  const [crimeId, reportedBy, fallsWithin, longitude, latitude, location, lsoaCode, lsoaName] = columns as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const common = sql`${text(crimeId)}, ${text(reportedBy)}, ${text(fallsWithin)}, ${float(longitude)},
    ${float(latitude)}, ${text(location)}, ${text(lsoaCode)}, ${text(lsoaName)}`;
  if (kind === 'street') {
    return sql`insert into police_street_crimes (force, month, crime_id, reported_by, falls_within,
        longitude, latitude, location, lsoa_code, lsoa_name, crime_type, last_outcome_category, context)
      select ${force}::text, ${month}::text, r.* from unnest(${common}, ${text(columns[8]!)},
        ${text(columns[9]!)}, ${text(columns[10]!)}) as r`;
  }
  return sql`insert into police_outcomes (force, month, crime_id, reported_by, falls_within,
      longitude, latitude, location, lsoa_code, lsoa_name, outcome_type)
    select ${force}::text, ${month}::text, r.* from unnest(${common}, ${text(columns[8]!)}) as r`;
}

/** The COPY of a kind's rows, its columns in the order of the batches (force and month first). */
function copyStatement(kind: PoliceUkKind): string {
  return kind === 'street'
    ? `copy police_street_crimes (force, month, crime_id, reported_by, falls_within, longitude, latitude,
        location, lsoa_code, lsoa_name, crime_type, last_outcome_category, context) from stdin`
    : `copy police_outcomes (force, month, crime_id, reported_by, falls_within, longitude, latitude,
        location, lsoa_code, lsoa_name, outcome_type) from stdin`;
}

/** A value in COPY's text format: \N for null; backslash and tab escaped (rows hold no line breaks: checked). */
function copyValue(value: string): string {
  if (value === NULL_VALUE) return '\\N';
  return value.includes('\\') || value.includes('\t')
    ? value.replaceAll('\\', '\\\\').replaceAll('\t', '\\t')
    : value;
}

/** The batches as COPY text, a batch at a time; `done` is told each batch's rows as it goes. */
async function* copyText(
  batches: AsyncGenerator<[number, ...string[]]>,
  force: string,
  month: string,
  done: (count: number) => void,
): AsyncGenerator<string> {
  const lead = `${copyValue(force)}\t${copyValue(month)}\t`;
  for await (const [count, ...columns] of batches) {
    const values = columns.map((column) => column.split(SEPARATOR));
    const lines: string[] = [];
    for (let row = 0; row < count; row++) {
      lines.push(lead + values.map((column) => copyValue(column[row]!)).join('\t'));
    }
    yield `${lines.join('\n')}\n`;
    done(count);
  }
}

/** Pass 2, in the import's transaction: the month replaced by the checked batches, counted, audited. */
async function writeBatches(
  tx: Tx,
  copyIn: CopyIn | undefined,
  name: string,
  batches: string,
  checked: CheckedFile,
  actor: Actor,
  options: ImportOptions,
): Promise<PoliceUkImportResult> {
  const { kind, force, month, rows } = checked;
  stopIfAborted(options.signal);
  const replaced = await deleteMonth(tx, kind, force, month);
  let written = 0;
  options.onWrite?.(0, rows);
  const input = fs.createReadStream(batches, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  /** The checked batches, one by one: its row count and its columns (values joined by SEPARATOR). */
  async function* readBatches(): AsyncGenerator<[number, ...string[]]> {
    let rest = '';
    for await (const chunk of input as AsyncIterable<string>) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        stopIfAborted(options.signal);
        yield JSON.parse(line) as [number, ...string[]];
      }
    }
  }
  try {
    if (copyIn) {
      // PostgreSQL: COPY, the batches turned into its text format as they stream.
      await copyIn(
        copyStatement(kind),
        Readable.from(
          copyText(readBatches(), force, month, (count) => {
            written += count;
            options.onWrite?.(written, rows);
          }),
        ),
      );
    } else {
      for await (const [count, ...columns] of readBatches()) {
        await tx.execute(insertBatch(kind, force, month, columns));
        written += count;
        options.onWrite?.(written, rows);
      }
    }
  } finally {
    input.destroy();
  }
  // Gone before the import commits, so whoever sees it done sees no temporary file left.
  await fs.promises.rm(path.dirname(batches), { recursive: true, force: true });
  await refreshMonthCounts(tx, kind, force, month);
  const result = { file: name, kind, force, month, rows, replaced };
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

async function deleteMonth(tx: Tx, kind: PoliceUkKind, force: string, month: string): Promise<number> {
  const table = kind === 'street' ? sql`police_street_crimes` : sql`police_outcomes`;
  const [deleted] = await queryRows<{ n: number }>(
    tx,
    sql`with d as (delete from ${table} where force = ${force} and month = ${month} returning 1)
      select count(*)::int as n from d`,
  );
  return Number(deleted?.n ?? 0);
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
  const forces = (
    await db
      .selectDistinct({ force: policeStreetCrimes.force })
      .from(policeStreetCrimes)
      .where(eq(policeStreetCrimes.month, month))
      .orderBy(policeStreetCrimes.force)
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
  const ids = await db.transaction(async (tx) => {
    const rows = await tx
      .insert(policeUkImports)
      .values(
        files.map((file) => ({
          partnershipId: partnership.id,
          userId: actor.userId!,
          filename: file.filename,
          totalBytes: file.bytes,
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
 * At start-up: an import still 'running' from before this process started was left by a process
 * that has gone; it is marked failed. A row whose import's transaction is running in another
 * instance (PostgreSQL) is locked by it and skipped.
 */
export async function failInterruptedPoliceUkImports(db: Db, startedBefore: Date): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update police_uk_imports set state = 'failed', error = filename || ': ' || ${RESTARTED},
        finished_at = now()
      where id in (select id from police_uk_imports where state = 'running' and started_at < ${startedBefore.toISOString()}::timestamptz
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
