/**
 * Logical backup and restore: every table of the schema as JSON rows, gzipped. The same file
 * restores into embedded PGlite or a PostgreSQL server, so it is also the way to move from one to
 * the other. A restore goes into an empty, migrated database, all in one transaction.
 *
 * The police.uk tables and their counts, and DEFRA's fly-tipping table, are left out
 * (EXCLUDED_TABLES): they are shared open data, can run to millions of rows, and are re-imported
 * from their files (`partnership-plan police-uk import`, `partnership-plan defra import`).
 * A partnership's area (partnership_areas) is its own setting and is backed up.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { is, sql } from 'drizzle-orm';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { queryRows, type Db, type Tx } from '../db/client.js';
import * as schema from '../db/schema.js';
import { systemActor, type Actor } from './actor.js';
import { recordAudit } from './audit.js';

export const BACKUP_FORMAT = 'partnership-plan-backup/v1';

/** Rows a single INSERT carries at most, so a long table is not one giant statement. */
const BATCH_SIZE = 500;

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** A backup that cannot be restored here; nothing was written. */
export class BackupError extends Error {}

export interface Backup {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  /** How many migrations the database had; a restore needs the same. */
  migrations: number;
  /** Rows by table name, columns by their database names, in primary-key order. */
  tables: Record<string, Record<string, unknown>[]>;
}

export interface BackupTable {
  name: string;
  primaryKey: string[];
  /** The identity column whose sequence is moved on after a restore. */
  identity: string | undefined;
  references: string[];
}

/** Tables not in the backup: open data, re-imported from its files (docs/police-uk.md), and counts the database keeps. */
export const EXCLUDED_TABLES: ReadonlySet<string> = new Set([
  'police_street_crimes',
  'police_outcomes',
  // Counted from the rows above at import: re-importing the files makes them again.
  'police_crime_counts',
  'police_force_counts',
  'police_outcome_counts',
  'police_area_counts',
  'police_area_lsoa_counts',
  // DEFRA's fly-tipping table: shared open data, re-imported with `partnership-plan defra import`.
  'defra_fly_tipping',
  // Counts of changes kept by triggers (migration 0016), begun by the migration: not data, and a
  // restore's own inserts move them on.
  'change_counts',
]);

/** The schema's tables (less EXCLUDED_TABLES), each after the tables it references, so inserts never break a foreign key. */
export function backupTables(): BackupTable[] {
  const tables = new Map<string, BackupTable>();
  for (const value of Object.values(schema)) {
    if (!is(value, PgTable)) continue;
    const config = getTableConfig(value);
    if (EXCLUDED_TABLES.has(config.name)) continue;
    tables.set(config.name, {
      name: config.name,
      primaryKey: [
        ...config.columns.filter((c) => c.primary).map((c) => c.name),
        ...(config.primaryKeys[0]?.columns.map((c) => c.name) ?? []),
      ],
      identity: config.columns.find((c) => c.generatedIdentity)?.name,
      references: config.foreignKeys
        .map((fk) => getTableConfig(fk.reference().foreignTable).name)
        .filter((name) => name !== config.name),
    });
  }
  const ordered: BackupTable[] = [];
  const placed = new Set<string>();
  const visit = (table: BackupTable, path: string[]) => {
    if (placed.has(table.name)) return;
    if (path.includes(table.name))
      throw new Error(`Foreign keys form a cycle: ${[...path, table.name].join(' → ')}`);
    for (const name of table.references) {
      const referenced = tables.get(name);
      if (referenced) visit(referenced, [...path, table.name]);
    }
    placed.add(table.name);
    ordered.push(table);
  };
  for (const table of [...tables.values()].sort((a, b) => a.name.localeCompare(b.name))) visit(table, []);
  return ordered;
}

async function countMigrations(db: Db | Tx): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Rows as the database's own JSON (row_to_json), so jsonb, arrays, enums and timestamps keep
 * their exact values (microseconds included) whichever driver reads them.
 */
async function readRows(db: Db | Tx, table: BackupTable): Promise<Record<string, unknown>[]> {
  const order = sql.join(
    table.primaryKey.map((c) => sql`t.${sql.identifier(c)}`),
    sql`, `,
  );
  const rows = await queryRows<{ row: Record<string, unknown> | string }>(
    db,
    sql`select row_to_json(t) as row from ${sql.identifier(table.name)} t order by ${order}`,
  );
  return rows.map((r) => (typeof r.row === 'string' ? JSON.parse(r.row) : r.row));
}

