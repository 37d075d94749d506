/**
 * Opens the database: embedded PGlite under DATA_DIR by default, a PostgreSQL server through a
 * `pg` pool when DATABASE_URL is set. Both speak the same schema and migrations.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
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

/**
 * A database handle, made without the schema: the app builds its queries from the tables
 * (db/schema.ts) and uses no relational queries (`db.query.…`), whose builders drizzle would
 * otherwise make for every table at each transaction's start (2 % of a progress save's time).
 */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = PgTransaction<PgQueryResultHKT, NoSchema, ExtractTablesWithRelations<NoSchema>>;
type NoSchema = Record<string, never>;

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

/** A row COPY could not read (a CSV error, a row with too few or too many fields, bad UTF-8). */
export class CopyRowError extends Error {
  constructor(
    /** The line of the CSV given to copyCsv, from 1, as PostgreSQL counts (a quoted line break too). */
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A database session of its own for a bulk load: a temporary table made with `db` lives as long as
 * the session; `copyCsv` fills a table from CSV; `transaction` runs the writes. On PostgreSQL the
 * session is one client of the pool, held throughout; on PGlite it is the one connection, so other
 * queries still run between the statements (and wait while `transaction` runs).
 */
export interface CopySession {
  /** On PostgreSQL copyCsv may run inside `transaction`; on PGlite not (its COPY waits for it). */
  kind: 'postgres' | 'pglite';
  db: Db;
  /**
   * COPY `target` (a table and its column list) from CSV (FORMAT csv, no header): on PostgreSQL
   * the chunks stream into one COPY … FROM STDIN; on PGlite each chunk is a COPY … FROM '/dev/blob'
   * of its own (PGlite holds the blob whole), so each chunk must end at the end of a row. A row
   * COPY refuses comes back as a CopyRowError naming its line. Resolves to the rows copied.
   */
  copyCsv(target: string, chunks: AsyncIterable<Buffer>): Promise<number>;
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
}

/** The pools of the PostgreSQL databases opened here and the PGlite clients, for copy sessions. */
const pools = new WeakMap<Db, pg.Pool>();
const pglites = new WeakMap<Db, PGlite>();

/** COPY's own errors name the line in their context ("COPY t, line 3001: …"). */
function copyRowError(error: unknown, linesBefore: number): unknown {
  const { where, code } = error as { where?: string; code?: string };
  const line = where && /, line (\d+)/.exec(where);
  // Class 22: data exceptions (bad CSV, bad encoding); anything else (a lost connection) as it is.
  if (!line || !code?.startsWith('22')) return error;
  return new CopyRowError(linesBefore + Number(line[1]), (error as Error).message);
}

function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
  return lines;
}

/** Runs `work` in a copy session (see CopySession) of the database `db` was opened with. */
export async function withCopySession<T>(db: Db, work: (session: CopySession) => Promise<T>): Promise<T> {
  const pool = pools.get(db);
  if (pool) {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const clientDb = drizzlePg(client) as unknown as Db;
      return await work({
        kind: 'postgres',
        db: clientDb,
        async copyCsv(target, chunks) {
          const copy = client.query(copyFrom(`copy ${target} from stdin with (format csv)`));
          try {
            await pipeline(Readable.from(chunks), copy);
            return copy.rowCount;
          } catch (error) {
            throw copyRowError(error, 0);
          }
        },
        transaction: (run) => clientDb.transaction(run),
      });
    } catch (error) {
      broken = error as Error;
      throw error;
    } finally {
      // After an error (mid-COPY, or a temporary table perhaps left) the client is closed, not reused.
      client.release(broken);
    }
  }
  const pglite = pglites.get(db)!;
  return work({
    kind: 'pglite',
    db,
    async copyCsv(target, chunks) {
      let linesBefore = 0;
      let rows = 0;
      for await (const chunk of chunks) {
        try {
          const result = await pglite.query(`copy ${target} from '/dev/blob' with (format csv)`, [], {
            blob: new Blob([chunk]),
          });
          rows += result.affectedRows ?? 0;
        } catch (error) {
          throw copyRowError(error, linesBefore);
        }
        linesBefore += countLines(chunk);
      }
      return rows;
    },
    transaction: (run) => db.transaction(run),
  });
}

/**
 * What a database handle knows of writes, for the read stamp (see writeStamp): `own` counts the
 * writes made through this handle; `epoch` moves on with each of them and, on PostgreSQL, with
 * each notice of a write another instance (or anything else) committed; `generation` moves on
 * each time PostgreSQL's notices start to be heard again (some may have been missed meanwhile).
 */
interface WriteCount {
  own: number;
  epoch: number;
  generation: number;
  /** False while the notices of PostgreSQL cannot be heard: the stamp is then read by a query. */
  listening: boolean;
}

const writeCounts = new WeakMap<Db, WriteCount>();

/** A statement that only reads (and so leaves the write count as it is): a plain SELECT. */
const READS_ONLY = /^\s*select\b/i;

function newWriteCount(listening: boolean): WriteCount {
  return { own: 0, epoch: 0, generation: 0, listening };
}

