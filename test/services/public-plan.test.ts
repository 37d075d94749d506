/**
 * The public page's service over the demo plan: publishing shows an aim and unpublishing hides
 * it; residents read only submitted or accepted updates, and only the coordinator's text for
 * them; drafts, returned updates, the lead's own words, comments, funding and officers never
 * reach them; every name of the partnership's people is replaced by an organisation; and only the
 * coordinator publishes, each change checked against the version and written to the audit trail.
 */
import { and, count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, systemActor, type Actor } from '../../src/services/actor.js';
import { addComment } from '../../src/services/comments.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/services/errors.js';
import { createFundingLine } from '../../src/services/funding.js';
import { aimHistory } from '../../src/services/history.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import {
  AN_OFFICER,
  getPublicAim,
  getPublicPartnership,
  getPublicPlan,
  makeRedactor,
  namesToHide,
  publicTextForms,
  publishAim,
  publishAllAims,
  publishingOverview,
  savePublicText,
  unpublishAim,
} from '../../src/services/public-plan.js';
import { addUser, getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const YEAR = '2024/25';
let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let outsider: Actor;
let partnershipId: number;
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

async function auditCount(): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(t.auditEvents);
  return Number(row?.n ?? 0);
}

async function aimRow(number: string) {
  const [row] = await database.db
    .select()
    .from(t.aims)
    .where(and(eq(t.aims.planId, plan.plan.id), eq(t.aims.number, number)));
  return row!;
}

/** Every name a public page must not carry: all people and all accounts, read from the database. */
async function everyName(): Promise<string[]> {
  const people = await database.db.select({ name: t.people.name }).from(t.people);
  const accounts = await database.db.select({ name: t.users.name }).from(t.users);
  return [...new Set([...people, ...accounts].map((r) => r.name))];
}

function namesIn(text: string, names: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return names.filter((name) => lower.includes(name.toLowerCase()));
}

/** What the public pages showed of the demo as it was loaded. */
let demoAsLoaded: { sosafe: string[]; northHerts: unknown[] };

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  demoAsLoaded = {
    sosafe: (await getPublicPlan(database.db, 'sosafe', '2024-25')).sections.flatMap((s) =>
      s.aims.map((a) => a.number),
    ),
    northHerts: (await getPublicPartnership(database.db, 'north-herts')).plans,
  };
  // These tests start from nothing published.
  await database.db.update(t.aims).set({ publishedAt: null, publishedBy: null });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  await createPartnership(database.db, systemActor(), { slug: 'elsewhere', name: 'Elsewhere CSP' });
  await addUser(
    database.db,
    {
      email: 'olly@elsewhere.example',
      name: 'Olly Outsider',
      password: 'a password long enough',
      partnership: 'elsewhere',
      role: 'coordinator',
    },
    systemActor(),
  );
  outsider = await actorFor('olly@elsewhere.example');
  const partnership = await getPartnershipBySlug(database.db, 'sosafe');
  partnershipId = partnership.id;
  plan = await loadPlanTree(database.db, partnership, YEAR);
});
afterAll(async () => {
  await database?.close();
});

describe('the demo', () => {
  it('comes with SoSafe’s plan, a published document, on its public page, and North Herts’ illustrative plan not', () => {
    expect(demoAsLoaded.sosafe).toHaveLength(21);
    expect(demoAsLoaded.sosafe.slice(0, 3)).toEqual(['1.1', '1.2', '1.3']);
    expect(demoAsLoaded.northHerts).toEqual([]);
  });
});

