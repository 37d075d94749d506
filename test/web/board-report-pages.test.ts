/**
 * The quarter's board report over HTTP: the page (GOV.UK tables with captions and headers, the
 * status as a tag with words, a draft marked as one), its DOCX and PDF downloads with their types
 * and file names, links to it from the quarter's page and the snapshot, and who may read it: the
 * board may; someone of another partnership may not; signed out, you are asked to sign in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/actor.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { findAim } from '../../src/services/plan-read.js';
import { addUser } from '../../src/services/users.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';

const system = systemActor('board report pages test');
const base = '/p/sosafe/plans/2024-25';
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const DRAFT = 'Draft: this quarter is not closed; figures may change';

let t: TestApp;
let board: Session;
let coordinator: Session;
let outsider: Session;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

beforeAll(async () => {
  t = await createTestApp();
  board = new Session(t.app);
  await board.signIn(DEMO.board);
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  await createPartnership(t.database.db, system, { slug: 'elsewhere', name: 'Elsewhere CSP' });
  await addUser(
    t.database.db,
    {
      email: 'olly@elsewhere.example',
      name: 'Olly Outsider',
      password: TEST_PASSWORD,
      partnership: 'elsewhere',
      role: 'coordinator',
    },
    system,
  );
  outsider = new Session(t.app);
  await outsider.signIn('olly@elsewhere.example');
});
afterAll(async () => {
  await t?.close();
});

describe('a quarter not closed', () => {
  it('shows the board a draft page, marked as one, with its tables', async () => {
    const response = await board.get(`${base}/quarters/3/report`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const html = response.body;
    expect(textOf(html)).toContain('Q3 2024/25 progress report to the board (draft)');
    expect(html).toContain('data-testid="draft-notice"');
    expect(textOf(html)).toContain(DRAFT);
    expect(textOf(html)).toContain('Quarter Q3: October to December');
    // Tables with captions and header cells: the summaries and each section of the plan.
    expect(html).toMatch(/<caption[^>]*>Q3 statuses by section<\/caption>/);
    expect(html).toMatch(/<caption[^>]*>Q3 statuses by priority<\/caption>/);
    for (const heading of ['Aim', 'Action', 'Lead', 'Partners', 'Resources', 'Expected outcomes']) {
      expect(html).toContain(`<th scope="col" class="govuk-table__header">${heading}</th>`);
    }
    expect(html).toContain('Progress in Q3, with status');
    const row = /data-testid="report-row-1\.1-1"[\s\S]*?<\/tr>/.exec(html)?.[0] ?? '';
    expect(textOf(row)).toContain('Promotion of NMSY at Jackmans community day in Letchworth');
    // The demo's updates give no status: said in words on a tag, never by colour alone.
    expect(row).toMatch(/<strong class="govuk-tag govuk-tag--grey">No status given<\/strong>/);
    expect(html).toContain(`href="${base}/quarters/3/report.docx"`);
    expect(html).toContain(`href="${base}/quarters/3/report.pdf"`);
  });

  it('escapes what the plan says', async () => {
    const tree = (await t.services.plans.openPlan(system, 'sosafe', '2024/25')).tree;
    const { aim } = findAim(tree, '5.5');
    await t.services.edit.updateAim(system, aim.id, {
      number: '5.5',
      title: 'Tell <script>alert(1)</script> people',
      version: aim.version,
    });
    const html = (await board.get(`${base}/quarters/3/report`)).body;
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('Tell &lt;script&gt;alert(1)&lt;/script&gt; people');
  });

  it('downloads as DOCX and PDF, named for the partnership, year and quarter', async () => {
    const docx = await board.get(`${base}/quarters/3/report.docx`);
    expect(docx.statusCode).toBe(200);
    expect(docx.headers['content-type']).toBe(DOCX);
    expect(docx.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-2024-25-Q3-board-report.docx"',
    );
    expect(docx.rawPayload.subarray(0, 2).toString('latin1')).toBe('PK');

    const pdf = await board.get(`${base}/quarters/3/report.pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-2024-25-Q3-board-report.pdf"',
    );
    expect(pdf.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('is linked from the quarter’s page', async () => {
    const html = (await board.get(`${base}/quarters/3`)).body;
    const link = /data-testid="board-report-link"[\s\S]*?<\/p>/.exec(html)?.[0] ?? '';
    expect(link).toContain(`href="${base}/quarters/3/report"`);
    expect(textOf(link)).toContain('(a draft until the quarter is closed)');
  });
});

describe('a closed quarter', () => {
  it('is the final report, with the board meeting, linked from the snapshot', async () => {
    const opened = await coordinator.post(
      `${base}/quarters/2`,
      {
        'dueOn-day': '14',
        'dueOn-month': '10',
        'dueOn-year': '2024',
        reminderOffsets: '',
      },
      `${base}/quarters/2/open`,
    );
    expect(opened.statusCode).toBe(303);
    const form = (await coordinator.get(`${base}/quarters/2/close`)).body;
    const version = /name="version" value="(\d+)"/.exec(form)?.[1];
    const closed = await coordinator.post(`${base}/quarters/2/close`, {
      'reportedOn-day': '21',
      'reportedOn-month': '10',
      'reportedOn-year': '2024',
      version: version ?? '',
    });
    expect(closed.statusCode).toBe(303);

    const html = (await board.get(`${base}/quarters/2/report`)).body;
    expect(textOf(html)).toContain('Q2 2024/25 progress report to the board');
    expect(html).not.toContain('data-testid="draft-notice"');
    expect(textOf(html)).not.toContain(DRAFT);
    expect(textOf(html)).toContain('Board meeting 21 October 2024');

    const snapshot = (await board.get(`${base}/quarters/2/snapshot`)).body;
    expect(/data-testid="board-report-link"[\s\S]*?<\/p>/.exec(snapshot)?.[0]).toContain(
      `href="${base}/quarters/2/report"`,
    );
    const pdf = await board.get(`${base}/quarters/2/report.pdf`);
    expect(pdf.headers['content-disposition']).toBe(
      'attachment; filename="sosafe-2024-25-Q2-board-report.pdf"',
    );
  });
});

describe('who may read it', () => {
  const urls = ['report', 'report.docx', 'report.pdf'].map((file) => `${base}/quarters/3/${file}`);

  it('refuses someone of another partnership', async () => {
    for (const url of urls) {
      const response = await outsider.get(url);
      expect(response.statusCode, url).toBe(403);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('asks someone signed out to sign in first', async () => {
    const signedOut = new Session(t.app);
    for (const url of urls) {
      const response = await signedOut.get(url);
      expect(response.statusCode, url).toBe(302);
      expect(response.headers.location).toBe(`/sign-in?returnTo=${encodeURIComponent(url)}`);
    }
  });

  it('says a quarter that does not exist is not found, to members only', async () => {
    expect((await board.get(`${base}/quarters/5/report`)).statusCode).toBe(404);
    expect((await outsider.get(`${base}/quarters/5/report`)).statusCode).toBe(403);
  });
});
