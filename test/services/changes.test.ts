import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import { londonDate } from '../../src/domain/cycles.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { changesByReport, planChanges, type PlanChange } from '../../src/services/changes.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/services/errors.js';
import { createPartnership } from '../../src/services/partnerships.js';
import {
  archiveAction,
  archiveAim,
  createAction,
  createAim,
  createSection,
  updateAim,
  updateSection,
} from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import {
  archivePriority,
  createPriority,
  getPriority,
  updatePriority,
} from '../../src/services/priorities.js';
import { addUser, getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let partner: Actor;
let board: Actor;
let outsider: Actor;
let planId: number;
const today = () => londonDate(new Date());

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

const brief = (changes: PlanChange[]) =>
  changes.map((c) => ({ on: c.on, kind: c.kind, aimNumber: c.aimNumber, title: c.title }));

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  await createPartnership(database.db, systemActor(), { slug: 'elsewhere', name: 'Elsewhere CSP' });
  await addUser(
    database.db,
    {
      email: 'outsider@elsewhere.example',
      name: 'Olly Outsider',
      password: 'a password long enough',
      partnership: 'elsewhere',
      role: 'coordinator',
    },
    systemActor(),
  );
  outsider = await actorFor('outsider@elsewhere.example');
  planId = (await tree()).plan.id;
});
afterAll(async () => {
  await database?.drop();
});

