/**
 * The plan as a spreadsheet in a real browser: the coordinator downloads the XLSX, changes a cell
 * (with exceljs, as Excel would), uploads it, sees the preview list just that change, and
 * confirms; a bad file is sent back with the error summary. Each page passes axe.
 */
import fs from 'node:fs';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_CSV_COLUMNS } from '../../src/documents/plan-csv.js';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, PlanPage, SignInPage, successBanner, textOf } from './support/pages.js';

let app: RunningApp;
let browser: TestBrowser;
let page: Page;

/** The spreadsheet page: its download links and the coordinator's upload form. */
class SpreadsheetPage {
  constructor(readonly page: Page) {}

  async expectShown(): Promise<void> {
    await expectHeading(this.page, 'The plan as a spreadsheet', { level: 1 });
  }

  async downloadXlsx(): Promise<Buffer> {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.getByTestId('download-xlsx').click(),
    ]);
    expect(download.suggestedFilename()).toBe('sosafe-2024-25-plan.xlsx');
    return fs.readFileSync(await download.path());
  }

  async upload(name: string, buffer: Buffer): Promise<void> {
    await this.page.getByTestId('sheet-file').setInputFiles({
      name,
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer,
    });
    await this.page.getByTestId('sheet-upload').click();
  }
}

/** Changes one cell of the row of aim 3.1's first action. */
async function changeCell(xlsx: Buffer, column: (typeof PLAN_CSV_COLUMNS)[number], value: string) {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(xlsx as unknown as ExcelJS.Buffer);
  const sheet = workbook.worksheets.find((w) => w.name.startsWith('3 '))!;
  const row = sheet.getRow(2);
  expect(row.getCell(PLAN_CSV_COLUMNS.indexOf('Aim') + 1).value).toBe('3.1');
  row.getCell(PLAN_CSV_COLUMNS.indexOf(column) + 1).value = value;
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  page = browser.page;
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();
});

afterAll(async () => {
  await Promise.all([browser?.close(), app?.stop()]);
});

describe('the plan as a spreadsheet', () => {
  const sheet = () => new SpreadsheetPage(page);
  let xlsx: Buffer;

  it('is reached from the plan, and downloads as an Excel workbook', async () => {
    await page.getByTestId('plan-spreadsheet').click();
    await sheet().expectShown();
    await expectNoAxeViolations(page);
    xlsx = await sheet().downloadXlsx();
    expect(xlsx.subarray(0, 2).toString()).toBe('PK');
  });

  it('sends a bad file back with the error summary naming the sheet, row and column', async () => {
    await sheet().upload('bad.xlsx', await changeCell(xlsx, 'Q1 status', 'Sort of'));
    await errorSummary(page).waitFor();
    expect(await textOf(errorSummary(page))).toContain(
      'Sheet "3 Promote reporting of hate", row 2, column "Q1 status" (L): unknown status "Sort of"',
    );
    expect(await textOf(page.getByTestId('sheet-problems'))).toContain('Q1 status');
    await expectNoAxeViolations(page);
  });

  it('previews just the changed cell, and imports it on confirmation', async () => {
    await sheet().upload(
      'plan.xlsx',
      await changeCell(xlsx, 'Resources', 'The Hate Crime Strategy\nPosters'),
    );
    await expectHeading(page, 'Check the changes before importing them', { level: 1 });
    const changes = page.getByTestId('sheet-change');
    expect(await changes.count()).toBe(1);
    const change = await textOf(changes.first());
    expect(change).toContain('Aim 3.1, action 1');
    expect(change).toContain('Resources');
    expect(change).toContain('Posters');
    await expectNoAxeViolations(page);

    await page.getByTestId('sheet-confirm').click();
    await sheet().expectShown();
    expect(await textOf(successBanner(page))).toContain('Imported plan.xlsx: 1 field changed');
    await expectNoAxeViolations(page);

    await page.goto(`${app.baseUrl}/p/sosafe/plans/2024-25/aims/3.1`);
    expect(await textOf(page.locator('main'))).toContain('Posters');
  });

  it('previews an unchanged file as no changes', async () => {
    await page.goto(`${app.baseUrl}/p/sosafe/plans/2024-25/spreadsheet`);
    await sheet().upload('again.xlsx', await sheet().downloadXlsx());
    await expectHeading(page, 'The file changes nothing', { level: 1 });
    await page.getByTestId('sheet-no-changes').waitFor();
    await expectNoAxeViolations(page);
  });
});
