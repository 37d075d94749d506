/**
 * Reminders, driven by the clock passed in: only those still owing an update are reminded, a round
 * never goes twice, rounds missed while the service was down are passed over for the latest one,
 * and two app instances on one database send each reminder once. Then the in-app scheduler.
 */
import { and, eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type Database } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import type { UpdateState } from '../../src/domain/cycles.js';
import type { Member } from '../../src/domain/permissions.js';
import type { Quarter } from '../../src/domain/quarters.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import {
  closeQuarter,
  getCycle,
  openQuarter,
  REMINDER_LOCK,
  sendDueReminders,
  submissionBoard,
  type CycleDeps,
} from '../../src/services/cycles.js';
import { Mailer } from '../../src/services/mail.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { startScheduler } from '../../src/services/scheduler.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, openSecondConnection, type TestDatabase } from '../support/database.js';
import { startSmtpSink, type ReceivedEmail, type SmtpSink } from '../support/smtp.js';

const links = { baseUrl: 'https://plan.example.test' };
const HELEN = 'helen.whitehead@sosafe.example';
const TANIA = 'tania.king@sosafe.example';

let database: TestDatabase;
let smtp: SmtpSink;
let deps: CycleDeps;
let coordinator: Actor;
let planId: number;
let partnershipId: number;
let live: PlanTree;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

function actionId(aimNumber: string, index = 1): number {
  return findAim(live, aimNumber).aim.actions[index - 1]!.id;
}

/** A lead officer's update as the update form would leave it, written straight to the table. */
async function recordUpdate(action: number, quarter: Quarter, state: UpdateState): Promise<void> {
  await database.db.insert(t.progressUpdates).values({
    partnershipId,
    actionId: action,
    quarter,
    text: `Progress on action ${action}`,
    status: 'on_track',
    state,
    submittedAt: state === 'draft' ? null : new Date('2025-04-03T10:00:00Z'),
  });
}

/** Mail received since `from`, about one quarter. */
function mailAbout(quarter: string, from = 0): ReceivedEmail[] {
  return smtp.messages.slice(from).filter((m) => m.subject.includes(`${quarter} 2024/25`));
}

function formLinkIds(message: ReceivedEmail): number[] {
  return [...message.text.matchAll(/\/actions\/(\d+)\/progress\?quarter=\d/g)].map((m) => Number(m[1]));
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  // Tania King of SADA, the demo's second lead officer, is named as a lead of 2.1, 2.3 and 5.5.
  smtp = await startSmtpSink();
  deps = { db: database.db, mailer: new Mailer({ smtpUrl: smtp.url }) };
  coordinator = await actorFor('coordinator@sosafe.example');
  live = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
  planId = live.plan.id;
  partnershipId = live.partnership.id;
});
afterAll(async () => {
  deps?.mailer.close();
  await smtp?.close();
  await database?.drop();
});

