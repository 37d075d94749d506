/**
 * The dashboard over the demo plan: its counts by section, priority and lead organisation checked
 * against the database with SQL of their own, the change from the previous quarter, drafts never
 * counted, the aims with no update for two quarters, a priority left with no live actions marked,
 * the open quarter's submission progress, and who may see it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { STATUS_COLUMNS, type StatusColumn, type StatusRow } from '../../src/domain/dashboard.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { openQuarter, submissionBoard, type CycleDeps } from '../../src/services/cycles.js';
import { getDashboard, NO_LEAD } from '../../src/services/dashboard.js';
import { ForbiddenError } from '../../src/services/errors.js';
import { Mailer } from '../../src/services/mail.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { saveProgress } from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let deps: CycleDeps;
let coordinator: Actor;
let board: Actor;
let planId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function tree(): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
}

const dashboard = (actor: Actor, quarter?: 1 | 2 | 3 | 4) =>
  getDashboard(database.db, actor, 'sosafe', '2024/25', quarter);

/** Sends (or replaces) the coordinator's update of an action for a quarter. */
async function update(aim: string, index: number, quarter: number, status: string, intent = 'submit') {
  const { aim: node } = findAim(await tree(), aim);
  const action = node.actions[index - 1]!;
  const existing = action.progress.find((p) => p.quarter === quarter);
  await saveProgress(database.db, coordinator, action.id, {
    quarter,
    status,
    intent,
    text: `Dashboard test: ${status} in Q${quarter}`,
    ...(existing ? { version: existing.version } : {}),
  });
}

type Counts = Map<string, Record<StatusColumn, number>>;

/** A quarter's statuses straight from the tables, grouped by section number, priority title or lead organisation. */
async function countsFromDatabase(quarter: number, by: 'section' | 'priority' | 'lead'): Promise<Counts> {
  const base = sql`from actions a
    join aims ai on ai.id = a.aim_id and ai.archived_at is null
    join sections s on s.id = ai.section_id and s.archived_at is null
    left join progress_updates p on p.action_id = a.id and p.quarter = ${quarter} and p.state <> 'draft'`;
  const live = sql`ai.plan_id = ${planId} and a.archived_at is null`;
  const query =
    by === 'section'
      ? sql`select s.number::text as key, coalesce(p.status::text, 'none') as status, count(*)::int as n
            ${base} where ${live} group by 1, 2`
      : by === 'priority'
        ? sql`select pr.title as key, coalesce(p.status::text, 'none') as status, count(*)::int as n
              ${base} join priority_aims pa on pa.aim_id = ai.id
              join priorities pr on pr.id = pa.priority_id and pr.archived_at is null
              where ${live} group by 1, 2`
        : sql`select o.name as key, coalesce(p.status::text, 'none') as status, count(distinct a.id)::int as n
              ${base} join action_parties ap on ap.action_id = a.id and ap.role = 'lead'
              join organisations o on o.id = ap.organisation_id
              where ${live} group by 1, 2`;
  const rows = await queryRows<{ key: string; status: StatusColumn; n: number }>(database.db, query);
  const out: Counts = new Map();
  for (const r of rows) {
    const counts =
      out.get(r.key) ??
      (Object.fromEntries(STATUS_COLUMNS.map((c) => [c, 0])) as Record<StatusColumn, number>);
    counts[r.status] = r.n;
    out.set(r.key, counts);
  }
  return out;
}

function byKey(rows: readonly StatusRow[], key: (label: string) => string): Counts {
  return new Map(rows.filter((r) => r.total > 0).map((r) => [key(r.label), r.counts]));
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  deps = { db: database.db, mailer: new Mailer({}) };
  coordinator = await actorFor('coordinator@sosafe.example');
  board = await actorFor('board@sosafe.example');
  planId = (await tree()).plan.id;
  // Statuses in Q2 and Q3, so that there is a change to see; and a draft that must not count.
  await update('3.1', 1, 2, 'on_track');
  await update('3.1', 1, 3, 'at_risk');
  await update('3.1', 2, 3, 'on_track');
  await update('1.1', 1, 3, 'complete');
  await update('2.1', 1, 3, 'off_track', 'draft');
});
afterAll(async () => {
  await database?.drop();
});

