/**
 * Fly-tipping and graffiti in a real browser: the coordinator goes from the Evidence hub to the
 * page (DEFRA's figures for Stevenage beside its neighbours, loaded by the demo), uploads a council
 * CSV, is told which row cannot be read, leaves it out, checks the counts and imports them, then
 * opens the settings. Every page, and the form's error state, passes axe; the same journey works
 * with JavaScript switched off.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, SignInPage, successBanner, textOf } from './support/pages.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/council/street-scene-reports.csv', import.meta.url));

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

/**
 * `checkAccessibility` runs on every page; `checkForm` on the pages with forms only (the run
 * without JavaScript checks those: the others are the same pages either way). The second run finds
 * the mapping the first one imported with remembered, unreadable rows left out included.
 */
async function importCouncilCounts(
  page: Page,
  checkAccessibility: (page: Page) => Promise<void>,
  checkForm: (page: Page) => Promise<void>,
  remembered: boolean,
) {
  await new SignInPage(page).goto(app.baseUrl);
  await new SignInPage(page).signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
  await page.goto(new URL('/p/sosafe/evidence', app.baseUrl).toString());
  await page.getByRole('link', { name: 'Fly-tipping and graffiti', exact: true }).click();
  await expectHeading(page, 'Fly-tipping and graffiti', { level: 1, exact: true });
  expect(await page.getByRole('img', { name: /Stevenage beside its neighbours \(DEFRA\)/ }).count()).toBe(1);
  expect(await textOf(page.getByTestId('defra-incidents-row').first())).toMatch(
    /^Stevenage \(district\) 2,403 /,
  );
  await checkAccessibility(page);

  await page.getByTestId('upload-link').click();
  await expectHeading(page, 'Upload the council’s fly-tipping and graffiti records', { level: 1 });
  await checkForm(page);
  await page.getByTestId('incident-file').setInputFiles(FIXTURE);
  await page.getByTestId('incident-upload').click();

  await expectHeading(page, 'Say what the file’s columns hold', { level: 1 });
  expect(await page.getByLabel('Which column gives the date?').inputValue()).toBe('Date Received');
  const skip = page.getByLabel('Leave out rows whose date or count cannot be read');
  expect(await page.getByTestId('mapping-remembered').count()).toBe(remembered ? 1 : 0);
  expect(await skip.isChecked()).toBe(remembered);
  await checkForm(page);
  await skip.uncheck();
  await page.getByTestId('mapping-submit').click();
  await errorSummary(page).waitFor();
  expect(await textOf(errorSummary(page))).toContain('Line 10, column “Date Received”: the date is empty');
  await checkForm(page);

  await skip.check();
  await page.getByTestId('mapping-submit').click();
  await expectHeading(page, 'Check the counts before importing them', { level: 1 });
  expect(await page.getByTestId('preview-month').count()).toBe(4);
  await checkForm(page);
  await page.getByTestId('confirm-import').click();

  await expectHeading(page, 'Fly-tipping and graffiti', { level: 1, exact: true });
  expect(await textOf(successBanner(page))).toContain('from street-scene-reports.csv');
  expect(await page.getByTestId('monthly-row').count()).toBe(4);
  await checkAccessibility(page);

  await page.getByTestId('settings-link').click();
  await expectHeading(page, 'Incident data settings', { level: 1 });
  expect(await page.getByLabel('The partnership’s district').inputValue()).toBe('E07000243');
  await checkForm(page);
}

describe('the coordinator brings in the council’s counts', () => {
  it('from the Evidence hub to the page, every page passing axe', async () => {
    const axe = (p: Page) => expectNoAxeViolations(p);
    await importCouncilCounts(browser.page, axe, axe, false);
  });

  it('in the same way with JavaScript switched off', async () => {
    await importCouncilCounts(
      noScript.page,
      async () => {},
      (p) => expectNoAxeViolationsWithoutJavaScript(p, browser.context),
      true,
    );
  });
});
