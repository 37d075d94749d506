/**
 * Reads kept while the database has not changed, told by a stamp each request reads as it starts.
 *
 * The stamp is, where it can be known without a query (db/client.ts writeStamp):
 *  - on the embedded database, the count of this process's writes: one process owns a PGlite
 *    database, so the count moves on with every change there is;
 *  - on PostgreSQL, the count of this instance's writes and of the notices of every committed write
 *    that PostgreSQL sends to each listening instance (a trigger on every table, migration 0013).
 *    This instance's own changes move it on at once; another's a moment after they commit, when
 *    the notice arrives (a millisecond or two). So that the person who made a change never meets
 *    a copy from before it on another instance, the response of a request that wrote marks the
 *    browser for 30 seconds, and that browser's requests read their session and stamp from the
 *    server (web/app.ts, services/sessions.ts readAfresh).
 * Otherwise (PostgreSQL while the notices cannot be heard, or a request marked so) the stamp is
 * the server's snapshot, `pg_current_snapshot()`, read by a query: it names the transactions a
 * new query would see as committed, so any commit anywhere changes it.
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

/**
 * The SQL of the membership stamp: the count of committed changes to partnerships, memberships and
 * users (table change_counts, moved on by triggers: migration 0016), as a stamp. The reads of who
 * someone is in a partnership (users.getPartnershipMember) depend on those tables alone, so they may
 * be kept under it while other tables change: a request that has just saved an update still finds
 * them kept. It is read in the query that starts a request (the session's), exact as read; a
 * session this process keeps (sessions.ts) carries the count read with it, as new as its stamp.
 */
export const MEMBERSHIP_STAMP_SQL = sql<string>`(select 'membership:' || c.changes
  from change_counts c where c.topic = 'membership')`;

/** The stamp now: as this process knows it (writeStamp), or else the server's snapshot. */
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

/**
 * `make(kept, variant, ...args)`, made once for each kept value and variant and kept as long as
 * the value is: for what a page makes from a value cachedRead keeps (one frozen object, served to
 * every request under the same stamp) and from nothing else but the variant (a plain string) and
 * `args`, which must be fixed by the two (another read under the same stamp). A value read without
 * a stamp is a new object each time, so its makings are simply not reused. A promise that fails is
 * forgotten, so that the next request makes it again. With `maxVariants`, a value keeps that many
 * variants at most (the oldest made goes first): for variants a request names, such as filters.
 */
export function madeFromKept<K extends object, V, A extends unknown[] = []>(
  make: (kept: K, variant: string, ...args: A) => V,
  maxVariants = Infinity,
): (kept: K, variant?: string, ...args: A) => V {
  const made = new WeakMap<K, Map<string, V>>();
  return (kept, variant = '', ...args) => {
    let byVariant = made.get(kept);
    if (!byVariant) {
      byVariant = new Map();
      made.set(kept, byVariant);
    }
    if (byVariant.has(variant)) return byVariant.get(variant)!;
    const value = make(kept, variant, ...args);
    byVariant.set(variant, value);
    if (byVariant.size > maxVariants) byVariant.delete(byVariant.keys().next().value!);
    if (value instanceof Promise) value.catch(() => byVariant.delete(variant));
    return value;
  };
}