/** Every table of the database, gzipped JSON. Read in one transaction, so the copy is consistent. */
export async function createBackup(db: Db): Promise<Buffer> {
  const backup = await db.transaction(
    async (tx) => {
      const tables: Backup['tables'] = {};
      for (const table of backupTables()) tables[table.name] = await readRows(tx, table);
      return {
        format: BACKUP_FORMAT,
        createdAt: new Date().toISOString(),
        migrations: await countMigrations(tx),
        tables,
      } satisfies Backup;
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
  return gzip(Buffer.from(JSON.stringify(backup), 'utf8'));
}

async function readBackup(buffer: Buffer): Promise<Backup> {
  let value: unknown;
  try {
    value = JSON.parse((await gunzip(buffer)).toString('utf8'));
  } catch {
    throw new BackupError('This is not a Partnership Plan backup: it is not gzipped JSON.');
  }
  const backup = value as Partial<Backup> | null;
  if (backup?.format !== BACKUP_FORMAT || typeof backup.tables !== 'object' || backup.tables === null) {
    throw new BackupError(`This is not a Partnership Plan backup (format ${BACKUP_FORMAT}).`);
  }
  if (typeof backup.migrations !== 'number') throw new BackupError('The backup does not say its migrations.');
  for (const [name, rows] of Object.entries(backup.tables)) {
    if (!Array.isArray(rows)) throw new BackupError(`The backup's table ${name} is not a list of rows.`);
  }
  return backup as Backup;
}

export interface RestoreSummary {
  createdAt: string;
  tables: number;
  rows: number;
}

/**
 * Restores a backup into an empty database that has the same migrations as the one backed up.
 * Everything is written in one transaction, or nothing is.
 */
export async function restoreBackup(
  db: Db,
  buffer: Buffer,
  actor: Actor = systemActor(),
): Promise<RestoreSummary> {
  const backup = await readBackup(buffer);
  const tables = backupTables();
  const known = new Set(tables.map((t) => t.name));
  const unknown = Object.keys(backup.tables).filter((name) => !known.has(name));
  if (unknown.length) {
    throw new BackupError(`The backup holds tables this version does not know: ${unknown.join(', ')}.`);
  }
  // Only `tx` inside: PGlite has one connection, and a query on `db` here would wait forever.
  return db.transaction(async (tx) => {
    const filled: string[] = [];
    for (const table of tables) {
      const rows = await queryRows<{ found: boolean }>(
        tx,
        sql`select exists (select 1 from ${sql.identifier(table.name)}) as found`,
      );
      if (rows[0]?.found) filled.push(table.name);
    }
    if (filled.length) {
      throw new BackupError(
        `The database is not empty (${filled.join(', ')} hold rows). ` +
          'Restore into an empty database: a new DATA_DIR folder, or a new PostgreSQL database.',
      );
    }

    const migrations = await countMigrations(tx);
    if (migrations !== backup.migrations) {
      throw new BackupError(
        `The backup was made by a database with ${backup.migrations} migrations, but this one has ${migrations}. ` +
          'Restore it with the version of Partnership Plan that made it.',
      );
    }

    let rowCount = 0;
    for (const table of tables) {
      const rows = backup.tables[table.name] ?? [];
      const name = sql.identifier(table.name);
      for (let start = 0; start < rows.length; start += BATCH_SIZE) {
        const batch = JSON.stringify(rows.slice(start, start + BATCH_SIZE));
        await tx.execute(
          sql`insert into ${name} overriding system value select * from json_populate_recordset(null::${name}, ${batch}::json)`,
        );
      }
      rowCount += rows.length;
      if (table.identity) {
        const id = sql.identifier(table.identity);
        await tx.execute(
          sql`select setval(pg_get_serial_sequence(${table.name}, ${table.identity}), coalesce(max(${id}), 0) + 1, false) from ${name}`,
        );
      }
    }
    const summary = { createdAt: String(backup.createdAt), tables: tables.length, rows: rowCount };
    await recordAudit(tx, actor, {
      partnershipId: null,
      kind: 'backup.restored',
      entity: 'database',
      summary: `Restored a backup made ${summary.createdAt}: ${rowCount} rows in ${tables.length} tables`,
      after: summary,
    });
    return summary;
  });
}
