/**
 * Slows password guessing against one account: after MAX_FAILURES failed sign-ins within the
 * window, that email address is refused until enough of them have aged out. Unknown addresses are
 * counted the same way, so the lockout does not reveal who has an account.
 *
 * Failures are rows of `sign_in_failures`, so every app instance sees the same count. (The limit
 * per client address is the web layer's, through the rate-limit plugin.)
 */
import { and, asc, eq, gt, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { signInFailures } from '../db/schema.js';

export const MAX_FAILURES = 10;
export const WINDOW_MS = 10 * 60 * 1000;

function key(email: string): string {
  return email.trim().toLowerCase();
}

/** Minutes to wait before this account may be tried again; 0 when it may be tried now. */
export async function lockedForMinutes(db: Db, email: string, now = new Date()): Promise<number> {
  const since = new Date(now.getTime() - WINDOW_MS);
  const recent = await db
    .select({ at: signInFailures.occurredAt })
    .from(signInFailures)
    .where(and(eq(signInFailures.email, key(email)), gt(signInFailures.occurredAt, since)))
    .orderBy(asc(signInFailures.occurredAt));
  if (recent.length < MAX_FAILURES) return 0;
  // The lock lifts when fewer than MAX_FAILURES remain in the window.
  const lifting = recent[recent.length - MAX_FAILURES]!.at;
  return Math.max(1, Math.ceil((lifting.getTime() + WINDOW_MS - now.getTime()) / 60_000));
}

export function lockoutMessage(minutes: number): string {
  const wait = `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  return `Too many attempts to sign in to this account. Wait ${wait}, then try again`;
}

/** Counts a failed attempt on this address, and forgets attempts too old to matter. */
export async function recordSignInFailure(
  db: Db,
  email: string,
  address: string | null = null,
  now = new Date(),
): Promise<void> {
  await db.insert(signInFailures).values({ email: key(email), address, occurredAt: now });
  await pruneSignInFailures(db, now);
}

/** A successful sign-in (or a new password) starts the count again. */
export async function clearSignInFailures(db: Db, email: string): Promise<void> {
  await db.delete(signInFailures).where(eq(signInFailures.email, key(email)));
}

export async function pruneSignInFailures(db: Db, now = new Date()): Promise<void> {
  await db.delete(signInFailures).where(lt(signInFailures.occurredAt, new Date(now.getTime() - WINDOW_MS)));
}
