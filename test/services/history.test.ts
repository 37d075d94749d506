import { parse } from 'csv-parse/sync';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { recordAudit } from '../../src/services/audit.js';
import { addComment } from '../../src/services/comments.js';
import { ForbiddenError, ValidationError } from '../../src/services/errors.js';
import {
  aimHistory,
  auditTrail,
  auditTrailCsv,
  kindWords,
  TRAIL_PAGE_SIZE,
  wordDiffHtml,
} from '../../src/services/history.js';
import {
  archiveAction,
  createAction,
  createAim,
  updateAction,
  updateAim,
} from '../../src/services/plan-edit.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type AimNode } from '../../src/services/plan-read.js';
import { saveProgress } from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let coordinator: Actor;
let lead: Actor;
let partner: Actor;
let board: Actor;
let partnershipId: number;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

async function aim(number: string): Promise<AimNode> {
  const tree = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
  return findAim(tree, number).aim;
}

/** An event at a chosen time: the trail is append-only, but inserting is what it is for. */
async function eventAt(occurredAt: string, actor: Actor, kind = 'test.event') {
  await database.db.insert(t.auditEvents).values({
    partnershipId,
    occurredAt: new Date(occurredAt),
    actorUserId: actor.userId,
    actorLabel: actor.label,
    kind,
    entity: 'test',
    summary: `An event at ${occurredAt}`,
  });
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  coordinator = await actorFor('coordinator@sosafe.example');
  lead = await actorFor('helen.whitehead@sosafe.example');
  partner = await actorFor('partner@sosafe.example');
  board = await actorFor('board@sosafe.example');
  partnershipId = coordinator.member!.partnershipId;
});
afterAll(async () => {
  await database?.drop();
});

