/**
 * The service's email. Every message is written to the `emails` table inside the transaction of
 * the change that caused it, so a rolled-back change sends nothing and nothing sent goes
 * unrecorded. With SMTP_URL the message is then handed to that server (after the commit) and
 * marked sent, or marked with the error; without it the row is the message: the outbox the
 * coordinator reads in the app.
 *
 * A message the server refused (or that could not reach it) is tried again by the scheduler,
 * 5, 10, 20 and 40 minutes after each failure, five tries in all, within a day of being written.
 */
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Db, Tx } from '../db/client.js';
import { emails } from '../db/schema.js';

export interface MailSettings {
  /** smtp://user:password@host:587 or smtps://…; without it, messages stay in the outbox. */
  smtpUrl?: string | undefined;
  /** The sender, e.g. `Partnership Plan <no-reply@council.gov.uk>`. */
  from?: string | undefined;
}

export interface EmailMessage {
  /** The partnership the message is about; null for account messages (password reset). */
  partnershipId: number | null;
  to: string;
  subject: string;
  /** Plain text. */
  body: string;
}

/** What became of a message: handed to the SMTP server, refused by it, or kept in the outbox. */
export type Delivery = 'sent' | 'failed' | 'outbox';

export const DEFAULT_MAIL_FROM = 'Partnership Plan <no-reply@partnership-plan.invalid>';

/** Tries in all: the first, then four retries. */
export const MAX_ATTEMPTS = 5;
/** The first retry waits this long after the first failure; each later one twice as long. */
export const RETRY_FIRST_AFTER_MINUTES = 5;
/** Messages older than this are not tried again (an invitation or reminder a day late misleads). */
export const RETRY_WITHIN_HOURS = 24;
/** At most this many messages a run, so that one run stays short. */
const RETRY_BATCH = 100;

/** What one retry run did. */
export interface RetryOutcome {
  tried: number;
  sent: number;
  failed: number;
}

/**
 * When a message that was not sent will be tried again, or undefined when it will not be (sent,
 * kept in the outbox, out of tries or too old). Matches retryFailedEmails' choice.
 */
export function nextRetryAt(email: {
  transport: string;
  sentAt: Date | null;
  attempts: number;
  createdAt: Date;
  lastAttemptAt: Date | null;
}): Date | undefined {
  if (email.transport !== 'smtp' || email.sentAt || email.attempts < 1 || email.attempts >= MAX_ATTEMPTS) {
    return undefined;
  }
  const after = (email.lastAttemptAt ?? email.createdAt).getTime();
  const at = new Date(after + RETRY_FIRST_AFTER_MINUTES * 2 ** (email.attempts - 1) * 60_000);
  return at.getTime() < email.createdAt.getTime() + RETRY_WITHIN_HOURS * 3_600_000 ? at : undefined;
}

export class Mailer {
  readonly transport: 'smtp' | 'outbox';
  private readonly smtp: Transporter | undefined;
  private readonly from: string;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(settings: MailSettings = {}) {
    this.from = settings.from ?? DEFAULT_MAIL_FROM;
    // Short timeouts: a mail server that does not answer must not hold a person's request for minutes.
    this.smtp = settings.smtpUrl
      ? nodemailer.createTransport({
          url: settings.smtpUrl,
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 30_000,
        })
      : undefined;
    this.transport = this.smtp ? 'smtp' : 'outbox';
  }

  /** Writes the message in the caller's transaction; returns its id for deliver(). */
  async record(tx: Tx, message: EmailMessage): Promise<number> {
    const [row] = await tx
      .insert(emails)
      .values({
        partnershipId: message.partnershipId,
        toAddress: message.to,
        subject: message.subject,
        body: message.body,
        transport: this.transport,
      })
      .returning({ id: emails.id });
    return row!.id;
  }

  /**
   * Hands recorded messages to the SMTP server once their transaction has committed. Never throws:
   * a refusal is written on the message, where the coordinator's outbox shows it, and the message
   * is tried again later (retryFailedEmails).
   */
  async deliver(db: Db, ids: readonly number[]): Promise<Delivery[]> {
    if (!this.smtp || ids.length === 0) return ids.map(() => 'outbox');
    // Counting the try before making it: a retry run elsewhere then waits its turn for this one.
    const rows = await db
      .update(emails)
      .set({ attempts: sql`${emails.attempts} + 1`, lastAttemptAt: new Date() })
      .where(and(inArray(emails.id, [...ids]), eq(emails.transport, 'smtp'), isNull(emails.sentAt)))
      .returning();
    rows.sort((a, b) => a.id - b.id);
    const outcomes: Delivery[] = [];
    for (const row of rows) outcomes.push(await this.send(db, row));
    return outcomes;
  }