describe('reminders at offsets from the due date', () => {
  let cycleId: number;

  beforeAll(async () => {
    // Q4 2024/25, due Monday 14 April 2025: reminders on 7, 15 and 21 April.
    const opened = await openQuarter(
      deps,
      coordinator,
      planId,
      { quarter: 4, dueOn: '2025-04-14' },
      links,
      new Date('2025-04-01T09:00:00Z'),
    );
    cycleId = opened.cycle.id;
    expect(opened.emails).toBe(2);
  });

  it('sends nothing before the first reminder day', async () => {
    const sent = smtp.messages.length;
    const result = await sendDueReminders(deps, new Date('2025-04-06T22:30:00Z'), links);
    expect(result).toEqual({ ran: true, rounds: [] });
    expect(smtp.messages).toHaveLength(sent);
  });

  it('a week before, reminds only those still owing an update, listing only what they owe', async () => {
    // Helen submits both her updates; Tania submits 2.1 and has a draft of 2.2.
    await recordUpdate(actionId('3.1', 1), 4, 'submitted');
    await recordUpdate(actionId('3.1', 2), 4, 'submitted');
    await recordUpdate(actionId('2.1'), 4, 'submitted');
    await recordUpdate(actionId('2.2'), 4, 'draft');
    const sent = smtp.messages.length;
    // 00:30 on 7 April in London (British Summer Time, still 6 April in UTC): the day has come, but
    // reminders wait for the working day.
    expect(await sendDueReminders(deps, new Date('2025-04-06T23:30:00Z'), links)).toEqual({
      ran: true,
      rounds: [],
    });
    // 08:00 in London is 07:00 UTC in April.
    const now = new Date('2025-04-07T07:00:00Z');
    const result = await sendDueReminders(deps, now, links);
    expect(result).toEqual({ ran: true, rounds: [{ cycleId, offsetDays: -7, recipients: 1 }] });

    const fresh = mailAbout('Q4', sent);
    expect(fresh.map((m) => m.to)).toEqual([[TANIA]]);
    expect(fresh[0]!.subject).toBe(
      'SoSafe Stevenage: reminder — your Q4 2024/25 progress updates are due by 14 April 2025',
    );
    expect(formLinkIds(fresh[0]!)).toEqual([
      actionId('2.2'),
      actionId('2.3'),
      actionId('2.4'),
      actionId('5.5', 3),
    ]);
    expect(fresh[0]!.text).toContain('https://plan.example.test/p/sosafe/plans/2024-25/quarters/4/updates');

    const board = await submissionBoard(database.db, coordinator, planId, 4);
    const row = (id: number) => board.rows.find((r) => r.actionId === id)!;
    expect(row(actionId('2.2'))).toMatchObject({ state: 'draft', remindersSent: 1, lastRemindedAt: now });
    expect(row(actionId('2.1'))).toMatchObject({
      state: 'submitted',
      remindersSent: 0,
      lastRemindedAt: null,
    });
    expect(row(actionId('3.1', 1))).toMatchObject({ remindersSent: 0, lastRemindedAt: null });
  });

  it('never sends a round twice', async () => {
    const sent = smtp.messages.length;
    for (const at of ['2025-04-07T09:00:00Z', '2025-04-07T16:00:00Z', '2025-04-10T09:00:00Z']) {
      expect(await sendDueReminders(deps, new Date(at), links)).toEqual({ ran: true, rounds: [] });
    }
    expect(smtp.messages).toHaveLength(sent);
    const rows = await database.db
      .select()
      .from(t.cycleReminders)
      .where(eq(t.cycleReminders.cycleId, cycleId));
    expect(rows.map((r) => [r.offsetDays, r.recipients])).toEqual([[-7, 1]]);
  });

  it('after the service was down, passes over the missed rounds and sends one reminder for the latest', async () => {
    const sent = smtp.messages.length;
    // 22 April: both the "1 day after" (15 April) and "7 days after" (21 April) rounds are due.
    const result = await sendDueReminders(deps, new Date('2025-04-22T08:00:00Z'), links);
    expect(result).toEqual({
      ran: true,
      rounds: [
        { cycleId, offsetDays: 1, recipients: 0 },
        { cycleId, offsetDays: 7, recipients: 1 },
      ],
    });
    const fresh = mailAbout('Q4', sent);
    expect(fresh.map((m) => m.to)).toEqual([[TANIA]]);
    expect(fresh[0]!.subject).toBe(
      'SoSafe Stevenage: reminder — your Q4 2024/25 progress updates were due 14 April 2025',
    );
    const rounds = await database.db
      .select({ offsetDays: t.cycleReminders.offsetDays, recipients: t.cycleReminders.recipients })
      .from(t.cycleReminders)
      .where(eq(t.cycleReminders.cycleId, cycleId))
      .orderBy(t.cycleReminders.offsetDays);
    expect(rounds).toEqual([
      { offsetDays: -7, recipients: 1 },
      { offsetDays: 1, recipients: 0 },
      { offsetDays: 7, recipients: 1 },
    ]);
    const audit = await queryRows<{ actor_label: string; actor_user_id: number | null }>(
      database.db,
      sql`select actor_label, actor_user_id from audit_events where kind = 'cycle.reminded'`,
    );
    expect(audit).toHaveLength(2);
    expect(audit.every((a) => a.actor_label === 'scheduler' && a.actor_user_id === null)).toBe(true);
    expect(await sendDueReminders(deps, new Date('2025-05-30T08:00:00Z'), links)).toEqual({
      ran: true,
      rounds: [],
    });
  });

  it('sends no reminder whose day came before the quarter was opened, nor any once it is closed', async () => {
    // Q2 opened on 1 October, due 3 October: the "7 days before" day (26 September) had passed.
    const opened = await openQuarter(
      deps,
      coordinator,
      planId,
      { quarter: 2, dueOn: '2024-10-03', reminderOffsets: '-7, 1, 7' },
      links,
      new Date('2024-10-01T09:00:00Z'),
    );
    const q2 = opened.cycle.id;
    const result = await sendDueReminders(deps, new Date('2024-10-04T09:00:00Z'), links);
    expect(result.rounds).toEqual([{ cycleId: q2, offsetDays: 1, recipients: expect.any(Number) }]);
    expect(result.rounds[0]!.recipients).toBeGreaterThan(0);

    const cycle = (await getCycle(database.db, coordinator, planId, 2))!;
    await closeQuarter(
      database.db,
      coordinator,
      q2,
      { reportedOn: '2024-10-08', version: cycle.version },
      new Date('2024-10-07T09:00:00Z'),
    );
    const sent = smtp.messages.length;
    expect(await sendDueReminders(deps, new Date('2024-10-11T09:00:00Z'), links)).toEqual({
      ran: true,
      rounds: [],
    });
    expect(smtp.messages).toHaveLength(sent);
  });
});