function countWrite(count: WriteCount): void {
  count.own++;
  count.epoch++;
}

/**
 * PGlite runs its SQL on this thread, and its lock hands over to the next waiting call in a
 * microtask: a queue of requests' statements would run back to back in one turn of the event loop,
 * and all that while Node neither reads other requests nor accepts a connection (it accepts one a
 * turn: libuv 1.46, Node 20). Fifty people saving at once kept a new connection waiting over 10 s. So
 * each call (a statement, or a whole transaction) waits its turn in one queue, and the event loop
 * turns once before it runs: a new connection is accepted between any two. (A call made inside a
 * transaction on the global handle instead of the transaction's waits forever, as on PGlite's own
 * lock: use the transaction's.)
 */
function takeTurns(client: PGlite): void {
  let last: Promise<unknown> = Promise.resolve();
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const inTurn =
    <A extends unknown[], R>(run: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      const result = last.then(turn).then(() => run(...args));
      last = result.catch(() => undefined);
      return result;
    };
  client.query = inTurn(client.query.bind(client)) as PGlite['query'];
  client.exec = inTurn(client.exec.bind(client)) as PGlite['exec'];
  client.transaction = inTurn(client.transaction.bind(client)) as PGlite['transaction'];
}

/**
 * Counts the writes made through a PGlite client: every statement but a plain SELECT, and every
 * transaction (counted when it has ended, committed or not, before its caller goes on). PGlite runs
 * one statement or transaction at a time, so a count read when a request starts is ahead of every
 * write committed before it.
 */
function countWrites(client: PGlite): WriteCount {
  const count = newWriteCount(true);
  const counted = <T>(run: Promise<T>): Promise<T> => run.finally(() => countWrite(count));
  const query = client.query.bind(client);
  const exec = client.exec.bind(client);
  const transaction = client.transaction.bind(client);
  client.query = ((
    text: string,
    ...rest: Parameters<PGlite['query']> extends [string, ...infer R] ? R : never
  ) => (READS_ONLY.test(text) ? query(text, ...rest) : counted(query(text, ...rest)))) as PGlite['query'];
  client.exec = ((...args: Parameters<PGlite['exec']>) => counted(exec(...args))) as PGlite['exec'];
  client.transaction = ((...args: Parameters<PGlite['transaction']>) =>
    counted(transaction(...args))) as PGlite['transaction'];
  return count;
}

/**
 * PostgreSQL: counts the writes made through one client of the pool, as countWrites does on PGlite:
 * every statement but a plain SELECT (a transaction's COMMIT among them), when it has ended. A
 * COPY (a stream) is counted as it starts; the transaction that uses what it loaded counts again.
 */
function countClientWrites(client: pg.PoolClient, count: WriteCount): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | undefined)?.text;
    if (typeof text === 'string' && READS_ONLY.test(text)) return query(...args);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (...results: unknown[]) => {
        countWrite(count);
        (callback as (...r: unknown[]) => void)(...results);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) return result.finally(() => countWrite(count));
    countWrite(count);
    return result;
  };
}

