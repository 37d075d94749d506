/**
 * Email the mail server did not take is tried again: a message first handed to a port where no
 * server listens fails and keeps its error; once a real SMTP server is there, the retry sends it.
 * Tries back off (5, 10, 20, 40 minutes), stop after five and after a day, and two retry runs at
 * once (two app instances) send each message once.
 */
import net, { type AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { emails } from '../../src/db/schema.js';
import { Mailer, nextRetryAt } from '../../src/services/mail.js';
import { createTestApp, DEMO, Session } from '../support/app.js';
import { createTestDatabase, openSecondConnection, type TestDatabase } from '../support/database.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp.js';

const MINUTE = 60_000;

let database: TestDatabase;
/** An address where no SMTP server listens: every try fails at once (connection refused). */
let deadUrl: string;
const open: { close(): unknown }[] = [];

/** A port that was free a moment ago, with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function mailer(url: string): Mailer {
  const made = new Mailer({ smtpUrl: url, from: 'SoSafe Plan <plan@sosafe.example>' });
  open.push(made);
  return made;
}

async function sink(): Promise<SmtpSink> {
  const started = await startSmtpSink();
  open.push({ close: () => started.close() });
  return started;
}

/** Records messages as a change's transaction would, and returns their ids. */
async function record(m: Mailer, ...subjects: string[]): Promise<number[]> {
  return database.db.transaction(async (tx) => {
    const ids: number[] = [];
    for (const subject of subjects) {
      ids.push(
        await m.record(tx, {
          partnershipId: null,
          to: 'helen@herts.example',
          subject,
          body: `About ${subject}`,
        }),
      );
    }
    return ids;
  });
}

async function row(id: number) {
  const [found] = await database.db.select().from(emails).where(eq(emails.id, id));
  return found!;
}

const after = (date: Date | null, minutes: number) => new Date(date!.getTime() + minutes * MINUTE);

beforeAll(async () => {
  database = await createTestDatabase();
  deadUrl = `smtp://127.0.0.1:${await closedPort()}`;
});
afterAll(async () => {
  await database?.drop();
});
beforeEach(async () => {
  await database.db.delete(emails);
});
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close();
});

