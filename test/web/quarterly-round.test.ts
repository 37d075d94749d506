/**
 * A whole quarter, end to end, as issue 4 is checked: the coordinator and two lead officers of the
 * demo partnership run Q4 2024/25 through the pages of TWO app instances over ONE database, and
 * every email is read as a real SMTP server received it. Open → the request emails → Helen follows
 * her email's link (signed in on A, served by B), saves a draft and submits; Tania submits one of
 * hers from her one-page list → reminders run on both instances at once: only Tania is reminded,
 * once → the coordinator returns Helen's update, she is emailed, resubmits, it is accepted → a
 * second quarter opened with its due date past marks a submission late → Q4 is closed, and its
 * snapshot (page, CSV, JSON) stays exactly as reported after the aim is renamed, Helen's update
 * amended and an aim added; the changes page lists those changes since the last report, and once
 * the next quarter (Q3) is closed, its snapshot reports them as the changes page says it does.
 *
 * The steps follow each other in order. Dates come from the real clock: Q4 is due two weeks from
 * today, so that its first reminder day (a week before) comes after the day it was opened. (The
 * app takes a due date up to a year after the quarter ends or after today, whichever is later.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, londonDate } from '../../src/domain/cycles.js';
import { systemActor } from '../../src/services/actor.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import {
  createSecondTestApp,
  createTestApp,
  DEMO,
  Session,
  TEST_PASSWORD,
  type SecondTestApp,
  type TestApp,
} from '../support/app.js';
import { startSmtpSink, type ReceivedEmail, type SmtpSink } from '../support/smtp.js';

const PUBLIC_URL = 'http://plan.test';
const links = { baseUrl: PUBLIC_URL };
const base = '/p/sosafe/plans/2024-25';
const q4 = `${base}/quarters/4`;
const q3 = `${base}/quarters/3`;
const HELEN = DEMO.lead;
const TANIA = 'tania.king@sosafe.example';
const PARTNERSHIP = 'SoSafe Stevenage';
const OLD_TITLE = 'To promote reporting of Hate Crime.';
const NEW_TITLE = 'To promote the reporting of hate crime, as renamed after the board';

let smtp: SmtpSink;
/** Instance A, which loaded the demo, and instance B, a second server over the same database. */
let a: TestApp;
let b: SecondTestApp;
let tree: PlanTree;
/** The coordinator, signed in on A. */
let coordinator: Session;
/** Helen Whitehead's browser: one cookie, its requests served by A or by B. */
let helenOnA: Session;
let helenOnB: Session;
/** Tania King (SADA), on A. */
let tania: Session;
/** A board member, signed in on B. */
let boardMember: Session;

/** Helen's two actions of aim 3.1, and the five Tania is asked for, in plan order. */
let helens: number[];
let tanias: number[];
/** Today in London; Q4's due date, two weeks on; the board meeting, three days after that. */
const today = londonDate(new Date());
const dueOn = addDays(today, 14);
const reportedOn = addDays(dueOn, 3);

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
/** "2025-04-14" → "14 April 2025". */
function inWords(iso: string): string {
  const [year, month, day] = iso.split('-');
  return `${Number(day)} ${MONTHS[Number(month) - 1]} ${year}`;
}

const londonHour = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: 'numeric',
  hourCycle: 'h23',
});
/** The moment it is `hour` o'clock in London on `day` (GMT or British Summer Time). */
function londonTime(day: string, hour: number): Date {
  for (const offset of [0, 1]) {
    const at = new Date(`${day}T${String(hour - offset).padStart(2, '0')}:00:00Z`);
    if (londonDate(at) === day && Number(londonHour.format(at)) === hour) return at;
  }
  throw new Error(`No ${hour}:00 in London on ${day}`);
}

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

function flashOf(html: string): string {
  const banner = /data-testid="flash"[\s\S]*?govuk-notification-banner__heading">([\s\S]*?)<\/p>/.exec(html);
  return textOf(banner?.[1] ?? '');
}

/** Follows a redirect (the fragment stays in the browser) and reads the one-time message there. */
async function flashAfter(session: Session, response: { headers: Record<string, unknown> }): Promise<string> {
  return flashOf((await session.get(String(response.headers.location).split('#')[0]!)).body);
}

/** The submission board's rows: "3.1-1" → its state. */
function boardStates(html: string): Map<string, string> {
  return new Map(
    [...html.matchAll(/data-testid="board-row-([\d.]+-\d+)" data-state="(\w+)"/g)].map((m) => [m[1]!, m[2]!]),
  );
}

function count(html: string, state: string): number {
  return Number(/govuk-table__cell--numeric">(\d+)</.exec(byTestId(html, `count-${state}`))?.[1] ?? NaN);
}

function versionOn(html: string): string {
  const version = /name="version" value="(\d+)"/.exec(html)?.[1];
  if (!version) throw new Error('The form has no version');
  return version;
}

/** Every update-form link in an email, in order: the action and the quarter. */
function formLinks(message: ReceivedEmail): { url: string; actionId: number; quarter: number }[] {
  return [...message.text.matchAll(/https?:\/\/\S+\/actions\/(\d+)\/progress\?quarter=(\d)/g)].map((m) => ({
    url: m[0],
    actionId: Number(m[1]),
    quarter: Number(m[2]),
  }));
}

/** The changes page's groups: [id, heading]. */
function changeHeadings(html: string): [string, string][] {
  return [...html.matchAll(/<h2 class="govuk-heading-m" id="([\w-]+)">([^<]*)<\/h2>/g)].map((m) => [
    m[1]!,
    textOf(m[2]!),
  ]);
}

/** The rows of one group of the changes page, each as its cells' text. */
function changeRows(html: string, id: string): string[][] {
  return [
    ...byTestId(html, `changes-${id}`).matchAll(
      /<tr class="govuk-table__row" data-testid="change">([\s\S]*?)<\/tr>/g,
    ),
  ].map((m) => [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1]!)));
}

