/**
 * The quarter's board report as a reader opens it: the DOCX converted by LibreOffice, the PDF read
 * by poppler. Both are A4 landscape, carry the cover's facts, every aim of the plan and an update
 * with £, curly quotes and an en dash written as typed.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { writeBoardReportDocx } from '../../src/documents/board-report-docx.js';
import { writeBoardReportPdf } from '../../src/documents/board-report-pdf.js';
import type { Member } from '../../src/domain/permissions.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { DRAFT_NOTICE, getBoardReport, type BoardReport } from '../../src/services/board-report.js';
import { closeQuarter, getCycle, openQuarter } from '../../src/services/cycles.js';
import { Mailer } from '../../src/services/mail.js';
import { findAim, getPartnershipBySlug, loadPlanTree, type PlanTree } from '../../src/services/plan-read.js';
import { saveProgress } from '../../src/services/progress.js';
import { getMember } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { openInLibreOffice, readPdfBytes, type OpenedDocument } from '../support/office.js';

const UPDATE = 'Funding of £2,500 was “awarded” – the campaign’s posters are up in every library.';

let database: TestDatabase;
let tree: PlanTree;
let closed: BoardReport;
let draft: BoardReport;

async function actorFor(email: string): Promise<Actor> {
  const [user] = await queryRows<{ id: number; partnership_id: number }>(
    database.db,
    sql`select u.id, m.partnership_id from users u join memberships m on m.user_id = u.id where u.email = ${email}`,
  );
  return memberActor((await getMember(database.db, user!.id, user!.partnership_id)) as Member);
}

/**
 * The words of `phrase`, in order, in `text`: a table cell's lines may be interleaved with its
 * neighbours', and a line may break after a word's hyphen ("fly-" / "tipping").
 */
function wordsInOrder(text: string, phrase: string): boolean {
  const split = (s: string) => s.replace(/-/g, '- ').split(/\s+/).filter(Boolean);
  const words = split(text);
  let at = 0;
  for (const word of split(phrase)) {
    const found = words.indexOf(word, at);
    if (found < 0) return false;
    at = found + 1;
  }
  return true;
}

function expectA4Landscape(document: Pick<OpenedDocument, 'pageSize'>): void {
  expect(document.pageSize.width).toBeGreaterThan(document.pageSize.height);
  expect(document.pageSize.width).toBeCloseTo(841.9, 0);
  expect(document.pageSize.height).toBeCloseTo(595.3, 0);
}

function expectTheReport(document: Pick<OpenedDocument, 'text' | 'pages'>): void {
  const { text } = document;
  expect(text).toContain('Q4 2024/25 progress report to the board');
  expect(text).toContain('Partnership: SoSafe Stevenage');
  expect(text).toContain('Plan year: 2024/25');
  expect(text).toContain('Quarter: Q4: January to March');
  expect(text).toContain('Board meeting: 21 April 2025');
  expect(document.pages[0]).toContain('Produced:');
  expect(text).toContain('Summary of Q4 statuses');
  expect(text).toContain('Late updates');
  expect(text).toContain('Returned updates');
  expect(text).toContain('What changed since the last report');
  expect(text).toContain('Dangerous Dogs');
  const aims = tree.sections.flatMap((s) => s.aims);
  expect(aims.length).toBeGreaterThan(20);
  const missing = aims.filter((aim) => !wordsInOrder(text, `${aim.number} ${aim.title}`));
  expect(missing.map((a) => a.number)).toEqual([]);
  expect(wordsInOrder(text, UPDATE)).toBe(true);
  expect(text).toContain('£2,500');
  expect(text).toContain('“awarded”');
  expect(text).toContain('–');
  expect(text).toContain('Status: On track');
  expect(text).not.toContain(DRAFT_NOTICE);
  expect(document.pages.at(-1)).toMatch(/Page (\d+) of \1/);
}

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  const mailer = new Mailer({});
  const coordinator = await actorFor('coordinator@sosafe.example');
  const helen = await actorFor('helen.whitehead@sosafe.example');
  tree = await loadPlanTree(database.db, await getPartnershipBySlug(database.db, 'sosafe'), '2024/25');
  await openQuarter(
    { db: database.db, mailer },
    coordinator,
    tree.plan.id,
    { quarter: 4, dueOn: '2025-04-14' },
    { baseUrl: 'https://plan.example.test' },
  );
  await saveProgress(database.db, helen, findAim(tree, '3.1').aim.actions[0]!.id, {
    quarter: 4,
    status: 'on_track',
    text: UPDATE,
  });
  draft = await getBoardReport(database.db, coordinator, 'sosafe', '2024/25', 4);
  const cycle = (await getCycle(database.db, coordinator, tree.plan.id, 4))!;
  await closeQuarter(database.db, coordinator, cycle.id, {
    reportedOn: '2025-04-21',
    version: cycle.version,
  });
  closed = await getBoardReport(database.db, coordinator, 'sosafe', '2024/25', 4);
  mailer.close();
});
afterAll(async () => {
  await database?.drop();
});

describe('the DOCX, opened in LibreOffice', () => {
  it('is A4 landscape, with the cover, the summary and every aim of the plan', async () => {
    const document = await openInLibreOffice(await writeBoardReportDocx(closed), 'docx');
    expectA4Landscape(document);
    expectTheReport(document);
    expect(document.pages.length).toBeGreaterThan(3);
    // The plan table's header row repeats on the pages it runs onto.
    const withHeader = document.pages.filter((p) => /Aim\s+Action\s+Lead\s+Partners\s+Resources/.test(p));
    expect(withHeader.length).toBeGreaterThan(tree.sections.length);
  });

  it('says a draft is a draft', async () => {
    const document = await openInLibreOffice(await writeBoardReportDocx(draft), 'docx');
    expect(document.text).toContain(DRAFT_NOTICE);
    expect(document.text).toContain('Board meeting: Not yet');
  });
});

describe('the PDF', () => {
  it('is A4 landscape, titled and tagged in English, with the same content', async () => {
    const bytes = await writeBoardReportPdf(closed);
    const document = await readPdfBytes(bytes);
    expectA4Landscape(document);
    expectTheReport(document);
    const withHeader = document.pages.filter((p) => /Aim\s+Action\s+Lead\s+Partners\s+Resources/.test(p));
    expect(withHeader.length).toBeGreaterThan(tree.sections.length);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pp-board-pdf-'));
    try {
      const file = path.join(dir, 'report.pdf');
      await fs.writeFile(file, bytes);
      const pdfinfo = path.join(path.dirname(process.env.PDFTOTEXT_PATH || 'pdftotext'), 'pdfinfo');
      const { stdout } = await promisify(execFile)(pdfinfo, [file]);
      expect(stdout).toMatch(/^Title:\s+SoSafe Stevenage: Q4 2024\/25 progress report to the board$/m);
      expect(stdout).toMatch(/^Tagged:\s+yes$/m);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    expect(bytes.toString('latin1')).toContain('/Lang (en-GB)');
  });

  it('says a draft is a draft', async () => {
    const document = await readPdfBytes(await writeBoardReportPdf(draft));
    expect(document.text).toContain(DRAFT_NOTICE);
  });
});