describe('a message the mail server did not take', () => {
  it('keeps its error and one try; once the server is back, the retry sends it', async () => {
    const down = mailer(deadUrl);
    const [id] = await record(down, 'Invitation to join');
    expect(await down.deliver(database.db, [id!])).toEqual(['failed']);
    const failed = await row(id!);
    expect(failed).toMatchObject({ sentAt: null, attempts: 1 });
    expect(failed.error).toMatch(/ECONNREFUSED|connect/i);
    expect(failed.lastAttemptAt).not.toBeNull();

    const server = await sink();
    const up = mailer(server.url);
    // Not yet: the first retry waits 5 minutes after the failure.
    expect(await up.retryFailedEmails(database.db, after(failed.lastAttemptAt, 4))).toEqual({
      tried: 0,
      sent: 0,
      failed: 0,
    });
    expect(server.messages).toHaveLength(0);

    const retried = after(failed.lastAttemptAt, 6);
    expect(await up.retryFailedEmails(database.db, retried)).toEqual({ tried: 1, sent: 1, failed: 0 });
    const message = await server.waitFor((m) => m.subject === 'Invitation to join', 'the retried message');
    expect(message.to).toEqual(['helen@herts.example']);
    expect(message.text).toContain('About Invitation to join');
    expect(await row(id!)).toMatchObject({ error: null, attempts: 2, lastAttemptAt: retried });
    expect((await row(id!)).sentAt).not.toBeNull();

    // Sent: never again.
    expect((await up.retryFailedEmails(database.db, after(retried, 600))).tried).toBe(0);
    expect(server.messages).toHaveLength(1);
  });

  it('backs off 5, 10, 20 and 40 minutes, and stops after five tries', async () => {
    const down = mailer(deadUrl);
    const [id] = await record(down, 'Reminder');
    await down.deliver(database.db, [id!]);
    let last = (await row(id!)).lastAttemptAt!;
    for (const [attempts, wait] of [
      [1, 5],
      [2, 10],
      [3, 20],
      [4, 40],
    ] as const) {
      expect(nextRetryAt(await row(id!))).toEqual(after(last, wait));
      expect(
        (await down.retryFailedEmails(database.db, after(last, wait - 1))).tried,
        `try ${attempts}`,
      ).toBe(0);
      const now = after(last, wait + 1);
      expect(await down.retryFailedEmails(database.db, now)).toEqual({ tried: 1, sent: 0, failed: 1 });
      expect(await row(id!)).toMatchObject({ attempts: attempts + 1, lastAttemptAt: now, sentAt: null });
      expect((await row(id!)).error).not.toBeNull();
      last = now;
    }
    // Five tries: the server is not asked again, however long after.
    expect(nextRetryAt(await row(id!))).toBeUndefined();
    expect((await mailer((await sink()).url).retryFailedEmails(database.db, after(last, 300))).tried).toBe(0);
  });

  it('is not tried again a day after it was written, nor when kept in the outbox; one never handed over is, after 5 minutes', async () => {
    const down = mailer(deadUrl);
    const [old, recent, untried] = await record(down, 'A day old', 'Nearly a day old', 'Being handed over');
    await down.deliver(database.db, [old!, recent!]);
    const now = new Date();
    await database.db
      .update(emails)
      .set({ createdAt: new Date(now.getTime() - 25 * 60 * MINUTE), lastAttemptAt: after(now, -60) })
      .where(eq(emails.id, old!));
    await database.db
      .update(emails)
      .set({ createdAt: new Date(now.getTime() - 23 * 60 * MINUTE), lastAttemptAt: after(now, -60) })
      .where(eq(emails.id, recent!));
    const [kept] = await record(new Mailer(), 'In the outbox');
    expect((await row(kept!)).transport).toBe('outbox');
    expect(nextRetryAt(await row(old!))).toBeUndefined();

    const server = await sink();
    expect(await mailer(server.url).retryFailedEmails(database.db, now)).toEqual({
      tried: 1,
      sent: 1,
      failed: 0,
    });
    expect(server.messages.map((m) => m.subject)).toEqual(['Nearly a day old']);
    // The message not yet handed over (its deliver() may still be coming) is left to it for now…
    expect((await row(untried!)).attempts).toBe(0);
    // …but once it is 5 minutes old its process must have stopped before handing it over: it goes.
    expect(await mailer(server.url).retryFailedEmails(database.db, after(now, 6))).toEqual({
      tried: 1,
      sent: 1,
      failed: 0,
    });
    expect(server.messages.map((m) => m.subject)).toEqual(['Nearly a day old', 'Being handed over']);
    // Without a mail server there is nothing to retry.
    expect(await new Mailer().retryFailedEmails(database.db, now)).toEqual({ tried: 0, sent: 0, failed: 0 });
  });
});

describe('two instances retrying at once', () => {
  it('send each message once', async () => {
    const down = mailer(deadUrl);
    const subjects = Array.from({ length: 8 }, (_, i) => `Update request ${i + 1}`);
    const ids = await record(down, ...subjects);
    await down.deliver(database.db, ids);
    const rows = await database.db.select().from(emails);
    expect(rows.every((r) => r.attempts === 1 && r.sentAt === null)).toBe(true);

    const server = await sink();
    const second: Database = await openSecondConnection(database);
    open.push({ close: () => second.close() });
    const now = new Date(Date.now() + 6 * MINUTE);
    const [one, two] = await Promise.all([
      mailer(server.url).retryFailedEmails(database.db, now),
      mailer(server.url).retryFailedEmails(second.db, now),
    ]);
    expect(one.tried + two.tried).toBe(8);
    expect(one.sent + two.sent).toBe(8);
    await server.waitFor((m) => m.subject === 'Update request 8', 'the last message');
    expect(server.messages.map((m) => m.subject).sort()).toEqual([...subjects].sort());
    const after = await database.db.select().from(emails);
    expect(after.map((r) => r.attempts)).toEqual(Array.from({ length: 8 }, () => 2));
    expect(after.every((r) => r.sentAt !== null && r.error === null)).toBe(true);
  });
});