/** The changes a snapshot page reports with its quarter: [kind, aim, what]. */
function snapshotChanges(html: string): [string, string, string][] {
  return [
    ...html.matchAll(/<tr class="govuk-table__row" data-testid="change" data-kind="(\w+)">([\s\S]*?)<\/tr>/g),
  ].map((m) => {
    const cells = [...m[2]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1]!));
    return [m[1]!, cells[2] ?? '', cells[3] ?? ''];
  });
}

/** What a browser requests for a link in an email: its path, once the link is known to be ours. */
function pathOf(url: string): string {
  expect(url.startsWith(`${PUBLIC_URL}/`), url).toBe(true);
  return url.slice(PUBLIC_URL.length);
}

/** The messages received since `from`. */
const since = (from: number) => smtp.messages.slice(from);

beforeAll(async () => {
  smtp = await startSmtpSink();
  const env = { SMTP_URL: smtp.url, PUBLIC_URL };
  a = await createTestApp({ env });
  b = await createSecondTestApp(a, { env });
  tree = (await a.services.plans.openPlan(systemActor('quarterly round test'), 'sosafe', '2024/25')).tree;
  helens = findAim(tree, '3.1')
    .aim.actions.slice(0, 2)
    .map((action) => action.id);
  tanias = [
    ...['2.1', '2.2', '2.3', '2.4'].map((n) => findAim(tree, n).aim.actions[0]!.id),
    findAim(tree, '5.5').aim.actions[2]!.id,
  ];

  coordinator = new Session(a.app);
  await coordinator.signIn(DEMO.coordinator);
  tania = new Session(a.app);
  await tania.signIn(TANIA);
  boardMember = new Session(b.app);
  await boardMember.signIn(DEMO.board);
  helenOnB = new Session(b.app);
  helenOnA = helenOnB.on(a.app);
});
afterAll(async () => {
  // The second instance first: the first one drops the database.
  await b?.close();
  await a?.close();
  await smtp?.close();
});

