/**
 * The permission table, tested whole: every route the app registers has an entry in
 * src/web/route-permissions.ts, and every entry's sample request, made as each audience (signed
 * out, each demo role, and the coordinator of another partnership), has the declared outcome.
 * A refused request writes nothing to the audit trail, and no form is taken without its CSRF token.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { and, desc, eq, max } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, emails, memberships, users } from '../../src/db/schema.js';
import type { Role } from '../../src/domain/permissions.js';
import { systemActor } from '../../src/services/actor.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { addUser } from '../../src/services/users.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import {
  AUDIENCES,
  ROUTE_PERMISSIONS,
  routeKey,
  type Audience,
  type Outcome,
  type SampleContext,
  type SampleRequest,
} from '../../src/web/route-permissions.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';
import { newWordUpload, smallWordPlan } from '../support/word-plan.js';
import { POLICE_UK_SAMPLE } from '../../src/web/route-permissions-police-upload.js';

const OUTSIDER = 'outsider@elsewhere.example';
const EMAILS: Record<Exclude<Audience, 'signedOut'>, string> = {
  coordinator: DEMO.coordinator,
  lead: DEMO.lead,
  partner: DEMO.partner,
  board: DEMO.board,
  outsider: OUTSIDER,
};

const registered: { method: string; url: string }[] = [];
let t: TestApp;
const sessions = new Map<Audience, Session>();
const tokens = new WeakMap<Session, string>();

beforeAll(async () => {
  t = await createTestApp({
    onRoute: (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    },
  });
  await t.app.ready();
  // The outsider coordinates another partnership and holds no role in the demo one.
  await createPartnership(t.database.db, systemActor(), { slug: 'elsewhere', name: 'Elsewhere CSP' });
  await addUser(
    t.database.db,
    {
      email: OUTSIDER,
      name: 'Olly Outsider',
      password: TEST_PASSWORD,
      partnership: 'elsewhere',
      role: 'coordinator',
    },
    systemActor(),
  );
  for (const audience of AUDIENCES) sessions.set(audience, await newSession(audience));
});
afterAll(async () => {
  await t?.close();
});

let ownSessions = 0;
/**
 * The audience's shared session, signed in once; or, for a request that needs one of its own, a
 * new session from an address of its own, so that its sign-in does not count against the
 * per-address sign-in limit the shared ones use.
 */
async function newSession(
  audience: Audience,
  options: { own?: boolean; ownAccount?: boolean } = {},
): Promise<Session> {
  const own = options.own || options.ownAccount;
  const n = ++ownSessions;
  const session = new Session(t.app, own ? { remoteAddress: `10.1.${n >> 8}.${n & 255}` } : {});
  if (audience === 'signedOut') return session;
  await session.signIn(options.ownAccount ? await newAccountLike(audience) : EMAILS[audience]);
  return session;
}

/** A new account holding the same role as the audience's demo account (for its own account's pages). */
const ROLE_OF: Record<Exclude<Audience, 'signedOut'>, Role> = {
  coordinator: 'coordinator',
  lead: 'lead_officer',
  partner: 'partner',
  board: 'board_member',
  outsider: 'coordinator',
};
let accountCount = 0;
async function newAccountLike(audience: Exclude<Audience, 'signedOut'>): Promise<string> {
  const email = `${audience}-${++accountCount}@permission-check.example`;
  await addUser(
    t.database.db,
    {
      email,
      name: `Permission Check ${audience} ${accountCount}`,
      password: TEST_PASSWORD,
      partnership: audience === 'outsider' ? 'elsewhere' : 'sosafe',
      role: ROLE_OF[audience],
      ...(audience === 'lead' ? { organisation: 'CCSU', person: 'Helen Whitehead' } : {}),
    },
    systemActor(),
  );
  return email;
}

/** A CSRF token for the session, from a page that has a form: the header's sign-out, or sign-in. */
async function csrfToken(session: Session): Promise<string> {
  const known = tokens.get(session);
  if (known) return known;
  for (const url of ['/accessibility', '/sign-in']) {
    const page = await session.get(url);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (token) {
      tokens.set(session, token);
      return token;
    }
  }
  throw new Error('No page gave this session a CSRF token');
}

// ——— The sample context: demo values, and throwaway rows made through the services ———
const actor = systemActor('permission test');
const links = { baseUrl: 'http://plan.test' };
let emailCount = 0;
const demoPartnershipId = async () => (await demoTree()).partnership.id;

