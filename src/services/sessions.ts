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
 */
import { eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { sessions } from '../db/schema.js';

type Callback = (error?: unknown) => void;
/** The session type belongs to the web layer's plugin; the store passes it through untouched. */
type GetCallback = (error: unknown, session?: never) => void;

interface StoredSession {
  userId?: number;
  cookie?: { expires?: string | Date | null; originalMaxAge?: number | null };
  [key: string]: unknown;
}

/** A save that only moves the expiry on by less than this is skipped (see above). */
export const SKIP_EXPIRY_MOVE_MS = 60_000;
/** How many sessions' last writes are remembered (the oldest are forgotten first). */
const REMEMBERED_WRITES = 10_000;

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
    const data = JSON.parse(JSON.stringify(session)) as StoredSession;
    const { cookie: _cookie, ...content } = data;
    const key = JSON.stringify(content);
    const last = this.written.get(sid);
    if (last && last.data === key && expires.getTime() - last.expiresAt < SKIP_EXPIRY_MOVE_MS) {
      callback();
      return;
    }
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

  get(sid: string, callback: GetCallback): void {
    this.db
      .select()
      .from(sessions)
      .where(eq(sessions.sid, sid))
      .then(([row]) => {
        if (!row || row.expiresAt.getTime() <= Date.now()) return callback(null);
        callback(null, row.data as never);
      }, callback);
  }

  destroy(sid: string, callback: Callback): void {
    this.written.delete(sid);
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
