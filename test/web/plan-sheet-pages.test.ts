import { count } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, planUploads } from '../../src/db/schema.js';
import { PLAN_CSV_COLUMNS } from '../../src/documents/plan-csv.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
const s: Record<'coordinator' | 'partner', Session> = {} as never;
beforeAll(async () => {
  t = await createTestApp();
  for (const role of ['coordinator', 'partner'] as const) {
    s[role] = new Session(t.app);
    await s[role].signIn(DEMO[role]);
  }
});
afterAll(async () => {
  await t?.close();
});

const base = '/p/sosafe/plans/2024-25';
const page = `${base}/spreadsheet`;
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

async function rowCount(table: typeof auditEvents | typeof planUploads): Promise<number> {
  const [row] = await t.database.db.select({ n: count() }).from(table);
  return Number(row?.n ?? 0);
}

function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The changes table's rows, cell by cell. */
function changeRows(html: string): string[][] {
  return [...html.matchAll(/<tr class="govuk-table__row" data-testid="sheet-change">([\s\S]*?)<\/tr>/g)].map(
    (row) => [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => text(cell[1]!)),
  );
}

async function download(session: Session, format: 'xlsx' | 'csv') {
  const response = await session.get(`${page}.${format}`);
  expect(response.statusCode).toBe(200);
  return response;
}

/** Sets a cell of the row holding the first action of aim 2.1, as someone would in Excel. */
async function changeLead(xlsx: Buffer, value: string): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(xlsx as unknown as ExcelJS.Buffer);
  const sheet = workbook.worksheets.find((w) => w.name.startsWith('2 '))!;
  const aim = PLAN_CSV_COLUMNS.indexOf('Aim') + 1;
  const lead = PLAN_CSV_COLUMNS.indexOf('Lead') + 1;
  let changed = false;
  sheet.eachRow((row) => {
    if (!changed && row.getCell(aim).value === '2.1') {
      row.getCell(lead).value = value;
      changed = true;
    }
  });
  expect(changed).toBe(true);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('the spreadsheet page', () => {
  it('offers members the downloads, and only the coordinator the upload form', async () => {
    const coordinator = await s.coordinator.get(page);
    expect(coordinator.statusCode).toBe(200);
    expect(coordinator.body).toContain(`href="${page}.xlsx"`);
    expect(coordinator.body).toContain(`href="${page}.csv"`);
    expect(coordinator.body).toMatch(/<form method="post" action="[^"]+" enctype="multipart\/form-data"/);
    expect(coordinator.body).toMatch(/<input[^>]+type="file"[^>]*>|<input[^>]+name="file"[^>]*>/);

    const partner = await s.partner.get(page);
    expect(partner.statusCode).toBe(200);
    expect(partner.body).toContain(`href="${page}.xlsx"`);
    expect(partner.body).not.toContain('enctype="multipart/form-data"');

    const plan = await s.partner.get(base);
    expect(plan.body).toContain(`href="${page}" data-testid="plan-spreadsheet"`);
  });

  it('downloads the plan as XLSX and CSV, named after the partnership and year', async () => {
    const xlsx = await download(s.partner, 'xlsx');
    expect(xlsx.headers['content-type']).toBe(XLSX_TYPE);
    expect(xlsx.headers['content-disposition']).toBe('attachment; filename="sosafe-2024-25-plan.xlsx"');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
    expect(workbook.worksheets.map((w) => w.name)).toEqual([
      '1 Divert young people from',
      '2 Provide safe reporting and',
      '3 Promote reporting of hate',
      '4 Tackle the harms caused by',
      '5 Work with partners to',
    ]);
    const csv = await download(s.partner, 'csv');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body.split('\r\n')[0]).toBe(`\uFEFF${PLAN_CSV_COLUMNS.join(',')}`);
  });
});

