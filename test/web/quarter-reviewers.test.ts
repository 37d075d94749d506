/**
 * JAG reviewers: the coordinator ticks "Reviews quarterly updates for the Joint Action Group" on a
 * partner's or lead officer's role page; that person then sees the Review links on the quarter's
 * board and accepts or returns updates, except for the actions they lead, and still cannot open,
 * chase or close a quarter. The box means nothing for the board (nor the coordinator) and is cleared.
 */
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, memberships, organisations, progressUpdates, users } from '../../src/db/schema.js';
import { systemActor, type Actor } from '../../src/services/actor.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
type Who = 'coordinator' | 'lead' | 'partner' | 'board';
const s = {} as Record<Who, Session>;
const system = systemActor('quarter reviewers test');
const base = '/p/sosafe/plans/2024-25';
const q4 = `${base}/quarters/4`;
let tree: PlanTree;
let helen: Actor;
/** Aim 3.1's first action (Helen Whitehead leads it) and aim 2.1's first (SADA's, not hers). */
let helens: number;
let sadas: number;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;|’/g, "'")
    .replace(/\s+/g, ' ')
    .trim();

function flashOf(html: string): string {
  const banner = /data-testid="flash"[\s\S]*?govuk-notification-banner__heading">([\s\S]*?)<\/p>/.exec(html);
  return textOf(banner?.[1] ?? '');
}

async function membership(email: string) {
  const [row] = await t.database.db
    .select({ id: memberships.id, version: memberships.version, reviewsUpdates: memberships.reviewsUpdates })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(users.email, email), eq(memberships.partnershipId, tree.partnership.id)));
  return row!;
}

/** The coordinator's role form for a demo account, posted with these choices. */
async function setRole(
  email: string,
  role: string,
  reviewsUpdates: boolean,
  place: { organisation?: number | null; person?: number | null } = {},
) {
  const m = await membership(email);
  const url = `/p/sosafe/people/${m.id}/role`;
  return s.coordinator.post(url, {
    role,
    organisation: place.organisation ? String(place.organisation) : '',
    person: place.person ? String(place.person) : '',
    version: String(m.version),
    ...(reviewsUpdates ? { reviewsUpdates: 'yes' } : {}),
  });
}

/** The board's rows whose update was submitted and awaits review: "3.1-1". */
const submittedRows = (html: string) =>
  [...html.matchAll(/data-testid="board-row-([\d.]+-\d+)" data-state="submitted"/g)].map((m) => m[1]);
const reviewLinks = (html: string) =>
  [...html.matchAll(/data-testid="review-([\d.]+-\d+)"/g)].map((m) => m[1]);

async function submit(actor: Actor, actionId: number, text: string) {
  await t.services.progress.saveMany(
    actor,
    tree.plan.id,
    4,
    [{ actionId, status: 'on_track', text }],
    'submit',
  );
  const [row] = await t.database.db
    .select()
    .from(progressUpdates)
    .where(and(eq(progressUpdates.actionId, actionId), eq(progressUpdates.quarter, 4)));
  return row!;
}

beforeAll(async () => {
  t = await createTestApp();
  for (const who of ['coordinator', 'lead', 'partner', 'board'] as const) {
    s[who] = new Session(t.app);
    await s[who].signIn(DEMO[who]);
  }
  tree = (await t.services.plans.openPlan(system, 'sosafe', '2024/25')).tree;
  const [user] = await t.database.db.select({ id: users.id }).from(users).where(eq(users.email, DEMO.lead));
  helen = t.services.memberActor((await t.services.users.getMember(user!.id, tree.partnership.id))!);
  helens = findAim(tree, '3.1').aim.actions[0]!.id;
  sadas = findAim(tree, '2.1').aim.actions[0]!.id;
  const opened = await s.coordinator.post(
    q4,
    {
      'dueOn-day': '14',
      'dueOn-month': '4',
      'dueOn-year': '2025',
      reminderOffsets: '-7, 1, 7',
    },
    `${q4}/open`,
  );
  expect(opened.statusCode).toBe(303);
});
afterAll(async () => {
  await t?.close();
});