describe('the changes of the demo year', () => {
  it('lists the Fraud priority (June 2024) and aim 4.1 (August 2024), and nothing from the import', async () => {
    const changes = await planChanges(database.db, board, planId);
    expect(brief(changes)).toEqual([
      { on: '2024-06-01', kind: 'priority_added', aimNumber: undefined, title: 'Fraud' },
      { on: '2024-08-01', kind: 'aim_added', aimNumber: '4.1', title: 'Dangerous Dogs' },
    ]);
    expect(changes[0]!.detail).toBe(
      'Fraud has been added following strategic conversations at the SoSafe meeting. Addressed by aim 5.4',
    );
    // The plan records these; the audit trail does not know who.
    expect(changes.map((c) => c.by)).toEqual([undefined, undefined]);
  });

  it('is for the partnership’s members only', async () => {
    await expect(planChanges(database.db, outsider, planId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(changesByReport(database.db, outsider, planId)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(planChanges(database.db, partner, planId)).resolves.toHaveLength(2);
  });
});

describe('changes made here during the year', () => {
  let before: number;

  it('lists an aim’s changed title, with what it was and who changed it', async () => {
    before = (await planChanges(database.db, coordinator, planId)).length;
    const { aim } = findAim(await tree(), '3.1');
    await updateAim(database.db, coordinator, aim.id, {
      number: '3.1',
      title: 'Hate crime: a changed title',
      version: aim.version,
    });
    const changes = await planChanges(database.db, partner, planId);
    expect(changes).toHaveLength(before + 1);
    const last = changes.at(-1)!;
    expect(last).toMatchObject({
      on: today(),
      kind: 'aim_changed',
      aimNumber: '3.1',
      title: 'Hate crime: a changed title',
      detail: `Title changed from “${aim.title}” to “Hate crime: a changed title”`,
      by: 'Casey Coordinator',
    });
  });

  it('leaves out a save that changed nothing', async () => {
    const { aim } = findAim(await tree(), '3.1');
    await updateAim(database.db, coordinator, aim.id, {
      number: '3.1',
      title: aim.title,
      version: aim.version,
    });
    expect(await planChanges(database.db, partner, planId)).toHaveLength(before + 1);
  });

  it('lists an added section, aim and action, and the aim once although the plan marks it added too', async () => {
    const section = await createSection(database.db, coordinator, planId, {
      number: 6,
      title: 'Retail crime',
    });
    const aim = await createAim(database.db, coordinator, section.id, { number: '6.1', title: 'Shop Watch' });
    expect(aim.addedOn).toBe(today());
    await createAction(database.db, coordinator, aim.id, { description: 'Relaunch the radios\nSecond line' });
    const added = (await planChanges(database.db, partner, planId)).slice(-3);
    expect(brief(added)).toEqual([
      { on: today(), kind: 'section_added', aimNumber: undefined, title: '6. Retail crime' },
      { on: today(), kind: 'aim_added', aimNumber: '6.1', title: 'Shop Watch' },
      { on: today(), kind: 'action_added', aimNumber: '6.1', title: 'Relaunch the radios' },
    ]);
    const all = await planChanges(database.db, partner, planId);
    expect(all.filter((c) => c.kind === 'aim_added' && c.aimNumber === '6.1')).toHaveLength(1);
    await updateSection(database.db, coordinator, section.id, {
      number: 6,
      title: 'Retail and business crime',
      version: section.version,
    });
    expect((await planChanges(database.db, partner, planId)).at(-1)).toMatchObject({
      kind: 'section_changed',
      title: '6. Retail and business crime',
      detail: 'Title changed from “Retail crime” to “Retail and business crime”',
    });
  });

  it('lists archived actions and aims, by the number they had', async () => {
    const { aim } = findAim(await tree(), '6.1');
    await archiveAction(database.db, coordinator, aim.actions[0]!.id, aim.actions[0]!.version);
    const fresh = findAim(await tree(), '6.1').aim;
    await archiveAim(database.db, coordinator, fresh.id, fresh.version);
    expect(brief((await planChanges(database.db, partner, planId)).slice(-2))).toEqual([
      { on: today(), kind: 'action_archived', aimNumber: '6.1', title: 'Relaunch the radios' },
      { on: today(), kind: 'aim_archived', aimNumber: '6.1', title: 'Shop Watch' },
    ]);
  });

  it('lists a priority added, changed and archived', async () => {
    const plan = await tree();
    const aim54 = findAim(plan, '5.4').aim;
    const aim52 = findAim(plan, '5.2').aim;
    const priority = await createPriority(database.db, coordinator, planId, {
      title: 'Retail crime',
      description: 'Added after the shop theft figures of the autumn',
      aims: [String(aim54.id), String(aim52.id)],
    });
    expect(priority.addedOn).toBe(today());
    await updatePriority(database.db, coordinator, priority.id, {
      title: 'Retail and business crime',
      description: 'Added after the shop theft figures of the autumn',
      aims: String(aim54.id),
      version: priority.version,
    });
    await archivePriority(database.db, coordinator, priority.id, priority.version + 1);
    const last = (await planChanges(database.db, partner, planId)).slice(-3);
    expect(last.map((c) => [c.kind, c.title, c.detail, c.by])).toEqual([
      [
        'priority_added',
        'Retail crime',
        'Added after the shop theft figures of the autumn. Addressed by aims 5.2, 5.4',
        'Casey Coordinator',
      ],
      [
        'priority_changed',
        'Retail and business crime',
        'Title changed from “Retail crime” to “Retail and business crime”; now addressed by aim 5.4',
        'Casey Coordinator',
      ],
      ['priority_archived', 'Retail and business crime', undefined, 'Casey Coordinator'],
    ]);
  });

  it('filters by London day, both ends included', async () => {
    const all = await planChanges(database.db, partner, planId);
    expect(brief(await planChanges(database.db, partner, planId, { to: '2024-05-31' }))).toEqual([]);
    expect(
      brief(await planChanges(database.db, partner, planId, { from: '2024-06-01', to: '2024-06-01' })).map(
        (c) => c.title,
      ),
    ).toEqual(['Fraud']);
    expect(
      brief(await planChanges(database.db, partner, planId, { from: '2024-06-02', to: '2024-08-01' })).map(
        (c) => c.title,
      ),
    ).toEqual(['Dangerous Dogs']);
    const sinceToday = await planChanges(database.db, partner, planId, { from: today() });
    expect(sinceToday).toHaveLength(all.length - 2);
    expect(sinceToday.every((c) => c.on === today())).toBe(true);
    expect(await planChanges(database.db, partner, planId, { from: '2024-08-02', to: '2024-12-31' })).toEqual(
      [],
    );
  });

  it('is in date order, oldest first', async () => {
    const days = (await planChanges(database.db, partner, planId)).map((c) => c.on);
    expect(days).toEqual([...days].sort());
  });
});

describe('grouped by the quarter reports', () => {
  it('puts the changes up to a closed quarter with it, and the rest since the last report', async () => {
    const all = await planChanges(database.db, partner, planId);
    const plan = await tree();
    // A quarter closed (as helper B's closeQuarter will) between the demo's history and today.
    const [cycle] = await database.db
      .insert(t.quarterCycles)
      .values({
        partnershipId: plan.partnership.id,
        planId,
        quarter: 2,
        dueOn: '2024-10-14',
        openedAt: new Date('2024-10-01T09:00:00Z'),
        closedAt: new Date('2024-10-17T15:00:00Z'),
      })
      .returning();
    await database.db.insert(t.quarterSnapshots).values({
      partnershipId: plan.partnership.id,
      cycleId: cycle!.id,
      reportedOn: '2024-10-17',
      content: {},
    });
    const reports = await changesByReport(database.db, board, planId);
    expect(reports.map((r) => [r.quarter, r.reportedOn, r.changes.length])).toEqual([
      [2, '2024-10-17', 2],
      [undefined, undefined, all.length - 2],
    ]);
    expect(reports[0]!.changes.map((c) => c.title)).toEqual(['Fraud', 'Dangerous Dogs']);
  });
});

describe('the coordinator’s priority writes', () => {
  it('are the coordinator’s only', async () => {
    await expect(createPriority(database.db, partner, planId, { title: 'Nope' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    await expect(createPriority(database.db, outsider, planId, { title: 'Nope' })).rejects.toBeInstanceOf(
      ForbiddenError,
    );
    const fraud = (await tree()).priorities.find((p) => p.title === 'Fraud')!;
    await expect(
      updatePriority(database.db, partner, fraud.id, { title: 'Nope', version: 1 }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(archivePriority(database.db, board, fraud.id, 1)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(getPriority(database.db, outsider, fraud.id)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('validate the title and the aims chosen', async () => {
    const error = await createPriority(database.db, coordinator, planId, { title: '  ', aims: ['x'] }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field).sort()).toEqual(['aims', 'title']);
    // An aim of another plan, or an archived one, cannot be chosen.
    const archived = (
      await queryRows<{ id: number }>(
        database.db,
        sql`select id from aims where archived_at is not null limit 1`,
      )
    )[0]!;
    await expect(
      createPriority(database.db, coordinator, planId, { title: 'Retail', aims: [String(archived.id)] }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuse a stale version, and keep the row as it is', async () => {
    const fraud = (await tree()).priorities.find((p) => p.title === 'Fraud')!;
    const current = await getPriority(database.db, coordinator, fraud.id);
    await expect(
      updatePriority(database.db, coordinator, fraud.id, {
        title: 'Fraud and scams',
        aims: current.aimIds.map(String),
        version: current.version + 5,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      archivePriority(database.db, coordinator, fraud.id, current.version + 5),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await getPriority(database.db, coordinator, fraud.id)).toEqual(current);
  });

  it('set no added date for a priority added before the plan year began', async () => {
    const early = await createPriority(
      database.db,
      coordinator,
      planId,
      { title: 'Set out before the year' },
      new Date('2024-03-20T12:00:00Z'),
    );
    expect(early.addedOn).toBeNull();
  });
});
