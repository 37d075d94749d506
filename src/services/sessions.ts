/**
 * Server-side sessions in PostgreSQL, so that several app instances share them and signing out
 * ends the session everywhere. Implements the store interface of @fastify/session.
 *
 * Sessions roll (each request moves the expiry on), so @fastify/session saves the session after
 * every request. Most of those saves change nothing but the expiry by a few seconds: the store
 * remembers what it last wrote for each session and skips a write whose data is unchanged and
 * whose expiry moves on by less than SKIP_EXPIRY_MOVE_MS. A session can so end up to that much
 * early, against a 2-hour idle limit; a session changed on another instance differs from what
 * this one remembers, so it is written.
 *
 * The store also keeps each session's last read under the read stamp this process knows without a
 * query (db/client.ts writeStamp): a request made while nothing was written since reads its
 * session, account and stamp with no query. On the embedded database that stamp is exact (one
 * process makes every write). On PostgreSQL it moves on when this instance writes and when the
 * notice of another's write arrives, a moment after its commit: so that a person's next request
 * after a change they made never meets a copy from before it, whichever instance it reaches, the
 * web layer marks a session that has just written (readAfresh) and its reads then ask the server.
 */
import { eq, lt, sql } from 'drizzle-orm';
import { isEmbedded, ownWrites, writeStamp, type Db } from '../db/client.js';
import { reusableSql } from '../db/reusable-query.js';
import { sessions } from '../db/schema.js';
import { MEMBERSHIP_STAMP_SQL, READ_STAMP_SQL } from './read-cache.js';
import { SIGNED_IN_USER_SQL, signedInUserOf, type SignedInUser, type SignedInUserRow } from './users.js';

type Callback = (error?: unknown) => void;
/** The session type belongs to the web layer's plugin; the store passes it through untouched. */
type GetCallback = (error: unknown, session?: never) => void;

interface StoredSession {
  userId?: number;
  cookie?: { expires?: string | Date | null; originalMaxAge?: number | null };
  [key: string]: unknown;
}

/**
 * The store's read of a session brings the signed-in account and the request's read stamp
 * (read-cache.ts) with it, in the same query: they wait under this key of the session the request
 * gets, for the web layer to take (takeSignedIn) before anything else; never saved.
 */
const SIGNED_IN_KEY = '_signedInRead';

export interface SignedInRead {
  /** The account the session row names (null: none). */
  userId: number | null;
  /** That account, unless deactivated or gone. */
  user: SignedInUser | undefined;
  stamp: string;
  /** The membership stamp (read-cache.ts MEMBERSHIP_STAMP_SQL) as the session's read found it. */
  membershipStamp: string;
}

/** What this request's session read brought (see SIGNED_IN_KEY), taken off the session. */
export function takeSignedIn(session: object): SignedInRead | undefined {
  const fields = session as Record<string, unknown>;
  const read = fields[SIGNED_IN_KEY] as SignedInRead | undefined;
  delete fields[SIGNED_IN_KEY];
  return read;
}

type SessionRow = SignedInUserRow & {
  data: StoredSession;
  expires_at: Date | string;
  user_id: number | null;
  stamp: string;
  membership_stamp: string;
};

/** A session's row with its account (if not deactivated) and the read stamps, in one query. */
const readSession = reusableSql<{ sid: string }, SessionRow>(
  'read_session',
  sql`select s.data, s.expires_at, s.user_id, ${READ_STAMP_SQL} as stamp,
    ${MEMBERSHIP_STAMP_SQL} as membership_stamp, ${SIGNED_IN_USER_SQL}
    from sessions s left join users u on u.id = s.user_id and u.deactivated_at is null
    where s.sid = ${sql.placeholder('sid')}`,
);

/** A save that only moves the expiry on by less than this is skipped (see above). */
export const SKIP_EXPIRY_MOVE_MS = 60_000;
/** How many sessions' last writes are remembered (the oldest are forgotten first). */
const REMEMBERED_WRITES = 10_000;

