import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { ForbiddenError, ValidationError } from '../../src/services/errors.js';
import {
  allAims,
  findAim,
  getPartnershipBySlug,
  listPlanYears,
  loadPlanTree,
  type PlanTree,
} from '../../src/services/plan-read.js';
import { rollOver } from '../../src/services/roll-over.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let partnershipId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function tree(year: string): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), year);
}

async function auditCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_events`);
  return Number(row!.n);
}

/** SoSafe's plans (the demo also holds North Herts' plan). */
async function planCount(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from plans where partnership_id = (select id from partnerships where slug = 'sosafe')`,
  );
  return Number(row!.n);
}

/** Every live aim of 2024/25 but 3.1 (section 3's only aim) and 5.4 (the Fraud priority's only aim). */
const LEFT_BEHIND = ['3.1', '5.4'];
let chosen: number[];

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  const from = await tree('2024/25');
  partnershipId = from.partnership.id;
  chosen = allAims(from)
    .filter((a) => !LEFT_BEHIND.includes(a.number))
    .map((a) => a.id);
});
afterAll(async () => {
  await database?.drop();
});

describe('rolling the plan over to next year', () => {
  it('refuses anyone but the coordinator, and writes nothing', async () => {
    const before = await auditCount();
    for (const actor of [lead, partner]) {
      await expect(
        rollOver(database.db, actor, partnershipId, '2024/25', { aimIds: chosen }),
      ).rejects.toThrow(ForbiddenError);
    }
    expect(await planCount()).toBe(1);
    expect(await auditCount()).toBe(before);
  });

  it('refuses an empty choice, and aims that are not the plan’s', async () => {
    for (const aimIds of [[], undefined, '']) {
      const error = await rollOver(database.db, coordinator, partnershipId, '2024/25', { aimIds }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems[0]!.message).toBe('Choose at least one aim to carry over');
    }
    await expect(
      rollOver(database.db, coordinator, partnershipId, '2024/25', { aimIds: [999_999] }),
    ).rejects.toThrow('Choose aims from the list');
    expect(await planCount()).toBe(1);
  });

  it('is one transaction: a failure part-way writes nothing', async () => {
    const before = await auditCount();
    // Fail on the last kind of row the roll-over writes for an action: a party's person link.
    await database.db.execute(sql`
      create function roll_over_test_fail() returns trigger language plpgsql as $$
      begin raise exception 'roll-over test failure'; end $$`);
    await database.db.execute(sql`
      create trigger roll_over_test_fail before insert on action_party_people
      for each row execute function roll_over_test_fail()`);
    try {
      await expect(
        rollOver(database.db, coordinator, partnershipId, '2024/25', { aimIds: chosen }),
      ).rejects.toThrow();
    } finally {
      await database.db.execute(sql`drop trigger roll_over_test_fail on action_party_people`);
      await database.db.execute(sql`drop function roll_over_test_fail()`);
    }
    expect(await planCount()).toBe(1);
    expect(await auditCount()).toBe(before);
    const [aims] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from aims where carried_from_aim_id is not null`,
    );
    expect(Number(aims!.n)).toBe(0);
  });

  it('creates 2025/26 with the chosen aims, their actions, leads and partners, and no progress', async () => {
    const result = await rollOver(database.db, coordinator, partnershipId, '2024/25', {
      aimIds: chosen.map(String),
    });
    const from = await tree('2024/25');
    const next = await tree('2025/26');
    expect(await listPlanYears(database.db, partnershipId)).toEqual(['2024/25', '2025/26']);
    expect(next.plan).toMatchObject({
      year: '2025/26',
      title: 'Action plan 2025/26',
      startsOn: '2025-04-01',
      endsOn: '2026-03-31',
      howThePlanIsKept: from.plan.howThePlanIsKept,
      headlineAimsIntro: from.plan.headlineAimsIntro,
    });
    expect(next.headlineAims).toEqual(from.headlineAims);
    expect(next.objectives).toEqual(from.objectives);

    // Sections that hold a carried aim, with their numbers and titles; section 3 is left out.
    expect(next.sections.map((s) => [s.number, s.title])).toEqual(
      from.sections.filter((s) => s.number !== 3).map((s) => [s.number, s.title]),
    );
    const carried = allAims(from).filter((a) => !LEFT_BEHIND.includes(a.number));
    expect(allAims(next).map((a) => a.number)).toEqual(carried.map((a) => a.number));
    expect(result).toMatchObject({ year: '2025/26', sections: 4, aims: carried.length });

    let actions = 0;
    for (const old of carried) {
      const aim = findAim(next, old.number).aim;
      expect(aim.id).not.toBe(old.id);
      expect(aim.title).toBe(old.title);
      expect(aim.addedOn).toBeNull();
      expect(aim.carriedFrom).toEqual({ year: '2024/25', number: old.number });
      expect(aim.deliveryPrinciples.map((d) => d.response)).toEqual(
        old.deliveryPrinciples.map((d) => d.response),
      );
      expect(aim.actions).toHaveLength(old.actions.length);
      aim.actions.forEach((action, i) => {
        const was = old.actions[i]!;
        actions++;
        expect(action.description).toBe(was.description);
        expect(action.resources).toEqual(was.resources);
        expect(action.expectedOutcomes).toEqual(was.expectedOutcomes);
        const parties = (list: typeof action.leads) =>
          list.map((p) => ({
            organisationId: p.organisationId,
            officers: p.officers,
            personIds: p.personIds,
          }));
        expect(parties(action.leads)).toEqual(parties(was.leads));
        expect(parties(action.partners)).toEqual(parties(was.partners));
        expect(action.progress).toEqual([]);
      });
    }
    expect(result.actions).toBe(actions);
    // The demo's 2024/25 plan had progress; none of it came over, and no quarter is open.
    expect(allAims(from).some((a) => a.actions.some((x) => x.progress.length > 0))).toBe(true);
    const [cycles] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from quarter_cycles where plan_id = ${next.plan.id}`,
    );
    expect(Number(cycles!.n)).toBe(0);

    // Priorities come over, linked to the carried aims only.
    const numbersOf = (t: PlanTree, ids: number[]) =>
      allAims(t)
        .filter((a) => ids.includes(a.id))
        .map((a) => a.number)
        .sort();
    expect(next.priorities.map((p) => p.title)).toEqual(from.priorities.map((p) => p.title));
    for (const [i, priority] of next.priorities.entries()) {
      const was = numbersOf(from, from.priorities[i]!.aimIds).filter((n) => !LEFT_BEHIND.includes(n));
      expect(numbersOf(next, priority.aimIds), priority.title).toEqual(was);
    }
    expect(next.priorities.find((p) => p.title === 'Fraud')!.aimIds).toEqual([]);

    // The earlier aims are untouched and the later aims point at them.
    const links = await queryRows<{ carried_from_aim_id: number; number: string }>(
      database.db,
      sql`select carried_from_aim_id, number from aims where plan_id = ${next.plan.id} order by id`,
    );
    expect(links.map((l) => l.carried_from_aim_id)).toEqual(carried.map((a) => a.id));

    const [audit] = await queryRows<{ kind: string; entity_id: string; after: { aims: number } }>(
      database.db,
      sql`select kind, entity_id, after from audit_events where kind = 'plan.rolled_over'`,
    );
    expect(audit).toMatchObject({ kind: 'plan.rolled_over', entity_id: '2025/26' });
    expect(audit!.after.aims).toBe(carried.length);
  });

  it('refuses a second roll-over to the same year', async () => {
    const before = await auditCount();
    await expect(
      rollOver(database.db, coordinator, partnershipId, '2024/25', { aimIds: chosen }),
    ).rejects.toThrow('The 2025/26 plan already exists');
    expect(await planCount()).toBe(2);
    expect(await auditCount()).toBe(before);
  });

  it('two coordinators rolling over at once: one plan is made, the other is told it exists', async () => {
    const next = allAims(await tree('2025/26')).map((a) => a.id);
    const outcomes = await Promise.allSettled([
      rollOver(database.db, coordinator, partnershipId, '2025/26', { aimIds: next }),
      rollOver(database.db, coordinator, partnershipId, '2025/26', { aimIds: next }),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(ValidationError);
    expect((refused.reason as ValidationError).problems).toEqual([
      { field: 'aims', message: 'The 2026/27 plan already exists' },
    ]);
    expect(await planCount()).toBe(3);
  });
});
