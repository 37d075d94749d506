/**
 * Server-side sessions in PostgreSQL, so that several app instances share them and signing out
 * ends the session everywhere. Implements the store interface of @fastify/session.
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

export class DatabaseSessionStore {
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
    this.db
      .insert(sessions)
      .values({ sid, userId: session.userId ?? null, data, expiresAt: expires })
      .onConflictDoUpdate({
        target: sessions.sid,
        set: { userId: session.userId ?? null, data, expiresAt: expires },
      })
      .then(() => callback(), callback);
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