describe('publishing an aim', () => {
  it('shows nothing before anything is published', async () => {
    expect((await getPublicPartnership(database.db, 'sosafe')).plans).toEqual([]);
    expect(await errorOf(getPublicPlan(database.db, 'sosafe', '2024-25'))).toBeInstanceOf(NotFoundError);
    expect(await errorOf(getPublicAim(database.db, 'sosafe', '2024-25', '5.2'))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('shows the aim once the coordinator publishes it, and records who did', async () => {
    const before = await aimRow('5.2');
    expect(before.publishedAt).toBeNull();
    const published = await publishAim(database.db, coordinator, partnershipId, YEAR, '5.2', {
      version: String(before.version),
    });
    expect(published.version).toBe(before.version + 1);
    expect(published.publishedBy).toBe(coordinator.userId);

    const { aim, section } = await getPublicAim(database.db, 'sosafe', '2024-25', '5.2');
    expect(aim.title).toBe(findAim(plan, '5.2').aim.title);
    expect(section.number).toBe(5);
    const publicPlan = await getPublicPlan(database.db, 'sosafe', '2024-25');
    expect(publicPlan.sections.flatMap((s) => s.aims.map((a) => a.number))).toEqual(['5.2']);
    expect((await getPublicPartnership(database.db, 'sosafe')).plans).toEqual([
      expect.objectContaining({ year: YEAR, aims: 1 }),
    ]);

    const [event] = await database.db
      .select()
      .from(t.auditEvents)
      .where(and(eq(t.auditEvents.kind, 'aim.published'), eq(t.auditEvents.entityId, String(before.id))));
    expect(event?.actorUserId).toBe(coordinator.userId);
    const history = await aimHistory(database.db, coordinator, before.id);
    expect(history[0]?.what).toBe('Published the aim on the public page');
  });

  it('hides the aim again when it is unpublished', async () => {
    const row = await aimRow('5.2');
    await unpublishAim(database.db, coordinator, partnershipId, YEAR, '5.2', {
      version: String(row.version),
    });
    expect((await aimRow('5.2')).publishedAt).toBeNull();
    expect(await errorOf(getPublicAim(database.db, 'sosafe', '2024-25', '5.2'))).toBeInstanceOf(
      NotFoundError,
    );
    // Nothing else was published: the plan year is not there for residents at all.
    expect(await errorOf(getPublicPlan(database.db, 'sosafe', '2024-25'))).toBeInstanceOf(NotFoundError);
    expect((await aimHistory(database.db, coordinator, row.id))[0]?.what).toBe(
      'Took the aim off the public page',
    );
  });

  it('refuses a stale version and writes nothing', async () => {
    const row = await aimRow('5.1');
    const before = await auditCount();
    const error = await errorOf(
      publishAim(database.db, coordinator, partnershipId, YEAR, '5.1', {
        version: String(row.version - 1 || 99),
      }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((await aimRow('5.1')).publishedAt).toBeNull();
    expect(await auditCount()).toBe(before);
  });

  it('is the coordinator’s alone: nobody else publishes, unpublishes or writes public text', async () => {
    const row = await aimRow('5.1');
    const update = findAim(plan, '1.1').aim.actions[0]!.progress[0]!;
    const before = await auditCount();
    for (const actor of [lead, partner, board, outsider]) {
      const form = { version: String(row.version) };
      for (const attempt of [
        () => publishAim(database.db, actor, partnershipId, YEAR, '5.1', form),
        () => unpublishAim(database.db, actor, partnershipId, YEAR, '5.1', form),
        () => publishAllAims(database.db, actor, partnershipId, YEAR),
        () =>
          savePublicText(database.db, actor, update.id, {
            publicText: 'Not mine',
            version: String(update.version),
          }),
        () => publishingOverview(database.db, actor, partnershipId, YEAR),
        () => publicTextForms(database.db, actor, partnershipId, YEAR, '1.1'),
      ]) {
        expect(await errorOf(attempt())).toBeInstanceOf(ForbiddenError);
      }
    }
    expect(await auditCount()).toBe(before);
    expect((await aimRow('5.1')).publishedAt).toBeNull();
  });
});

describe('what residents read of an aim', () => {
  it('shows submitted and accepted updates with the coordinator’s text; never drafts, returned updates or the lead’s words', async () => {
    const action = findAim(plan, '1.1').aim.actions[0]!;
    const [q1, q2, q3] = [1, 2, 3].map((q) => action.progress.find((p) => p.quarter === q)!);
    // Q1 stays submitted, Q2 is accepted with a status; Q3 goes back to a draft, and a returned
    // Q4 is added; both with a status and public text that must never show.
    await database.db
      .update(t.progressUpdates)
      .set({ state: 'accepted', status: 'at_risk' })
      .where(eq(t.progressUpdates.id, q2!.id));
    await database.db
      .update(t.progressUpdates)
      .set({ state: 'draft', status: 'off_track', publicText: 'Draft words for residents' })
      .where(eq(t.progressUpdates.id, q3!.id));
    await database.db.insert(t.progressUpdates).values({
      partnershipId,
      actionId: action.id,
      quarter: 4,
      text: 'Returned lead words',
      status: 'complete',
      state: 'returned',
      publicText: 'Returned words for residents',
    });
    const saved = await savePublicText(database.db, coordinator, q2!.id, {
      publicText: 'Officers visited schools to tell pupils about the service.',
      version: String(q2!.version),
    });
    expect(saved.redacted).toBe(false);
    const aim11 = await aimRow('1.1');
    await publishAim(database.db, coordinator, partnershipId, YEAR, '1.1', {
      version: String(aim11.version),
    });

    const { aim } = await getPublicAim(database.db, 'sosafe', '2024-25', '1.1');
    expect(aim.actions[0]!.updates).toEqual([
      { quarter: 1, status: null, text: null },
      { quarter: 2, status: 'at_risk', text: 'Officers visited schools to tell pupils about the service.' },
    ]);
    expect(aim.status).toBe('at_risk');
    expect(aim.latestQuarter).toBe(2);
    expect(aim.latestTexts).toEqual(['Officers visited schools to tell pupils about the service.']);
    expect(aim.actions[0]!.leads).toEqual(['NMS']);

    const everything = JSON.stringify(await getPublicPlan(database.db, 'sosafe', '2024-25'));
    for (const hidden of [
      'Draft words for residents',
      'Returned words for residents',
      'Returned lead words',
      q1!.text,
      q2!.text,
      q3!.text,
      'off_track',
      'complete',
    ]) {
      expect(everything).not.toContain(hidden);
    }
  });

  it('never carries comments, funding or resources', async () => {
    const aim = await aimRow('1.1');
    await addComment(database.db, partner, aim.id, { text: 'A comment the public must never read' });
    await createFundingLine(database.db, coordinator, aim.id, {
      actionId: '',
      source: 'The Fund Residents Never See',
      amount: '£4,321',
      state: 'awarded',
      appliedOn: '2024-05-01',
      awardedOn: '2024-06-15',
    });
    const everything = JSON.stringify(await getPublicPlan(database.db, 'sosafe', '2024-25'));
    expect(everything).not.toContain('A comment the public must never read');
    expect(everything).not.toContain('The Fund Residents Never See');
    expect(everything).not.toContain('4,321');
    expect(everything).not.toContain('432100');
    // 1.1's resources: "Leaflets", "Posters", "Social Media Campaigns".
    expect(everything).not.toContain('Social Media Campaigns');
  });

  it('refuses public text for a draft or returned update, and a blank text clears it', async () => {
    const action = findAim(plan, '1.1').aim.actions[0]!;
    const [returned] = await database.db
      .select()
      .from(t.progressUpdates)
      .where(and(eq(t.progressUpdates.actionId, action.id), eq(t.progressUpdates.quarter, 4)));
    const error = await errorOf(
      savePublicText(database.db, coordinator, returned!.id, {
        publicText: 'Should not be kept',
        version: String(returned!.version),
      }),
    );
    expect(error).toBeInstanceOf(ValidationError);

    const [q2] = await database.db
      .select()
      .from(t.progressUpdates)
      .where(and(eq(t.progressUpdates.actionId, action.id), eq(t.progressUpdates.quarter, 2)));
    const stale = await errorOf(
      savePublicText(database.db, coordinator, q2!.id, {
        publicText: 'Late words',
        version: String(q2!.version - 1),
      }),
    );
    expect(stale).toBeInstanceOf(ConflictError);
    const cleared = await savePublicText(database.db, coordinator, q2!.id, {
      publicText: '   ',
      version: String(q2!.version),
    });
    expect(cleared.publicText).toBeNull();
    const { aim } = await getPublicAim(database.db, 'sosafe', '2024-25', '1.1');
    expect(aim.actions[0]!.updates[1]).toEqual({ quarter: 2, status: 'at_risk', text: null });
    const [event] = await database.db
      .select()
      .from(t.auditEvents)
      .where(and(eq(t.auditEvents.kind, 'progress.public_text'), eq(t.auditEvents.entityId, String(q2!.id))))
      .orderBy(sql`${t.auditEvents.id} desc`)
      .limit(1);
    expect(event?.summary).toContain('Cleared the public text of the Q2 update of aim 1.1');
  });
});

describe('names never go public', () => {
  it('replaces every person and account of the partnership with an organisation, however written', async () => {
    const hidden = await namesToHide(database.db, partnershipId);
    const redact = makeRedactor(hidden);
    const people = await database.db
      .select({ name: t.people.name })
      .from(t.people)
      .where(eq(t.people.partnershipId, partnershipId));
    const accounts = await database.db
      .select({ name: t.users.name })
      .from(t.users)
      .innerJoin(t.memberships, eq(t.memberships.userId, t.users.id))
      .where(eq(t.memberships.partnershipId, partnershipId));
    const names = [...new Set([...people, ...accounts].map((r) => r.name))];
    expect(names).toEqual(expect.arrayContaining(['Sarah Pateman', 'Helen Whitehead', 'Casey Coordinator']));
    for (const name of names) {
      const words = name.split(' ');
      const initial = `${words[0]!.charAt(0)}. ${words.at(-1)!}`;
      const text = `Thanks to ${name}, ${name.toUpperCase()} and ${initial} for the work.`;
      const out = redact(text);
      expect(namesIn(out, [name, initial]), `${name} in "${out}"`).toEqual([]);
      expect(out.startsWith('Thanks to ')).toBe(true);
    }
    // Their organisation stands in for them: the one the plan names them for most, or their role's.
    expect(redact('Tania King runs the course')).toBe('SADA runs the course');
    expect(redact('Ask Helen Whitehead')).toBe('Ask CCSU');
    expect(redact('Casey Coordinator wrote this')).toBe('SBC wrote this');
    expect(redact('Bobbie Board agreed')).toBe(`${AN_OFFICER} agreed`);
    // Words that merely contain part of a name are left alone.
    expect(redact('Longer sessions will run')).toBe('Longer sessions will run');
  });

  it('replaces names in the plan’s own words and in the coordinator’s text', async () => {
    const aim = await aimRow('3.1');
    const action = findAim(plan, '3.1').aim.actions[0]!;
    await database.db
      .update(t.actions)
      .set({ description: `${action.description}\nTraining delivered by Tania King and helen whitehead` })
      .where(eq(t.actions.id, action.id));
    const update = action.progress[0]!;
    const saved = await savePublicText(database.db, coordinator, update.id, {
      publicText: 'Jessica Warren and Mel Cucos ran two sessions.',
      version: String(update.version),
    });
    expect(saved.redacted).toBe(true);
    expect(saved.publicText).not.toMatch(/Jessica Warren|Mel Cucos/);
    await publishAim(database.db, coordinator, partnershipId, YEAR, '3.1', { version: String(aim.version) });
    const everything = JSON.stringify(await getPublicAim(database.db, 'sosafe', '2024-25', '3.1'));
    expect(everything).toContain('Training delivered by SADA and CCSU');
    expect(namesIn(everything, await everyName())).toEqual([]);
  });

  it('after publishing every aim, no name of anyone in the database appears anywhere residents read', async () => {
    const published = await publishAllAims(database.db, coordinator, partnershipId, YEAR);
    expect(published.length).toBeGreaterThan(10);
    const overview = await publishingOverview(database.db, coordinator, partnershipId, YEAR);
    expect(overview.published).toBe(overview.total);
    // Every action's officers are in the plan, yet none reaches the public page.
    const officers = plan.sections
      .flatMap((s) => s.aims)
      .flatMap((a) => a.actions)
      .flatMap((a) => [...a.leads, ...a.partners])
      .flatMap((p) => p.officers);
    expect(officers.length).toBeGreaterThan(10);
    const names = await everyName();
    const publicPlan = await getPublicPlan(database.db, 'sosafe', '2024-25');
    const partnership = await getPublicPartnership(database.db, 'sosafe');
    expect(namesIn(JSON.stringify([publicPlan, partnership]), names)).toEqual([]);
    // Publishing again publishes nothing more.
    expect(await publishAllAims(database.db, coordinator, partnershipId, YEAR)).toEqual([]);
  });
});
