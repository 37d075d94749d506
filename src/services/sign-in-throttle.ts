/**
 * Slows password guessing against one account: after MAX_FAILURES failed sign-ins within the
 * window, that email address is refused until the window has passed. Unknown addresses are
 * counted the same way, so the lockout does not reveal who has an account.
 *
 * Kept in this process's memory: with several instances each counts its own attempts (the per-
 * address limit in the web layer still applies). Moving it to PostgreSQL belongs with the rest of
 * account security.
 */
export class SignInThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly maxFailures = 10,
    readonly windowMs = 10 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  private key(email: string): string {
    return email.trim().toLowerCase();
  }

  private recent(email: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(this.key(email)) ?? []).filter((t) => t > since);
    if (list.length) this.failures.set(this.key(email), list);
    else this.failures.delete(this.key(email));
    return list;
  }

  /** Minutes to wait before this account may be tried again; 0 when it may be tried now. */
  lockedForMinutes(email: string): number {
    const list = this.recent(email);
    if (list.length < this.maxFailures) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - this.now()) / 60_000));
  }

  recordFailure(email: string): void {
    const list = this.recent(email);
    list.push(this.now());
    this.failures.set(this.key(email), list);
    if (this.failures.size > 100_000) {
      // Bounded memory under a spray of addresses: forget the oldest.
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  recordSuccess(email: string): void {
    this.failures.delete(this.key(email));
  }
}