describe('the dashboard of a quarter', () => {
  it('counts statuses by section, priority and lead organisation as the database holds them', async () => {
    const d = await dashboard(board, 3);
    expect(d.quarter).toBe(3);
    expect(byKey(d.bySection, (label) => label.split('.')[0]!)).toEqual(
      await countsFromDatabase(3, 'section'),
    );
    expect(byKey(d.byPriority, (label) => label)).toEqual(await countsFromDatabase(3, 'priority'));
    const byLead = byKey(d.byOrganisation, (label) => label);
    const noLead = byLead.get(NO_LEAD);
    byLead.delete(NO_LEAD);
    expect(byLead).toEqual(await countsFromDatabase(3, 'lead'));
    const [{ n: unled } = { n: -1 }] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from actions a join aims ai on ai.id = a.aim_id join sections s on s.id = ai.section_id
          where ai.plan_id = ${planId} and a.archived_at is null and ai.archived_at is null and s.archived_at is null
            and not exists (select 1 from action_parties ap where ap.action_id = a.id and ap.role = 'lead')`,
    );
    expect(Object.values(noLead ?? {}).reduce((a, b) => a + b, 0)).toBe(unled);
    const [{ n: live } = { n: -1 }] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from actions a join aims ai on ai.id = a.aim_id join sections s on s.id = ai.section_id
          where ai.plan_id = ${planId} and a.archived_at is null and ai.archived_at is null and s.archived_at is null`,
    );
    expect(d.total.total).toBe(live);
    expect(d.total.counts).toMatchObject({ at_risk: 1, on_track: 1, complete: 1 });
  });

  it('never counts a draft', async () => {
    const d = await dashboard(board, 3);
    expect(d.total.counts.off_track).toBe(0);
    expect(d.bySection.find((r) => r.label.startsWith('2.'))?.counts.off_track).toBe(0);
  });

  it('gives the change from the previous quarter', async () => {
    const d = await dashboard(board, 3);
    expect(d.previousQuarter).toBe(2);
    const before = await countsFromDatabase(2, 'section');
    const now = await countsFromDatabase(3, 'section');
    for (const row of d.bySection) {
      const key = row.label.split('.')[0]!;
      for (const c of STATUS_COLUMNS) {
        expect(row.change?.[c], `${key} ${c}`).toBe((now.get(key)?.[c] ?? 0) - (before.get(key)?.[c] ?? 0));
      }
    }
    const section3 = d.bySection.find((r) => r.label.startsWith('3.'))!;
    expect(section3.change).toMatchObject({ on_track: 0, at_risk: 1 });
    expect((await dashboard(board, 1)).bySection[0]!.change).toBeNull();
  });

  it('lists the aims with no update in the quarter nor the one before', async () => {
    const d = await dashboard(board, 3);
    const expected = await queryRows<{ number: string }>(
      database.db,
      sql`select ai.number from aims ai join sections s on s.id = ai.section_id
          where ai.plan_id = ${planId} and ai.archived_at is null and s.archived_at is null
            and not exists (select 1 from actions a join progress_updates p on p.action_id = a.id
              where a.aim_id = ai.id and a.archived_at is null and p.quarter in (2, 3) and p.state <> 'draft')`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(d.aimsWithoutUpdate?.map((a) => a.number).sort()).toEqual(expected.map((r) => r.number).sort());
    expect(d.aimsWithoutUpdate?.map((a) => a.number)).not.toContain('3.1');
    expect((await dashboard(board, 1)).aimsWithoutUpdate).toBeUndefined();
  });

  it('marks a priority whose actions are all complete as having no live actions', async () => {
    const t = await tree();
    const fraud = t.priorities.find((p) => p.title === 'Fraud')!;
    const before = (await dashboard(board, 3)).coverage.find((p) => p.title === 'Fraud')!;
    expect(before.coverage).not.toBe('none');
    for (const aimId of fraud.aimIds) {
      const aim = t.sections.flatMap((s) => s.aims).find((a) => a.id === aimId)!;
      for (let i = 1; i <= aim.actions.length; i++) await update(aim.number, i, 3, 'complete');
    }
    const d = await dashboard(board, 3);
    const row = d.coverage.find((p) => p.title === 'Fraud')!;
    expect(row).toMatchObject({ liveActions: 0, coverage: 'none' });
    expect(row.aims).toBe(fraud.aimIds.length);
    // Still live in Q2, before they were complete.
    expect(
      (await dashboard(board, 2)).coverage.find((p) => p.title === 'Fraud')?.liveActions,
    ).toBeGreaterThan(0);
  });

  it('shows which organisations lead and partner in each aim', async () => {
    const d = await dashboard(board, 3);
    const leads = await queryRows<{ name: string; n: number }>(
      database.db,
      sql`select o.name, count(distinct ai.id)::int as n from action_parties ap
          join organisations o on o.id = ap.organisation_id join actions a on a.id = ap.action_id
          join aims ai on ai.id = a.aim_id join sections s on s.id = ai.section_id
          where ai.plan_id = ${planId} and ap.role = 'lead' and a.archived_at is null
            and ai.archived_at is null and s.archived_at is null group by 1`,
    );
    const led = new Map(d.organisations.filter((o) => o.aimsLed > 0).map((o) => [o.name, o.aimsLed]));
    expect(led).toEqual(new Map(leads.map((r) => [r.name, r.n])));
  });
});

describe('the open quarter and the default quarter', () => {
  it('opens on the latest quarter with updates, then on the quarter open for updates', async () => {
    const d = await dashboard(board);
    expect(d.quarter).toBe(4); // the demo has one Q4 update
    expect(d.submissions).toBeNull();
  });

  it('shows the open quarter’s submission progress as its board counts it', async () => {
    await openQuarter(
      deps,
      coordinator,
      planId,
      { quarter: 4, dueOn: '2025-04-14' },
      { baseUrl: 'https://x.test' },
    );
    const d = await dashboard(board, 2);
    const boardCounts = await submissionBoard(database.db, board, planId, 4);
    expect(d.submissions).toMatchObject({ quarter: 4, dueOn: '2025-04-14', total: boardCounts.total });
    expect(d.submissions?.counts).toEqual(boardCounts.counts);
    expect(d.submissions!.total).toBe(d.total.total);
  });
});

describe('who may see it', () => {
  it('refuses someone with no role in the partnership', async () => {
    const stranger: Actor = { userId: null, label: 'signed out', member: undefined, system: false };
    await expect(dashboard(stranger, 3)).rejects.toBeInstanceOf(ForbiddenError);
  });
});
