/**
 * The funding pages over HTTP, as each demo account uses them: the plan's Funding page (lines,
 * totals, filters, the PCC's reports), an aim's funding, and the add, change and archive forms
 * with their error summary, kept input and conflict notice.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fundingLines } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const PLAN = '/p/sosafe/plans/2024-25';
let t: TestApp;
let tree: PlanTree;
let coordinator: Session;
let lead: Session;
let board: Session;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');

async function linesOfAim(number: string) {
  return t.database.db
    .select()
    .from(fundingLines)
    .where(eq(fundingLines.aimId, findAim(tree, number).aim.id));
}

const dates = (field: string, iso: string) => {
  const [year, month, day] = iso.split('-');
  return { [`${field}-day`]: day!, [`${field}-month`]: month!, [`${field}-year`]: year! };
};

beforeAll(async () => {
  t = await createTestApp();
  tree = (await t.services.plans.openPlan(systemActor(), 'sosafe', '2024/25')).tree;
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  lead = new Session(t.app);
  await lead.signIn(DEMO.lead);
  board = new Session(t.app);
  await board.signIn(DEMO.board);
});
afterAll(async () => {
  await t?.close();
});

describe('the plan’s Funding page', () => {
  it('is in the plan’s navigation and shows every line with its totals, to the board too', async () => {
    const planPage = await board.get(PLAN);
    expect(planPage.body).toContain(`href="${PLAN}/funding"`);
    const page = await board.get(`${PLAN}/funding`);
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('6 funding lines, £10,000.00 in all.');
    expect(text).toContain('Letchworth Heritage Foundation £10,000.00 Received Received 30 June 2024');
    expect(page.body.match(/data-testid="funding-line"/g)).toHaveLength(6);
    expect(text).toMatch(/By source .* Letchworth Heritage Foundation 1 £10,000.00 £0.00/);
    // The board reads; it is offered no change, no archive and no add.
    expect(page.body).not.toContain('/edit"');
    expect(page.body).not.toContain('data-testid="add-funding"');
    for (const half of ['H1', 'H2'])
      for (const ext of ['docx', 'xlsx'])
        expect(page.body).toContain(`${PLAN}/funding/pcc-report-${half}.${ext}`);
  });

  it('filters by state and source with a GET form, keeping the choice', async () => {
    const page = await board.get(`${PLAN}/funding?state=awarded&source=Probation`);
    expect(page.body.match(/data-testid="funding-line"/g)).toHaveLength(1);
    expect(textOf(page.body)).toContain('1 funding line match the filters');
    expect(page.body).toMatch(/<option value="awarded" selected>/);
    expect(page.body).toMatch(/<option value="Probation" selected>/);
    const none = await board.get(`${PLAN}/funding?state=spent&source=Probation`);
    expect(textOf(none.body)).toContain('No funding lines match these filters.');
  });

  it('is refused to someone signed out (sent to sign in)', async () => {
    const response = await new Session(t.app).get(`${PLAN}/funding`);
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toMatch(/^\/sign-in/);
  });
});

describe('an aim’s funding', () => {
  it('shows on the aim’s page with its total, and the coordinator may add a line', async () => {
    const page = await coordinator.get(`${PLAN}/aims/2.2`);
    const text = textOf(page.body);
    expect(text).toContain('Funding for aim 2.2: £10,000.00 in 2 lines');
    expect(text).toContain('Letchworth Heritage Foundation');
    expect(page.body).toContain(`href="${PLAN}/funding/new?aim=2.2"`);
    const boardView = await board.get(`${PLAN}/aims/2.2`);
    expect(boardView.body).toContain('data-testid="aim-funding"');
    expect(boardView.body).not.toContain('/funding/new?aim=2.2');
  });
});

describe('adding, changing and archiving a line', () => {
  let lineId: number;

  it('re-shows a wrong form with the error summary, keeping what was typed, and writes nothing', async () => {
    const before = await linesOfAim('1.1');
    const response = await coordinator.post(
      `${PLAN}/funding/new?aim=1.1`,
      {
        actionId: '',
        source: 'PCC Community Safety Fund',
        amount: 'a lot',
        state: 'received',
        ...dates('appliedOn', '2024-05-01'),
        'receivedOn-day': '31',
        'receivedOn-month': '2',
        'receivedOn-year': '2025',
        notes: 'Typed <b>notes</b>',
      },
      `${PLAN}/funding/new?aim=1.1`,
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('href="#amount"');
    expect(response.body).toContain('href="#receivedOn-day"');
    expect(textOf(response.body)).toContain('Enter the amount in pounds, like 10,000 or 10000.50');
    expect(textOf(response.body)).toContain('Date received must be a real date');
    expect(response.body).toContain('value="PCC Community Safety Fund"');
    expect(response.body).toContain('value="a lot"');
    expect(response.body).toContain('Typed &lt;b&gt;notes&lt;/b&gt;');
    expect(response.body).toMatch(/value="received" checked/);
    expect(await linesOfAim('1.1')).toEqual(before);
  });

  it('adds a line and shows it on the aim', async () => {
    const response = await coordinator.post(
      `${PLAN}/funding/new?aim=1.1`,
      {
        actionId: '',
        source: 'PCC Community Safety Fund',
        amount: '12,500',
        state: 'received',
        ...dates('appliedOn', '2024-05-01'),
        ...dates('receivedOn', '2024-07-20'),
        spentToDate: '2500.50',
      },
      `${PLAN}/funding/new?aim=1.1`,
    );
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(`${PLAN}/aims/1.1`);
    const [row] = await linesOfAim('1.1');
    expect(row).toMatchObject({ amountPence: 1_250_000, spentToDatePence: 250_050, state: 'received' });
    lineId = row!.id;
    const aim = textOf((await coordinator.get(`${PLAN}/aims/1.1`)).body);
    expect(aim).toContain('The funding line has been added to aim 1.1');
    expect(aim).toContain(
      'PCC Community Safety Fund £12,500.00 Received Applied for 1 May 2024 · Received 20 July 2024 £2,500.50',
    );
  });

  it('changes it, and refuses a stale version with a conflict notice, keeping what was typed', async () => {
    const form = await coordinator.get(`${PLAN}/funding/${lineId}/edit`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('value="12500"');
    expect(form.body).toContain('name="version" value="1"');
    const fields = {
      actionId: '',
      source: 'PCC Community Safety Fund',
      amount: '12500',
      state: 'spent',
      ...dates('appliedOn', '2024-05-01'),
      ...dates('receivedOn', '2024-07-20'),
      ...dates('spentOn', '2024-11-30'),
      spentToDate: '12500',
      version: '1',
    };
    const saved = await coordinator.post(`${PLAN}/funding/${lineId}/edit`, fields);
    expect(saved.statusCode).toBe(303);
    const stale = await coordinator.post(`${PLAN}/funding/${lineId}/edit`, { ...fields, amount: '13000' });
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-testid="conflict"');
    expect(textOf(stale.body)).toContain('As it is now: PCC Community Safety Fund, £12,500.00, spent.');
    expect(stale.body).toContain('value="13000"');
    expect(stale.body).toContain('name="version" value="2"');
    const [row] = await linesOfAim('1.1');
    expect(row).toMatchObject({ amountPence: 1_250_000, state: 'spent', version: 2 });
  });

  it('archives it after a confirmation page; a stale confirmation is refused', async () => {
    const confirm = await coordinator.get(`${PLAN}/funding/${lineId}/archive`);
    expect(textOf(confirm.body)).toContain('Are you sure you want to archive this funding line?');
    const stale = await coordinator.post(`${PLAN}/funding/${lineId}/archive`, { version: '1' });
    expect(stale.statusCode).toBe(409);
    const done = await coordinator.post(`${PLAN}/funding/${lineId}/archive`, { version: '2' });
    expect(done.statusCode).toBe(303);
    const [row] = await linesOfAim('1.1');
    expect(row!.archivedAt).toBeInstanceOf(Date);
    expect(textOf((await coordinator.get(`${PLAN}/aims/1.1`)).body)).toContain(
      'No funding is recorded for this aim.',
    );
    expect((await coordinator.get(`${PLAN}/funding/${lineId}/edit`)).statusCode).toBe(404);
  });
});

describe('a lead officer', () => {
  it('records funding on an action she leads, offered only her actions', async () => {
    const aim = findAim(tree, '3.1').aim;
    const form = await lead.get(`${PLAN}/funding/new?aim=3.1`);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain(`value="${aim.actions[0]!.id}"`);
    expect(form.body).toContain(`value="${aim.actions[1]!.id}"`);
    expect(form.body).not.toContain(`value="${aim.actions[2]!.id}"`);
    expect(textOf(form.body)).not.toContain('Aim 3.1 as a whole');
    const response = await lead.post(
      `${PLAN}/funding/new?aim=3.1`,
      {
        actionId: String(aim.actions[0]!.id),
        source: 'Hate crime awareness grant',
        amount: '750',
        state: 'applied',
        ...dates('appliedOn', '2024-10-01'),
      },
      `${PLAN}/funding/new?aim=3.1`,
    );
    expect(response.statusCode).toBe(303);
    const [row] = await linesOfAim('3.1');
    expect(row).toMatchObject({ actionId: aim.actions[0]!.id, amountPence: 75_000 });
    expect((await lead.get(`${PLAN}/funding/${row!.id}/edit`)).statusCode).toBe(200);
  });

  it('is refused on an action she does not lead, and on aims she leads nothing in', async () => {
    const aim = findAim(tree, '3.1').aim;
    const refused = await lead.post(
      `${PLAN}/funding/new?aim=3.1`,
      {
        actionId: String(aim.actions[2]!.id),
        source: 'Not hers',
        amount: '1',
        state: 'applied',
        ...dates('appliedOn', '2024-10-01'),
      },
      `${PLAN}/funding/new?aim=3.1`,
    );
    expect(refused.statusCode).toBe(403);
    expect((await linesOfAim('3.1')).map((l) => l.source)).not.toContain('Not hers');
    expect((await lead.get(`${PLAN}/funding/new?aim=2.2`)).statusCode).toBe(403);
    const letchworth = (await linesOfAim('2.2'))[0]!;
    expect((await lead.get(`${PLAN}/funding/${letchworth.id}/edit`)).statusCode).toBe(403);
  });
});

describe('the PCC’s budget report downloads', () => {
  it('are Word and Excel files with good names, for the board too', async () => {
    const docx = await board.get(`${PLAN}/funding/pcc-report-H1.docx`);
    expect(docx.statusCode).toBe(200);
    expect(docx.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(docx.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-pcc-budget-report-2024-25-H1.docx"',
    );
    expect(docx.rawPayload.subarray(0, 2).toString()).toBe('PK');
    const xlsx = await board.get(`${PLAN}/funding/pcc-report-H2.xlsx`);
    expect(xlsx.statusCode).toBe(200);
    expect(xlsx.headers['content-type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    expect(xlsx.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-pcc-budget-report-2024-25-H2.xlsx"',
    );
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
    expect((await board.get(`${PLAN}/funding/pcc-report-H3.docx`)).statusCode).toBe(404);
  });
});