describe('a message another instance is trying', () => {
  it('is skipped, not waited for and not sent again', async () => {
    const down = mailer(deadUrl);
    const ids = await record(down, 'Held 1', 'Held 2', 'Free 1', 'Free 2');
    await down.deliver(database.db, ids);
    const server = await sink();
    const now = new Date(Date.now() + 6 * MINUTE);
    const held = ids.slice(0, 2);
    if (database.url) {
      // PostgreSQL: another instance has claimed two messages and not yet committed.
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      try {
        await other.query('begin');
        await other.query('select id from emails where id = any($1) for update', [held]);
        // Were the rows waited for, this would hang until the test timed out.
        expect(await mailer(server.url).retryFailedEmails(database.db, now)).toEqual({
          tried: 2,
          sent: 2,
          failed: 0,
        });
        expect(server.messages.map((m) => m.subject).sort()).toEqual(['Free 1', 'Free 2']);
        // The other instance counts its try (and would send them after committing).
        await other.query(
          'update emails set attempts = attempts + 1, last_attempt_at = $2 where id = any($1)',
          [held, now],
        );
        await other.query('commit');
      } finally {
        await other.end();
      }
    } else {
      // PGlite is one connection in one process: a claim is a committed try, as above.
      expect(database.kind).toBe('pglite');
      await database.db
        .update(emails)
        .set({ attempts: 2, lastAttemptAt: now })
        .where(eq(emails.id, held[0]!));
      await database.db
        .update(emails)
        .set({ attempts: 2, lastAttemptAt: now })
        .where(eq(emails.id, held[1]!));
      expect((await mailer(server.url).retryFailedEmails(database.db, now)).tried).toBe(2);
    }
    // Claimed elsewhere a moment ago: not due here again yet.
    expect((await mailer(server.url).retryFailedEmails(database.db, now)).tried).toBe(0);
    expect(server.messages.map((m) => m.subject).sort()).toEqual(['Free 1', 'Free 2']);
  });
});

describe('the outbox page', () => {
  it('shows a message not sent, its error and tries, and when it will be tried again; then that it went', async () => {
    const t = await createTestApp({ env: { SMTP_URL: deadUrl, PUBLIC_URL: 'https://plan.sosafe.example' } });
    try {
      const coordinator = new Session(t.app);
      await coordinator.signIn(DEMO.coordinator);
      const invited = await coordinator.post('/p/sosafe/people/invite', {
        email: 'retry.person@herts.example',
        name: 'Rita Retry',
        role: 'partner',
        organisation: '',
        person: '',
      });
      expect(invited.statusCode).toBe(303);
      const [email] = await t.database.db
        .select()
        .from(emails)
        .where(eq(emails.toAddress, 'retry.person@herts.example'));
      expect(email).toMatchObject({ attempts: 1, sentAt: null });

      const status = async () => {
        const html = (await coordinator.get('/p/sosafe/outbox')).body;
        const cell = new RegExp(`data-testid="email-${email!.id}-transport">([\\s\\S]*?)</dd>`).exec(
          html,
        )?.[1];
        return (cell ?? '')
          .replace(/<[^>]+>/g, '')
          .replace(/\s+/g, ' ')
          .trim();
      };
      expect(await status()).toMatch(
        /^Not sent: .*(ECONNREFUSED|connect).* \(tried once\) It will be tried again after /,
      );

      const server = await startSmtpSink();
      const up = new Mailer({ smtpUrl: server.url });
      try {
        expect((await up.retryFailedEmails(t.database.db, after(email!.lastAttemptAt, 6))).sent).toBe(1);
        await server.waitFor((m) => m.to.includes('retry.person@herts.example'), 'the invitation');
      } finally {
        up.close();
        await server.close();
      }
      expect(await status()).toMatch(/^Sent by email .* \(tried 2 times\)$/);
      const [sent] = await t.database.db.select().from(emails).where(eq(emails.id, email!.id));
      expect(sent).toMatchObject({ attempts: 2, error: null });
    } finally {
      await t.close();
    }
  });
});
