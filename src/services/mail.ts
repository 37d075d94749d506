/**
 * The service's email. Every message is written to the `emails` table inside the transaction of
 * the change that caused it, so a rolled-back change sends nothing and nothing sent goes
 * unrecorded. With SMTP_URL the message is then handed to that server (after the commit) and
 * marked sent, or marked with the error; without it the row is the message: the outbox the
 * coordinator reads in the app.
 */
import { and, desc, eq, inArray, isNull } from 'drizzle-orm';
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
   * a refusal is written on the message, where the coordinator's outbox shows it.
   */
  async deliver(db: Db, ids: readonly number[]): Promise<Delivery[]> {
    if (!this.smtp || ids.length === 0) return ids.map(() => 'outbox');
    const rows = await db
      .select()
      .from(emails)
      .where(and(inArray(emails.id, [...ids]), eq(emails.transport, 'smtp'), isNull(emails.sentAt)));
    const outcomes: Delivery[] = [];
    for (const row of rows) {
      try {
        await this.smtp.sendMail({
          from: this.from,
          to: row.toAddress,
          subject: row.subject,
          text: row.body,
          // Out-of-office replies should not answer a machine.
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        await db.update(emails).set({ sentAt: new Date(), error: null }).where(eq(emails.id, row.id));
        outcomes.push('sent');
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        await db
          .update(emails)
          .set({ error: text.slice(0, 1000) })
          .where(eq(emails.id, row.id));
        outcomes.push('failed');
      }
    }
    return outcomes;
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
    })
    .from(emails)
    .where(eq(emails.partnershipId, partnershipId))
    .orderBy(desc(emails.createdAt), desc(emails.id))
    .limit(limit);
}
