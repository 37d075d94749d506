import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/services/errors.js';
import {
  archiveAim,
  createAction,
  createAim,
  createSection,
  move,
  updateAction,
  updateAim,
} from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { saveProgress } from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function tree(options: { includeArchived?: boolean } = {}): Promise<PlanTree> {
  return loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25', options);
}

async function auditKinds(): Promise<string[]> {
  const rows = await queryRows<{ kind: string }>(database.db, sql`select kind from audit_events order by id`);
  return rows.map((r) => r.kind);
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
});
afterAll(async () => {
  await database?.drop();
});

describe('the coordinator changes the plan’s structure', () => {
  it('an aim added once the year has begun is marked with the month it was added', async () => {
    const section5 = (await tree()).sections.find((s) => s.number === 5)!;
    const aim = await createAim(
      database.db,
      coordinator,
      section5.id,
      { number: '5.8', title: 'Reduce shoplifting in the town centre' },
      new Date('2024-10-14T09:00:00Z'),
    );
    expect(aim.addedOn).toBe('2024-10-14');
    const before = await createAim(
      database.db,
      coordinator,
      section5.id,
      { number: '5.9', title: 'Agreed with the plan' },
      new Date('2024-03-20T09:00:00Z'),
    );
    expect(before.addedOn).toBeNull();
    expect(await auditKinds()).toContain('aim.created');
  });

  it('refuses a duplicate aim number, or one from another section, and writes nothing', async () => {
    const section5 = (await tree()).sections.find((s) => s.number === 5)!;
    const count = async () => (await tree()).sections.flatMap((s) => s.aims).length;
    const before = await count();
    await expect(
      createAim(database.db, coordinator, section5.id, { number: '5.1', title: 'x' }),
    ).rejects.toThrow(ValidationError);
    await expect(
      createAim(database.db, coordinator, section5.id, { number: '4.9', title: 'x' }),
    ).rejects.toThrow(/must be numbered 5\./);
    expect(await count()).toBe(before);
  });

  it('archived aims leave the live plan but stay in the database', async () => {
    const { aim } = findAim(await tree(), '5.9');
    await archiveAim(database.db, coordinator, aim.id, aim.version);
    const live = await tree();
    expect(live.sections.flatMap((s) => s.aims).map((a) => a.number)).not.toContain('5.9');
    const all = await tree({ includeArchived: true });
    expect(all.sections.flatMap((s) => s.aims).find((a) => a.number === '5.9')?.archivedAt).toBeInstanceOf(
      Date,
    );
    // Its number is free again.
    const section5 = live.sections.find((s) => s.number === 5)!;
    await expect(
      createAim(database.db, coordinator, section5.id, { number: '5.9', title: 'Reused number' }),
    ).resolves.toBeDefined();
  });

  it('a stale edit is refused with the current row', async () => {
    const { aim } = findAim(await tree(), '5.8');
    await updateAim(database.db, coordinator, aim.id, {
      number: '5.8',
      title: 'First change',
      version: aim.version,
    });
    const stale = updateAim(database.db, coordinator, aim.id, {
      number: '5.8',
      title: 'Second change',
      version: aim.version,
    });
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    expect(findAim(await tree(), '5.8').aim.title).toBe('First change');
  });

  it('actions are added and changed with their leads and partners', async () => {
    const { aim } = findAim(await tree(), '5.8');
    const created = await createAction(database.db, coordinator, aim.id, {
      description: 'Shop Watch radio scheme\nMonthly retailer meetings',
      leads: 'SBC: Jessica Warren\nBusiness Improvement District',
      partners: 'Police: NPT Inspector',
      resources: 'Radios\n\nExisting staff',
      expectedOutcomes: 'Fewer repeat thefts',
    });
    let action = findAim(await tree(), '5.8').aim.actions[0]!;
    expect(action.leads.map((p) => [p.organisation, p.officers])).toEqual([
      ['SBC', ['Jessica Warren']],
      ['Business Improvement District', []],
    ]);
    // Jessica Warren is a person of the plan: she is linked, so "what I lead" finds it.
    expect(action.leads[0]!.personIds).toHaveLength(1);
    expect(action.resources).toEqual(['Radios', 'Existing staff']);
    await updateAction(database.db, coordinator, created.id, {
      description: 'Shop Watch radio scheme',
      leads: 'Police: NPT Inspector',
      partners: '',
      resources: '',
      expectedOutcomes: '',
      version: created.version,
    });
    action = findAim(await tree(), '5.8').aim.actions[0]!;
    expect(action.leads.map((p) => p.organisation)).toEqual(['Police']);
    expect(action.partners).toEqual([]);
  });

  it('reorders aims within their section', async () => {
    const before = (await tree()).sections.find((s) => s.number === 1)!.aims.map((a) => a.number);
    expect(before).toEqual(['1.1', '1.2', '1.3']);
    const { aim } = findAim(await tree(), '1.3');
    expect(await move(database.db, coordinator, 'aim', aim.id, 'up')).toBe(true);
    expect((await tree()).sections.find((s) => s.number === 1)!.aims.map((a) => a.number)).toEqual([
      '1.1',
      '1.3',
      '1.2',
    ]);
    const first = findAim(await tree(), '1.1').aim;
    expect(await move(database.db, coordinator, 'aim', first.id, 'up')).toBe(false);
  });

  it('refuses everyone but the coordinator, in the service itself', async () => {
    const plan = (await tree()).plan;
    const { aim } = findAim(await tree(), '3.1');
    for (const actor of [lead, partner]) {
      await expect(
        createSection(database.db, actor, plan.id, { number: 6, title: 'x' }),
      ).rejects.toBeInstanceOf(ForbiddenError);
      await expect(
        updateAim(database.db, actor, aim.id, { number: '3.1', title: 'x', version: aim.version }),
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect(findAim(await tree(), '3.1').aim.title).toBe('To promote reporting of Hate Crime.');
  });

  it('the command line acts as the operator', async () => {
    const plan = (await tree()).plan;
    await expect(
      createSection(database.db, systemActor(), plan.id, { number: 6, title: 'Fraud and scams' }),
    ).resolves.toBeDefined();
  });
});

describe('a lead officer changes the details of an action she leads', () => {
  it('changes what will be done and its partners, but not who leads it', async () => {
    const action = findAim(await tree(), '3.1').aim.actions[1]!; // led by CCSU (Helen Whitehead), SBC
    await updateAction(database.db, lead, action.id, {
      description: 'Advertise the 5 types of Hate Crime, in five languages',
      leads: 'Police',
      partners: 'CCSU\nStevenage FC',
      resources: 'Social Media',
      expectedOutcomes: 'More reports from victims',
      version: action.version,
    });
    const after = findAim(await tree(), '3.1').aim.actions[1]!;
    expect(after.description).toBe('Advertise the 5 types of Hate Crime, in five languages');
    expect(after.partners.map((p) => p.organisation)).toEqual(['CCSU', 'Stevenage FC']);
    expect(after.leads.map((p) => [p.organisation, p.officers])).toEqual([
      ['CCSU', ['Helen Whitehead']],
      ['SBC', []],
    ]);
  });

  it('is refused on an action she does not lead, and partners are refused everywhere', async () => {
    const notHers = findAim(await tree(), '3.1').aim.actions[2]!;
    const form = { description: 'x', version: notHers.version };
    await expect(updateAction(database.db, lead, notHers.id, form)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(updateAction(database.db, partner, notHers.id, form)).rejects.toBeInstanceOf(ForbiddenError);
    expect(findAim(await tree(), '3.1').aim.actions[2]!.description).toBe(notHers.description);
  });
});

describe('progress updates', () => {
  it('a lead officer records progress on what she leads, and not elsewhere', async () => {
    const t = await tree();
    const mine = findAim(t, '3.1').aim.actions[0]!;
    const notMine = findAim(t, '3.1').aim.actions[2]!; // led by SoSafe members, Police, SBC
    const saved = await saveProgress(database.db, lead, mine.id, {
      quarter: 4,
      status: 'on_track',
      text: 'Q4 done',
    });
    expect(saved.created).toBe(true);
    await expect(
      saveProgress(database.db, lead, notMine.id, { quarter: 4, status: 'on_track', text: 'not mine' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      saveProgress(database.db, partner, mine.id, { quarter: 4, status: 'complete', text: 'partner' }),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('adding a quarter that already has an update is a conflict, not an overwrite', async () => {
    const mine = findAim(await tree(), '3.1').aim.actions[0]!;
    await expect(
      saveProgress(database.db, lead, mine.id, { quarter: 4, status: 'complete', text: 'blind overwrite' }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('concurrent saves of one update: each lands or is refused, and every landing is in the audit trail', async () => {
    const mine = findAim(await tree(), '3.1').aim.actions[0]!;
    const current = mine.progress.find((p) => p.quarter === 4)!;
    const auditBefore = (await auditKinds()).filter((k) => k === 'progress.updated').length;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        saveProgress(database.db, lead, mine.id, {
          quarter: 4,
          status: 'at_risk',
          text: `save ${i}`,
          version: current.version,
        }),
      ),
    );
    const landed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(landed).toHaveLength(1);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const auditAfter = (await auditKinds()).filter((k) => k === 'progress.updated').length;
    expect(auditAfter - auditBefore).toBe(landed.length);
  });

  it('refuses bad input with field messages', async () => {
    const mine = findAim(await tree(), '3.1').aim.actions[0]!;
    const error = await saveProgress(database.db, lead, mine.id, {
      quarter: 7,
      status: 'great',
      text: ' ',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual([
      'quarter',
      'status',
      'text',
    ]);
  });
});