describe('two app instances on one database', () => {
  let second: Database;
  let secondDeps: CycleDeps;
  let q3: number;

  beforeAll(async () => {
    second = await openSecondConnection(database);
    secondDeps = { db: second.db, mailer: new Mailer({ smtpUrl: smtp.url }) };
    // Q3 2024/25 (the demo holds Q3 updates for some actions), due 14 January 2025.
    const opened = await openQuarter(
      deps,
      coordinator,
      planId,
      { quarter: 3, dueOn: '2025-01-14' },
      links,
      new Date('2025-01-02T09:00:00Z'),
    );
    q3 = opened.cycle.id;
  });
  afterAll(async () => {
    secondDeps?.mailer.close();
    await second?.close();
  });

  it('send each reminder once, however their runs overlap', async () => {
    const board = await submissionBoard(database.db, coordinator, planId, 3);
    const owing = board.rows.filter((r) => r.state === 'requested').flatMap((r) => r.recipients);
    const people = [...new Set(owing)].sort();
    expect(people).toEqual(['Helen Whitehead', 'Tania King']);

    for (const [day, offsetDays] of [
      ['2025-01-07T09:00:00Z', -7],
      ['2025-01-15T09:00:00Z', 1],
      ['2025-01-21T09:00:00Z', 7],
    ] as const) {
      const sent = smtp.messages.length;
      const now = new Date(day);
      const [a, b] = await Promise.all([
        sendDueReminders(deps, now, links),
        sendDueReminders(secondDeps, now, links),
      ]);
      const reported = [...a.rounds, ...b.rounds];
      expect(reported).toEqual([{ cycleId: q3, offsetDays, recipients: 2 }]);
      expect([a, b].filter((r) => r.rounds.length)).toHaveLength(1);
      // The other instance either found the lock taken or, coming second, the round claimed.
      const fresh = mailAbout('Q3', sent);
      expect(fresh.map((m) => m.to[0]).sort()).toEqual([HELEN, TANIA]);
      expect(smtp.messages).toHaveLength(sent + 2);
    }
    const rounds = await database.db.select().from(t.cycleReminders).where(eq(t.cycleReminders.cycleId, q3));
    expect(rounds).toHaveLength(3);
    const helenRow = await database.db
      .select({ remindersSent: t.cycleRequests.remindersSent })
      .from(t.cycleRequests)
      .where(and(eq(t.cycleRequests.cycleId, q3), eq(t.cycleRequests.actionId, actionId('3.1', 2))));
    expect(helenRow).toEqual([{ remindersSent: 3 }]);
  });

  it('an instance that finds another holding the lock does nothing, and says so', async () => {
    // One more round to be due: a reminder 8 days after, added to Q3's offsets.
    await database.db
      .update(t.quarterCycles)
      .set({ reminderOffsets: [-7, 1, 7, 8] })
      .where(eq(t.quarterCycles.id, q3));
    const now = new Date('2025-01-22T09:00:00Z');
    const sent = smtp.messages.length;
    const holder = database.url ? new pg.Client({ connectionString: database.url }) : undefined;
    if (holder) {
      // PostgreSQL: another instance's session holds the lock while this one runs.
      await holder.connect();
      await holder.query('select pg_advisory_lock($1)', [REMINDER_LOCK]);
      try {
        expect(await sendDueReminders(deps, now, links)).toEqual({ ran: false, rounds: [] });
        expect(smtp.messages).toHaveLength(sent);
      } finally {
        await holder.query('select pg_advisory_unlock($1)', [REMINDER_LOCK]);
        await holder.end();
      }
    } else {
      // PGlite is one connection in one process: the lock is this instance's own, and free again
      // once a run's transaction ends.
      expect(database.kind).toBe('pglite');
    }
    expect(await sendDueReminders(secondDeps, now, links)).toEqual({
      ran: true,
      rounds: [{ cycleId: q3, offsetDays: 8, recipients: 2 }],
    });
    expect(smtp.messages).toHaveLength(sent + 2);
  });
});