describe('word-level differences', () => {
  it('marks the removed and added words, for screen readers too', () => {
    expect(wordDiffHtml('Courses have been run', 'Courses were run')).toBe(
      'Courses <del><span class="govuk-visually-hidden">removed: </span>have been</del>' +
        '<ins><span class="govuk-visually-hidden">added: </span>were</ins> run',
    );
  });

  it('escapes the text before marking it up', () => {
    const html = wordDiffHtml('Safe text', 'Safe <script>alert("x")</script> text');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('names kinds in words, and the quarter of a progress update', () => {
    expect(kindWords('progress.updated', { quarter: 3 })).toBe('Changed the Q3 progress update');
    expect(kindWords('action.archived')).toBe('Archived an action');
    expect(kindWords('invitation.sent')).toBe('Invitation sent');
  });
});

describe('an aim’s History', () => {
  it('an aim from the demo import shows that it came in with the plan', async () => {
    const entries = await aimHistory(database.db, partner, (await aim('2.1')).id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      what: 'Came in with the plan 2024/25',
      who: 'demo loader',
      kind: 'demo.loaded',
      viaImport: true,
    });
  });

  it('shows progress changes newest first, with who, which action and a word diff', async () => {
    const aim31 = await aim('3.1');
    const actionId = aim31.actions[0]!.id;
    const saved = await saveProgress(database.db, lead, actionId, {
      quarter: 4,
      status: 'on_track',
      text: 'Courses have been run',
    });
    await saveProgress(database.db, coordinator, actionId, {
      quarter: 4,
      status: 'at_risk',
      text: 'Courses were run',
      version: saved.version,
    });
    const entries = await aimHistory(database.db, board, aim31.id);
    expect(entries.map((e) => e.what).slice(0, 2)).toEqual([
      'Changed the Q4 progress update',
      'Added the Q4 progress update',
    ]);
    const [changed, added] = entries;
    expect(changed).toMatchObject({ who: 'Casey Coordinator', about: 'Action 1' });
    expect(changed!.changes.map((c) => [c.label, c.before, c.after])).toEqual([
      ['Status', 'On track', 'At risk'],
      ['Progress made', 'Courses have been run', 'Courses were run'],
    ]);
    expect(changed!.changes[1]!.diffHtml).toContain(
      '<del><span class="govuk-visually-hidden">removed: </span>have been</del>',
    );
    expect(added).toMatchObject({ who: 'Helen Whitehead', about: 'Action 1' });
    expect(added!.values).toEqual([
      { field: 'status', label: 'Status', text: 'On track' },
      { field: 'text', label: 'Progress made', text: 'Courses have been run' },
    ]);
    // The import is still the oldest entry.
    expect(entries.at(-1)!.kind).toBe('demo.loaded');
  });

  it('shows changes to the aim and its actions, and names an archived action as such', async () => {
    const aim12 = await aim('1.2');
    await updateAim(database.db, coordinator, aim12.id, {
      number: '1.2',
      title: `${aim12.title} across the town`,
      version: aim12.version,
    });
    const action = await createAction(database.db, coordinator, aim12.id, {
      description: 'Run a summer diversion programme',
      leads: 'SBC: Jessica Warren',
    });
    await updateAction(database.db, coordinator, action.id, {
      description: 'Run a summer and autumn diversion programme',
      leads: 'SBC: Jessica Warren',
      partners: 'Police',
      version: action.version,
    });
    await archiveAction(database.db, coordinator, action.id, action.version + 1);

    const entries = await aimHistory(database.db, lead, aim12.id);
    expect(entries.map((e) => [e.what, e.about])).toEqual([
      ['Archived an action', 'An archived action'],
      ['Changed an action', 'An archived action'],
      ['Added an action', 'An archived action'],
      ['Changed the aim', undefined],
      ['Came in with the plan 2024/25', undefined],
    ]);
    const changedAction = entries[1]!;
    expect(changedAction.changes.map((c) => c.label)).toEqual(['Action', 'Partners']);
    expect(changedAction.changes[0]!.diffHtml).toContain(
      '<ins><span class="govuk-visually-hidden">added: </span>and autumn </ins>',
    );
    expect(entries[3]!.changes.map((c) => c.label)).toEqual(['Aim']);
    expect(entries[0]!.values).toEqual([
      { field: 'description', label: 'Action', text: 'Run a summer and autumn diversion programme' },
    ]);
  });

  it('finds progress events that were written without the aim, through the aim’s actions', async () => {
    const aim41 = await aim('4.1');
    const update = aim41.actions.flatMap((a) => a.progress)[0]!;
    await database.db.transaction((tx) =>
      recordAudit(tx, coordinator, {
        partnershipId,
        kind: 'progress.updated',
        entity: 'progress_update',
        entityId: update.id,
        summary: 'Changed a progress update (an older event, without the aim)',
        before: { text: 'Old words here' },
        after: { text: 'New words here' },
      }),
    );
    const entries = await aimHistory(database.db, partner, aim41.id);
    expect(entries[0]).toMatchObject({ what: 'Changed a progress update', about: 'Action 1' });
    // Nothing of another aim's.
    expect((await aimHistory(database.db, partner, (await aim('4.2')).id)).map((e) => e.kind)).toEqual([
      'demo.loaded',
    ]);
  });

  it('an aim added after the import does not claim to have come in with it', async () => {
    const section = (await aim('5.1')).sectionId;
    const added = await createAim(database.db, coordinator, section, { number: '5.9', title: 'A new aim' });
    const entries = await aimHistory(database.db, partner, added.id);
    expect(entries.map((e) => e.kind)).toEqual(['aim.created']);
    expect(entries[0]!.values.map((v) => v.label)).toEqual(['Number', 'Aim']);
  });

  it('leaves comments out (they have their own page, hidden from the board)', async () => {
    const aim11 = await aim('1.1');
    await addComment(database.db, partner, aim11.id, { text: 'A comment for partners only' });
    const entries = await aimHistory(database.db, board, aim11.id);
    expect(entries.map((e) => e.kind)).not.toContain('comment.added');
  });

  it('is not for people outside the partnership', async () => {
    const outsider = memberActor({ ...coordinator.member!, partnershipId: partnershipId + 1000 });
    await expect(aimHistory(database.db, outsider, (await aim('1.1')).id)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });
});

describe('the coordinator’s audit trail', () => {
  it('is refused to everyone but the coordinator', async () => {
    for (const actor of [lead, partner, board]) {
      await expect(auditTrail(database.db, actor, partnershipId)).rejects.toBeInstanceOf(ForbiddenError);
      await expect(auditTrailCsv(database.db, actor, partnershipId)).rejects.toBeInstanceOf(ForbiddenError);
    }
    const otherCoordinator = memberActor({ ...coordinator.member!, partnershipId: partnershipId + 1000 });
    await expect(auditTrail(database.db, otherCoordinator, partnershipId)).rejects.toBeInstanceOf(
      ForbiddenError,
    );
  });

  it('filters by person, kind and the person’s organisation', async () => {
    const helen = await auditTrail(database.db, coordinator, partnershipId, { person: String(lead.userId) });
    expect(helen.total).toBeGreaterThan(0);
    expect(new Set(helen.events.map((e) => e.who))).toEqual(new Set(['Helen Whitehead']));
    expect(helen.events[0]!.organisation).toBe('CCSU');

    const kind = await auditTrail(database.db, coordinator, partnershipId, { kind: 'action.archived' });
    expect(kind.events.map((e) => [e.what, e.aim])).toEqual([
      ['Archived an action', { number: '1.2', planYear: '2024/25', archived: false }],
    ]);
    // Each event names its aim: from the event itself, or (older events) through the update.
    const progress = await auditTrail(database.db, coordinator, partnershipId, { kind: 'progress.updated' });
    expect(progress.events.map((e) => e.aim?.number)).toEqual(['4.1', '3.1']);
    const people = await auditTrail(database.db, coordinator, partnershipId, { kind: 'user.added' });
    expect(people.events.length).toBeGreaterThan(0);
    expect(people.events.every((e) => e.aim === null)).toBe(true);

    const [ccsu] = await database.db
      .select({ id: t.organisations.id })
      .from(t.organisations)
      .where(eq(t.organisations.name, 'CCSU'));
    const byOrganisation = await auditTrail(database.db, coordinator, partnershipId, {
      organisation: String(ccsu!.id),
    });
    expect(byOrganisation.total).toBe(helen.total);
    expect(byOrganisation.options.people.map((p) => p.text)).toContain('Helen Whitehead');
    expect(byOrganisation.options.kinds).toContainEqual({ value: 'comment.added', text: 'Added a comment' });
  });

  it('filters by London days: an event at 00:30 on 1 July in London is on 1 July', async () => {
    await eventAt('2024-06-30T23:30:00Z', partner, 'test.midsummer'); // 00:30 BST on 1 July
    await eventAt('2024-06-30T22:30:00Z', partner, 'test.midsummer'); // 23:30 BST on 30 June
    const july = await auditTrail(database.db, coordinator, partnershipId, {
      kind: 'test.midsummer',
      from: '2024-07-01',
      to: '2024-07-01',
    });
    expect(july.events.map((e) => e.occurredAt.toISOString())).toEqual(['2024-06-30T23:30:00.000Z']);
    const june = await auditTrail(database.db, coordinator, partnershipId, {
      kind: 'test.midsummer',
      to: '2024-06-30',
    });
    expect(june.events.map((e) => e.occurredAt.toISOString())).toEqual(['2024-06-30T22:30:00.000Z']);
  });

  it('refuses dates that are not real, and a range that ends before it starts', async () => {
    await expect(
      auditTrail(database.db, coordinator, partnershipId, { from: '2024-02-30' }),
    ).rejects.toMatchObject({ problems: [{ field: 'from', message: 'Date from must be a real date' }] });
    const backwards = auditTrail(database.db, coordinator, partnershipId, {
      from: '2024-05-02',
      to: '2024-05-01',
    });
    await expect(backwards).rejects.toBeInstanceOf(ValidationError);
    await expect(backwards).rejects.toMatchObject({
      problems: [{ field: 'to', message: 'Date to must be the same as or after date from' }],
    });
  });

  it('pages 50 events at a time, newest first', async () => {
    for (let i = 0; i < TRAIL_PAGE_SIZE + 5; i++) {
      await eventAt(new Date(Date.UTC(2023, 0, 1, 12, i)).toISOString(), board, 'test.many');
    }
    const first = await auditTrail(database.db, coordinator, partnershipId, { kind: 'test.many' });
    expect(first).toMatchObject({ total: 55, page: 1, pageCount: 2 });
    expect(first.events).toHaveLength(50);
    expect(first.events[0]!.occurredAt.toISOString()).toBe('2023-01-01T12:54:00.000Z');
    const second = await auditTrail(database.db, coordinator, partnershipId, {
      kind: 'test.many',
      page: '2',
    });
    expect(second.events).toHaveLength(5);
    expect(second.events.at(-1)!.occurredAt.toISOString()).toBe('2023-01-01T12:00:00.000Z');
    // A page past the end shows the last page.
    expect(
      (await auditTrail(database.db, coordinator, partnershipId, { kind: 'test.many', page: 9 })).page,
    ).toBe(2);
  });

  it('exports the filtered trail as CSV, and records the export', async () => {
    const { csv, rows } = await auditTrailCsv(database.db, coordinator, partnershipId, {
      person: String(lead.userId),
      page: '2', // ignored: the export is every page
    });
    const records = parse(csv, { bom: true }) as string[][];
    expect(records[0]).toEqual([
      'When (Europe/London)',
      'When (UTC)',
      'Person',
      'Organisation',
      'What',
      'Summary',
      'Aim',
      'Kind',
      'Entity',
      'Entity id',
      'Via import',
      'Before',
      'After',
    ]);
    // Helen has done one thing so far: her Q4 update.
    expect(rows).toBe(1);
    expect(records).toHaveLength(2);
    expect(new Set(records.slice(1).map((r) => r[2]))).toEqual(new Set(['Helen Whitehead']));
    expect(records.slice(1).map((r) => [r[4], r[6]])).toEqual([
      ['Added the Q4 progress update', '3.1 (2024/25)'],
    ]);

    const exported = await auditTrail(database.db, coordinator, partnershipId, { kind: 'audit.exported' });
    expect(exported.events[0]).toMatchObject({
      who: 'Casey Coordinator',
      what: 'Exported the audit trail',
      summary: 'Exported the audit trail as CSV (1 event)',
    });
    expect(exported.events[0]!.after).toMatchObject({ filters: { person: lead.userId }, rows });
  });

  it('writes London times, and defuses text a spreadsheet would run as a formula', async () => {
    await eventAt('2024-07-01T09:15:00Z', partner, 'test.formula');
    await database.db.insert(t.auditEvents).values({
      partnershipId,
      actorUserId: partner.userId,
      actorLabel: '=HYPERLINK("http://evil.example")',
      kind: 'test.formula',
      entity: 'test',
      summary: '+SUM(A1:A2)',
      occurredAt: new Date('2024-07-01T08:00:00Z'),
    });
    const { csv } = await auditTrailCsv(database.db, coordinator, partnershipId, { kind: 'test.formula' });
    const records = parse(csv, { bom: true }) as string[][];
    expect(records[1]!.slice(0, 3)).toEqual([
      '2024-07-01 10:15:00',
      '2024-07-01T09:15:00.000Z',
      'Pat Partner',
    ]);
    expect(records[2]![2]).toBe(`'=HYPERLINK("http://evil.example")`);
    expect(records[2]![5]).toBe(`'+SUM(A1:A2)`);
  });
});
