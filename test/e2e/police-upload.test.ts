/**
 * police.uk upload in a real browser: the coordinator goes from the Evidence page to the upload
 * form, is told what is wrong when no file is chosen, uploads the real January 2022 Hertfordshire
 * file and follows the import to its end: with JavaScript the page follows it by itself; without,
 * through the "Check progress" button. Every page passes axe.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, SignInPage, textOf } from './support/pages.js';

const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));

let app: RunningApp;
let browser: TestBrowser;
let noScript: TestBrowser;

beforeAll(async () => {
  [app, browser, noScript] = await Promise.all([
    startApp(),
    launchBrowser(),
    launchBrowser({ javaScriptEnabled: false }),
  ]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), noScript?.close(), app?.stop()]);
});

async function toUploadForm(page: Page, checkAccessibility: (page: Page) => Promise<void>) {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
  await page.goto(`${app.baseUrl}/p/sosafe/evidence`);
  await page.getByRole('link', { name: 'Import police.uk files' }).click();
  await expectHeading(page, 'Import police.uk files', { level: 1 });
  await checkAccessibility(page);
}

describe('uploading a police.uk file', () => {
  it('with JavaScript: the progress page follows the import to its end by itself', async () => {
    const page = browser.page;
    await toUploadForm(page, (p) => expectNoAxeViolations(p));

    await page.getByTestId('police-upload').click();
    await errorSummary(page).waitFor();
    expect(await textOf(errorSummary(page))).toContain('Select one or more police.uk CSV files');

    await page
      .getByLabel('Upload police.uk files')
      .setInputFiles(path.join(DATA, '2022-01-hertfordshire-street.csv'));
    await page.getByTestId('police-upload').click();
    await page.waitForURL(/\/evidence\/police-uk\/imports\/\d+$/);
    // The script asks every second and reloads the page once the import has ended.
    await page.getByText('Imported 8,058 rows.').waitFor({ timeout: 30_000 });
    await expectHeading(page, 'Import of 2022-01-hertfordshire-street.csv', { level: 1 });
    await expectNoAxeViolations(page);
  });

  it('without JavaScript: "Check progress" until the import has ended', async () => {
    const page = noScript.page;
    const check = (p: Page) => expectNoAxeViolationsWithoutJavaScript(p, browser.context);
    await toUploadForm(page, async () => {}); // the form is checked with JavaScript above

    await page
      .getByLabel('Upload police.uk files')
      .setInputFiles(path.join(DATA, '2022-01-hertfordshire-outcomes.csv'));
    await page.getByTestId('police-upload').click();
    await page.waitForURL(/\/evidence\/police-uk\/imports\/\d+$/);
    await check(page); // importing, most likely: the progress bar and the "Check progress" button
    for (;;) {
      const state = await page.getByTestId('police-import').getAttribute('data-state');
      if (state !== 'running') break;
      await page.getByTestId('check-progress').click();
      await page.waitForLoadState();
    }
    expect(await textOf(page.getByTestId('police-import-status'))).toBe('Imported 8,998 rows.');

    await page.getByRole('link', { name: 'Import more police.uk files' }).click();
    expect(await textOf(page.getByTestId('police-imports'))).toContain(
      '2022-01-hertfordshire-outcomes.csv Imported',
    );
  });
});