async function userIdOf(email: string): Promise<number> {
  const [user] = await t.database.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  if (!user) throw new Error(`No account ${email}`);
  return user.id;
}

async function membershipOf(email: string) {
  const [row] = await t.database.db
    .select({ id: memberships.id, version: memberships.version })
    .from(memberships)
    .where(
      and(
        eq(memberships.userId, await userIdOf(email)),
        eq(memberships.partnershipId, await demoPartnershipId()),
      ),
    );
  if (!row) throw new Error(`${email} holds no role in the demo partnership`);
  return row;
}

/** The token of the latest link to `path` emailed to `to`. */
async function emailedToken(to: string, path: string): Promise<string> {
  const [email] = await t.database.db
    .select({ body: emails.body })
    .from(emails)
    .where(eq(emails.toAddress, to))
    .orderBy(desc(emails.id))
    .limit(1);
  const token = new RegExp(`${path}/([\\w-]+)`).exec(email?.body ?? '')?.[1];
  if (!token) throw new Error(`No ${path} link was emailed to ${to}`);
  return token;
}
/**
 * The demo plan as it stands. Every change to it writes an audit event, so the tree read last is
 * reused while no event has been written since (reading the whole plan for each of 1,200 cases was
 * much of this file's time).
 */
let lastTree: { event: number; tree: PlanTree } | undefined;
async function demoTree(): Promise<PlanTree> {
  const event = await latestAuditEvent();
  if (lastTree?.event !== event) {
    lastTree = { event, tree: (await t.services.plans.openPlan(actor, 'sosafe', '2024/25')).tree };
  }
  return lastTree.tree;
}
let nextSectionNumber = 10;
let scratchSection: { id: number; number: number } | undefined;
let scratchAimCount = 0;
let scratchAim: { id: number } | undefined;