describe('the scheduler', () => {
  const quietLog = () => {
    const errors: { details: object; message: string }[] = [];
    return {
      errors,
      log: { error: (details: object, message: string) => errors.push({ details, message }) },
    };
  };
  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(condition()).toBe(true);
  };

  it('runs each job soon after start and then again, every interval', async () => {
    const { log } = quietLog();
    const runs = { reminders: 0, other: 0 };
    const scheduler = startScheduler({
      intervalMs: 1,
      firstRunAfterMs: 0,
      log,
      jobs: [
        { name: 'reminders', run: async () => void runs.reminders++ },
        { name: 'other', run: async () => void runs.other++ },
      ],
    });
    await until(() => runs.reminders >= 3 && runs.other >= 3);
    await scheduler.stop();
  });

  it('never starts a job again while it is still running', async () => {
    const { log } = quietLog();
    let running = 0;
    let most = 0;
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = startScheduler({
      intervalMs: 1,
      firstRunAfterMs: 0,
      log,
      jobs: [
        {
          name: 'slow',
          run: async () => {
            calls++;
            running++;
            most = Math.max(most, running);
            if (calls === 1) await gate;
            running--;
          },
        },
      ],
    });
    await until(() => calls === 1);
    // Many intervals pass while the first run waits.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(1);
    release();
    await until(() => calls >= 3);
    await scheduler.stop();
    expect(most).toBe(1);
  });

  it('logs a failing job and keeps running it', async () => {
    const { log, errors } = quietLog();
    let calls = 0;
    const scheduler = startScheduler({
      intervalMs: 1,
      firstRunAfterMs: 0,
      log,
      jobs: [
        {
          name: 'reminders',
          run: async () => {
            calls++;
            throw new Error('the database went away');
          },
        },
      ],
    });
    await until(() => calls >= 2);
    await scheduler.stop();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]!.details).toMatchObject({ job: 'reminders', err: expect.any(Error) });
    expect(errors[0]!.message).toContain('reminders');
  });

  it('stop waits for the run in progress, and nothing runs after it', async () => {
    const { log } = quietLog();
    let calls = 0;
    let finished = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const scheduler = startScheduler({
      intervalMs: 1,
      firstRunAfterMs: 0,
      log,
      jobs: [
        {
          name: 'reminders',
          run: async () => {
            calls++;
            await gate;
            finished = true;
          },
        },
      ],
    });
    await until(() => calls === 1);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(1);
  });
});