describe('making someone a reviewer', () => {
  it('is a box on the role page, unticked for the demo partner', async () => {
    const m = await membership(DEMO.partner);
    const page = await s.coordinator.get(`/p/sosafe/people/${m.id}/role`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Reviews quarterly updates for the Joint Action Group');
    expect(page.body).toMatch(/<input[^>]*name="reviewsUpdates"[^>]*value="yes"(?![^>]*checked)[^>]*>/);
    expect(m.reviewsUpdates).toBe(false);
  });

  it('is saved, audited, shown on the People page and ticked on the role page', async () => {
    const [police] = await t.database.db
      .select({ id: organisations.id })
      .from(organisations)
      .where(and(eq(organisations.partnershipId, tree.partnership.id), eq(organisations.name, 'Police')));
    const saved = await setRole(DEMO.partner, 'partner', true, { organisation: police!.id });
    expect(saved.statusCode).toBe(303);
    const people = await s.coordinator.get(String(saved.headers.location));
    expect(flashOf(people.body)).toBe('Pat Partner is now a partner who reviews quarterly updates');
    const row = /data-testid="member-partner@sosafe\.example"[\s\S]*?<\/tr>/.exec(people.body)?.[0] ?? '';
    expect(row).toContain('data-testid="reviews-updates"');
    expect(textOf(row)).toContain('Partner Reviews quarterly updates');
    // Only the reviewer is marked.
    expect(people.body.match(/data-testid="reviews-updates"/g)).toHaveLength(1);

    const m = await membership(DEMO.partner);
    expect(m.reviewsUpdates).toBe(true);
    const page = await s.coordinator.get(`/p/sosafe/people/${m.id}/role`);
    expect(page.body).toMatch(/<input[^>]*name="reviewsUpdates"[^>]*value="yes"[^>]*checked/);

    const [event] = await t.database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.kind, 'member.role_changed'))
      .orderBy(desc(auditEvents.id))
      .limit(1);
    expect(event?.summary).toBe('Pat Partner (partner) reviews quarterly updates');
    expect(event?.before).toMatchObject({ reviewsUpdates: false });
    expect(event?.after).toMatchObject({ reviewsUpdates: true });
  });

  it('means nothing for a board member: ticked, it is not kept', async () => {
    const saved = await setRole(DEMO.board, 'board_member', true);
    expect(saved.statusCode).toBe(303);
    expect(flashOf((await s.coordinator.get(String(saved.headers.location))).body)).toBe(
      'Bobbie Board is now a board member',
    );
    expect((await membership(DEMO.board)).reviewsUpdates).toBe(false);
    // The board sees the board, read-only, with no Review links.
    expect(reviewLinks((await s.board.get(q4)).body)).toEqual([]);
  });
});