/** JSON with every object's keys in order, at every depth (as JSON.stringify writes it, sorted). */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return sortedJson(JSON.parse(JSON.stringify(value)));
  }
  if (value && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined && typeof inner !== 'function')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([key, inner]) => `${JSON.stringify(key)}:${sortedJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A session's data less its cookie, as text with the keys in order at every depth: the database
 * (jsonb) gives them back in its own order, and the same data must compare equal. (A key list
 * given to JSON.stringify would drop nested keys not in it, and a change inside an object such as
 * a pending single sign-on would compare equal and not be written.)
 */
function contentKey(data: StoredSession): string {
  const { cookie: _cookie, [SIGNED_IN_KEY]: _read, ...content } = data;
  return sortedJson(content);
}

export class DatabaseSessionStore {
  /** What this instance last wrote (or read) for each session: its data less the cookie, and expiry. */
  private readonly written = new Map<string, { data: string; expiresAt: number }>();

  constructor(
    private readonly db: Db,
    private readonly maxAgeMs: number,
  ) {}

  set(sid: string, sessionObject: object, callback: Callback): void {
    const session = sessionObject as StoredSession;
    const expires = session.cookie?.expires
      ? new Date(session.cookie.expires)
      : new Date(Date.now() + this.maxAgeMs);
    // Compared as it is (most saves are skipped); copied as JSON only to be written.
    const key = contentKey(session);
    const last = this.written.get(sid);
    if (last && last.data === key && expires.getTime() - last.expiresAt < SKIP_EXPIRY_MOVE_MS) {
      callback();
      return;
    }
    const data = JSON.parse(JSON.stringify(session)) as StoredSession;
    delete data[SIGNED_IN_KEY];
    this.db
      .insert(sessions)
      .values({ sid, userId: session.userId ?? null, data, expiresAt: expires })
      .onConflictDoUpdate({
        target: sessions.sid,
        set: { userId: session.userId ?? null, data, expiresAt: expires },
      })
      .then(() => {
        this.remember(sid, key, expires.getTime());
        callback();
      }, callback);
  }

  private remember(sid: string, data: string, expiresAt: number): void {
    this.written.delete(sid);
    this.written.set(sid, { data, expiresAt });
    if (this.written.size > REMEMBERED_WRITES) {
      const oldest = this.written.keys().next().value;
      if (oldest !== undefined) this.written.delete(oldest);
    }
  }

  /**
   * Whether other processes write to this database (PostgreSQL), so that a session which has just
   * written must be read afresh for a while wherever its next requests go (readAfresh).
   */
  get shared(): boolean {
    return !isEmbedded(this.db);
  }

  /** A mark of the writes this process has made, to tell later whether a request wrote. */
  writeMark(): number {
    return ownWrites(this.db);
  }

  /** Sessions whose next reads must ask the server, until when (see readAfresh). */
  private readonly fresh = new Map<string, number>();

  /**
   * The session `sid` has just written (on some instance): until `until` (ms since the epoch), its
   * reads ask the server for it and for the stamp instead of using a kept copy.
   */
  readAfresh(sid: string, until: number): void {
    this.fresh.delete(sid);
    this.fresh.set(sid, until);
    if (this.fresh.size > REMEMBERED_WRITES) this.fresh.delete(this.fresh.keys().next().value!);
  }

  private mustReadAfresh(sid: string): boolean {
    const until = this.fresh.get(sid);
    if (until === undefined) return false;
    if (until > Date.now()) {
      this.reads.delete(sid);
      return true;
    }
    this.fresh.delete(sid);
    return false;
  }

  get(sid: string, callback: GetCallback): void {
    // Read before the query, so that what the query reads is at least as new as the stamp.
    const counted = this.mustReadAfresh(sid) ? undefined : writeStamp(this.db);
    const kept = counted === undefined ? undefined : this.reads.get(sid);
    const rows =
      kept && kept.stamp === counted
        ? // A copy of the kept data: this request may change its session too.
          Promise.resolve([{ ...kept.row, data: structuredClone(kept.row.data) }])
        : readSession(this.db, { sid }).then((read) => {
            if (counted !== undefined) this.keepRead(sid, counted, read[0]);
            return read;
          });
    rows.then(([row]) => {
      const expiresAt = row && new Date(row.expires_at).getTime();
      if (!row || !expiresAt || expiresAt <= Date.now()) return callback(null);
      // Requests of one session overlap: a read that started before this instance's last write
      // must not make it forget that write (the expiry only moves on).
      const last = this.written.get(sid);
      if (!last || expiresAt > last.expiresAt) this.remember(sid, contentKey(row.data), expiresAt);
      const read: SignedInRead = {
        userId: row.user_id,
        user: signedInUserOf(row),
        stamp: counted ?? row.stamp,
        // Read with the session: kept with it under the stamp it was kept under, as new as that.
        membershipStamp: row.membership_stamp,
      };
      callback(null, { ...row.data, [SIGNED_IN_KEY]: read } as never);
    }, callback);
  }

  /** Reads of sessions, under the stamp (writeStamp) they were read at. */
  private readonly reads = new Map<string, { stamp: string; row: SessionRow }>();

  private keepRead(sid: string, stamp: string, row: SessionRow | undefined): void {
    this.reads.delete(sid);
    if (!row) return;
    // Its own copy: the request that read it may change its session.
    this.reads.set(sid, { stamp, row: { ...row, data: structuredClone(row.data) } });
    if (this.reads.size > REMEMBERED_WRITES) {
      const oldest = this.reads.keys().next().value;
      if (oldest !== undefined) this.reads.delete(oldest);
    }
  }

  destroy(sid: string, callback: Callback): void {
    this.written.delete(sid);
    this.reads.delete(sid);
    this.fresh.delete(sid);
    this.db
      .delete(sessions)
      .where(eq(sessions.sid, sid))
      .then(() => callback(), callback);
  }

  /** Removes expired sessions; called now and then by the app. */
  async prune(): Promise<void> {
    await this.db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
  }
}
