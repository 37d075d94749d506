/**
 * The lead officer's side of the quarterly cycle, through the pages: the update form (draft,
 * submit, errors, the due date, late marking, a returned update's comment, amendments after the
 * quarter is closed) and "Your Q4 updates", every action she leads on one page, saved all or
 * nothing. Quarters: Q4 is opened with a due date long past, Q3 is open and due in a month, Q2
 * is opened and closed, Q1 is never opened. Each test works on actions of its own.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressUpdates, quarterCycles, sessions, users } from '../../src/db/schema.js';
import { addDays, londonDate } from '../../src/domain/cycles.js';
import { systemActor } from '../../src/services/actor.js';
import type { Actor } from '../../src/services/index.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { addUser } from '../../src/services/users.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';

const base = '/p/sosafe/plans/2024-25';
const links = { baseUrl: 'http://plan.test' };
const system = systemActor('progress pages test');

let t: TestApp;
let helen: Session;
let coordinator: Session;
let planId: number;
let partnershipId: number;
let scratchAimId: number;
let scratchAimNumber: string;

const tree = async (): Promise<PlanTree> =>
  (await t.services.plans.openPlan(system, 'sosafe', '2024/25')).tree;

async function memberActor(email: string): Promise<Actor> {
  const [user] = await t.database.db.select({ id: users.id }).from(users).where(eq(users.email, email));
  const member = await t.services.users.getMember(user!.id, partnershipId);
  return t.services.memberActor(member!);
}

let actionCount = 0;
/** A new action of the scratch aim that Helen Whitehead leads by name (or someone else, if given). */
async function newAction(leads = 'CCSU: Helen Whitehead'): Promise<{ id: number; index: number }> {
  actionCount += 1;
  const row = await t.services.edit.createAction(system, scratchAimId, {
    description: `Progress pages check action ${actionCount}`,
    leads,
  });
  const aim = findAim(await tree(), scratchAimNumber).aim;
  return { id: row.id, index: aim.actions.findIndex((a) => a.id === row.id) + 1 };
}

async function updateRow(actionId: number, quarter: number) {
  const [row] = await t.database.db
    .select()
    .from(progressUpdates)
    .where(and(eq(progressUpdates.actionId, actionId), eq(progressUpdates.quarter, quarter)));
  return row;
}

const formUrl = (actionId: number, quarter: number) =>
  `${base}/actions/${actionId}/progress?quarter=${quarter}`;