describe('a partner who reviews', () => {
  it('sees the Review links and a note on the board, but not the coordinator’s buttons', async () => {
    await submit(helen, helens, 'Two reporting sessions held.');
    const board = await s.partner.get(q4);
    expect(board.statusCode).toBe(200);
    // Every submitted update, Helen's among them (the demo has Q4 updates of its own).
    expect(reviewLinks(board.body)).toContain('3.1-1');
    expect(reviewLinks(board.body)).toEqual(submittedRows(board.body));
    expect(board.body).toContain(`href="${q4}/actions/${helens}/review"`);
    expect(board.body).toContain('data-testid="reviewer-note"');
    expect(board.body).not.toContain('data-testid="ask-outstanding"');
    expect(board.body).not.toContain('data-testid="close-quarter"');
    // Other members still see no Review links, and no note.
    for (const who of ['lead', 'board'] as const) {
      const page = (await s[who].get(q4)).body;
      expect(reviewLinks(page), who).toEqual([]);
      expect(page, who).not.toContain('data-testid="reviewer-note"');
    }
  });

  it('returns an update with a comment, emailed to its lead, and accepts it once sent again', async () => {
    const url = `${q4}/actions/${helens}/review`;
    const page = await s.partner.get(url);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="review-form"');
    const version = /name="version" value="(\d+)"/.exec(page.body)![1]!;
    const returned = await s.partner.post(url, { decision: 'return', comment: 'Which venues?', version });
    expect(returned.statusCode).toBe(303);
    expect(flashOf((await s.partner.get(String(returned.headers.location))).body)).toBe(
      'The Q4 2024/25 update for aim 3.1, action 1 has been returned to the lead officer (1 email sent)',
    );
    const [update] = await t.database.db
      .select()
      .from(progressUpdates)
      .where(and(eq(progressUpdates.actionId, helens), eq(progressUpdates.quarter, 4)));
    expect(update).toMatchObject({ state: 'returned', reviewComment: 'Which venues?' });

    const again = await t.services.progress.saveMany(
      helen,
      tree.plan.id,
      4,
      [
        {
          actionId: helens,
          status: 'on_track',
          text: 'At the library and the leisure centre.',
          version: update!.version,
        },
      ],
      'submit',
    );
    const accepted = await s.partner.post(url, { decision: 'accept', version: String(again[0]!.version) });
    expect(accepted.statusCode).toBe(303);
    const board = await s.partner.get(q4);
    expect(/data-testid="board-row-3\.1-1" data-state="(\w+)"/.exec(board.body)?.[1]).toBe('accepted');
  });

  it('may not open, chase or close a quarter', async () => {
    const token = /name="_csrf" value="([^"]+)"/.exec((await s.partner.get(q4)).body)![1]!;
    expect((await s.partner.get(`${q4}/close`)).statusCode).toBe(403);
    for (const [url, form] of [
      [`${base}/quarters/3/open`, { 'dueOn-day': '14', 'dueOn-month': '1', 'dueOn-year': '2025' }],
      [`${q4}/requests`, {}],
      [
        `${q4}/close`,
        { 'reportedOn-day': '17', 'reportedOn-month': '4', 'reportedOn-year': '2025', version: '1' },
      ],
    ] as const) {
      expect((await s.partner.postRaw(url, { _csrf: token, ...form })).statusCode, url).toBe(403);
    }
    // Q3 is still not opened, and Q4 still open.
    expect((await s.coordinator.get(`${base}/quarters/3`)).body).toContain('dueOn-day');
    expect((await s.coordinator.get(q4)).body).toContain('data-testid="close-quarter"');
  });
});

describe('a lead officer who reviews', () => {
  it('gets no Review link for her own action, and is refused its review page and form', async () => {
    const saved = await setRole(DEMO.lead, 'lead_officer', true, {
      organisation: helen.member!.organisationId,
      person: helen.member!.personId,
    });
    expect(saved.statusCode).toBe(303);
    const mine = await submit(helen, findAim(tree, '3.1').aim.actions[1]!.id, 'Second action done.');
    await submit(t.services.memberActor({ ...helen.member!, role: 'coordinator' }), sadas, 'SADA update.');
    const board = await s.lead.get(q4);
    const submitted = submittedRows(board.body);
    expect(submitted).toEqual(expect.arrayContaining(['2.1-1', '3.1-2']));
    // All but her own: aim 3.1's actions are hers (as lead, and CCSU's).
    expect(reviewLinks(board.body)).toEqual(submitted.filter((row) => !row!.startsWith('3.1-')));
    expect(reviewLinks(board.body)).toContain('2.1-1');
    expect(board.body).toContain('data-testid="reviewer-note"');

    const own = `${q4}/actions/${mine.actionId}/review`;
    const page = await s.lead.get(own);
    expect(page.statusCode).toBe(403);
    expect(textOf(page.body)).toContain('You lead this action, so its update is reviewed by someone else');
    const token = /name="_csrf" value="([^"]+)"/.exec(board.body)![1]!;
    const post = await s.lead.postRaw(own, {
      _csrf: token,
      decision: 'accept',
      version: String(mine.version),
    });
    expect(post.statusCode).toBe(403);
    const [still] = await t.database.db.select().from(progressUpdates).where(eq(progressUpdates.id, mine.id));
    expect(still).toMatchObject({ state: 'submitted', version: mine.version });

    // SADA's update is hers to review.
    const other = `${q4}/actions/${sadas}/review`;
    expect((await s.lead.get(other)).statusCode).toBe(200);
  });

  it('stops reviewing when made a board member, and the box is cleared', async () => {
    await setRole(DEMO.lead, 'board_member', true);
    expect((await membership(DEMO.lead)).reviewsUpdates).toBe(false);
    expect(reviewLinks((await s.lead.get(q4)).body)).toEqual([]);
    expect((await s.lead.get(`${q4}/actions/${sadas}/review`)).statusCode).toBe(403);
  });
});
