import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../src/db/schema.js';
import { londonDate } from '../../src/domain/cycles.js';
import { systemActor } from '../../src/services/actor.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { formatDate } from '../../src/web/render.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
let coordinator: Session;
let partner: Session;
let board: Session;
const base = '/p/sosafe/plans/2024-25';

beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  partner = new Session(t.app);
  await partner.signIn(DEMO.partner);
  board = new Session(t.app);
  await board.signIn(DEMO.board);
});
afterAll(async () => {
  await t?.close();
});

const tree = async (): Promise<PlanTree> =>
  (await t.services.plans.openPlan(systemActor(), 'sosafe', '2024/25')).tree;

/** Posts a form whose fields may repeat (checkboxes), with the CSRF token of the page it is on. */
async function postForm(session: Session, formUrl: string, fields: [string, string][]) {
  const page = await session.get(formUrl);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
  if (!token) throw new Error(`No CSRF token on ${formUrl} (status ${page.statusCode})`);
  return session.postRaw(formUrl, [['_csrf', token], ...fields]);
}

/** The rows of a changes table, as text: date | change | what | detail | who; (empty) for an empty cell. */
function tableRows(html: string, testId: string): string[] {
  const table = new RegExp(`data-testid="${testId}"[\\s\\S]*?</table>`).exec(html)?.[0] ?? '';
  return [...table.matchAll(/<tr class="govuk-table__row" data-testid="change">([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)]
      .map((c) =>
        c[1]!
          .replace(/<[^>]+>/g, '')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .map((cell) => cell || '(empty)')
      .join(' | '),
  );
}

const today = formatDate(londonDate(new Date()));

describe('the changes of the year page', () => {
  it('shows the board the demo year’s changes, not yet reported, with a link in the plan’s navigation', async () => {
    const page = await board.get(`${base}/changes`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Changes to the plan in 2024/25');
    expect(page.body).toContain('Not yet reported');
    expect(page.body).toMatch(
      /<a class="govuk-service-navigation__link" href="\/p\/sosafe\/plans\/2024-25\/changes" aria-current="page">/,
    );
    expect(tableRows(page.body, 'changes-since-last-report')).toEqual([
      '1 June 2024 | Priority added | Fraud | Fraud has been added following strategic conversations at the SoSafe meeting. Addressed by aim 5.4 | Recorded in the plan',
      '1 August 2024 | Aim added | 4.1 Dangerous Dogs | (empty) | Recorded in the plan',
    ]);
  });

  it('sends someone signed out to sign in first', async () => {
    const signedOut = await new Session(t.app).get(`${base}/changes`);
    expect(signedOut.statusCode).toBe(302);
    expect(signedOut.headers.location).toMatch(/^\/sign-in/);
  });

  it('downloads the same changes as CSV', async () => {
    const response = await partner.get(`${base}/changes.csv`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="sosafe-2024-25-changes.csv"');
    const lines = response.body
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines).toEqual([
      'Reported with,Date,Change,Aim,What,Detail,Who',
      'Not yet reported,2024-06-01,Priority added,,Fraud,Fraud has been added following strategic conversations at the SoSafe meeting. Addressed by aim 5.4,',
      'Not yet reported,2024-08-01,Aim added,4.1,Dangerous Dogs,,',
    ]);
  });
});

describe('the coordinator’s priority pages', () => {
  it('are linked from the about page for the coordinator only', async () => {
    const about = await coordinator.get(`${base}/about`);
    expect(about.body).toContain('data-testid="add-priority"');
    const fraud = (await tree()).priorities.find((p) => p.title === 'Fraud')!;
    expect(about.body).toContain(`href="${base}/priorities/${fraud.id}/edit"`);
    expect(about.body).toContain('Added June 2024');
    const partnerAbout = await partner.get(`${base}/about`);
    expect(partnerAbout.body).not.toContain('data-testid="add-priority"');
    expect(partnerAbout.body).not.toContain('/priorities/');
    expect((await partner.get(`${base}/priorities/new`)).statusCode).toBe(403);
    expect((await board.get(`${base}/priorities/${fraud.id}/edit`)).statusCode).toBe(403);
    expect((await partner.get(`${base}/priorities/${fraud.id}/archive`)).statusCode).toBe(403);
  });

  it('shows the error summary, and keeps what was typed, when the priority is left blank', async () => {
    const response = await postForm(coordinator, `${base}/priorities/new`, [
      ['title', '  '],
      ['description', 'Kept description'],
    ]);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('<a href="#title">Enter the priority</a>');
    expect(response.body).toContain('Kept description');
  });

  it('adds a priority linked to the aims ticked; it shows on the about page and in the changes', async () => {
    const plan = await tree();
    const aim53 = findAim(plan, '5.3').aim;
    const aim54 = findAim(plan, '5.4').aim;
    const response = await postForm(coordinator, `${base}/priorities/new`, [
      ['title', 'Retail crime'],
      ['description', 'Added after the autumn’s shop theft figures'],
      ['aims', String(aim54.id)],
      ['aims', String(aim53.id)],
    ]);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${base}/about#priorities`);
    const about = await coordinator.get(`${base}/about`);
    expect(about.body).toContain('The priority Retail crime has been added');
    const entry = /Retail crime[\s\S]*?<\/div>/.exec(
      about.body.slice(about.body.indexOf('data-testid="priorities"')),
    )?.[0];
    expect(entry).toContain('5.3 ');
    expect(entry).toContain('5.4 ');

    const changes = await board.get(`${base}/changes`);
    expect(tableRows(changes.body, 'changes-since-last-report').at(-1)).toBe(
      `${today} | Priority added | Retail crime | Added after the autumn’s shop theft figures. Addressed by aims 5.3, 5.4 | Casey Coordinator`,
    );
  });

  it('changes a priority, its aims ticked as they are', async () => {
    const priority = (await tree()).priorities.find((p) => p.title === 'Retail crime')!;
    const form = await coordinator.get(`${base}/priorities/${priority.id}/edit`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="Retail crime"');
    const checked = [...form.body.matchAll(/name="aims" type="checkbox" value="(\d+)" checked/g)].map((m) =>
      Number(m[1]),
    );
    expect(checked.sort()).toEqual([...priority.aimIds].sort());
    const version = /name="version" value="(\d+)"/.exec(form.body)![1]!;
    const response = await postForm(coordinator, `${base}/priorities/${priority.id}/edit`, [
      ['title', 'Retail and business crime'],
      ['description', ''],
      ['aims', String(findAim(await tree(), '5.4').aim.id)],
      ['version', version],
    ]);
    expect(response.statusCode).toBe(303);
    const changes = await board.get(`${base}/changes`);
    expect(tableRows(changes.body, 'changes-since-last-report').at(-1)).toBe(
      `${today} | Priority changed | Retail and business crime | Title changed from “Retail crime” to “Retail and business crime”; description removed; now addressed by aim 5.4 | Casey Coordinator`,
    );
  });

  it('refuses a stale change with the conflict notice, keeping what was typed', async () => {
    const priority = (await tree()).priorities.find((p) => p.title === 'Retail and business crime')!;
    const response = await postForm(coordinator, `${base}/priorities/${priority.id}/edit`, [
      ['title', 'My stale title'],
      ['version', '1'],
    ]);
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('data-testid="conflict"');
    expect(response.body).toContain('Retail and business crime'); // as it is now
    expect(response.body).toContain('value="My stale title"');
    expect(response.body).toContain('name="version" value="2"'); // saving again replaces it
  });

  it('archives a priority after confirmation, and refuses a stale archive', async () => {
    const priority = (await tree()).priorities.find((p) => p.title === 'Retail and business crime')!;
    const confirm = await coordinator.get(`${base}/priorities/${priority.id}/archive`);
    expect(confirm.body).toContain(
      'Are you sure you want to archive the priority Retail and business crime?',
    );
    const stale = await postForm(coordinator, `${base}/priorities/${priority.id}/archive`, [
      ['version', '1'],
    ]);
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('Someone else changed it');
    const archived = await postForm(coordinator, `${base}/priorities/${priority.id}/archive`, [
      ['version', /name="version" value="(\d+)"/.exec(confirm.body)![1]!],
    ]);
    expect(archived.statusCode).toBe(303);
    const about = await coordinator.get(`${base}/about`);
    expect(about.body).toContain('You archived the priority Retail and business crime.');
    expect(about.body.slice(about.body.indexOf('data-testid="priorities"'))).not.toContain(
      '<dt class="govuk-summary-list__key">Retail and business crime',
    );
    expect((await coordinator.get(`${base}/priorities/${priority.id}/edit`)).statusCode).toBe(404);
    const changes = await board.get(`${base}/changes`);
    expect(tableRows(changes.body, 'changes-since-last-report').at(-1)).toBe(
      `${today} | Priority archived | Retail and business crime | (empty) | Casey Coordinator`,
    );
  });
});

describe('grouped by the quarter reports', () => {
  it('puts the changes reported with a closed quarter under it, and the rest since the last report', async () => {
    const plan = await tree();
    // A Q2 closed on 17 October 2024 (the cycle service does this; made directly here).
    const [cycle] = await t.database.db
      .insert(schema.quarterCycles)
      .values({
        partnershipId: plan.partnership.id,
        planId: plan.plan.id,
        quarter: 2,
        dueOn: '2024-10-14',
        openedAt: new Date('2024-10-01T09:00:00Z'),
        closedAt: new Date('2024-10-17T15:00:00Z'),
      })
      .returning();
    await t.database.db.insert(schema.quarterSnapshots).values({
      partnershipId: plan.partnership.id,
      cycleId: cycle!.id,
      reportedOn: '2024-10-17',
      content: {},
    });
    const page = await board.get(`${base}/changes`);
    expect(page.body).toContain('Reported with Q2 (board on 17 October 2024)');
    expect(page.body).toContain('Since the last report');
    expect(tableRows(page.body, 'changes-reported-with-q2-1').map((r) => r.split(' | ')[2])).toEqual([
      'Fraud',
      '4.1 Dangerous Dogs',
    ]);
    expect(tableRows(page.body, 'changes-since-last-report').map((r) => r.split(' | ')[1])).toEqual([
      'Priority added',
      'Priority changed',
      'Priority archived',
    ]);
    const csv = (await board.get(`${base}/changes.csv`)).body;
    expect(csv).toContain(
      '\r\nReported with Q2 (board on 2024-10-17),2024-08-01,Aim added,4.1,Dangerous Dogs,,\r\n',
    );
    expect(csv).toContain('\r\nSince the last report,');
  });
});