const context: SampleContext = {
  plan: '/p/sosafe/plans/2024-25',
  demoPassword: TEST_PASSWORD,
  async sectionId(number) {
    const section = (await demoTree()).sections.find((s) => s.number === number);
    if (!section) throw new Error(`No section ${number} in the demo plan`);
    return section.id;
  },
  async actionId(aimNumber, place) {
    const action = findAim(await demoTree(), aimNumber).aim.actions[place - 1];
    if (!action) throw new Error(`Aim ${aimNumber} has no action ${place}`);
    return action.id;
  },
  async organisationId(name) {
    const parties = (await demoTree()).sections
      .flatMap((s) => s.aims)
      .flatMap((a) => a.actions)
      .flatMap((a) => [...a.leads, ...a.partners]);
    const party = parties.find((p) => p.organisation === name);
    if (!party) throw new Error(`No organisation ${name} in the demo plan`);
    return party.organisationId;
  },
  freeSectionNumber() {
    if (nextSectionNumber > 99) throw new Error('The permission test ran out of section numbers');
    return nextSectionNumber++;
  },
  async newSection() {
    const tree = await demoTree();
    const number = context.freeSectionNumber();
    const row = await t.services.edit.createSection(actor, tree.plan.id, {
      number,
      title: `Permission check section ${number}`,
    });
    return { id: row.id, number: row.number, version: row.version };
  },
  async newAim() {
    scratchSection ??= await context.newSection();
    scratchAimCount += 1;
    const number = `${scratchSection.number}.${scratchAimCount}`;
    const row = await t.services.edit.createAim(actor, scratchSection.id, {
      number,
      title: `Permission check aim ${number}`,
    });
    return { id: row.id, number: row.number, version: row.version };
  },
  async priorityId(title) {
    const priority = (await demoTree()).priorities.find((p) => p.title === title);
    if (!priority) throw new Error(`No priority ${title} in the demo plan`);
    return priority.id;
  },
  async priorityLinksBasis() {
    const partnership = (await demoTree()).partnership;
    return (await t.services.policeTrends.links(actor, partnership)).basis;
  },
  async newPriority() {
    const row = await t.services.priorities.create(actor, (await demoTree()).plan.id, {
      title: 'Permission check priority',
    });
    return { id: row.id, version: row.version };
  },
  async quarter(quarter, phase) {
    const planId = (await demoTree()).plan.id;
    const start = Number((await demoTree()).plan.year.slice(0, 4));
    // Due on the 14th of the month after the quarter ends; reported to the board a week later.
    const month = ((quarter * 3 + 3) % 12) + 1;
    const year = quarter === 4 || month < 4 ? start + 1 : start;
    const dueOn = `${year}-${String(month).padStart(2, '0')}-14`;
    if (!(await t.services.cycles.get(actor, planId, quarter))) {
      await t.services.cycles.open(actor, planId, { quarter, dueOn }, { baseUrl: 'http://localhost' });
    }
    const cycle = (await t.services.cycles.get(actor, planId, quarter))!;
    if (phase === 'closed' && cycle.phase !== 'closed') {
      await t.services.cycles.close(actor, cycle.id, {
        reportedOn: `${year}-${String(month).padStart(2, '0')}-21`,
        version: cycle.version,
      });
    }
  },
  async newAction(leads = '') {
    scratchAim ??= await context.newAim();
    const row = await t.services.edit.createAction(actor, scratchAim.id, {
      description: 'Permission check action',
      leads,
    });
    return { id: row.id, version: row.version };
  },
  async newComment(aimNumber, author) {
    const partnershipId = await demoPartnershipId();
    const member = await t.services.users.getMember(await userIdOf(EMAILS[author]), partnershipId);
    const aim = findAim(await demoTree(), aimNumber).aim;
    const { id } = await t.services.comments.add(t.services.memberActor(member!), aim.id, {
      text: `Permission check comment by the ${author}`,
    });
    const comment = await t.services.comments.get(actor, id);
    return { id, version: comment.version };
  },
  async membershipId(account) {
    return (await membershipOf(EMAILS[account])).id;
  },
  async newMember(options = {}) {
    const email = context.newEmail();
    await addUser(
      t.database.db,
      {
        email,
        name: 'Permission Check Member',
        password: TEST_PASSWORD,
        partnership: 'sosafe',
        role: 'partner',
      },
      actor,
    );
    const member = await membershipOf(email);
    if (!options.deactivated) return member;
    await t.services.accounts.deactivateMember(actor, await demoPartnershipId(), member.id, {
      version: member.version,
    });
    return membershipOf(email);
  },
  async newInvitation() {
    const email = context.newEmail();
    const { invitationId } = await t.services.accounts.inviteMember(
      actor,
      await demoPartnershipId(),
      { email, name: 'Permission Check Invitee', role: 'partner' },
      links,
    );
    return { id: invitationId, token: await emailedToken(email, '/invitations') };
  },
  async newPasswordReset() {
    const email = context.newEmail();
    await addUser(
      t.database.db,
      {
        email,
        name: 'Permission Check Reset',
        password: TEST_PASSWORD,
        partnership: 'sosafe',
        role: 'partner',
      },
      actor,
    );
    await t.services.accounts.requestPasswordReset({ email }, links);
    return { token: await emailedToken(email, '/reset-password') };
  },
  async newApiToken() {
    const { id } = await t.services.apiTokens.issue(actor, await demoPartnershipId(), {
      name: 'Permission check token',
    });
    return { id };
  },
  newEmail() {
    return `someone-${++emailCount}@permission-check.example`;
  },
  async newFundingLine(leads = '') {
    const action = await context.newAction(leads);
    const aim = (await demoTree()).sections
      .flatMap((s) => s.aims)
      .find((a) => a.actions.some((x) => x.id === action.id));
    if (!aim) throw new Error(`No aim holds the new action ${action.id}`);
    const line = await t.services.funding.create(actor, aim.id, {
      actionId: String(action.id),
      source: 'Permission check fund',
      amount: '100',
      state: 'applied',
      appliedOn: '2024-05-01',
    });
    return { id: line.id, version: line.version, aimNumber: aim.number, actionId: action.id };
  },
  async newPlanSheetUpload() {
    const tree = await demoTree();
    const member = await t.services.users.getMember(await userIdOf(DEMO.coordinator), tree.partnership.id);
    if (!member) throw new Error('The demo coordinator holds no role in the demo partnership');
    const coordinator = t.services.memberActor(member);
    const csv = await t.services.planSheet.export(coordinator, tree.partnership, tree.plan.year, 'csv');
    const upload = await t.services.planSheet.upload(coordinator, tree.partnership, tree.plan.year, {
      filename: csv.filename,
      data: csv.body,
    });
    if (!upload.ok) throw new Error(`The plan's own CSV was refused: ${JSON.stringify(upload.problems)}`);
    return { id: upload.uploadId, fingerprint: upload.preview.fingerprint };
  },
  wordPlanDocx: smallWordPlan,
  async newWordUpload() {
    const tree = await demoTree();
    const member = await t.services.users.getMember(await userIdOf(DEMO.coordinator), tree.partnership.id);
    if (!member) throw new Error('The demo coordinator holds no role in the demo partnership');
    return newWordUpload(t.services, t.services.memberActor(member), tree.partnership.id);
  },
  async newPublishedAim() {
    const aim = await context.newAim();
    const { partnership, plan } = await demoTree();
    const form = { version: String(aim.version) };
    const published = await t.services.publicPlan.publish(actor, partnership.id, plan.year, aim.number, form);
    return { id: aim.id, number: aim.number, version: published.version };
  },
  async newProgressUpdate() {
    const action = await context.newAction();
    const saved = await t.services.progress.save(actor, action.id, {
      quarter: '3',
      status: 'on_track',
      text: 'Permission check progress',
    });
    const aim = (await demoTree()).sections
      .flatMap((s) => s.aims)
      .find((a) => a.actions.some((x) => x.id === action.id));
    if (!aim) throw new Error(`No aim holds the new action ${action.id}`);
    return { id: saved.id, version: saved.version, aimNumber: aim.number };
  },
  async newCaseReview(officer) {
    const partnershipId = await demoPartnershipId();
    const created = await t.services.caseReviews.create(actor, partnershipId, {
      receivedOn: '2024-06-03',
      applicantName: 'Permission Check Applicant',
      tenure: 'council',
      caseOfficerUserId: officer === 'lead' ? String(await userIdOf(DEMO.lead)) : '',
      complaints: ['2024-01-10', '2024-03-02', '2024-05-01'].map((complainedOn) => ({
        complainedOn,
        agency: 'Police',
      })),
    });
    const { version } = await t.services.caseReviews.recordReview(actor, partnershipId, created.id, {
      reviewOn: '2024-06-20',
      panel: 'Permission check panel',
      version: '1',
    });
    const recommendation = await t.services.caseReviews.addRecommendation(actor, partnershipId, created.id, {
      text: 'Permission check recommendation',
      owner: 'SBC',
    });
    return {
      id: created.id,
      version,
      recommendationId: recommendation.id,
      recommendationVersion: recommendation.version,
    };
  },
  async caseReviewSettingsVersion() {
    return (await t.services.caseReviews.settings(actor, await demoPartnershipId())).version;
  },
  async newPoliceUkImport() {
    const tree = await demoTree();
    const member = await t.services.users.getMember(await userIdOf(DEMO.coordinator), tree.partnership.id);
    if (!member) throw new Error('The demo coordinator holds no role in the demo partnership');
    const file = path.join(os.tmpdir(), `pp-permissions-${crypto.randomUUID()}.csv`);
    fs.writeFileSync(file, POLICE_UK_SAMPLE);
    const [id] = await t.services.policeUpload.start(t.services.memberActor(member), 'sosafe', [
      { filename: 'sample-street.csv', path: file, bytes: POLICE_UK_SAMPLE.length },
    ]);
    await t.services.policeUpload.idle();
    return { id: id! };
  },
};