  /**
   * Tries again the messages the SMTP server did not take: those written in the last 24 hours,
   * tried 1 to 4 times, the last try more than 5·2^(tries−1) minutes before `now` (5, 10, 20, 40).
   * Safe with several instances: the messages due are claimed in a short transaction (FOR UPDATE
   * SKIP LOCKED, counting the try), so each is sent by one run only, and sent after its commit.
   */
  async retryFailedEmails(db: Db, now: Date = new Date()): Promise<RetryOutcome> {
    if (!this.smtp) return { tried: 0, sent: 0, failed: 0 };
    const at = now.toISOString();
    const claimed = await db.transaction(async (tx) => {
      const due = await tx
        .select({ id: emails.id })
        .from(emails)
        .where(
          and(
            eq(emails.transport, 'smtp'),
            isNull(emails.sentAt),
            // 0: recorded but never handed over (the process stopped between the commit and
            // deliver()); picked up once it is RETRY_FIRST_AFTER_MINUTES old.
            sql`${emails.attempts} between 0 and ${sql.raw(String(MAX_ATTEMPTS - 1))}`,
            sql`${emails.createdAt} > ${at}::timestamptz - interval '${sql.raw(String(RETRY_WITHIN_HOURS))} hours'`,
            // 5, 10, 20, 40 minutes after the last try (5 after writing, for one never tried).
            sql`coalesce(${emails.lastAttemptAt}, ${emails.createdAt}) < ${at}::timestamptz - make_interval(mins => ${sql.raw(String(RETRY_FIRST_AFTER_MINUTES))} * (1 << greatest(${emails.attempts} - 1, 0)))`,
          ),
        )
        .orderBy(emails.id)
        .limit(RETRY_BATCH)
        .for('update', { skipLocked: true });
      if (!due.length) return [];
      return tx
        .update(emails)
        .set({ attempts: sql`${emails.attempts} + 1`, lastAttemptAt: now })
        .where(
          inArray(
            emails.id,
            due.map((d) => d.id),
          ),
        )
        .returning();
    });
    claimed.sort((a, b) => a.id - b.id);
    let sent = 0;
    for (const row of claimed) if ((await this.send(db, row)) === 'sent') sent += 1;
    return { tried: claimed.length, sent, failed: claimed.length - sent };
  }

  /** One try at handing a message over; the outcome is written on its row. */
  private async send(db: Db, row: typeof emails.$inferSelect): Promise<'sent' | 'failed'> {
    try {
      await this.smtp!.sendMail({
        from: this.from,
        to: row.toAddress,
        subject: row.subject,
        text: row.body,
        // Out-of-office replies should not answer a machine.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      await db.update(emails).set({ sentAt: new Date(), error: null }).where(eq(emails.id, row.id));
      return 'sent';
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      await db
        .update(emails)
        .set({ error: text.slice(0, 1000) })
        .where(eq(emails.id, row.id));
      return 'failed';
    }
  }

  /**
   * Delivers without making the caller wait, so that a request's answer takes as long whether or
   * not it sent anything (password reset). drain() waits for these, e.g. before shutting down.
   */
  deliverLater(db: Db, ids: readonly number[]): void {
    if (!this.smtp || ids.length === 0) return;
    const job = this.deliver(db, ids).catch(() => undefined);
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  async drain(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  close(): void {
    this.smtp?.close();
  }
}

export interface OutboxEmail {
  id: number;
  toAddress: string;
  subject: string;
  body: string;
  createdAt: Date;
  sentAt: Date | null;
  transport: string;
  error: string | null;
  /** Tries to hand it to the mail server so far. */
  attempts: number;
  lastAttemptAt: Date | null;
}

/** A partnership's email, newest first (the caller checks the reader may see it). */
export async function listEmails(db: Db, partnershipId: number, limit = 200): Promise<OutboxEmail[]> {
  return db
    .select({
      id: emails.id,
      toAddress: emails.toAddress,
      subject: emails.subject,
      body: emails.body,
      createdAt: emails.createdAt,
      sentAt: emails.sentAt,
      transport: emails.transport,
      error: emails.error,
      attempts: emails.attempts,
      lastAttemptAt: emails.lastAttemptAt,
    })
    .from(emails)
    .where(eq(emails.partnershipId, partnershipId))
    .orderBy(desc(emails.createdAt), desc(emails.id))
    .limit(limit);
}
