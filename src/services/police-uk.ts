/**
 * police.uk open data: import monthly street and outcomes files, set a partnership's area, and
 * summarise a month. The data is shared (one force's file serves every partnership in it) and read
 * through a partnership's area, so these tables carry no partnership_id (see src/db/schema.ts).
 * The command line (the system actor) or a coordinator may import; a partnership's coordinator (or
 * the command line) sets its area.
 */
import fs from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { and, count, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Db, Tx } from '../db/client.js';
import { partnershipAreas, policeOutcomes, policeStreetCrimes } from '../db/schema.js';
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
import { ForbiddenError, ValidationError } from './errors.js';
import { getPartnershipBySlug } from './plan-read.js';
import { refreshAreaCounts, refreshMonthCounts } from './police-counts.js';

/** Rows per INSERT: 1,000 rows of 14 columns stays far below PostgreSQL's 65,535 parameters. */
const BATCH_SIZE = 1000;

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

export type ImportProgress = (rowsSoFar: number, bytesRead: number, totalBytes: number) => void;

/**
 * police.uk data is shared open data: the operator (the command line) or any partnership's
 * coordinator may import a file; it serves every partnership whose area it covers.
 */
function requireImporter(actor: Actor): void {
  if (actor.system || actor.member?.role === 'coordinator') return;
  throw new ForbiddenError('Only a coordinator or the operator (the command line) may import police.uk data');
}

/**
 * Imports one police.uk file as a stream, in one transaction: the file's (force, month) of its
 * kind is deleted first, so a re-import replaces the month. Any bad row rolls the whole file back
 * and raises a PoliceUkFileError naming the file and the line.
 */
export async function importPoliceUkFile(
  db: Db,
  file: string,
  actor: Actor,
  options: { onProgress?: ImportProgress } = {},
): Promise<PoliceUkImportResult> {
  requireImporter(actor);
  let totalBytes: number;
  try {
    totalBytes = (await fs.promises.stat(file)).size;
  } catch (error) {
    throw new PoliceUkFileError(`${file}: cannot read it: ${(error as Error).message}`);
  }
  // The header first, on its own: a file that is not police.uk's is refused before any parsing
  // error further down could hide why.
  wrapFileError(file, () => recognisePoliceUkHeader(readHeader(file)));
  try {
    // Only `tx` inside: PGlite has one connection, and a query on `db` here would wait forever.
    return await db.transaction((tx) => importStream(tx, file, totalBytes, actor, options.onProgress));
  } catch (error) {
    throw toFileError(file, error);
  }
}

function toFileError(file: string, error: unknown): unknown {
  if (error instanceof PoliceUkFileError) return new PoliceUkFileError(`${file}: ${error.message}`);
  if (error instanceof CsvError) {
    const lines = (error as CsvError & { lines?: number }).lines;
    return new PoliceUkFileError(
      `${file}: line ${lines ?? '?'}: not valid CSV (${error.message}); is the file cut short or damaged?`,
    );
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

async function importStream(
  tx: Tx,
  file: string,
  totalBytes: number,
  actor: Actor,
  onProgress: ImportProgress | undefined,
): Promise<PoliceUkImportResult> {
  const input = fs.createReadStream(file);
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);

  let kind: PoliceUkKind | undefined;
  let force: string | undefined;
  let month: string | undefined;
  let replaced = 0;
  let rows = 0;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (!batch.length) return;
    if (kind === 'street') {
      await tx.insert(policeStreetCrimes).values(batch as (typeof policeStreetCrimes.$inferInsert)[]);
    } else {
      await tx.insert(policeOutcomes).values(batch as (typeof policeOutcomes.$inferInsert)[]);
    }
    rows += batch.length;
    batch = [];
    onProgress?.(rows, input.bytesRead, totalBytes);
  };

  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const line = info.lines;
      if (!kind) {
        kind = recognisePoliceUkHeader(record);
        continue;
      }
      const parsed = kind === 'street' ? parseStreetRow(record, line) : parseOutcomeRow(record, line);
      if (force === undefined || month === undefined) {
        force = parsed.reportedBy;
        month = parsed.month;
        replaced = await deleteMonth(tx, kind, force, month);
      } else if (parsed.reportedBy !== force || parsed.month !== month) {
        throw new PoliceUkFileError(
          `line ${line}: a police.uk file holds one force's month; this row is ${parsed.reportedBy} ` +
            `${parsed.month}, the file began with ${force} ${month}.`,
        );
      }
      const { line: _line, ...values } = parsed;
      batch.push({ force, ...values });
      if (batch.length >= BATCH_SIZE) await flush();
    }
  } finally {
    input.destroy();
  }
  if (!kind) throw new PoliceUkFileError('the file is empty: it has no header row.');
  if (force === undefined || month === undefined) {
    throw new PoliceUkFileError('the file has headers but no rows, so it names no force or month.');
  }
  await flush();
  await refreshMonthCounts(tx, kind, force, month);
  const result = { file, kind, force, month, rows, replaced };
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
  return result;
}

async function deleteMonth(tx: Tx, kind: PoliceUkKind, force: string, month: string): Promise<number> {
  const table = kind === 'street' ? policeStreetCrimes : policeOutcomes;
  const deleted = await tx
    .delete(table)
    .where(and(eq(table.force, force), eq(table.month, month)))
    .returning({ id: table.id });
  return deleted.length;
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