// ——— Asking, and reading the answer ———
function outcomeOf(response: LightMyRequestResponse): Outcome | `status ${number}` {
  const status = response.statusCode;
  if (status >= 300 && status < 400) {
    return /^\/sign-in(\?|$)/.test(String(response.headers.location ?? '')) ? 'sign-in' : 'ok';
  }
  if (status >= 200 && status < 300) return 'ok';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status === 401) return 'unauthorized';
  return `status ${status}`;
}

async function ask(session: Session, method: string, sample: SampleRequest) {
  if (method === 'GET') return session.get(sample.url);
  if (method !== 'POST') throw new Error(`The test cannot make a ${method} request yet`);
  const form = { _csrf: await csrfToken(session), ...sample.form };
  if (sample.files) return session.postMultipart(sample.url, form, sample.files);
  return session.postRaw(sample.url, form);
}

/**
 * The latest audit event's id (0 before the first): it grows with every event written, and is read
 * from the key's index (a count of the whole trail, read twice a case, was a tenth of the queries).
 */
async function latestAuditEvent(): Promise<number> {
  const [row] = await t.database.db.select({ id: max(auditEvents.id) }).from(auditEvents);
  return Number(row?.id ?? 0);
}

describe('the permission table', () => {
  it('has an entry for every route the app registers, and no entry without a route', () => {
    const keys = new Set(registered.map((r) => routeKey(r.method, r.url)));
    // Fastify answers HEAD as the GET of the same URL.
    const routes = [...keys].filter((k) => !(k.startsWith('HEAD ') && keys.has(`GET ${k.slice(5)}`)));
    const declared = ROUTE_PERMISSIONS.map((r) => routeKey(r.method, r.url));
    expect(
      routes.filter((k) => !declared.includes(k)),
      'routes with no entry in the table',
    ).toEqual([]);
    expect(
      declared.filter((k) => !routes.includes(k)),
      'entries with no such route',
    ).toEqual([]);
    expect(
      declared.filter((k, i) => declared.indexOf(k) !== i),
      'entries listed twice',
    ).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(45);
  });

  it('declares an outcome for every audience in every case', () => {
    for (const route of ROUTE_PERMISSIONS) {
      expect(route.cases.length, routeKey(route.method, route.url)).toBeGreaterThan(0);
      for (const c of route.cases) expect(Object.keys(c.expect).sort()).toEqual([...AUDIENCES].sort());
    }
  });

  it('has audiences with no reviewer among them: the review routes are the coordinator’s here', async () => {
    // A partner or lead officer the coordinator makes a reviewer may review too (see
    // quarter-reviewers.test.ts); the table's outcomes are for the demo accounts as they are.
    const reviewers = await t.database.db
      .select({ email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.reviewsUpdates, true));
    expect(reviewers).toEqual([]);
  });
});

