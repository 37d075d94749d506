/**
 * Funding in a real browser: the coordinator opens Funding from the plan's navigation, adds a
 * funding line to an aim (told first what was missing), sees it on the aim and on the Funding
 * page, and finds the PCC's report downloads; every page, and the form's error state, passing axe.
 * The same journey works with JavaScript switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, PlanPage, SignInPage, successBanner, textOf } from './support/pages.js';

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

interface Journey {
  page: Page;
  checkAccessibility(page: Page): Promise<void>;
  aim: string;
  source: string;
}

async function addFundingLine({ page, checkAccessibility, aim, source }: Journey): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();

  await page
    .getByRole('navigation', { name: 'Plan' })
    .getByRole('link', { name: 'Funding', exact: true })
    .click();
  await expectHeading(page, 'Funding', { level: 1, exact: true });
  // The demo's six lines, and any the journey without JavaScript's twin added first.
  expect(await textOf(page.getByTestId('funding-count'))).toMatch(
    /^\d+ funding lines, £[\d,]+\.\d\d in all\.$/,
  );
  expect(await page.getByTestId('pcc-H1-docx').getAttribute('href')).toMatch(
    /\/funding\/pcc-report-H1\.docx$/,
  );
  await checkAccessibility(page);

  // The filters are a plain GET form.
  await page.getByLabel('State', { exact: true }).selectOption('awarded');
  await page.getByTestId('apply-filters').click();
  await expectHeading(page, 'Funding', { level: 1, exact: true });
  expect(await textOf(page.getByTestId('funding-count'))).toBe(
    '3 funding lines match the filters, £0.00 in all.',
  );
  await checkAccessibility(page);

  // Add a line to the aim, from the Funding page.
  await page.getByLabel('Add a funding line to aim', { exact: true }).selectOption(aim);
  await page.getByTestId('add-funding-line').click();
  await expectHeading(page, `Add a funding line to aim ${aim}`, { level: 1 });
  await checkAccessibility(page);

  await page.getByTestId('save-funding').click();
  await errorSummary(page).waitFor();
  expect(await textOf(errorSummary(page))).toContain('Enter where the money comes from');
  await checkAccessibility(page);

  await page.getByLabel('Source', { exact: true }).fill(source);
  await page.getByLabel('Amount', { exact: true }).fill('3,000');
  await page.getByLabel('Received', { exact: true }).check();
  const received = page.getByRole('group', { name: 'Date received' });
  await received.getByLabel('Day', { exact: true }).fill('15');
  await received.getByLabel('Month', { exact: true }).fill('8');
  await received.getByLabel('Year', { exact: true }).fill('2024');
  await page.getByTestId('save-funding').click();

  await expectHeading(page, new RegExp(`^${aim.replace('.', '\\.')} `), { level: 1 });
  expect(await textOf(successBanner(page))).toContain(`The funding line has been added to aim ${aim}`);
  const funding = await textOf(page.getByTestId('aim-funding'));
  expect(funding).toContain(`${source} £3,000.00 Received Received 15 August 2024`);
  await checkAccessibility(page);

  await page.getByRole('link', { name: `Change the line from ${source}` }).click();
  await expectHeading(page, `Change a funding line of aim ${aim}`, { level: 1 });
  expect(await page.getByLabel('Amount', { exact: true }).inputValue()).toBe('3000');
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'Cancel', exact: true }).click();

  await page.getByRole('link', { name: `Archive the line from ${source}` }).click();
  await expectHeading(page, 'Are you sure you want to archive this funding line?', { level: 1 });
  await checkAccessibility(page);
}

describe('the coordinator records funding', () => {
  it('from the navigation, to the form, to the aim, with every page passing axe', async () => {
    const page = browser.page;
    await addFundingLine({
      page,
      checkAccessibility: (p) => expectNoAxeViolations(p),
      aim: '1.1',
      source: 'PCC Community Safety Fund',
    });
  });

  it('in the same way with JavaScript switched off', async () => {
    const page = noScript.page;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    expect(await page.locator('body').getAttribute('class')).not.toContain('js-enabled');
    await addFundingLine({
      page,
      checkAccessibility: (p) => expectNoAxeViolationsWithoutJavaScript(p, browser.context),
      aim: '1.3',
      source: 'Stevenage Football Club Foundation',
    });
  });
});