describe('importing a spreadsheet', () => {
  it('export, change one cell, upload, preview exactly that change, confirm: the plan and History show it', async () => {
    const xlsx = await download(s.coordinator, 'xlsx');
    const changed = await changeLead(xlsx.rawPayload, 'SADA: Tania King; Roxie Chambers');

    const uploaded = await s.coordinator.upload(
      page,
      {},
      { file: { filename: 'our plan.xlsx', content: changed, contentType: XLSX_TYPE } },
    );
    expect(uploaded.statusCode).toBe(303);
    const previewUrl = String(uploaded.headers.location);
    expect(previewUrl).toMatch(new RegExp(`^${page}/uploads/\\d+$`));

    const preview = await s.coordinator.get(previewUrl);
    expect(preview.statusCode).toBe(200);
    expect(text(preview.body)).toContain(
      'From our plan.xlsx (Excel workbook). Nothing in the plan has been changed yet.',
    );
    expect(changeRows(preview.body)).toEqual([
      [
        'Aim 2.1, action 1',
        'Lead',
        'SADA: Tania King',
        'SADA: Tania King; Roxie Chambers',
        expect.stringMatching(/^sheet "2 Provide safe reporting and", row \d+$/),
      ],
    ]);
    expect(preview.body).not.toContain('data-testid="sheet-additions"');
    expect(preview.body).not.toContain('data-testid="sheet-archivals"');
    const fingerprint = /name="fingerprint" value="([0-9a-f]+)"/.exec(preview.body)?.[1];
    expect(fingerprint).toBeDefined();

    const confirmed = await s.coordinator.post(previewUrl, { fingerprint: fingerprint! });
    expect(confirmed.statusCode).toBe(303);
    expect(confirmed.headers.location).toBe(page);
    const after = await s.coordinator.get(page);
    expect(text(after.body)).toContain('Imported our plan.xlsx: 1 field changed');

    const aim = await s.coordinator.get(`${base}/aims/2.1`);
    expect(text(aim.body)).toContain('Roxie Chambers');
    const history = await s.coordinator.get(`${base}/aims/2.1/history`);
    expect(history.statusCode).toBe(200);
    expect(text(history.body)).toMatch(/Changed an action[\s\S]*Lead/);
    expect(history.body).toContain('Roxie Chambers');

    // The upload is used up.
    expect((await s.coordinator.get(previewUrl)).statusCode).toBe(404);
  });

  it('an unchanged upload previews "no changes" and offers nothing to confirm', async () => {
    const csv = await download(s.coordinator, 'csv');
    const events = await rowCount(auditEvents);
    const uploaded = await s.coordinator.upload(
      page,
      {},
      { file: { filename: 'plan.csv', content: csv.rawPayload, contentType: 'text/csv' } },
    );
    expect(uploaded.statusCode).toBe(303);
    const preview = await s.coordinator.get(String(uploaded.headers.location));
    expect(preview.body).toContain('data-testid="sheet-no-changes"');
    expect(text(preview.body)).toContain('The file changes nothing');
    expect(preview.body).not.toContain('data-testid="sheet-confirm"');
    expect(changeRows(preview.body)).toEqual([]);
    expect(await rowCount(auditEvents)).toBe(events);
  });

  it('a bad file re-shows the form with the error summary, naming sheet, row and column; nothing changes', async () => {
    const xlsx = await download(s.coordinator, 'xlsx');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
    const status = PLAN_CSV_COLUMNS.indexOf('Q2 status') + 1;
    workbook.worksheets[0]!.getRow(3).getCell(status).value = 'Nearly there';
    const bad = Buffer.from(await workbook.xlsx.writeBuffer());
    const events = await rowCount(auditEvents);
    const uploads = await rowCount(planUploads);

    const response = await s.coordinator.upload(
      page,
      {},
      { file: { filename: 'bad.xlsx', content: bad, contentType: XLSX_TYPE } },
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(text(response.body)).toContain(
      'Sheet "1 Divert young people from", row 3, column "Q2 status" (N): unknown status "Nearly there"',
    );
    expect(response.body).toContain('enctype="multipart/form-data"');
    expect(response.body).toContain('data-testid="sheet-problems"');
    expect(await rowCount(auditEvents)).toBe(events);
    expect(await rowCount(planUploads)).toBe(uploads);

    const notASheet = await s.coordinator.upload(
      page,
      {},
      { file: { filename: 'notes.csv', content: Buffer.from([0xff, 0xfe, 0x41, 0x00]) } },
    );
    expect(notASheet.statusCode).toBe(400);
    expect(text(notASheet.body)).toContain('nor a CSV file in UTF-8');

    const missing = await s.coordinator.upload(page, {}, {});
    expect(missing.statusCode).toBe(400);
    expect(text(missing.body)).toContain('Select the spreadsheet to import');
  });

  it('a partner cannot import', async () => {
    const csv = await download(s.partner, 'csv');
    const events = await rowCount(auditEvents);
    const response = await s.partner.upload(
      page,
      {},
      { file: { filename: 'plan.csv', content: csv.rawPayload, contentType: 'text/csv' } },
    );
    expect(response.statusCode).toBe(403);
    expect(await rowCount(auditEvents)).toBe(events);
  });
});
