/**
 * Funding lines over the demo plan: who reads and records them, the form's rules, the version
 * check, the audit events that show in the aim's History, the plan file carrying them out and
 * back in, and the PCC's half-year report model.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { auditEvents, fundingLines } from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { readDemoFile } from '../../src/services/demo.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import {
  archiveFundingLine,
  createFundingLine,
  fundingTargets,
  getFundingLine,
  listAimFunding,
  listPlanFunding,
  pccBudgetReport,
  updateFundingLine,
} from '../../src/services/funding.js';
import { aimHistory } from '../../src/services/history.js';
import { exportPlanFile } from '../../src/services/plan-export.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let plan: PlanTree;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

const form = (extra: Record<string, string> = {}) => ({
  actionId: '',
  source: 'PCC Community Safety Fund',
  amount: '£2,500',
  state: 'awarded',
  appliedOn: '2024-05-01',
  awardedOn: '2024-06-15',
  ...extra,
});

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  plan = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
});
afterAll(async () => {
  await database?.drop();
});

describe('the demo’s funding', () => {
  it('is read by every member, the board too: six lines, £10,000 received from Letchworth on 2.2', async () => {
    for (const reader of [coordinator, lead, partner, board]) {
      const { lines, sources } = await listPlanFunding(database.db, reader, plan.plan.id);
      expect(lines).toHaveLength(6);
      expect(sources).toContain('Letchworth Heritage Foundation');
    }
    const aim = findAim(plan, '2.2').aim;
    const [letchworth] = await listAimFunding(database.db, board, aim.id);
    expect(letchworth).toMatchObject({
      source: 'Letchworth Heritage Foundation',
      amountPence: 1_000_000,
      state: 'received',
      receivedOn: '2024-06-30',
      aimNumber: '2.2',
      actionIndex: 1,
      canManage: false,
    });
  });

  it('is not for someone outside the partnership', async () => {
    const outsider: Actor = { userId: null, label: 'signed out', member: undefined, system: false };
    expect(await errorOf(listPlanFunding(database.db, outsider, plan.plan.id))).toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('filters by state and by a source the plan names (an unknown source is ignored)', async () => {
    const awarded = await listPlanFunding(database.db, partner, plan.plan.id, { state: 'awarded' });
    expect(awarded.lines.map((l) => l.source).sort()).toEqual([
      'Probation',
      'Safer Streets',
      'Serious Violence Fund',
    ]);
    const bySource = await listPlanFunding(database.db, partner, plan.plan.id, { source: 'Probation' });
    expect(bySource.lines.map((l) => l.aimNumber)).toEqual(['4.0']);
    const unknown = await listPlanFunding(database.db, partner, plan.plan.id, {
      source: 'Nobody',
      state: 'x',
    });
    expect(unknown.lines).toHaveLength(6);
    expect(unknown.filters).toEqual({});
  });
});

describe('recording funding', () => {
  it('the coordinator adds a line for a whole aim, recorded in the audit trail and the aim’s History', async () => {
    const aim = findAim(plan, '1.1').aim;
    const row = await createFundingLine(database.db, coordinator, aim.id, form());
    expect(row).toMatchObject({ amountPence: 250_000, state: 'awarded', actionId: null, version: 1 });
    const history = await aimHistory(database.db, coordinator, aim.id);
    expect(history[0]).toMatchObject({ kind: 'funding.created', what: 'Added a funding line' });
    expect(history[0]!.values.map((v) => [v.label, v.text])).toEqual(
      expect.arrayContaining([
        ['Source', 'PCC Community Safety Fund'],
        ['Amount', '£2,500.00'],
        ['State', 'Awarded'],
        ['Dates', 'Applied for 1 May 2024 · Awarded 15 June 2024'],
      ]),
    );
  });

  it('refuses a form that breaks the rules, writing nothing', async () => {
    const aim = findAim(plan, '1.1').aim;
    const before = (await listAimFunding(database.db, coordinator, aim.id)).length;
    const error = await errorOf(
      createFundingLine(
        database.db,
        coordinator,
        aim.id,
        form({ amount: 'lots', source: ' ', awardedOn: '', spentToDate: '5' }),
      ),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual([
      'amount',
      'awardedOn',
      'source',
    ]);
    const rules = await errorOf(
      createFundingLine(
        database.db,
        coordinator,
        aim.id,
        form({ awardedOn: '2024-04-01', spentToDate: '9000' }),
      ),
    );
    expect((rules as ValidationError).problems.map((p) => p.field)).toEqual(['awardedOn', 'spentToDate']);
    const otherAimsAction = findAim(plan, '3.1').aim.actions[0]!;
    const wrongAction = await errorOf(
      createFundingLine(database.db, coordinator, aim.id, form({ actionId: String(otherAimsAction.id) })),
    );
    expect((wrongAction as ValidationError).problems).toEqual([
      { field: 'actionId', message: 'Choose what the money is for' },
    ]);
    expect(await listAimFunding(database.db, coordinator, aim.id)).toHaveLength(before);
  });

  it('a lead officer records funding on an action she leads, not on others nor for the whole aim', async () => {
    const aim = findAim(plan, '3.1').aim;
    const [hers, , notHers] = aim.actions;
    const targets = await fundingTargets(database.db, lead, aim.id);
    expect(targets.aim).toBe(false);
    expect(targets.actions.map((a) => a.index)).toEqual([1, 2]);
    const row = await createFundingLine(database.db, lead, aim.id, form({ actionId: String(hers!.id) }));
    expect(row.actionId).toBe(hers!.id);
    expect(
      await errorOf(createFundingLine(database.db, lead, aim.id, form({ actionId: String(notHers!.id) }))),
    ).toBeInstanceOf(ForbiddenError);
    expect(await errorOf(createFundingLine(database.db, lead, aim.id, form()))).toBeInstanceOf(
      ForbiddenError,
    );
    // Nor may she move her line onto an action she does not lead.
    expect(
      await errorOf(
        updateFundingLine(database.db, lead, row.id, form({ actionId: String(notHers!.id), version: '1' })),
      ),
    ).toBeInstanceOf(ForbiddenError);
    for (const reader of [partner, board]) {
      expect(
        await errorOf(createFundingLine(database.db, reader, aim.id, form({ actionId: String(hers!.id) }))),
      ).toBeInstanceOf(ForbiddenError);
    }
  });

  it('changes a line with its version, and refuses a stale one with a conflict, changing nothing', async () => {
    const aim = findAim(plan, '1.2').aim;
    const row = await createFundingLine(database.db, coordinator, aim.id, form());
    const updated = await updateFundingLine(
      database.db,
      coordinator,
      row.id,
      form({ state: 'received', receivedOn: '2024-07-01', spentToDate: '1000', version: '1' }),
    );
    expect(updated).toMatchObject({ state: 'received', version: 2, spentToDatePence: 100_000 });
    const stale = await errorOf(
      updateFundingLine(database.db, coordinator, row.id, form({ amount: '1', version: '1' })),
    );
    expect(stale).toBeInstanceOf(ConflictError);
    expect(((stale as ConflictError).current as { version: number }).version).toBe(2);
    expect((await getFundingLine(database.db, coordinator, row.id)).amountPence).toBe(250_000);
    const history = await aimHistory(database.db, coordinator, aim.id);
    const change = history.find((h) => h.kind === 'funding.updated')!;
    expect(change.what).toBe('Changed a funding line');
    expect(change.changes.map((c) => [c.label, c.before, c.after])).toEqual(
      expect.arrayContaining([
        ['State', 'Awarded', 'Received'],
        ['Spent to date', '£0.00', '£1,000.00'],
      ]),
    );
  });

  it('archives a line (never deletes it): gone from the lists, kept in the database, with its history', async () => {
    const aim = findAim(plan, '1.3').aim;
    const row = await createFundingLine(database.db, coordinator, aim.id, form());
    expect(await errorOf(archiveFundingLine(database.db, coordinator, row.id, 7))).toBeInstanceOf(
      ConflictError,
    );
    expect(await errorOf(archiveFundingLine(database.db, partner, row.id, 1))).toBeInstanceOf(ForbiddenError);
    await archiveFundingLine(database.db, coordinator, row.id, 1);
    expect(await listAimFunding(database.db, coordinator, aim.id)).toEqual([]);
    expect(await errorOf(getFundingLine(database.db, coordinator, row.id))).toBeInstanceOf(NotFoundError);
    const [kept] = await database.db.select().from(fundingLines).where(eq(fundingLines.id, row.id));
    expect(kept!.archivedAt).toBeInstanceOf(Date);
    const events = await database.db
      .select({ kind: auditEvents.kind })
      .from(auditEvents)
      .where(and(eq(auditEvents.entity, 'funding_line'), eq(auditEvents.entityId, String(row.id))));
    expect(events.map((e) => e.kind)).toEqual(['funding.created', 'funding.archived']);
    expect((await aimHistory(database.db, coordinator, aim.id))[0]!.what).toBe('Archived a funding line');
  });
});

describe('the plan file carries funding', () => {
  it('out with an export, as the demo file has it, on the aim or action it is for', async () => {
    const fresh = await createTestDatabase({ demo: true });
    try {
      const exported = await exportPlanFile(
        fresh.db,
        await getPartnershipBySlug(fresh.db, 'sosafe'),
        '2024/25',
      );
      expect(exported).toEqual(readDemoFile());
      const aim22 = exported.plans[0]!.sections[1]!.aims[1]!;
      expect(aim22.number).toBe('2.2');
      expect(aim22.actions[0]!.funding?.[0]).toMatchObject({
        source: 'Letchworth Heritage Foundation',
        amountPence: 1_000_000,
      });
    } finally {
      await fresh.drop();
    }
  });
});

describe('the PCC’s half-year report', () => {
  it('H1 counts the demo’s lines in their state on 30 September, totals once, and says so for priorities', async () => {
    const fresh = await createTestDatabase({ demo: true });
    try {
      const tree = await loadPlanTree(fresh.db, await getPartnershipBySlug(fresh.db, 'sosafe'), '2024/25');
      const report = await pccBudgetReport(
        fresh.db,
        systemActor(),
        tree.plan.id,
        'H1',
        new Date('2024-10-10T12:00:00Z'),
      );
      expect(report).toMatchObject({
        half: 'H1',
        startsOn: '2024-04-01',
        endsOn: '2024-09-30',
        preparedOn: '2024-10-10',
        planYear: '2024/25',
        partnership: { name: 'SoSafe Stevenage', area: 'Stevenage' },
        notYetStarted: 0,
      });
      expect(report.lines).toHaveLength(6);
      expect(report.totals.all).toMatchObject({ lines: 6, totalPence: 1_000_000 });
      expect(
        report.totals.bySource.find((r) => r.label === 'Letchworth Heritage Foundation')?.byState.received,
      ).toBe(1_000_000);
      expect(report.totals.bySection.map((r) => r.label)).toEqual([
        expect.stringMatching(/^2\. /),
        expect.stringMatching(/^4\. /),
      ]);
      const letchworth = report.lines.find((l) => l.source === 'Letchworth Heritage Foundation')!;
      expect(letchworth.actionLabel).toMatch(/^Action 1: To expand the SADA refuge service/);
      expect(letchworth.stepsInHalf).toEqual([{ state: 'received', on: '2024-06-30' }]);
      // An aim may address several priorities: its lines count under each, and once in the total.
      expect(report.lines.some((l) => l.priorities.length > 1)).toBe(true);
      const counted = report.totals.byPriority.reduce((sum, r) => sum + r.lines, 0);
      expect(counted).toBe(report.lines.reduce((sum, l) => sum + Math.max(1, l.priorities.length), 0));
      expect(counted).toBeGreaterThan(report.totals.all.lines);
      // The board (the PCC's office) may have it.
      expect((await pccBudgetReport(database.db, board, plan.plan.id, 'H2')).half).toBe('H2');
    } finally {
      await fresh.drop();
    }
  });

  it('is refused to someone outside the partnership', async () => {
    const outsider: Actor = { userId: null, label: 'signed out', member: undefined, system: false };
    expect(await errorOf(pccBudgetReport(database.db, outsider, plan.plan.id, 'H2'))).toBeInstanceOf(
      ForbiddenError,
    );
  });
});
