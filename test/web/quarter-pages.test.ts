/**
 * The coordinator's pages of the quarterly cycle, over the demo plan: the four quarters; opening
 * Q4 through its form (and what the form refuses); the submission board and its filters; asking
 * for outstanding updates; JAG review; closing; and the snapshot with its CSV and JSON, unchanged
 * by later edits. Lead officers, partners and the board see the board and are refused the rest.
 *
 * One quarter is run from opening to the board, so the tests of Q4 follow each other in order.
 */
import { parse } from 'csv-parse/sync';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emails, quarterCycles, users } from '../../src/db/schema.js';
import { systemActor, type Actor } from '../../src/services/actor.js';
import { allAims, findAim, type PlanTree } from '../../src/services/plan-read.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
type Who = 'coordinator' | 'lead' | 'partner' | 'board';
const s = {} as Record<Who, Session>;
const system = systemActor('quarter pages test');
const base = '/p/sosafe/plans/2024-25';
const q4 = `${base}/quarters/4`;

let tree: PlanTree;
let helen: Actor;
/** The two actions of aim 3.1 that Helen Whitehead (the demo lead officer) leads. */
let helens: [number, number];

beforeAll(async () => {
  t = await createTestApp();
  for (const who of ['coordinator', 'lead', 'partner', 'board'] as const) {
    s[who] = new Session(t.app);
    await s[who].signIn(DEMO[who]);
  }
  tree = (await t.services.plans.openPlan(system, 'sosafe', '2024/25')).tree;
  const [user] = await t.database.db.select({ id: users.id }).from(users).where(eq(users.email, DEMO.lead));
  helen = t.services.memberActor((await t.services.users.getMember(user!.id, tree.partnership.id))!);
  const actions = findAim(tree, '3.1').aim.actions;
  helens = [actions[0]!.id, actions[1]!.id];
});
afterAll(async () => {
  await t?.close();
});

/** The page's text, without tags, each run of white space as one space. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

function flashOf(html: string): string {
  const banner = /data-testid="flash"[\s\S]*?govuk-notification-banner__heading">([\s\S]*?)<\/p>/.exec(html);
  return textOf(banner?.[1] ?? '');
}

async function flashAfter(session: Session, response: { headers: Record<string, unknown> }): Promise<string> {
  return flashOf((await session.get(String(response.headers.location))).body);
}

function errorSummary(html: string): { text: string; href: string }[] {
  const summary = /govuk-error-summary[\s\S]*?<\/ul>/.exec(html)?.[0] ?? '';
  return [...summary.matchAll(/<a href="(#[^"]+)">([\s\S]*?)<\/a>/g)].map((m) => ({
    href: m[1]!,
    text: textOf(m[2]!),
  }));
}

/** The element with this data-testid, up to its own closing tag (elements of its kind may nest). */
function byTestId(html: string, id: string): string {
  const match = new RegExp(`<(\\w+)[^>]*data-testid="${id.replace(/\./g, '\\.')}"[^>]*>`).exec(html);
  if (!match) return '';
  const tag = new RegExp(`<(/?)${match[1]}\\b[^>]*>`, 'g');
  tag.lastIndex = match.index + match[0].length;
  let depth = 1;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(match.index, m.index + m[0].length);
  }
  return html.slice(match.index);
}

/** The submission board's rows: "3.1-1" → its data-state. */
function boardStates(html: string): Map<string, string> {
  return new Map(
    [...html.matchAll(/data-testid="board-row-([\d.]+-\d+)" data-state="(\w+)"/g)].map((m) => [m[1]!, m[2]!]),
  );
}

