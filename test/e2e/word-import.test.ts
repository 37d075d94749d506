/**
 * Importing a Word plan in a real browser: the coordinator finds the import on the plan page,
 * uploads the SoSafe plan as LibreOffice saved it, checks and corrects the preview, saves it as
 * the 2025/26 plan and opens it; each page, and the upload form's error state, passing axe.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, PlanPage, SignInPage, successBanner, textOf } from './support/pages.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/word/sosafe-2024-25-libreoffice.docx', import.meta.url));

let app: RunningApp;
let browser: TestBrowser;
let page: Page;

/** The preview page: what was read, with the fields to correct it. */
class WordPreviewPage {
  constructor(readonly page: Page) {}

  async expectShown(): Promise<void> {
    await expectHeading(this.page, 'Check the plan read from the Word document', { level: 1 });
  }

  async summary(): Promise<string> {
    return textOf(this.page.getByTestId('word-summary'));
  }

  async takeColumnAs(heading: string, choice: string): Promise<void> {
    await this.page
      .getByLabel(`Take the column “${heading}” as`, { exact: true })
      .selectOption({ label: choice });
  }

  async updatePreview(): Promise<void> {
    await this.page.getByTestId('word-update').click();
    await this.expectShown();
  }

  async save(): Promise<void> {
    await this.page.getByTestId('word-save').click();
  }
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

describe('the coordinator imports a Word plan', () => {
  const preview = () => new WordPreviewPage(page);

  it('finds the import on the plan page, and is told when no file was chosen', async () => {
    await page.getByTestId('word-import').click();
    await expectHeading(page, 'Import a plan from a Word document', { level: 1 });
    await expectNoAxeViolations(page);

    await page.getByTestId('word-upload').click();
    await errorSummary(page).waitFor();
    expect(await textOf(errorSummary(page))).toContain('Choose a Word document (.docx) to upload');
    await expectNoAxeViolations(page);
  });

  it('uploads the LibreOffice fixture and previews what was read', async () => {
    await page.getByLabel('Word document (.docx)', { exact: true }).setInputFiles(FIXTURE);
    await page.getByTestId('word-upload').click();
    await preview().expectShown();
    expect(await preview().summary()).toContain('5 sections, 21 aims');
    expect(await textOf(page.getByTestId('word-section-3'))).toContain('To promote reporting of Hate Crime.');
    expect(await textOf(page.getByTestId('word-warnings'))).toContain('Table 5, row 5');
    await expectNoAxeViolations(page);
  });

  it('corrects what a column is taken as, and sees the preview read again', async () => {
    await preview().takeColumnAs('Resources', 'Not used');
    await preview().updatePreview();
    expect(await textOf(successBanner(page))).toContain('The preview shows your changes');
    expect(await textOf(page.getByTestId('word-warnings'))).toContain(
      'the column “Resources” is not taken as one of the plan’s columns',
    );
    await expectNoAxeViolations(page);
  });

  it('saves it as the 2025/26 plan and opens it', async () => {
    expect(await page.getByLabel('Plan year', { exact: true }).inputValue()).toBe('2025/26');
    await preview().save();
    await expectHeading(page, 'The 2025/26 plan has been imported', { level: 1 });
    await expectNoAxeViolations(page);

    await page.getByTestId('new-plan').click();
    const plan = new PlanPage(page, 'Action plan 2025/26');
    await plan.expectShown();
    expect(await textOf(plan.aim('3.1'))).toContain('To promote reporting of Hate Crime.');
    await expectNoAxeViolations(page);
  });
});
