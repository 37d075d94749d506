/**
 * The Word import pages over HTTP: the coordinator uploads the LibreOffice fixture, checks the
 * preview, corrects a heading, saves, and finds the new plan year's aims; a partner cannot; a
 * file that is not a DOCX is refused with the error summary and changes nothing.
 */
import fs from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const FIXTURE = fs.readFileSync(new URL('../fixtures/word/sosafe-2024-25-libreoffice.docx', import.meta.url));
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
const START = '/p/sosafe/word-import';

let t: TestApp;
let coordinator: Session;

async function count(table: 'plans' | 'aims' | 'plan_uploads' | 'audit_events'): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    t.database.db,
    sql`select count(*)::int as n from ${sql.raw(table)}`,
  );
  return Number(row!.n);
}

/** The fields of the preview's form as the page fills them (selects, text inputs and boxes; none ticked). */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(
    /<input\s+class="govuk-input[^"]*" id="[^"]*" name="([^"]+)" type="text"[^>]*?value="([^"]*)"/g,
  )) {
    fields[m[1]!] = decode(m[2]!);
  }
  for (const m of html.matchAll(
    /<textarea class="govuk-textarea[^"]*" id="[^"]*" name="([^"]+)"[^>]*>([\s\S]*?)<\/textarea>/g,
  )) {
    fields[m[1]!] = decode(m[2]!.replace(/^\n/, ''));
  }
  for (const m of html.matchAll(
    /<select class="govuk-select[^"]*" id="[^"]*" name="([^"]+)"[^>]*>([\s\S]*?)<\/select>/g,
  )) {
    const selected = /<option value="([^"]*)" selected>/.exec(m[2]!);
    if (selected) fields[m[1]!] = selected[1]!;
  }
  return fields;
}

const decode = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
});
afterAll(async () => {
  await t?.close();
});

describe('importing a Word plan through the pages', () => {
  let preview: string;

  it('is linked from the plan page for the coordinator', async () => {
    const page = await coordinator.get('/p/sosafe/plans/2024-25');
    expect(page.body).toContain(`href="${START}" data-testid="word-import"`);
  });

  it('uploads the LibreOffice fixture and shows what was read', async () => {
    const plans = await count('plans');
    const response = await coordinator.upload(
      START,
      {},
      { file: { filename: 'sosafe.docx', content: FIXTURE, contentType: DOCX } },
    );
    expect(response.statusCode).toBe(303);
    preview = String(response.headers.location);
    expect(preview).toMatch(/^\/p\/sosafe\/word-import\/\d+$/);
    expect(await count('plans')).toBe(plans);

    const page = await coordinator.get(preview);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Check the plan read from the Word document');
    expect(page.body).toContain('5 sections, 21 aims');
    expect(page.body).toContain('Divert young people from becoming involved in crime and ASB');
    // Text from the document is escaped.
    expect(page.body).toContain('Serious &amp; Organised Crime');
    expect(page.body).toMatch(/Table 5, row 5: the aim cell has no aim number/);
    expect(formFields(page.body)).toMatchObject({ year: '2025/26', 'heading-4': 'resources' });
  });

  it('keeps what was typed and shows the error summary when a correction is wrong', async () => {
    const fields = formFields((await coordinator.get(preview)).body);
    const aimField = Object.keys(fields).find((k) => /^aim-t2r\d+-number$/.test(k) && fields[k] === '2.2')!;
    const response = await coordinator.post(preview, { ...fields, [aimField]: 'two point two' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('There is a problem');
    expect(response.body).toContain(`href="#${aimField}"`);
    expect(response.body).toContain('value="two point two"');
  });

  it('takes a heading another way when corrected, and reads the tables again', async () => {
    const fields = formFields((await coordinator.get(preview)).body);
    const response = await coordinator.post(preview, { ...fields, 'heading-4': 'ignore' });
    expect(response.statusCode).toBe(303);
    const page = await coordinator.get(preview);
    expect(formFields(page.body)['heading-4']).toBe('ignore');
    expect(page.body).toContain('the column “Resources” is not taken as one of the plan’s columns');
    expect(page.body).toContain('The preview shows your changes');
  });

  it('corrects an action’s lead, and shows the correction from then on', async () => {
    const page = await coordinator.get(preview);
    const fields = formFields(page.body);
    const lead = Object.keys(fields).find(
      (k) => /^action-.*-leads$/.test(k) && fields[k] === 'CCSU (Helen Whitehead)\nSBC',
    )!;
    expect(page.body).toContain(`<label class="govuk-label govuk-visually-hidden" for="${lead}">`);
    const response = await coordinator.post(preview, {
      ...fields,
      [lead]: 'Hate Crime Unit (Helen Whitehead)\nSBC',
    });
    expect(response.statusCode).toBe(303);
    expect(formFields((await coordinator.get(preview)).body)[lead]).toBe(
      'Hate Crime Unit (Helen Whitehead)\nSBC',
    );
  });

  it('saves the new plan year, and its pages show the aims', async () => {
    const aims = await count('aims');
    const fields = formFields((await coordinator.get(preview)).body);
    const response = await coordinator.post(preview, fields, `${preview}/save`);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(preview);
    expect(await count('aims')).toBe(aims + 21);

    const result = await coordinator.get(preview);
    expect(result.body).toContain('The 2025/26 plan has been imported');
    expect(result.body).toContain('href="/p/sosafe/plans/2025-26"');

    const plan = await coordinator.get('/p/sosafe/plans/2025-26');
    expect(plan.statusCode).toBe(200);
    expect(plan.body).toContain('To promote reporting of Hate Crime.');
    expect(plan.body).toContain(
      'Develop a robust partnership process to support those who have experienced Cuckooing',
    );
    expect((await coordinator.get('/p/sosafe/plans/2025-26/aims/3.1')).body).toContain('Hate Crime Unit');
    const aim = await coordinator.get('/p/sosafe/plans/2025-26/aims/2.2');
    expect(aim.body).toContain('Letchworth Heritage Foundation');
    // The Resources column was left out: "TBC" came in nowhere.
    expect(aim.body).not.toContain('TBC');
  });
});

describe('what is refused', () => {
  it('a partner cannot see the pages or upload', async () => {
    const partner = new Session(t.app);
    await partner.signIn(DEMO.partner);
    expect((await partner.get(START)).statusCode).toBe(403);
    const uploads = await count('plan_uploads');
    const response = await partner.upload(
      '/accessibility',
      {},
      { file: { filename: 'sosafe.docx', content: FIXTURE, contentType: DOCX } },
      START,
    );
    expect(response.statusCode).toBe(403);
    expect(await count('plan_uploads')).toBe(uploads);
    expect((await partner.get('/p/sosafe/plans/2024-25')).body).not.toContain('data-testid="word-import"');
  });

  it('a file that is not a DOCX gets a clear error and changes nothing', async () => {
    const before = [await count('plans'), await count('plan_uploads'), await count('audit_events')];
    const response = await coordinator.upload(
      START,
      {},
      {
        file: {
          filename: 'plan.pdf',
          content: Buffer.from('%PDF-1.7 not a plan'),
          contentType: 'application/pdf',
        },
      },
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('There is a problem');
    expect(response.body).toContain('The file plan.pdf is not a Word document (.docx)');
    expect(response.body).toContain('href="#file"');
    expect([await count('plans'), await count('plan_uploads'), await count('audit_events')]).toEqual(before);
  });

  it('no file at all', async () => {
    const response = await coordinator.upload(START, {}, {});
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Choose a Word document (.docx) to upload');
  });
});
