/**
 * Reads kept while the database has not changed, checked with one cheap query per request.
 *
 * The check is the database's own: `pg_current_snapshot()` names the transactions a new query
 * would see as committed (xmin:xmax:in-progress list). A write is a transaction with an id, so a
 * commit anywhere changes it, and while it is unchanged every table reads the same. That holds for
 * every instance on one PostgreSQL server (the snapshot is the server's), so a value kept under a
 * stamp is only ever served to a request that read the same stamp — no instance shows another's
 * change late, and a person sees their own change on the next page, whose stamp is read after it
 * was committed. On the embedded database, which one process owns, the stamp is that process's
 * count of writes (db/client.ts writeStamp), read with no query at all.
 *
 * A request reads the stamp once, when it starts (see users.getSignedIn), and passes it to the
 * reads it makes; without a stamp (a form's POST, a job, a test calling a service) nothing is
 * cached. A value is loaded after its stamp was read, so it is at least as new as the stamp says.
 * Values are frozen: one object serves many requests, and a page changing it would be a bug.
 */
import { sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import { queryRows, writeStamp, type Db, type Tx } from '../db/client.js';

/** What a request read of the database's state when it started; undefined: do not cache. */
export type ReadStamp = string | undefined;

/** The SQL of the stamp, for a query that reads it beside something else. */
export const READ_STAMP_SQL = sql<string>`pg_current_snapshot()::text`;

/** The stamp now: on the embedded database its count of writes, on PostgreSQL its snapshot. */
export async function readStamp(db: Db): Promise<string> {
  const counted = writeStamp(db);
  if (counted !== undefined) return counted;
  const [row] = await queryRows<{ stamp: string }>(db, sql`select ${READ_STAMP_SQL} as stamp`);
  return row!.stamp;
}

/** How many values each database keeps (the oldest used go first). */
const MAX_ENTRIES = 500;

interface Entry {
  stamp: string;
  value: Promise<unknown>;
}

const caches = new WeakMap<object, Map<string, Entry>>();

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as Record<string, unknown>)) deepFreeze(inner);
  }
  return value;
}

/**
 * The value of `load()` kept under `key` for this database while the stamp is the same. Loads
 * that start together under one stamp share one read. Inside a transaction, or without a stamp,
 * it simply loads.
 */
export function cachedRead<T>(
  db: Db | Tx,
  stamp: ReadStamp,
  key: string,
  load: () => Promise<T>,
): Promise<T> {
  if (stamp === undefined || db instanceof PgTransaction) return load();
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const found = cache.get(key);
  if (found && found.stamp === stamp) {
    // Most recently used last, so the oldest are at the front when the cache is full.
    cache.delete(key);
    cache.set(key, found);
    return found.value as Promise<T>;
  }
  const value = load().then(deepFreeze);
  const entry: Entry = { stamp, value };
  cache.delete(key);
  cache.set(key, entry);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  // A failed read is not kept.
  value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return value;
}