interface WriteListener {
  /** Resolves when a notice with this payload is heard; rejects after timeoutMs without it. */
  heard(payload: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

const listeners = new WeakMap<Db, WriteListener>();

/**
 * Resolves once this instance has heard the notices of every write committed (anywhere) before
 * the call, and its stamp has moved on past them: it sends a notice of its own and waits for it
 * (PostgreSQL delivers them in the order of their commits). At once on PGlite, which counts every
 * write as it makes it. For tests, and for anything that must see another instance's last change.
 */
export async function untilWritesHeard(db: Db, timeoutMs = 5_000): Promise<void> {
  const listener = listeners.get(db);
  const count = writeCounts.get(db);
  if (!listener || !count) return;
  if (!count.listening) throw new Error('not listening for the notices of writes');
  const token = `heard:${crypto.randomUUID()}`;
  // Listening before it is sent; both awaited together, so neither failure goes unheard.
  await Promise.all([
    listener.heard(token, timeoutMs),
    db.execute(sql`select pg_notify(${WRITES_CHANNEL}, ${token})`),
  ]);
}

/** The channel the migrations' trigger on every table notifies of each committed write (0013). */
const WRITES_CHANNEL = 'partnership_plan_writes';
/** How often the listening connection is checked (a query it must answer within LISTEN_TIMEOUT_MS). */
const LISTEN_CHECK_MS = 15_000;
const LISTEN_TIMEOUT_MS = 5_000;
/** How long after losing the listening connection it tries again. */
const LISTEN_RETRY_MS = 1_000;

/**
 * PostgreSQL: listens for the notices of committed writes on a connection of its own, moving the
 * count's epoch on with each. While the connection is down (a server restart, a network fault, a
 * check not answered) `listening` is false and the stamp is read by a query instead; once it
 * listens again the generation moves on, so nothing kept before is served. Resolves once the first
 * attempt has listened or failed (the app starts either way); stop() ends it.
 */
async function listenForWrites(options: pg.PoolConfig, count: WriteCount): Promise<WriteListener> {
  let current: pg.Client | undefined;
  const waiting = new Map<string, () => void>();
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const lost = (client: pg.Client) => {
    if (current !== client) return;
    current = undefined;
    count.listening = false;
    client.end().catch(() => undefined);
    if (!stopped) {
      retry = setTimeout(() => void connect(), LISTEN_RETRY_MS);
      retry.unref();
    }
  };
  const connect = async () => {
    const client = new pg.Client({ ...options, keepAlive: true, query_timeout: LISTEN_TIMEOUT_MS });
    current = client;
    client.on('error', () => lost(client));
    client.on('end', () => lost(client));
    client.on('notification', (notice) => {
      count.epoch++;
      if (notice.payload) waiting.get(notice.payload)?.();
    });
    try {
      await client.connect();
      await client.query(`listen ${WRITES_CHANNEL}`);
      if (current !== client || stopped) return;
      count.generation++;
      count.listening = true;
    } catch {
      lost(client);
    }
  };
  const check = setInterval(() => {
    const client = current;
    if (client && count.listening) client.query('select 1').catch(() => lost(client));
  }, LISTEN_CHECK_MS);
  check.unref();
  await connect();
  return {
    heard(payload, timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      return new Promise<void>((resolve, reject) => {
        waiting.set(payload, resolve);
        timer = setTimeout(() => reject(new Error(`no notice heard in ${timeoutMs} ms`)), timeoutMs);
      }).finally(() => {
        clearTimeout(timer);
        waiting.delete(payload);
      });
    },
    async stop() {
      stopped = true;
      clearInterval(check);
      clearTimeout(retry);
      count.listening = false;
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}

/**
 * The read stamp (services/read-cache.ts) as this process knows it, with no query: on PGlite the
 * count of its writes (one process owns a PGlite database, acquireDataDirLock, and every write it
 * makes goes through this handle); on PostgreSQL the count of this instance's writes and of the
 * notices of every other write. Undefined on PostgreSQL while the notices cannot be heard: the
 * stamp is then the server's snapshot, read by a query.
 */
export function writeStamp(db: Db): string | undefined {
  const count = writeCounts.get(db);
  if (!count?.listening) return undefined;
  return count.generation === 0 ? `w${count.epoch}` : `n${count.generation}.${count.epoch}`;
}

/** Whether `db` is the embedded database (one process makes every write) rather than a server's. */
export function isEmbedded(db: Db): boolean {
  return pglites.has(db);
}

/**
 * How many writes this process has made through `db` (not counting other instances'), to tell
 * whether a request wrote anything.
 */
export function ownWrites(db: Db): number {
  return writeCounts.get(db)?.own ?? 0;
}

/** The key of the session advisory lock each PostgreSQL database handle (an instance) holds. */
const instanceLocks = new WeakMap<Db, Promise<{ key: number; client: pg.Client }>>();

/**
 * PostgreSQL: this instance's key, a random number whose session advisory lock a connection of its
 * own holds until the database is closed (or the connection is lost), so that another instance can
 * tell whether this one still lives: pg_try_advisory_xact_lock(key) fails while it does. Null on
 * PGlite (one process: nothing else shares the database).
 */
export async function instanceLock(db: Db): Promise<number | null> {
  const pool = pools.get(db);
  if (!pool) return null;
  let held = instanceLocks.get(db);
  if (!held) {
    const forget = () => {
      if (instanceLocks.get(db) === lock) instanceLocks.delete(db);
    };
    const lock = (async () => {
      const client = new pg.Client(pool.options);
      client.on('error', () => {
        forget(); // the connection is lost, and the lock with it: the next call takes a new key
        client.end().catch(() => undefined);
      });
      await client.connect();
      const key = crypto.randomInt(1, 2 ** 47);
      await client.query('select pg_advisory_lock($1)', [key]);
      return { key, client };
    })();
    lock.catch(forget);
    instanceLocks.set(db, lock);
    held = lock;
  }
  return (await held).key;
}

async function releaseInstanceLock(db: Db): Promise<void> {
  const held = instanceLocks.get(db);
  instanceLocks.delete(db);
  if (held) await (await held.catch(() => undefined))?.client.end().catch(() => undefined);
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client's error (a server restart) must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const writes = newWriteCount(false);
  pool.on('connect', (client) => countClientWrites(client, writes));
  const db = drizzlePg(pool) as unknown as Db;
  pools.set(db, pool);
  writeCounts.set(db, writes);
  const listener = await listenForWrites(pool.options, writes);
  listeners.set(db, listener);
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
    async close() {
      await listener.stop();
      await releaseInstanceLock(db);
      await pool.end();
    },
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
  // One process: its writes need tell no one (the trigger of migration 0013 stays quiet).
  await client.exec(`set pp.write_notices = 'off'`);
  takeTurns(client);
  const writes = countWrites(client);
  const db = drizzlePglite(client) as unknown as Db;
  pglites.set(db, client);
  writeCounts.set(db, writes);
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
