/**
 * Opens the database: embedded PGlite under DATA_DIR by default, a PostgreSQL server through a
 * `pg` pool when DATABASE_URL is set. Both speak the same schema and migrations.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql, type ExtractTablesWithRelations, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { PgTransaction, type PgDatabase, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/**
 * Runs a set of reads at once on the pool, or one after another inside a transaction: a
 * transaction is one connection, and node-postgres refuses (pg 9) or warns about (pg 8) a query
 * sent while another is running on the same client. Drizzle's query builders start when awaited,
 * so passing them unawaited is what lets this choose.
 */
export async function allQueries<T extends readonly unknown[]>(
  db: Db | Tx,
  queries: readonly [...T],
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  if (!(db instanceof PgTransaction))
    return (await Promise.all(queries)) as { -readonly [K in keyof T]: Awaited<T[K]> };
  const results: unknown[] = [];
  for (const query of queries) results.push(await query);
  return results as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Any number; it only has to be the same in every instance that migrates this database. */
const MIGRATION_LOCK = 7_245_001;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Where the data lives, for messages: a folder or the server's host/database (never the password). */
  location: string;
  migrate(): Promise<void>;
  health(): Promise<DatabaseHealth>;
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball, for tests' templates. */
  pglite?: PGlite;
}

export interface DatabaseHealth {
  ok: boolean;
  kind: 'pglite' | 'postgres';
  migrations: number;
  error?: string;
}

export class DataDirInUseError extends Error {}

export interface OpenOptions {
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; ignored with databaseUrl. */
  dataDir?: string;
  /** Embedded only: start from this data directory tarball (tests' migrated template). */
  loadDataDir?: Blob;
  /** Embedded only: keep everything in memory (tests). */
  inMemory?: boolean;
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  return openPglite(options);
}

/** Runs raw SQL and returns its rows; both drivers answer with `{ rows }`. */
export async function queryRows<T>(db: Db | Tx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

async function countMigrations(db: Db): Promise<number> {
  try {
    const rows = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    return Number(rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

async function health(db: Db, kind: Database['kind']): Promise<DatabaseHealth> {
  try {
    await db.execute(sql`select 1`);
    return { ok: true, kind, migrations: await countMigrations(db) };
  } catch (error) {
    return { ok: false, kind, migrations: 0, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Streams rows in PostgreSQL's COPY text format into a table, inside the transaction it was given
 * with: `statement` is the `COPY … FROM STDIN` to run.
 */
export type CopyIn = (statement: string, rows: Readable) => Promise<void>;

/** The pools of the PostgreSQL databases opened here, for transactions that COPY (see below). */
const pools = new WeakMap<Db, pg.Pool>();

/**
 * A transaction that may bulk-load with COPY: on PostgreSQL `copyIn` streams into the same
 * transaction's connection (a client of the pool, with its own Drizzle handle `tx`); on PGlite
 * `copyIn` is undefined and the caller inserts as usual. Everything else is db.transaction's.
 */
export async function transactionWithCopy<T>(
  db: Db,
  work: (tx: Tx, copyIn: CopyIn | undefined) => Promise<T>,
): Promise<T> {
  const pool = pools.get(db);
  if (!pool) return db.transaction((tx) => work(tx, undefined));
  const client = await pool.connect();
  try {
    const clientDb = drizzlePg(client, { schema }) as unknown as Db;
    const copyIn: CopyIn = (statement, rows) => pipeline(rows, client.query(copyFrom(statement)));
    return await clientDb.transaction((tx) => work(tx, copyIn));
  } finally {
    client.release();
  }
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client's error (a server restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  pools.set(db, pool);
  const parsed = new URL(url);
  return {
    db,
    kind: 'postgres',
    location: `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`,
    async migrate() {
      // Several app instances may start together: one migrates, the others wait for it.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migratePg(drizzlePg(client), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        client.release();
      }
    },
    health: () => health(db, 'postgres'),
    close: () => pool.end(),
  };
}

async function openPglite(options: OpenOptions): Promise<Database> {
  let release = () => {};
  let location = 'memory';
  let dataPath: string | undefined;
  if (!options.inMemory) {
    const dataDir = path.resolve(options.dataDir ?? './data');
    fs.mkdirSync(dataDir, { recursive: true });
    release = acquireDataDirLock(dataDir);
    dataPath = path.join(dataDir, 'pgdata');
    location = dataPath;
  }
  let client: PGlite;
  try {
    client = await PGlite.create(dataPath, options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  } catch (error) {
    release();
    throw error;
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    location,
    pglite: client,
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder }),
    health: () => health(db, 'pglite'),
    async close() {
      try {
        await client.close();
      } finally {
        release();
      }
    },
  };
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite has one connection and nothing stops two processes opening the same folder, which would
 * corrupt it. A lock file naming the owning process keeps out a second one; a lock left by a
 * process that has gone (a crash, a power cut) is taken over.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'partnership-plan.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      let released = false;
      const releaseLock = () => {
        if (released) return;
        released = true;
        try {
          if (fs.readFileSync(lockPath, 'utf8').trim() === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          // Already gone.
        }
      };
      process.once('exit', releaseLock);
      return releaseLock;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(fs.readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processIsAlive(owner)) {
        throw new DataDirInUseError(
          `The data folder ${dataDir} is in use by another Partnership Plan process (pid ${owner}). ` +
            'The embedded database allows one process at a time: stop that process first ' +
            '(or, to run several instances, use a PostgreSQL server through DATABASE_URL).',
        );
      }
      if (owner === process.pid) {
        throw new DataDirInUseError(`The data folder ${dataDir} is already open in this process.`);
      }
      fs.rmSync(lockPath, { force: true }); // stale: its process has gone
    }
  }
  throw new DataDirInUseError(`Could not take the lock on the data folder ${dataDir}.`);
}