/** The page's text, without tags, each run of white space as one space. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');

function flashOf(html: string): string {
  const banner = /data-testid="flash"[\s\S]*?govuk-notification-banner__heading">([\s\S]*?)<\/p>/.exec(html);
  return textOf(banner?.[1] ?? '').trim();
}

function errorSummaryLinks(html: string): string[] {
  const summary = /govuk-error-summary[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/href="(#[^"]+)"/g)].map((m) => m[1]!);
}

beforeAll(async () => {
  t = await createTestApp();
  const plan = await tree();
  planId = plan.plan.id;
  partnershipId = plan.partnership.id;
  const section = await t.services.edit.createSection(system, planId, {
    number: 40,
    title: 'Progress pages check section',
  });
  const aim = await t.services.edit.createAim(system, section.id, {
    number: '40.1',
    title: 'Progress pages check aim',
  });
  scratchAimId = aim.id;
  scratchAimNumber = aim.number;

  // Q4: opened with a due date long past, so every submission is late.
  await t.services.cycles.open(system, planId, { quarter: 4, dueOn: '2025-04-14' }, links);
  // Q3: open, due a month from today (made directly: the service only takes dates near the quarter).
  await t.database.db.insert(quarterCycles).values({
    partnershipId,
    planId,
    quarter: 3,
    dueOn: addDays(londonDate(new Date()), 30),
  });
  // Q2: opened, then closed as reported to the board on 17 October 2024.
  const q2 = await t.services.cycles.open(system, planId, { quarter: 2, dueOn: '2024-10-14' }, links);
  await t.services.cycles.close(system, q2.cycle.id, { reportedOn: '2024-10-17', version: q2.cycle.version });

  helen = new Session(t.app);
  await helen.signIn(DEMO.lead);
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
});
afterAll(async () => {
  await t?.close();
});

describe('the update form', () => {
  it('shows the quarter’s due date, and no late warning before it', async () => {
    const action = await newAction();
    const page = await helen.get(formUrl(action.id, 3));
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain(
      `Due by ${londonDateLong(new Date(`${addDays(londonDate(new Date()), 30)}T12:00:00Z`))}`,
    );
    expect(page.body).not.toContain('data-testid="late-warning"');
    expect(page.body).toContain('Submit update');
    expect(page.body).toContain('Save as draft');
    expect(page.body).toMatch(
      /<input[^>]+name="evidenceUrl"[^>]+type="url"|<input[^>]+type="url"[^>]+name="evidenceUrl"/,
    );
    expect(text).toContain('Link to evidence (optional)');
  });

  it('saves a draft that only the form shows, then submits it', async () => {
    const action = await newAction();
    const draft = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'on_track',
      text: 'Draft: sessions planned with the Lister',
      evidenceUrl: '',
      intent: 'draft',
    });
    expect(draft.statusCode).toBe(303);
    expect(draft.headers.location).toBe(`${base}/aims/${scratchAimNumber}#action-${action.index}`);
    const aim = await helen.get(String(draft.headers.location).split('#')[0]!);
    expect(flashOf(aim.body)).toBe(`Your Q3 update for aim ${scratchAimNumber} has been saved as a draft`);
    // A draft is not on the plan's pages.
    expect(aim.body).not.toContain('Draft: sessions planned with the Lister');
    expect((await updateRow(action.id, 3))?.state).toBe('draft');

    const form = await helen.get(formUrl(action.id, 3));
    expect(form.body).toContain('Draft: sessions planned with the Lister');
    expect(form.body).toMatch(/value="on_track" checked/);
    expect(textOf(form.body)).toContain('Draft saved');
    const version = /name="version" value="(\d+)"/.exec(form.body)?.[1];
    expect(version).toBeDefined();

    const submitted = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'on_track',
      text: 'Sessions held with the Lister',
      evidenceUrl: 'https://example.org/lister-report',
      version: version!,
      intent: 'submit',
    });
    expect(submitted.statusCode).toBe(303);
    const after = await helen.get(`${base}/aims/${scratchAimNumber}`);
    expect(flashOf(after.body)).toBe(`Your Q3 update for aim ${scratchAimNumber} has been submitted`);
    expect(after.body).toContain('Sessions held with the Lister');
    const row = await updateRow(action.id, 3);
    expect(row).toMatchObject({
      state: 'submitted',
      late: false,
      evidenceUrl: 'https://example.org/lister-report',
    });
    const again = await helen.get(formUrl(action.id, 3));
    expect(textOf(again.body)).toContain(`Submitted on ${londonDateLong(new Date())}.`);
    expect(again.body).toContain('value="https://example.org/lister-report"');
  });

  it('reads the partnership and who she is there once, not again for each save, until a membership changes', async () => {
    const action = await newAction();
    const save = (text: string, version?: string) =>
      helen.post(formUrl(action.id, 3), {
        quarter: '3',
        status: 'on_track',
        text,
        evidenceUrl: '',
        intent: 'draft',
        ...(version ? { version } : {}),
      });
    // The queries the app makes outside its transactions: each is prepared by the handle's session.
    const session = t.database.db._.session;
    const prepareQuery = session.prepareQuery.bind(session);
    const made: string[] = [];
    session.prepareQuery = ((...args: Parameters<typeof prepareQuery>) => {
      made.push(args[2] ?? args[0].sql);
      return prepareQuery(...args);
    }) as typeof prepareQuery;
    const partnershipReads = () => made.filter((q) => q === 'read_partnership_member').length;
    try {
      expect((await save('First')).statusCode).toBe(303);
      made.length = 0;
      expect((await save('Second', String((await updateRow(action.id, 3))!.version))).statusCode).toBe(303);
      expect((await save('Third', String((await updateRow(action.id, 3))!.version))).statusCode).toBe(303);
      expect((await updateRow(action.id, 3))?.text).toBe('Third');
      expect(made, 'the session is read again after each save').toContain('read_session');
      expect(partnershipReads(), 'the partnership and member are kept past the saves').toBe(0);

      await t.database.db.update(users).set({ name: 'Helen Whitehead' }).where(eq(users.email, DEMO.lead));
      made.length = 0;
      expect((await save('Fourth', String((await updateRow(action.id, 3))!.version))).statusCode).toBe(303);
      expect(partnershipReads(), 'an account changed: read again').toBe(1);
    } finally {
      session.prepareQuery = prepareQuery;
    }
  });

  it('says the update was saved on the next page only, and never shows a message the service did not sign', async () => {
    const action = await newAction();
    const saved = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'at_risk',
      text: 'Venue lost: looking for another',
      evidenceUrl: '',
      intent: 'submit',
    });
    expect(saved.statusCode).toBe(303);
    // The message travels in a cookie of its own: the session's row is not written for it.
    expect(String(saved.headers['set-cookie'])).toMatch(/pp_flash=[^;]+; Max-Age=600; Path=\/; HttpOnly/);
    const [session] = await t.database.db
      .select({ data: sessions.data })
      .from(sessions)
      .where(eq(sessions.sid, helen.sid));
    expect(JSON.stringify(session!.data)).not.toContain('has been submitted');
    const aimPage = `${base}/aims/${scratchAimNumber}`;
    expect(flashOf((await helen.get(aimPage)).body)).toBe(
      `Your Q3 update for aim ${scratchAimNumber} has been submitted`,
    );
    expect(flashOf((await helen.get(aimPage)).body)).toBe('');

    const forged = (value: string) =>
      t.app.inject({
        method: 'GET',
        url: aimPage,
        headers: { cookie: `${helen.cookie}; pp_flash=${value}` },
      });
    const words = Buffer.from('Your account is locked: call 0900 000 000').toString('base64url');
    for (const value of [words, `${words}.not-the-signature`]) {
      const page = await forged(value);
      expect(page.statusCode).toBe(200);
      expect(flashOf(page.body)).toBe('');
      expect(page.body).not.toContain('Your account is locked');
    }
  });

  it('shows the error summary for a submit without a status, keeping what was typed', async () => {
    const action = await newAction();
    const response = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      text: 'Half written <b>update</b>',
      evidenceUrl: 'https://example.org/half',
      intent: 'submit',
    });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('There is a problem');
    expect(errorSummaryLinks(response.body)).toContain('#status');
    expect(response.body).toContain('Half written &lt;b&gt;update&lt;/b&gt;');
    expect(response.body).toContain('value="https://example.org/half"');
    expect(await updateRow(action.id, 3)).toBeUndefined();
  });

  it('refuses an evidence link that is not a web address, next to its field', async () => {
    const action = await newAction();
    const response = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'at_risk',
      text: 'With a bad link',
      evidenceUrl: 'javascript:alert(1)',
      intent: 'submit',
    });
    expect(response.statusCode).toBe(400);
    expect(errorSummaryLinks(response.body)).toEqual(['#evidenceUrl']);
    expect(response.body).toMatch(/id="evidenceUrl-error"/);
    expect(response.body).toContain('With a bad link');
    expect(await updateRow(action.id, 3)).toBeUndefined();
  });

  it('warns that an update is late after the due date, and marks it late when submitted', async () => {
    const action = await newAction();
    const form = await helen.get(formUrl(action.id, 4));
    const text = textOf(form.body);
    expect(text).toContain('Due by 14 April 2025');
    expect(text).toContain('This update is late: it will be marked late');
    const saved = await helen.post(formUrl(action.id, 4), {
      quarter: '4',
      status: 'complete',
      text: 'Done, after the due date',
      evidenceUrl: 'https://www.stevenage.gov.uk/news/hate-crime-week?from=<plan>',
      intent: 'submit',
    });
    expect(saved.statusCode).toBe(303);
    const aim = await helen.get(`${base}/aims/${scratchAimNumber}`);
    expect(flashOf(aim.body)).toBe(`Your Q4 update for aim ${scratchAimNumber} has been submitted (late)`);
    // The aim's page marks it late and links to its evidence, the address escaped.
    expect(aim.body).toMatch(/data-testid="late-q4-\d+">Late</);
    expect(aim.body).toContain(
      'href="https://www.stevenage.gov.uk/news/hate-crime-week?from=&lt;plan&gt;" rel="noopener noreferrer">Evidence',
    );
    expect(await updateRow(action.id, 4)).toMatchObject({ state: 'submitted', late: true });
    expect(textOf((await helen.get(formUrl(action.id, 4))).body)).toMatch(
      /Submitted on \d{1,2} \w+ \d{4} \(late\)/,
    );
  });

  it('takes an update for a quarter never opened, as submitted and not late, with no cycle shown', async () => {
    const action = await newAction();
    const form = await helen.get(formUrl(action.id, 1));
    expect(form.body).not.toContain('data-testid="cycle"');
    const saved = await helen.post(formUrl(action.id, 1), {
      quarter: '1',
      status: 'not_started',
      text: 'Recorded for a quarter never opened',
      intent: 'submit',
    });
    expect(saved.statusCode).toBe(303);
    expect(await updateRow(action.id, 1)).toMatchObject({ state: 'submitted', late: false });
  });

  it('shows the reviewer’s comment on a returned update, and resubmitting makes it submitted', async () => {
    const action = await newAction();
    await helen.post(formUrl(action.id, 4), {
      quarter: '4',
      status: 'on_track',
      text: 'First go',
      intent: 'submit',
    });
    const row = await updateRow(action.id, 4);
    await t.services.progress.review(
      await memberActor(DEMO.coordinator),
      row!.id,
      { decision: 'return', comment: 'Say how many sessions were held & where', version: row!.version },
      links,
    );
    const form = await helen.get(formUrl(action.id, 4));
    expect(form.body).toContain('data-testid="returned"');
    expect(form.body).toContain('Say how many sessions were held &amp; where');
    expect(textOf(form.body)).toContain('Returned for changes');

    const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
    const resubmitted = await helen.post(formUrl(action.id, 4), {
      quarter: '4',
      status: 'on_track',
      text: 'Four sessions held at the Lister',
      version,
      intent: 'submit',
    });
    expect(resubmitted.statusCode).toBe(303);
    expect((await updateRow(action.id, 4))?.state).toBe('submitted');
    expect((await helen.get(formUrl(action.id, 4))).body).not.toContain('data-testid="returned"');
  });

  it('shows "Accepted" once the coordinator accepts it', async () => {
    const action = await newAction();
    await helen.post(formUrl(action.id, 4), {
      quarter: '4',
      status: 'on_track',
      text: 'Good enough to accept',
      intent: 'submit',
    });
    const row = await updateRow(action.id, 4);
    await t.services.progress.review(
      await memberActor(DEMO.coordinator),
      row!.id,
      { decision: 'accept', comment: '', version: row!.version },
      links,
    );
    const form = await helen.get(formUrl(action.id, 4));
    expect(form.body).toContain('data-testid="update-state"');
    expect(textOf(form.body)).toContain(`Accepted on ${londonDateLong(new Date())}.`);
  });

  it('after the quarter is closed, says so and saves only an amendment', async () => {
    const action = await newAction();
    const form = await helen.get(formUrl(action.id, 2));
    expect(textOf(form.body)).toContain(
      'Q2 was reported to the board on 17 October 2024; what you save now is recorded as an amendment',
    );
    expect(form.body).toContain('Save amendment');
    expect(form.body).not.toContain('Save as draft');
    expect(form.body).not.toContain('Submit update');

    const draft = await helen.post(formUrl(action.id, 2), {
      quarter: '2',
      status: 'on_track',
      text: 'A draft is not allowed now',
      intent: 'draft',
    });
    expect(draft.statusCode).toBe(400);
    expect(draft.body).toContain('There is a problem');
    expect(await updateRow(action.id, 2)).toBeUndefined();

    const saved = await helen.post(formUrl(action.id, 2), {
      quarter: '2',
      status: 'on_track',
      text: 'Added after the board saw Q2',
      intent: 'submit',
    });
    expect(saved.statusCode).toBe(303);
    const aim = await helen.get(`${base}/aims/${scratchAimNumber}`);
    expect(flashOf(aim.body)).toBe(
      `Your Q2 update for aim ${scratchAimNumber} has been saved as an amendment`,
    );
    expect((await updateRow(action.id, 2))?.amendedAt).toBeInstanceOf(Date);
    // The live plan shows it as an amendment, with the way to what the board was shown.
    expect(aim.body).toMatch(/data-testid="amended-q2-\d+"><strong>Amended \d{1,2} \w+ \d{4}/);
    expect(aim.body).toContain(
      `after Q2 was reported to the board. <a class="govuk-link" href="${base}/quarters/2/snapshot">`,
    );
  });

  it('goes back to the one-page list when it came from there, and never off the plan', async () => {
    const action = await newAction();
    const listUrl = `${base}/quarters/3/updates`;
    const form = await helen.get(`${formUrl(action.id, 3)}&returnTo=${encodeURIComponent(listUrl)}`);
    expect(form.body).toContain(`name="returnTo" value="${listUrl}"`);
    const saved = await helen.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'on_track',
      text: 'Back to the list',
      intent: 'draft',
      returnTo: listUrl,
    });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(listUrl);

    const elsewhere = await helen.get(
      `${formUrl(action.id, 1)}&returnTo=${encodeURIComponent('//evil.example/x')}`,
    );
    expect(elsewhere.body).not.toContain('name="returnTo"');
    const offPlan = await helen.post(formUrl(action.id, 1), {
      quarter: '1',
      status: 'on_track',
      text: 'Not sent off the plan',
      intent: 'submit',
      returnTo: '/account',
    });
    expect(offPlan.headers.location).toBe(`${base}/aims/${scratchAimNumber}#action-${action.index}`);
  });

  it('refuses the form of an action she does not lead', async () => {
    const action = await newAction('Police: NPT Inspector');
    expect((await helen.get(formUrl(action.id, 4))).statusCode).toBe(403);
  });
});

describe('your updates, on one page', () => {
  const listUrl = (q: number) => `${base}/quarters/${q}/updates`;

  it('lists every action she leads with its fields, and links to it from the plan', async () => {
    const action = await newAction();
    const page = await helen.get(listUrl(4));
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('Your Q4 2024/25 updates');
    expect(text).toContain('Due by 14 April 2025');
    const aim31 = findAim(await tree(), '3.1').aim;
    for (const [i, led] of aim31.actions.slice(0, 2).entries()) {
      expect(text).toContain(`Aim 3.1, action ${i + 1}:`);
      expect(page.body).toContain(`name="status-${led.id}"`);
      expect(page.body).toContain(`name="text-${led.id}"`);
      expect(page.body).toContain(`name="evidenceUrl-${led.id}"`);
    }
    // Action 3 of 3.1 is led by someone else.
    expect(page.body).not.toContain(`name="text-${aim31.actions[2]!.id}"`);
    expect(page.body).toContain(`name="text-${action.id}"`);
    // The previous quarter's update, for context (the demo has Helen's Q2 for action 1 of 3.1).
    expect(page.body).toContain(`data-testid="previous-${aim31.actions[0]!.id}"`);
    expect(page.body).toContain('Submit all');
    expect(page.body).toContain('Save all as drafts');

    const plan = await helen.get(base);
    expect(plan.body).toContain(`href="${listUrl(4)}"`);
    expect(textOf(plan.body)).toContain('Your updates for Q4');
    const partner = new Session(t.app);
    await partner.signIn(DEMO.partner);
    expect((await partner.get(base)).body).not.toContain(`href="${listUrl(4)}"`);
  });

  it('saves nothing when any action has an error, and links the error summary to its field', async () => {
    const good = await newAction();
    const bad = await newAction();
    const response = await helen.post(listUrl(4), {
      [`status-${good.id}`]: 'on_track',
      [`text-${good.id}`]: 'A good update',
      [`text-${bad.id}`]: 'An update with no status',
      intent: 'submit',
    });
    expect(response.statusCode).toBe(400);
    expect(errorSummaryLinks(response.body)).toEqual([`#status-${bad.id}`]);
    expect(response.body).toContain(`id="status-${bad.id}"`);
    // What was typed is still there.
    expect(response.body).toContain('A good update');
    expect(response.body).toContain('An update with no status');
    // All or nothing: the good one was not saved either.
    expect(await updateRow(good.id, 4)).toBeUndefined();
    expect(await updateRow(bad.id, 4)).toBeUndefined();
  });

  it('submits several updates at once, and leaves blank ones alone', async () => {
    const first = await newAction();
    const second = await newAction();
    const blank = await newAction();
    const response = await helen.post(listUrl(4), {
      [`status-${first.id}`]: 'on_track',
      [`text-${first.id}`]: 'First of several',
      [`status-${second.id}`]: 'at_risk',
      [`text-${second.id}`]: 'Second of several',
      [`evidenceUrl-${second.id}`]: 'https://example.org/second',
      intent: 'submit',
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(listUrl(4));
    const page = await helen.get(listUrl(4));
    expect(flashOf(page.body)).toBe('Your Q4 updates for 2 actions have been submitted');
    expect(await updateRow(first.id, 4)).toMatchObject({
      state: 'submitted',
      late: true,
      text: 'First of several',
    });
    expect(await updateRow(second.id, 4)).toMatchObject({
      state: 'submitted',
      evidenceUrl: 'https://example.org/second',
    });
    expect(await updateRow(blank.id, 4)).toBeUndefined();
    // Shown with their state, ready to change.
    expect(stateOf(page.body, first.id)).toContain('Submitted');
    expect(stateOf(page.body, first.id)).toContain('Late');
    expect(stateOf(page.body, blank.id)).toContain('No update yet');
    expect(page.body).toContain('First of several');

    // Sent again as it stands, an update already submitted is not saved again.
    const before = await updateRow(first.id, 4);
    const again = await helen.post(listUrl(4), {
      [`status-${first.id}`]: 'on_track',
      [`text-${first.id}`]: 'First of several',
      [`evidenceUrl-${first.id}`]: '',
      [`version-${first.id}`]: String(before!.version),
      intent: 'submit',
    });
    expect(again.statusCode).toBe(303);
    expect((await updateRow(first.id, 4))?.version).toBe(before!.version);
  });

  it('saves drafts', async () => {
    const action = await newAction();
    const saved = await helen.post(listUrl(3), {
      [`text-${action.id}`]: 'A draft from the list',
      intent: 'draft',
    });
    expect(saved.statusCode).toBe(303);
    expect(flashOf((await helen.get(listUrl(3))).body)).toBe(
      'Your Q3 updates for 1 action have been saved as drafts',
    );
    expect(await updateRow(action.id, 3)).toMatchObject({ state: 'draft', text: 'A draft from the list' });
  });

  it('a stale save is a conflict: nothing is saved, theirs is shown and what was typed is kept', async () => {
    const action = await newAction();
    await helen.post(listUrl(3), { [`text-${action.id}`]: 'Helen’s first draft', intent: 'draft' });
    const loaded = await helen.get(listUrl(3));
    const version = new RegExp(`name="version-${action.id}" value="(\\d+)"`).exec(loaded.body)?.[1];
    expect(version).toBeDefined();
    // Meanwhile the coordinator submits it from its own form.
    const changed = await coordinator.post(formUrl(action.id, 3), {
      quarter: '3',
      status: 'at_risk',
      text: 'The coordinator’s version',
      version: version!,
      intent: 'submit',
    });
    expect(changed.statusCode).toBe(303);

    const token = /name="_csrf" value="([^"]+)"/.exec(loaded.body)![1]!;
    const stale = await helen.postRaw(listUrl(3), {
      _csrf: token,
      [`status-${action.id}`]: 'on_track',
      [`text-${action.id}`]: 'Helen typed this',
      [`version-${action.id}`]: version!,
      intent: 'submit',
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-testid="conflict"');
    expect(stale.body).toContain(`data-testid="conflict-${action.id}"`);
    expect(stale.body).toContain('The coordinator’s version');
    expect(stale.body).toContain('Helen typed this');
    expect(stale.body).toContain(`name="version-${action.id}" value="${Number(version) + 1}"`);
    expect(await updateRow(action.id, 3)).toMatchObject({
      text: 'The coordinator’s version',
      state: 'submitted',
    });
  });

  it('tells a lead officer who leads nothing so', async () => {
    await addUser(
      t.database.db,
      {
        email: 'new.lead@sosafe.example',
        name: 'New Lead',
        password: TEST_PASSWORD,
        partnership: 'sosafe',
        role: 'lead_officer',
      },
      system,
    );
    const s = new Session(t.app);
    await s.signIn('new.lead@sosafe.example');
    const page = await s.get(listUrl(4));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="nothing-led"');
    expect(textOf(page.body)).toContain('You do not lead any actions');
    expect(page.body).not.toContain('Submit all');
  });

  it('is for lead officers and the coordinator: partners and the board are refused, and the signed out sent to sign in', async () => {
    expect((await coordinator.get(listUrl(4))).statusCode).toBe(200);
    for (const email of [DEMO.partner, DEMO.board]) {
      const s = new Session(t.app);
      await s.signIn(email);
      expect((await s.get(listUrl(4))).statusCode, email).toBe(403);
      const token = /name="_csrf" value="([^"]+)"/.exec((await s.get(base)).body)![1]!;
      expect((await s.postRaw(listUrl(4), { _csrf: token, intent: 'draft' })).statusCode, email).toBe(403);
    }
    const signedOut = await new Session(t.app).get(listUrl(4));
    expect(signedOut.statusCode).toBe(302);
    expect(signedOut.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(listUrl(4))}`);
    expect((await helen.get(`${base}/quarters/5/updates`)).statusCode).toBe(404);
  });

  it('after the quarter is closed, saves amendments only', async () => {
    const action = await newAction();
    const page = await helen.get(listUrl(2));
    expect(textOf(page.body)).toContain('Q2 was reported to the board on 17 October 2024');
    expect(page.body).toContain('Save amendments');
    expect(page.body).not.toContain('Save all as drafts');
    const saved = await helen.post(listUrl(2), {
      [`status-${action.id}`]: 'complete',
      [`text-${action.id}`]: 'Amended from the list',
      intent: 'submit',
    });
    expect(saved.statusCode).toBe(303);
    expect(flashOf((await helen.get(listUrl(2))).body)).toBe(
      'Your amendments to Q2 for 1 action have been saved',
    );
    expect((await updateRow(action.id, 2))?.amendedAt).toBeInstanceOf(Date);
  });
});

/** The state tags shown for an action on the one-page list. */
function stateOf(html: string, actionId: number): string {
  return textOf(new RegExp(`data-testid="state-${actionId}">([\\s\\S]*?)</p>`).exec(html)?.[1] ?? '');
}

function londonDateLong(at: Date): string {
  return at.toLocaleDateString('en-GB', {
    timeZone: 'Europe/London',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}