function count(html: string, state: string): number {
  const row = byTestId(html, `count-${state}`);
  return Number(/govuk-table__cell--numeric">(\d+)</.exec(row)?.[1] ?? NaN);
}

async function latestEmailTo(address: string) {
  const [email] = await t.database.db
    .select()
    .from(emails)
    .where(eq(emails.toAddress, address))
    .orderBy(desc(emails.id))
    .limit(1);
  return email;
}

const due = (day: string, month: string, year: string, reminderOffsets = '-7, 1, 7') => ({
  'dueOn-day': day,
  'dueOn-month': month,
  'dueOn-year': year,
  reminderOffsets,
});

describe('the quarters of the plan', () => {
  it('lists Q1 to Q4 for every member, each not opened yet, from the navigation', async () => {
    for (const who of ['coordinator', 'lead', 'partner', 'board'] as const) {
      const page = await s[who].get(`${base}/quarters`);
      expect(page.statusCode, who).toBe(200);
      expect(page.body).toContain(`href="${base}/quarters" aria-current="page"`);
      for (const q of [1, 2, 3, 4]) {
        expect(textOf(byTestId(page.body, `quarter-${q}-phase`))).toBe('Not opened Not opened for updates');
      }
      // Only the coordinator is offered to open one.
      expect(page.body.includes('Open Q4 for updates'), who).toBe(who === 'coordinator');
    }
    const plan = await s.board.get(base);
    expect(plan.body).toContain(`<a class="govuk-service-navigation__link" href="${base}/quarters"`);
  });

  it('answers 404 for a quarter that does not exist', async () => {
    expect((await s.coordinator.get(`${base}/quarters/5`)).statusCode).toBe(404);
    expect((await s.partner.get(`${base}/quarters/q2`)).statusCode).toBe(404);
  });
});

describe('opening Q4', () => {
  it('shows the coordinator the form, with the default reminders; others are told it is not open', async () => {
    const form = await s.coordinator.get(q4);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<h1 class="govuk-heading-l">Open Q4 for updates</h1>');
    expect(form.body).toContain('name="dueOn-day"');
    expect(form.body).toMatch(/name="reminderOffsets" type="text"[^>]* value="-7, 1, 7"/);
    expect(form.body).toContain('Open Q4 and email the lead officers');

    for (const who of ['lead', 'partner', 'board'] as const) {
      const page = await s[who].get(q4);
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('data-testid="open-form"');
      expect(textOf(byTestId(page.body, 'not-opened'))).toContain('has not opened Q4');
    }
  });

  it('refuses a due date that is missing, partly missing or not a real date, keeping what was typed', async () => {
    const cases: [Record<string, string>, string, string][] = [
      [due('', '', ''), 'Enter the due date', '#dueOn-day'],
      [due('14', '', '2025'), 'Due date must include a month', '#dueOn-month'],
      [due('31', '2', '2025'), 'Due date must be a real date', '#dueOn-day'],
      [due('14', '4', '25'), 'Year must include 4 numbers', '#dueOn-year'],
      [due('fourteen', '4', '2025'), 'Due date must be a real date', '#dueOn-day'],
      // The service's rule: not before the quarter starts.
      [
        due('14', '12', '2024'),
        'The due date must be on or after 1 January 2025, when Q4 starts',
        '#dueOn-day',
      ],
    ];
    for (const [fields, message, href] of cases) {
      const response = await s.coordinator.post(q4, fields, `${q4}/open`);
      expect(response.statusCode, message).toBe(400);
      expect(errorSummary(response.body), message).toEqual([{ text: message, href }]);
      expect(response.body).toContain(`value="${fields['dueOn-day']}"`);
      expect(response.body).toMatch(/<title>Error: /);
    }
    const offsets = await s.coordinator.post(q4, due('14', '4', '2025', '-7, soon'), `${q4}/open`);
    expect(offsets.statusCode).toBe(400);
    expect(errorSummary(offsets.body)).toEqual([
      {
        text: 'Enter reminder days as whole numbers from -60 to 60, separated by commas',
        href: '#reminderOffsets',
      },
    ]);
    expect(offsets.body).toContain('value="-7, soon"');
    // Nothing was opened.
    expect(await t.database.db.select().from(quarterCycles)).toEqual([]);
  });

  it('opens it, emails each person asked once with links from the request’s address, and says so', async () => {
    const response = await s.coordinator.post(q4, due('14', '4', '2025', '-7, 1, 7'), `${q4}/open`);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(q4);
    // The demo's lead officers with accounts: Helen Whitehead leads two actions of 3.1, Tania King five.
    expect(await flashAfter(s.coordinator, response)).toBe(
      'Q4 is open: 2 lead officers were asked about 7 actions; 27 actions have nobody to ask. ' +
        'No mail server is set up, so the emails are in the Outbox: send them on from there',
    );
    const email = await latestEmailTo(DEMO.lead);
    expect(email?.subject).toBe(
      `${tree.partnership.name}: please send your Q4 2024/25 progress updates by 14 April 2025`,
    );
    expect(email?.body).toContain(`http://localhost:80${base}/actions/${helens[0]}/progress?quarter=4`);
    expect(email?.body).toContain(`http://localhost:80${base}/quarters/4/updates`);
  });

  it('does not open it twice: the board says it is open, and nothing is sent again', async () => {
    const before = await t.database.db.select().from(emails);
    const again = await s.coordinator.post(q4, due('20', '4', '2025'), `${q4}/open`);
    expect(again.statusCode).toBe(303);
    expect(await flashAfter(s.coordinator, again)).toBe(
      'Q4 has already been opened: nothing has been sent again',
    );
    expect(await t.database.db.select().from(emails)).toHaveLength(before.length);
    const cycles = await t.database.db.select().from(quarterCycles);
    expect(cycles.map((c) => [c.quarter, c.dueOn])).toEqual([[4, '2025-04-14']]);
  });

  it('is listed as open, due 14 April 2025', async () => {
    const page = await s.partner.get(`${base}/quarters`);
    expect(textOf(byTestId(page.body, 'quarter-4-phase'))).toBe('Open Open for updates, due 14 April 2025');
  });
});

describe('the submission board', () => {
  it('shows the coordinator every action, its state and the counts, with the buttons to chase and close', async () => {
    const page = await s.coordinator.get(q4);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1 class="govuk-heading-xl">Q4 2024/25 updates</h1>');
    expect(textOf(byTestId(page.body, 'phase'))).toBe('Open Open for updates, due 14 April 2025 .');
    expect(textOf(byTestId(page.body, 'reminders'))).toBe(
      '7 April 2025 (7 days before the due date) 15 April 2025 (1 day after the due date) 21 April 2025 (7 days after the due date)',
    );
    const states = boardStates(page.body);
    expect(states.size).toBe(34);
    expect(states.get('3.1-1')).toBe('requested');
    expect(states.get('3.1-2')).toBe('requested');
    expect(states.get('3.1-3')).toBe('not_requested');
    // The demo's one Q4 update, recorded before the quarter was opened.
    expect(states.get('4.3-1')).toBe('submitted');
    expect(count(page.body, 'requested')).toBe(7);
    expect(count(page.body, 'submitted')).toBe(1);
    expect(count(page.body, 'not_requested')).toBe(26);
    expect(count(page.body, 'total')).toBe(34);
    expect(textOf(byTestId(page.body, 'board-count'))).toBe('Showing all 34 actions.');

    const row = byTestId(page.body, 'board-row-3.1-1');
    expect(textOf(row)).toContain('Helen Whitehead');
    expect(textOf(row)).toContain('Requested');
    expect(row).toContain(`href="${base}/aims/3.1#action-1"`);
    expect(textOf(byTestId(page.body, 'board-row-3.1-3'))).toContain('Nobody to ask');
    expect(byTestId(page.body, 'board-row-4.3-1')).toContain('data-testid="review-4.3-1"');
    expect(page.body).toContain('data-testid="ask-outstanding"');
    expect(page.body).toContain(`href="${q4}/close"`);
  });

  it('filters by lead organisation and by state through a GET form, keeping the choices', async () => {
    const organisation = findAim(tree, '3.1').aim.actions[0]!.leads.find((p) => p.organisation === 'CCSU')!;
    const byOrganisation = await s.coordinator.get(
      `${q4}?organisation=${organisation.organisationId}&state=`,
    );
    expect([...boardStates(byOrganisation.body).keys()]).toEqual(['3.1-1', '3.1-2']);
    expect(byOrganisation.body).toContain(
      `<option value="${organisation.organisationId}" selected>CCSU</option>`,
    );
    expect(textOf(byTestId(byOrganisation.body, 'board-count'))).toBe(
      'Showing 2 of 34 actions: those that match the filters.',
    );
    // The counts are the whole board's, whatever the filter.
    expect(count(byOrganisation.body, 'not_requested')).toBe(26);

    const byState = await s.coordinator.get(`${q4}?state=submitted`);
    expect([...boardStates(byState.body).entries()]).toEqual([['4.3-1', 'submitted']]);
    expect(byState.body).toContain('<option value="submitted" selected>Submitted</option>');

    const none = await s.coordinator.get(`${q4}?organisation=${organisation.organisationId}&state=accepted`);
    expect(boardStates(none.body).size).toBe(0);
    expect(none.body).toContain('No actions match these filters.');
    // Nonsense in the address is ignored rather than refused.
    expect(boardStates((await s.coordinator.get(`${q4}?organisation=x&state=nope`)).body).size).toBe(34);
  });

  it('is read-only for partners and the board; a lead officer is also shown her one-page list', async () => {
    for (const who of ['lead', 'partner', 'board'] as const) {
      const page = await s[who].get(q4);
      expect(page.statusCode, who).toBe(200);
      expect(boardStates(page.body).size, who).toBe(34);
      expect(page.body, who).not.toContain('data-testid="ask-outstanding"');
      expect(page.body, who).not.toContain(`${q4}/close`);
      expect(page.body, who).not.toMatch(/data-testid="review-/);
      expect(page.body.includes(`href="${q4}/updates"`), who).toBe(who === 'lead');
    }
  });

  it('asks for the outstanding updates: a new action Helen leads is requested and she is emailed', async () => {
    const aim = findAim(tree, '3.1').aim;
    const added = await t.services.edit.createAction(system, aim.id, {
      description: 'Hate crime awareness stall at the town centre market',
      leads: 'CCSU: Helen Whitehead',
    });
    const before = boardStates((await s.coordinator.get(q4)).body);
    expect(before.get('3.1-4')).toBe('not_requested');

    const response = await s.coordinator.post(q4, {}, `${q4}/requests`);
    expect(response.statusCode).toBe(303);
    expect(await flashAfter(s.coordinator, response)).toBe(
      'Asked for 1 more update: 1 lead officer was asked. ' +
        'No mail server is set up, so the emails are in the Outbox: send them on from there',
    );
    const email = await latestEmailTo(DEMO.lead);
    expect(email?.body).toContain(`${base}/actions/${added.id}/progress?quarter=4`);
    expect(boardStates((await s.coordinator.get(q4)).body).get('3.1-4')).toBe('requested');

    // Asked again: nobody new.
    const again = await s.coordinator.post(q4, {}, `${q4}/requests`);
    expect(await flashAfter(s.coordinator, again)).toBe(
      'There was nobody new to ask: every action with someone to ask had been asked already',
    );
    await t.services.edit.archiveAction(system, added.id, added.version);
  });
});

describe('JAG review', () => {
  const reviewUrl = () => `${q4}/actions/${helens[0]}/review`;

  it('shows an action with no update yet, with no form', async () => {
    const page = await s.coordinator.get(reviewUrl());
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="no-update"');
    expect(page.body).not.toContain('data-testid="review-form"');
  });

  it('shows a submitted update, with its evidence, lateness and the previous quarter’s', async () => {
    await t.services.progress.saveMany(
      helen,
      tree.plan.id,
      4,
      [
        {
          actionId: helens[0],
          status: 'at_risk',
          text: 'Two reporting sessions held; the third was cancelled.',
          evidenceUrl: 'https://example.org/hate-crime-sessions',
        },
      ],
      'submit',
    );
    const board = await s.coordinator.get(q4);
    expect(boardStates(board.body).get('3.1-1')).toBe('submitted');
    expect(board.body).toContain(`href="${reviewUrl()}" data-testid="review-3.1-1"`);

    const page = await s.coordinator.get(reviewUrl());
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1 class="govuk-heading-l">Review the Q4 update</h1>');
    const update = textOf(byTestId(page.body, 'update'));
    expect(update).toContain('Submitted');
    expect(update).toContain('At risk');
    expect(update).toContain('Two reporting sessions held; the third was cancelled.');
    expect(page.body).toContain('href="https://example.org/hate-crime-sessions"');
    // The real clock is long past 14 April 2025: the update is late.
    expect(page.body).toContain('data-testid="late"');
    expect(textOf(byTestId(page.body, 'previous-update'))).toMatch(/^Previous update: Q3/);
    expect(page.body).toContain('Return to the lead officer');
    expect(page.body).toMatch(/name="version" value="\d+"/);
  });

  it('needs a decision, and a comment to return it', async () => {
    const page = await s.coordinator.get(reviewUrl());
    const version = /name="version" value="(\d+)"/.exec(page.body)![1]!;
    const none = await s.coordinator.post(reviewUrl(), { version });
    expect(none.statusCode).toBe(400);
    expect(errorSummary(none.body).map((e) => e.href)).toEqual(['#decision']);

    const noComment = await s.coordinator.post(reviewUrl(), { decision: 'return', comment: ' ', version });
    expect(noComment.statusCode).toBe(400);
    expect(errorSummary(noComment.body)).toEqual([
      { text: 'Enter what the lead officer needs to change', href: '#comment' },
    ]);
    expect(noComment.body).toMatch(/value="return" checked/);
  });

  it('shows a stale review again with a banner, and the update as it is now', async () => {
    const stale = await s.coordinator.post(reviewUrl(), { decision: 'accept', version: '999' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-testid="conflict"');
    const current = /name="version" value="(\d+)"/.exec(stale.body)![1]!;
    expect(current).not.toBe('999');
    expect(stale.body).toMatch(/value="accept" checked/);
  });

  it('returns it with a comment, emailed to Helen, then accepts what she sends again', async () => {
    const version = /name="version" value="(\d+)"/.exec((await s.coordinator.get(reviewUrl())).body)![1]!;
    const returned = await s.coordinator.post(reviewUrl(), {
      decision: 'return',
      comment: 'Say why the third session was cancelled, and when it will be held.',
      version,
    });
    expect(returned.statusCode).toBe(303);
    expect(returned.headers.location).toBe(q4);
    expect(await flashAfter(s.coordinator, returned)).toBe(
      'The Q4 2024/25 update for aim 3.1, action 1 has been returned to the lead officer (1 email sent)',
    );
    const email = await latestEmailTo(DEMO.lead);
    expect(email?.subject).toBe(
      `${tree.partnership.name}: your Q4 2024/25 update for aim 3.1 has been returned`,
    );
    expect(email?.body).toContain('Say why the third session was cancelled');
    expect(boardStates((await s.coordinator.get(q4)).body).get('3.1-1')).toBe('returned');
    const waiting = await s.coordinator.get(reviewUrl());
    expect(waiting.body).not.toContain('data-testid="review-form"');
    expect(textOf(byTestId(waiting.body, 'not-reviewable'))).toContain('returned to its lead officer');

    const [returnedUpdate] = await t.services.progress.updatesFor(helen, [helens[0]], 4);
    expect(returnedUpdate?.reviewComment).toBe(
      'Say why the third session was cancelled, and when it will be held.',
    );
    await t.services.progress.saveMany(
      helen,
      tree.plan.id,
      4,
      [
        {
          actionId: helens[0],
          status: 'on_track',
          text: 'Two reporting sessions held; the third moved to May after the venue flooded.',
          version: returnedUpdate!.version,
        },
      ],
      'submit',
    );
    const again = await s.coordinator.get(reviewUrl());
    const next = /name="version" value="(\d+)"/.exec(again.body)![1]!;
    const accepted = await s.coordinator.post(reviewUrl(), {
      decision: 'accept',
      comment: '',
      version: next,
    });
    expect(accepted.statusCode).toBe(303);
    expect(await flashAfter(s.coordinator, accepted)).toBe(
      'The Q4 2024/25 update for aim 3.1, action 1 has been accepted',
    );
    expect(boardStates((await s.coordinator.get(q4)).body).get('3.1-1')).toBe('accepted');
  });
});

describe('who may run the cycle', () => {
  it('refuses lead officers, partners and the board the coordinator’s pages and forms', async () => {
    const reviewUrl = `${q4}/actions/${helens[0]}/review`;
    for (const who of ['lead', 'partner', 'board'] as const) {
      const token = /name="_csrf" value="([^"]+)"/.exec((await s[who].get(`${base}/quarters`)).body)![1]!;
      for (const url of [reviewUrl, `${q4}/close`]) {
        expect((await s[who].get(url)).statusCode, `${who} GET ${url}`).toBe(403);
      }
      const posts: [string, Record<string, string>][] = [
        [`${base}/quarters/3/open`, due('14', '1', '2025')],
        [`${q4}/requests`, {}],
        [reviewUrl, { decision: 'return', comment: 'Not mine to say', version: '1' }],
        [
          `${q4}/close`,
          { 'reportedOn-day': '17', 'reportedOn-month': '4', 'reportedOn-year': '2025', version: '1' },
        ],
      ];
      for (const [url, form] of posts) {
        expect((await s[who].postRaw(url, { _csrf: token, ...form })).statusCode, `${who} POST ${url}`).toBe(
          403,
        );
      }
    }
    // Nothing changed: Q3 was not opened and Q4 is still open.
    const cycles = await t.database.db.select().from(quarterCycles);
    expect(cycles.map((c) => [c.quarter, c.closedAt])).toEqual([[4, null]]);
  });
});

describe('closing Q4 and the snapshot', () => {
  let csvBefore: string;
  let jsonBefore: string;

  it('answers 404 for the snapshot of a quarter not yet reported', async () => {
    for (const file of ['snapshot', 'snapshot.csv', 'snapshot.json']) {
      expect((await s.partner.get(`${q4}/${file}`)).statusCode).toBe(404);
    }
  });

  it('confirms with what is still outstanding and today’s date', async () => {
    const page = await s.coordinator.get(`${q4}/close`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="outstanding-warning"');
    expect(textOf(byTestId(page.body, 'outstanding-awaiting'))).toBe(
      '6 (6 with nothing sent, 0 drafts, 0 returned)',
    );
    expect(textOf(byTestId(page.body, 'outstanding-unreviewed'))).toBe('1');
    expect(textOf(byTestId(page.body, 'outstanding-not-requested'))).toBe('26');
    const today = new Date().toLocaleDateString('en-CA', { timeZone: 'Europe/London' }).split('-');
    expect(page.body).toMatch(new RegExp(`name="reportedOn-year" type="text"[^>]* value="${today[0]}"`));
    expect(page.body).toMatch(
      new RegExp(`name="reportedOn-day" type="text"[^>]* value="${Number(today[2])}"`),
    );
    expect(page.body).toContain('Close Q4 and freeze the report');
  });

  it('refuses a board date that is not a date, or before the quarter', async () => {
    const version = /name="version" value="(\d+)"/.exec((await s.coordinator.get(`${q4}/close`)).body)![1]!;
    const bad = await s.coordinator.post(
      `${q4}/close`,
      { 'reportedOn-day': '30', 'reportedOn-month': '2', 'reportedOn-year': '2025', version },
      `${q4}/close`,
    );
    expect(bad.statusCode).toBe(400);
    expect(errorSummary(bad.body)).toEqual([
      { text: 'Date of the board meeting must be a real date', href: '#reportedOn-day' },
    ]);
    const early = await s.coordinator.post(`${q4}/close`, {
      'reportedOn-day': '17',
      'reportedOn-month': '12',
      'reportedOn-year': '2024',
      version,
    });
    expect(early.statusCode).toBe(400);
    expect(errorSummary(early.body)[0]?.text).toBe(
      'The board meeting must be on or after 1 January 2025, when Q4 starts',
    );
    expect((await t.database.db.select().from(quarterCycles))[0]?.closedAt).toBeNull();
  });

  it('closes it and goes to the snapshot, as reported to the board on 17 April 2025', async () => {
    const version = /name="version" value="(\d+)"/.exec((await s.coordinator.get(`${q4}/close`)).body)![1]!;
    const closed = await s.coordinator.post(`${q4}/close`, {
      'reportedOn-day': '17',
      'reportedOn-month': '4',
      'reportedOn-year': '2025',
      version,
    });
    expect(closed.statusCode).toBe(303);
    expect(closed.headers.location).toBe(`${q4}/snapshot`);
    const page = await s.coordinator.get(`${q4}/snapshot`);
    expect(flashOf(page.body)).toBe('Q4 2024/25 is closed: the report as the board sees it is frozen');
    expect(page.body).toContain(
      '<h1 class="govuk-heading-xl" data-testid="snapshot-heading">Q4 2024/25 as reported to the board on 17 April 2025</h1>',
    );
    const row = textOf(byTestId(page.body, 'snapshot-row-3.1-1'));
    expect(row).toContain('On track');
    expect(row).toContain('the third moved to May after the venue flooded');
    expect(row).toContain('Accepted');
    expect(textOf(byTestId(page.body, 'snapshot-count-accepted'))).toBe('Accepted 1');
    expect(page.body).toContain('data-testid="no-amendments"');
    // Reported with it: the changes to the plan since it began, such as the action added (and
    // archived) while the quarter was open.
    const changes = [
      ...page.body.matchAll(/<tr[^>]*data-testid="change" data-kind="(\w+)">([\s\S]*?)<\/tr>/g),
    ];
    const added = changes.find((c) => c[1] === 'action_added' && c[2]!.includes('3.1'));
    expect(added && textOf(added[2]!)).toMatch(/^\d+ \w+ \d{4} Action added 3\.1 /);

    const list = await s.board.get(`${base}/quarters`);
    expect(textOf(byTestId(list.body, 'quarter-4-phase'))).toBe(
      'Closed Reported to the board on 17 April 2025',
    );
    const board = await s.coordinator.get(q4);
    expect(textOf(byTestId(board.body, 'phase'))).toBe('Closed Reported to the board on 17 April 2025 .');
    expect(board.body).toContain('data-testid="snapshot-link"');
    expect(board.body).not.toContain(`href="${q4}/close"`);
    expect(board.body).not.toContain('data-testid="ask-outstanding"');
    expect(board.body).not.toMatch(/data-testid="review-/);
  });

  it('does not close it twice, and reviews no more', async () => {
    const close = await s.coordinator.get(`${q4}/close`);
    expect(close.statusCode).toBe(303);
    expect(close.headers.location).toBe(`${q4}/snapshot`);
    const review = await s.coordinator.get(`${q4}/actions/${helens[0]}/review`);
    expect(review.body).not.toContain('data-testid="review-form"');
    expect(textOf(byTestId(review.body, 'not-reviewable'))).toContain('Q4 is closed');
  });

  it('exports the snapshot as CSV and JSON, for the board too', async () => {
    const csv = await s.board.get(`${q4}/snapshot.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-2024-25-q4-as-reported-2025-04-17.csv"',
    );
    expect(csv.body).toContain('the third moved to May after the venue flooded');
    csvBefore = csv.body;

    const json = await s.board.get(`${q4}/snapshot.json`);
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-2024-25-q4-as-reported-2025-04-17.json"',
    );
    const snapshot = JSON.parse(json.body) as { quarter: number; reportedOn: string; board: unknown[] };
    expect(snapshot.quarter).toBe(4);
    expect(snapshot.reportedOn).toBe('2025-04-17');
    expect(snapshot.board).toHaveLength(34);
    jsonBefore = json.body;

    // The CSV has the spreadsheet's columns, each action with its id in the plan.
    const rows = parse(csv.body, { columns: true, bom: true }) as Record<string, string>[];
    const actionIds = allAims(tree).flatMap((aim) => aim.actions.map((action) => String(action.id)));
    expect(rows.filter((row) => row.Action).map((row) => row['Action id'])).toEqual(actionIds);
  });

  it('stays exactly as reported after the aim is changed and the update amended', async () => {
    const aim = findAim(tree, '3.1').aim;
    await t.services.edit.updateAim(system, aim.id, {
      number: '3.1',
      title: 'To promote the reporting of hate crime, renamed after the board',
      version: aim.version,
    });
    const [update] = await t.services.progress.updatesFor(helen, [helens[0]], 4);
    await t.services.progress.saveMany(
      helen,
      tree.plan.id,
      4,
      [
        {
          actionId: helens[0],
          status: 'complete',
          text: 'Amended after the board: all three sessions have now been held.',
          version: update!.version,
        },
      ],
      'submit',
    );

    expect((await s.board.get(`${q4}/snapshot.csv`)).body).toBe(csvBefore);
    expect((await s.board.get(`${q4}/snapshot.json`)).body).toBe(jsonBefore);

    const page = await s.partner.get(`${q4}/snapshot`);
    const row = textOf(byTestId(page.body, 'snapshot-row-3.1-1'));
    expect(row).toContain('To promote reporting of Hate Crime.');
    expect(row).not.toContain('renamed after the board');
    expect(row).toContain('the third moved to May after the venue flooded');
    expect(row).not.toContain('all three sessions have now been held');
    // Below the report, and apart from it: the amendment, marked as one, with when and who.
    const [report, amended] = page.body.split('data-testid="amendments"');
    expect(report).not.toContain('all three sessions have now been held');
    const amendment = textOf(byTestId(amended ?? '', 'amendment-3.1-1'));
    expect(amendment).toMatch(/^Amendment Aim 3\.1, action 1 Amended \d+ \w+ \d{4} at .+ by Helen Whitehead/);
    expect(amendment).toContain('As reported On track Two reporting sessions held');
    expect(amendment).toContain(
      'Amended to Complete Amended after the board: all three sessions have now been held.',
    );

    // The quarter's board lists it too.
    const board = await s.coordinator.get(q4);
    expect(byTestId(board.body, 'amendment-3.1-1')).not.toBe('');
  });
});

describe('the cycle’s records', () => {
  it('opened and closed Q4 once each, in the audit trail', async () => {
    const cycles = await t.database.db
      .select()
      .from(quarterCycles)
      .where(and(eq(quarterCycles.planId, tree.plan.id), eq(quarterCycles.quarter, 4)));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]?.closedAt).not.toBeNull();
    const trail = await s.coordinator.get('/p/sosafe/audit?kind=cycle.closed');
    expect(textOf(trail.body)).toContain('Closed Q4 2024/25, as reported to the board on 17 April 2025');
  });
});