describe('every state-changing route refuses a request without its CSRF token', () => {
  for (const route of ROUTE_PERMISSIONS.filter((r) => r.method !== 'GET')) {
    const routeCase = route.cases[0]!;
    // As the first signed-in audience the route serves, or signed out if it serves none of them.
    const audience: Audience =
      AUDIENCES.find((a) => a !== 'signedOut' && !['forbidden', 'not-found'].includes(routeCase.expect[a])) ??
      'signedOut';
    it(`${route.method} ${route.url}`, async () => {
      const session =
        routeCase.ownSession || routeCase.ownAccount
          ? await newSession(audience, { own: true, ownAccount: routeCase.ownAccount })
          : sessions.get(audience)!;
      const sample = await routeCase.sample(context);
      const before = await latestAuditEvent();
      for (const token of [undefined, 'not-a-token']) {
        const form = { ...(token === undefined ? {} : { _csrf: token }), ...sample.form };
        const response = sample.files
          ? await session.postMultipart(sample.url, form, sample.files)
          : await session.postRaw(sample.url, form);
        expect(response.statusCode, `${sample.url} with ${token ?? 'no token'}`).toBe(403);
      }
      expect(await latestAuditEvent(), 'a refused request wrote to the audit trail').toBe(before);
    });
  }
});

for (const route of ROUTE_PERMISSIONS) {
  describe(`${route.method} ${route.url}`, () => {
    for (const routeCase of route.cases) {
      for (const audience of AUDIENCES) {
        const expected = routeCase.expect[audience];
        const name = `${routeCase.what ? `${routeCase.what}: ` : ''}${audience} → ${expected}`;
        it(name, async () => {
          const session =
            routeCase.ownSession || routeCase.ownAccount
              ? await newSession(audience, { own: true, ownAccount: routeCase.ownAccount })
              : sessions.get(audience)!;
          const sample = await routeCase.sample(context);
          const before = await latestAuditEvent();
          const response = await ask(session, route.method, sample);
          const where = `${route.method} ${sample.url} as ${audience} answered ${response.statusCode} ${String(
            response.headers.location ?? '',
          )}`;
          let outcome = outcomeOf(response);
          if (outcome === 'sign-in' && expected === 'signed-out') {
            // Sent to sign in; is the session really no longer signed in?
            const after = await session.get('/');
            if (outcomeOf(after) === 'sign-in') outcome = 'signed-out';
          }
          expect(outcome, where).toBe(expected);
          if (expected === 'forbidden' || expected === 'not-found') {
            expect(await latestAuditEvent(), `${where}: a refused request wrote to the audit trail`).toBe(
              before,
            );
          }
        });
      }
    }
  });
}