describe('a quarter run by the coordinator and two lead officers, on two instances', () => {
  it('opens Q4 through its form: each lead officer asked receives one email listing their actions', async () => {
    const form = await coordinator.get(q4);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('data-testid="open-form"');
    const [year, month, day] = dueOn.split('-');
    const opened = await coordinator.post(
      q4,
      {
        'dueOn-day': String(Number(day)),
        'dueOn-month': String(Number(month)),
        'dueOn-year': year!,
        reminderOffsets: '-7, 1, 7',
      },
      `${q4}/open`,
    );
    expect(opened.statusCode).toBe(303);
    expect(await flashAfter(coordinator, opened)).toBe(
      'Q4 is open: 2 lead officers were emailed about 7 actions; 27 actions have nobody to ask',
    );

    // The SMTP server has exactly one message for each of the two, and nothing for anyone else.
    expect(smtp.messages.map((m) => m.to).sort()).toEqual([[HELEN], [TANIA]]);
    const subject = `${PARTNERSHIP}: please send your Q4 2024/25 progress updates by ${inWords(dueOn)}`;
    for (const message of smtp.messages) {
      expect(message.subject).toBe(subject);
      expect(message.from).toBe('no-reply@partnership-plan.invalid');
      expect(message.headers['auto-submitted']).toBe('auto-generated');
      expect(message.text).toContain(`${PUBLIC_URL}${q4}/updates`);
    }

    const toHelen = smtp.messages.find((m) => m.to[0] === HELEN)!;
    expect(toHelen.text).toContain('Hello Helen Whitehead');
    expect(toHelen.text).toContain(`Aim 3.1: ${OLD_TITLE}`);
    expect(toHelen.text).toContain('Action 1: Advertise where the Hate Crime 3rd party');
    expect(toHelen.text).toContain('Action 2: Advertise what the 5 types of Hate Crime');
    expect(formLinks(toHelen).map((l) => [l.actionId, l.quarter])).toEqual(helens.map((id) => [id, 4]));
    expect(formLinks(toHelen).map((l) => l.url)).toEqual(
      helens.map((id) => `${PUBLIC_URL}${base}/actions/${id}/progress?quarter=4`),
    );
    expect(toHelen.text).toContain(
      `Reminders go to anyone who has not submitted: 7 days before the due date, 1 day after the due date and 7 days after the due date.`,
    );

    const toTania = smtp.messages.find((m) => m.to[0] === TANIA)!;
    expect(toTania.text).toContain('Hello Tania King');
    for (const n of ['2.1', '2.2', '2.3', '2.4', '5.5']) {
      expect(toTania.text).toContain(`Aim ${n}: ${findAim(tree, n).aim.title}`);
    }
    expect(toTania.text).not.toContain('Aim 3.1');
    expect(formLinks(toTania).map((l) => [l.actionId, l.quarter])).toEqual(tanias.map((id) => [id, 4]));

    // The board, on the other instance: the seven actions asked for are requested.
    const board = await coordinator.on(b.app).get(q4);
    const states = boardStates(board.body);
    for (const key of ['3.1-1', '3.1-2', '2.1-1', '2.2-1', '2.3-1', '2.4-1', '5.5-3']) {
      expect(states.get(key), key).toBe('requested');
    }
    expect(count(board.body, 'requested')).toBe(7);
    expect(textOf(byTestId(board.body, 'phase'))).toBe(`Open Open for updates, due ${inWords(dueOn)} .`);
  });

  it('a session signed in on one instance is signed in on the other', async () => {
    // Coordinator: signed in on A, recognised by B.
    const onB = await coordinator.on(b.app).get(q4);
    expect(onB.statusCode).toBe(200);
    expect(onB.body).toContain('Casey Coordinator (coordinator)');
    expect(onB.body).toContain('data-testid="close-quarter"');
    // Nobody is signed in for a browser with no cookie.
    const stranger = await new Session(b.app).get(q4);
    expect(stranger.statusCode).toBe(302);
    expect(stranger.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(q4)}`);
  });

  it('Helen follows the first link in her email: signs in on A, and B shows her the form', async () => {
    const toHelen = smtp.messages.find((m) => m.to[0] === HELEN)!;
    const path = pathOf(formLinks(toHelen)[0]!.url);
    expect(path).toBe(`${base}/actions/${helens[0]}/progress?quarter=4`);

    // Not signed in yet: B sends her to sign in, and back here afterwards.
    const signedOut = await helenOnB.get(path);
    expect(signedOut.statusCode).toBe(302);
    const signInPage = String(signedOut.headers.location);
    expect(signInPage).toBe(`/sign-in?returnTo=${encodeURIComponent(path)}`);
    // The sign-in page and its form are served by A.
    const page = await helenOnA.get(signInPage);
    expect(page.body).toContain(`name="returnTo" value="${path.replace(/&/g, '&amp;')}"`);
    const signedIn = await helenOnA.post(signInPage, {
      email: HELEN,
      password: TEST_PASSWORD,
      returnTo: path,
    });
    expect(signedIn.statusCode).toBe(302);
    expect(signedIn.headers.location).toBe(path);

    const form = await helenOnB.get(path);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('Helen Whitehead (lead officer)');
    expect(form.body).toContain('<h1 class="govuk-heading-l">Record progress</h1>');
    expect(textOf(byTestId(form.body, 'due-date'))).toBe(`Due by ${inWords(dueOn)}`);
    expect(form.body).not.toContain('data-testid="late-warning"');
    expect(form.body).toMatch(/name="quarter" type="radio" value="4" checked/);
  });

  it('she saves a draft, which only she sees, then submits it on time', async () => {
    const path = `${base}/actions/${helens[0]}/progress?quarter=4`;
    const draft = await helenOnB.post(path, {
      quarter: '4',
      status: 'on_track',
      text: 'Draft: two reporting sessions held so far.',
      evidenceUrl: '',
      intent: 'draft',
    });
    expect(draft.statusCode).toBe(303);
    expect(draft.headers.location).toBe(`${base}/aims/3.1#action-1`);
    expect(await flashAfter(helenOnB, draft)).toBe('Your Q4 update for aim 3.1 has been saved as a draft');
    expect(boardStates((await coordinator.get(q4)).body).get('3.1-1')).toBe('draft');
    // The plan itself never shows a draft.
    expect(textOf(byTestId((await boardMember.get(`${base}/aims/3.1`)).body, 'action-1-q4'))).not.toContain(
      'two reporting sessions held so far',
    );

    const form = await helenOnB.get(path);
    expect(textOf(byTestId(form.body, 'update-state'))).toMatch(/^Draft saved .*: not submitted yet\.$/);
    expect(form.body).toContain('Draft: two reporting sessions held so far.');
    const submitted = await helenOnB.post(path, {
      quarter: '4',
      status: 'at_risk',
      text: 'Two reporting sessions held; the third was cancelled.',
      evidenceUrl: 'https://example.org/hate-crime-sessions',
      version: versionOn(form.body),
      intent: 'submit',
    });
    expect(submitted.statusCode).toBe(303);
    expect(await flashAfter(helenOnB, submitted)).toBe('Your Q4 update for aim 3.1 has been submitted');
  });

  it('she submits her second action from the second link in her email', async () => {
    const toHelen = smtp.messages.find((m) => m.to[0] === HELEN)!;
    const path = pathOf(formLinks(toHelen)[1]!.url);
    expect(path).toBe(`${base}/actions/${helens[1]}/progress?quarter=4`);
    const submitted = await helenOnB.post(path, {
      quarter: '4',
      status: 'on_track',
      text: 'Posters on the five types of hate crime are up in every library.',
      evidenceUrl: '',
      intent: 'submit',
    });
    expect(submitted.statusCode).toBe(303);
    expect(await flashAfter(helenOnA, submitted)).toBe('Your Q4 update for aim 3.1 has been submitted');
  });

  it('Tania submits one of her five from her one-page list and leaves the rest', async () => {
    const list = await tania.get(`${q4}/updates`);
    expect(list.statusCode).toBe(200);
    const shown = [...list.body.matchAll(/data-testid="update-(\d+)"/g)].map((m) => Number(m[1]));
    expect(shown).toEqual(tanias);
    // As a browser sends the form: every field, most of them blank; one action filled in.
    const fields: Record<string, string> = { intent: 'submit' };
    for (const id of shown) {
      fields[`text-${id}`] = '';
      fields[`evidenceUrl-${id}`] = '';
    }
    fields[`status-${tanias[0]}`] = 'complete';
    fields[`text-${tanias[0]}`] = 'Three groups now meet at the Women’s Centre every week.';
    const saved = await tania.post(`${q4}/updates`, fields);
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe(`${q4}/updates`);
    expect(await flashAfter(tania, saved)).toBe('Your Q4 updates for 1 action have been submitted');

    const board = boardStates((await coordinator.get(q4)).body);
    expect(
      ['3.1-1', '3.1-2', '2.1-1', '2.2-1', '2.3-1', '2.4-1', '5.5-3'].map((key) => [key, board.get(key)]),
    ).toEqual([
      ['3.1-1', 'submitted'],
      ['3.1-2', 'submitted'],
      ['2.1-1', 'submitted'],
      ['2.2-1', 'requested'],
      ['2.3-1', 'requested'],
      ['2.4-1', 'requested'],
      ['5.5-3', 'requested'],
    ]);
    // Nothing was sent by saving.
    expect(smtp.messages).toHaveLength(2);
  });

  it('reminders run on both instances at once: Tania alone is reminded, once, of what she still owes', async () => {
    const cycle = await a.services.cycles.get(systemActor('test'), tree.plan.id, 4);
    const firstReminder = londonTime(addDays(dueOn, -7), 9);
    const sent = smtp.messages.length;
    const [fromA, fromB] = await Promise.all([
      a.services.cycles.sendDueReminders(firstReminder, links),
      b.services.cycles.sendDueReminders(firstReminder, links),
    ]);
    // Exactly one instance sent the round; the other found the lock held or the round taken.
    expect([...fromA.rounds, ...fromB.rounds]).toEqual([
      { cycleId: cycle!.id, offsetDays: -7, recipients: 1 },
    ]);
    expect([fromA, fromB].filter((r) => r.rounds.length)).toHaveLength(1);

    const fresh = since(sent);
    expect(fresh.map((m) => m.to)).toEqual([[TANIA]]);
    const reminder = fresh[0]!;
    expect(reminder.subject).toBe(
      `${PARTNERSHIP}: reminder — your Q4 2024/25 progress updates are due by ${inWords(dueOn)}`,
    );
    expect(reminder.text).toContain('Hello Tania King');
    expect(reminder.text).toContain('We have not yet had an update on these 4 actions you lead:');
    expect(formLinks(reminder).map((l) => l.actionId)).toEqual(tanias.slice(1));
    expect(formLinks(reminder).map((l) => l.url)).toEqual(
      tanias.slice(1).map((id) => `${PUBLIC_URL}${base}/actions/${id}/progress?quarter=4`),
    );
    expect(reminder.text).not.toContain(`/actions/${tanias[0]}/`);
    expect(reminder.text).toContain(`${PUBLIC_URL}${q4}/updates`);

    // Again, on both: the round has gone, nothing more is sent.
    const again = await Promise.all([
      a.services.cycles.sendDueReminders(firstReminder, links),
      b.services.cycles.sendDueReminders(firstReminder, links),
    ]);
    expect(again.flatMap((r) => r.rounds)).toEqual([]);
    expect(smtp.messages).toHaveLength(sent + 1);

    // The board shows the reminder against Tania's outstanding actions only.
    const board = await coordinator.get(q4);
    for (const key of ['2.2-1', '2.3-1', '2.4-1', '5.5-3']) {
      expect(textOf(byTestId(board.body, `board-row-${key}`)), key).toContain(inWords(addDays(dueOn, -7)));
    }
    for (const key of ['3.1-1', '3.1-2', '2.1-1']) {
      const row = textOf(byTestId(board.body, `board-row-${key}`));
      expect(row, key).toContain(' None');
      expect(row, key).not.toContain(inWords(addDays(dueOn, -7)));
    }
  });

  it('the coordinator returns Helen’s first update with a comment, on B: she is emailed', async () => {
    const reviewUrl = `${q4}/actions/${helens[0]}/review`;
    const review = await coordinator.on(b.app).get(reviewUrl);
    expect(review.statusCode).toBe(200);
    expect(textOf(byTestId(review.body, 'update-text'))).toBe(
      'Two reporting sessions held; the third was cancelled.',
    );
    expect(review.body).toContain('href="https://example.org/hate-crime-sessions"');
    expect(review.body).not.toContain('data-testid="late"');
    expect(review.body).toContain('data-testid="review-form"');

    // The form was loaded from A; the load balancer sends its post to B.
    const formOnA = await coordinator.get(reviewUrl);
    const token = /name="_csrf" value="([^"]+)"/.exec(formOnA.body)![1]!;
    const sent = smtp.messages.length;
    const comment = 'Say why the third session was cancelled,\nand when it will be held.';
    const returned = await coordinator.on(b.app).postRaw(reviewUrl, {
      _csrf: token,
      decision: 'return',
      comment,
      version: versionOn(formOnA.body),
    });
    expect(returned.statusCode).toBe(303);
    expect(returned.headers.location).toBe(q4);
    expect(await flashAfter(coordinator, returned)).toBe(
      'The Q4 2024/25 update for aim 3.1, action 1 has been returned to the lead officer (1 email sent)',
    );

    const fresh = since(sent);
    expect(fresh.map((m) => m.to)).toEqual([[HELEN]]);
    const email = fresh[0]!;
    expect(email.subject).toBe(`${PARTNERSHIP}: your Q4 2024/25 update for aim 3.1 has been returned`);
    expect(email.text).toContain(
      `Casey Coordinator has returned the Q4 2024/25 progress update for aim 3.1 ${OLD_TITLE}, action 1: Advertise where the Hate Crime 3rd party`,
    );
    expect(email.text).toContain('> Say why the third session was cancelled,\n> and when it will be held.');
    expect(formLinks(email).map((l) => l.url)).toEqual([
      `${PUBLIC_URL}${base}/actions/${helens[0]}/progress?quarter=4`,
    ]);
    expect(boardStates((await coordinator.get(q4)).body).get('3.1-1')).toBe('returned');
  });

  it('Helen follows the returned email’s link: the form shows the comment; she resubmits', async () => {
    const email = smtp.messages.find((m) => m.subject.endsWith('has been returned'))!;
    const path = pathOf(formLinks(email)[0]!.url);
    const form = await helenOnB.get(path);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('data-testid="returned"');
    expect(textOf(byTestId(form.body, 'review-comment'))).toBe(
      'Say why the third session was cancelled, and when it will be held.',
    );
    // What she sent is there to change.
    expect(form.body).toContain('Two reporting sessions held; the third was cancelled.');
    // Her one-page list, on A, shows the comment too.
    const list = await helenOnA.get(`${q4}/updates`);
    expect(textOf(byTestId(list.body, `review-comment-${helens[0]}`))).toContain(
      'Say why the third session was cancelled',
    );

    const resubmitted = await helenOnB.post(path, {
      quarter: '4',
      status: 'on_track',
      text: 'Two reporting sessions held; the third moved to May after the venue flooded.',
      evidenceUrl: 'https://example.org/hate-crime-sessions',
      version: versionOn(form.body),
      intent: 'submit',
    });
    expect(resubmitted.statusCode).toBe(303);
    expect(await flashAfter(helenOnB, resubmitted)).toBe('Your Q4 update for aim 3.1 has been submitted');
    expect(boardStates((await coordinator.get(q4)).body).get('3.1-1')).toBe('submitted');
  });

  it('the coordinator accepts it; the board shows each action as it stands, none late', async () => {
    const reviewUrl = `${q4}/actions/${helens[0]}/review`;
    const review = await coordinator.get(reviewUrl);
    expect(textOf(byTestId(review.body, 'update-text'))).toBe(
      'Two reporting sessions held; the third moved to May after the venue flooded.',
    );
    const sent = smtp.messages.length;
    const accepted = await coordinator.post(reviewUrl, {
      decision: 'accept',
      comment: '',
      version: versionOn(review.body),
    });
    expect(accepted.statusCode).toBe(303);
    expect(await flashAfter(coordinator, accepted)).toBe(
      'The Q4 2024/25 update for aim 3.1, action 1 has been accepted',
    );
    // Accepting emails nobody.
    expect(smtp.messages).toHaveLength(sent);

    const form = await helenOnA.get(`${base}/actions/${helens[0]}/progress?quarter=4`);
    expect(textOf(byTestId(form.body, 'update-state'))).toMatch(/^Accepted on /);

    // Read by a board member on B.
    const board = await boardMember.get(q4);
    const states = boardStates(board.body);
    expect(
      ['3.1-1', '3.1-2', '2.1-1', '2.2-1', '2.3-1', '2.4-1', '5.5-3', '4.3-1', '3.1-3'].map((key) => [
        key,
        states.get(key),
      ]),
    ).toEqual([
      ['3.1-1', 'accepted'],
      ['3.1-2', 'submitted'],
      ['2.1-1', 'submitted'],
      ['2.2-1', 'requested'],
      ['2.3-1', 'requested'],
      ['2.4-1', 'requested'],
      ['5.5-3', 'requested'],
      // The demo's Q4 update, recorded before the quarter was opened.
      ['4.3-1', 'submitted'],
      // Nobody with an account leads it: never asked.
      ['3.1-3', 'not_requested'],
    ]);
    expect(
      ['accepted', 'submitted', 'requested', 'draft', 'returned', 'not_requested', 'total'].map((s) => [
        s,
        count(board.body, s),
      ]),
    ).toEqual([
      ['accepted', 1],
      ['submitted', 3],
      ['requested', 4],
      ['draft', 0],
      ['returned', 0],
      ['not_requested', 26],
      ['total', 34],
    ]);
    // Everything came in before the due date.
    expect(board.body).not.toContain('data-testid="late"');
    expect(textOf(byTestId(board.body, 'board-row-3.1-1'))).toContain(`${inWords(today)}`);
  });

  it('an update sent after its quarter’s due date is marked late: Q3, opened with its due date past', async () => {
    const sent = smtp.messages.length;
    const opened = await coordinator.post(
      q3,
      { 'dueOn-day': '14', 'dueOn-month': '1', 'dueOn-year': '2025', reminderOffsets: '-7, 1, 7' },
      `${q3}/open`,
    );
    expect(opened.statusCode).toBe(303);
    expect(await flashAfter(coordinator, opened)).toBe(
      'Q3 is open: 2 lead officers were emailed about 7 actions; 27 actions have nobody to ask',
    );
    const fresh = since(sent);
    expect(fresh.map((m) => m.to).sort()).toEqual([[HELEN], [TANIA]]);
    for (const message of fresh) {
      expect(message.subject).toBe(
        `${PARTNERSHIP}: please send your Q3 2024/25 progress updates by 14 January 2025`,
      );
    }
    const toHelen = fresh.find((m) => m.to[0] === HELEN)!;
    expect(formLinks(toHelen).map((l) => [l.actionId, l.quarter])).toEqual(helens.map((id) => [id, 3]));

    // Helen answers for her second action (the demo holds a Q3 update of her first).
    const path = pathOf(formLinks(toHelen)[1]!.url);
    const form = await helenOnB.get(path);
    expect(form.body).toContain('data-testid="late-warning"');
    const submitted = await helenOnB.post(path, {
      quarter: '3',
      status: 'on_track',
      text: 'Leaflets on the five types of hate crime went out in December.',
      evidenceUrl: '',
      intent: 'submit',
    });
    expect(await flashAfter(helenOnB, submitted)).toBe(
      'Your Q3 update for aim 3.1 has been submitted (late)',
    );

    const board = await coordinator.on(b.app).get(q3);
    const states = boardStates(board.body);
    expect(states.get('3.1-2')).toBe('submitted');
    expect(byTestId(board.body, 'board-row-3.1-2')).toContain('data-testid="late"');
    // The demo's Q3 update of her first action came in before the quarter was opened: not late.
    expect(states.get('3.1-1')).toBe('submitted');
    expect(byTestId(board.body, 'board-row-3.1-1')).not.toContain('data-testid="late"');
    // Q4 is untouched.
    expect((await coordinator.get(q4)).body).not.toContain('data-testid="late"');
  });

  let csvBefore: string;
  let jsonBefore: string;
  let reportBefore: string;
  /** The part of the snapshot page that is the report itself: from its heading to the amendments. */
  const reportPart = (html: string) => {
    const start = html.indexOf('data-testid="snapshot-heading"');
    const end = html.indexOf('data-testid="amendments"');
    expect(start).toBeGreaterThan(0);
    expect(end).toBeGreaterThan(start);
    return html.slice(start, end);
  };

  it('the coordinator closes Q4 with the board’s date: the snapshot, its CSV and JSON', async () => {
    const close = await coordinator.get(`${q4}/close`);
    expect(close.statusCode).toBe(200);
    expect(textOf(byTestId(close.body, 'outstanding-awaiting'))).toBe(
      '4 (4 with nothing sent, 0 drafts, 0 returned)',
    );
    const [year, month, day] = reportedOn.split('-');
    const closed = await coordinator.post(`${q4}/close`, {
      'reportedOn-day': String(Number(day)),
      'reportedOn-month': String(Number(month)),
      'reportedOn-year': year!,
      version: versionOn(close.body),
    });
    expect(closed.statusCode).toBe(303);
    expect(closed.headers.location).toBe(`${q4}/snapshot`);
    expect(await flashAfter(coordinator, closed)).toBe(
      'Q4 2024/25 is closed: the report as the board sees it is frozen',
    );

    const page = await boardMember.get(`${q4}/snapshot`);
    expect(page.statusCode).toBe(200);
    expect(textOf(byTestId(page.body, 'snapshot-heading'))).toBe(
      `Q4 2024/25 as reported to the board on ${inWords(reportedOn)}`,
    );
    const row = textOf(byTestId(page.body, 'snapshot-row-3.1-1'));
    expect(row).toContain(OLD_TITLE);
    expect(row).toContain('On track');
    expect(row).toContain('the third moved to May after the venue flooded');
    expect(row).toContain('Accepted');
    expect(textOf(byTestId(page.body, 'snapshot-row-2.1-1'))).toContain(
      'Three groups now meet at the Women’s Centre every week.',
    );
    expect(textOf(byTestId(page.body, 'snapshot-count-accepted'))).toBe('Accepted 1');
    expect(textOf(byTestId(page.body, 'snapshot-count-requested'))).toBe('Requested 4');
    expect(page.body).toContain('data-testid="no-amendments"');
    reportBefore = reportPart(page.body);

    const csv = await boardMember.get(`${q4}/snapshot.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="sosafe-2024-25-q4-as-reported-${reportedOn}.csv"`,
    );
    expect(csv.body).toContain('the third moved to May after the venue flooded');
    csvBefore = csv.body;

    const json = await boardMember.get(`${q4}/snapshot.json`);
    expect(json.statusCode).toBe(200);
    const snapshot = JSON.parse(json.body) as {
      quarter: number;
      reportedOn: string;
      board: { aimNumber: string; actionIndex: number; state: string; late: boolean }[];
    };
    expect(snapshot.quarter).toBe(4);
    expect(snapshot.reportedOn).toBe(reportedOn);
    expect(snapshot.board).toHaveLength(34);
    expect(
      snapshot.board.filter((r) => r.aimNumber === '3.1' && r.actionIndex <= 2).map((r) => [r.state, r.late]),
    ).toEqual([
      ['accepted', false],
      ['submitted', false],
    ]);
    jsonBefore = json.body;
  });

  let newAimNumber: string;
  let editedOn: string[];

  it('later: the aim is renamed, Helen amends her update (her form says it is an amendment), an aim is added', async () => {
    editedOn = [londonDate(new Date())];
    // The coordinator renames aim 3.1 through its edit page, on A.
    const edit = await coordinator.get(`${base}/aims/3.1/edit`);
    expect(edit.statusCode).toBe(200);
    const renamed = await coordinator.post(`${base}/aims/3.1/edit`, {
      number: '3.1',
      title: NEW_TITLE,
      version: versionOn(edit.body),
    });
    expect(renamed.statusCode).toBe(303);

    // Helen follows her email's link once more, on B: the form says she is amending a closed quarter.
    const toHelen = smtp.messages.find((m) => m.to[0] === HELEN && m.subject.includes('Q4 2024/25'))!;
    const path = pathOf(formLinks(toHelen)[0]!.url);
    const form = await helenOnB.get(path);
    expect(textOf(byTestId(form.body, 'amendment-notice'))).toBe(
      `Q4 was reported to the board on ${inWords(reportedOn)}; what you save now is recorded as an amendment.`,
    );
    expect(form.body).toContain('data-testid="save-amendment"');
    expect(form.body).not.toContain('data-testid="save-draft"');
    const amended = await helenOnB.post(path, {
      quarter: '4',
      status: 'complete',
      text: 'Amended after the board: all three sessions have now been held.',
      evidenceUrl: '',
      version: versionOn(form.body),
      intent: 'submit',
    });
    expect(amended.statusCode).toBe(303);
    expect(await flashAfter(helenOnB, amended)).toBe(
      'Your Q4 update for aim 3.1 has been saved as an amendment',
    );

    // The coordinator adds an aim to section 3, on B, with the number the form suggests.
    const coordinatorOnB = coordinator.on(b.app);
    const plan = await coordinatorOnB.get(base);
    const sectionId =
      /sections\/(\d+)\/aims\/new">Add an aim<span class="govuk-visually-hidden"> to section 3</.exec(
        plan.body,
      )?.[1];
    expect(sectionId).toBeDefined();
    const newForm = await coordinatorOnB.get(`${base}/sections/${sectionId}/aims/new`);
    newAimNumber = /name="number" type="text" value="([\d.]+)"/.exec(newForm.body)?.[1] ?? '';
    expect(newAimNumber).toMatch(/^3\.\d+$/);
    const added = await coordinatorOnB.post(`${base}/sections/${sectionId}/aims/new`, {
      number: newAimNumber,
      title: 'Safer nights out in the town centre',
    });
    expect(added.statusCode).toBe(303);
    expect(added.headers.location).toBe(`${base}/aims/${newAimNumber}`);
    editedOn.push(londonDate(new Date()));
  });

  it('the snapshot is exactly as reported: CSV and JSON byte for byte, the page with the amendment apart', async () => {
    for (const [name, reader] of [
      ['board member on B', boardMember],
      ['coordinator on A', coordinator],
    ] as const) {
      expect((await reader.get(`${q4}/snapshot.csv`)).body, name).toBe(csvBefore);
      expect((await reader.get(`${q4}/snapshot.json`)).body, name).toBe(jsonBefore);
      const page = await reader.get(`${q4}/snapshot`);
      expect(reportPart(page.body), name).toBe(reportBefore);
    }

    const page = await boardMember.get(`${q4}/snapshot`);
    const row = textOf(byTestId(page.body, 'snapshot-row-3.1-1'));
    expect(row).toContain(OLD_TITLE);
    expect(row).not.toContain(NEW_TITLE);
    expect(row).toContain('the third moved to May after the venue flooded');
    expect(row).not.toContain('all three sessions have now been held');
    expect(page.body).not.toContain('Safer nights out in the town centre');
    // The amendment, listed on its own below the report, marked as one.
    const [report, amendments] = page.body.split('data-testid="amendments"');
    expect(report).not.toContain('all three sessions have now been held');
    expect(amendments).not.toContain('data-testid="no-amendments"');
    const amendment = textOf(byTestId(amendments ?? '', 'amendment-3.1-1'));
    expect(amendment).toMatch(/^Amendment Aim 3\.1, action 1 Amended .+ by Helen Whitehead /);
    expect(amendment).toContain(
      'As reported On track Two reporting sessions held; the third moved to May after the venue flooded.',
    );
    expect(amendment).toContain(
      'Amended to Complete Amended after the board: all three sessions have now been held.',
    );

    // The live plan shows the new title and the amended update.
    const aim = await boardMember.get(`${base}/aims/3.1`);
    expect(textOf(byTestId(aim.body, 'aim-heading'))).toBe(`3.1 ${NEW_TITLE}`);
    expect(textOf(byTestId(aim.body, 'action-1-q4'))).toContain(
      'Amended after the board: all three sessions have now been held.',
    );
    expect(aim.body).toContain('data-testid="amended-q4-1"');
    const added = await boardMember.get(`${base}/aims/${newAimNumber}`);
    expect(textOf(byTestId(added.body, 'aim-heading'))).toBe(
      `${newAimNumber} Safer nights out in the town centre`,
    );
  });

  it('the changes page lists the rename and the new aim, dated today, since the last report', async () => {
    const page = await coordinator.on(b.app).get(`${base}/changes`);
    expect(page.statusCode).toBe(200);
    const headings = changeHeadings(page.body);
    expect(headings).toEqual([
      ['reported-with-q4-1', `Reported with Q4 (board on ${inWords(reportedOn)})`],
      ['since-last-report', 'Since the last report'],
    ]);
    const rows = (id: string) => changeRows(page.body, id);

    const sinceLast = rows('since-last-report');
    expect(sinceLast).toHaveLength(2);
    const [renamed, added] = sinceLast as [string[], string[]];
    // Dated today (the day the edits were made, read before and after them).
    expect(editedOn.map(inWords)).toContain(renamed[0]);
    expect(renamed.slice(1)).toEqual([
      'Aim changed',
      `3.1 ${NEW_TITLE}`,
      `Title changed from “${OLD_TITLE}” to “${NEW_TITLE}”`,
      'Casey Coordinator',
    ]);
    expect(editedOn.map(inWords)).toContain(added[0]);
    expect(added.slice(1)).toEqual([
      'Aim added',
      `${newAimNumber} Safer nights out in the town centre`,
      '',
      'Casey Coordinator',
    ]);

    // What went to the board with Q4 holds neither; it has the plan's own mid-year change, aim 4.1.
    const reported = rows('reported-with-q4-1');
    expect(reported.some((r) => r[1] === 'Aim added' && r[2] === '4.1 Dangerous Dogs')).toBe(true);
    expect(reported.flat().join(' ')).not.toContain(NEW_TITLE);
    expect(reported.flat().join(' ')).not.toContain('Safer nights out');
  });

  it('closing the next quarter reports those changes with it: its snapshot and the changes page agree', async () => {
    // Q3, opened late above, is closed after Q4: the next report to the board.
    const close = await coordinator.get(`${q3}/close`);
    const q3ReportedOn = addDays(reportedOn, 1);
    const [year, month, day] = q3ReportedOn.split('-');
    const closed = await coordinator.post(`${q3}/close`, {
      'reportedOn-day': String(Number(day)),
      'reportedOn-month': String(Number(month)),
      'reportedOn-year': year!,
      version: versionOn(close.body),
    });
    expect(closed.statusCode).toBe(303);
    expect(closed.headers.location).toBe(`${q3}/snapshot`);

    const changes = await boardMember.get(`${base}/changes`);
    expect(changeHeadings(changes.body)).toEqual([
      ['reported-with-q4-1', `Reported with Q4 (board on ${inWords(reportedOn)})`],
      ['reported-with-q3-2', `Reported with Q3 (board on ${inWords(q3ReportedOn)})`],
      ['since-last-report', 'Since the last report'],
    ]);
    const withQ3 = changeRows(changes.body, 'reported-with-q3-2').map((r) => [r[1], r[2]]);
    expect(withQ3).toEqual([
      ['Aim changed', `3.1 ${NEW_TITLE}`],
      ['Aim added', `${newAimNumber} Safer nights out in the town centre`],
    ]);
    expect(changeRows(changes.body, 'since-last-report')).toEqual([]);

    // The Q3 snapshot reports the same changes as the page says went with it, and nothing of Q4's.
    const snapshot = await boardMember.get(`${q3}/snapshot`);
    expect(snapshot.statusCode).toBe(200);
    expect(snapshotChanges(snapshot.body)).toEqual([
      ['aim_changed', '3.1', `${NEW_TITLE} Title changed from “${OLD_TITLE}” to “${NEW_TITLE}”`],
      ['aim_added', newAimNumber, 'Safer nights out in the town centre'],
    ]);
  });

  it('signing out on B signs out on A; and no email went to anyone but the two lead officers', async () => {
    const page = await helenOnB.get(`${q4}/updates`);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const out = await helenOnB.postRaw('/sign-out', { _csrf: token });
    expect(out.statusCode).toBe(302);
    const onA = await helenOnA.get(`${q4}/updates`);
    expect(onA.statusCode).toBe(302);
    expect(onA.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(`${q4}/updates`)}`);

    expect(smtp.messages.map((m) => [m.to.join(), m.subject.replace(`${PARTNERSHIP}: `, '')])).toEqual([
      ...[
        [HELEN, `please send your Q4 2024/25 progress updates by ${inWords(dueOn)}`],
        [TANIA, `please send your Q4 2024/25 progress updates by ${inWords(dueOn)}`],
      ].sort(),
      [TANIA, `reminder — your Q4 2024/25 progress updates are due by ${inWords(dueOn)}`],
      [HELEN, 'your Q4 2024/25 update for aim 3.1 has been returned'],
      ...[
        [HELEN, 'please send your Q3 2024/25 progress updates by 14 January 2025'],
        [TANIA, 'please send your Q3 2024/25 progress updates by 14 January 2025'],
      ].sort(),
    ]);
  });
});
