/**
 * police.uk trends in a real browser, on the demo (Hertfordshire, January 2022; SoSafe's area
 * Stevenage): the crime page with its months chooser, the links page and its "use the suggested
 * links" form, the area page and its error summary, an aim with its priorities' trends and the
 * dashboard; each passing axe, and the forms working with JavaScript switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  DEMO_PLAN_PATH,
  errorSummary,
  expectHeading,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

const EVIDENCE = '/p/sosafe/evidence';
let app: RunningApp;
let browser: TestBrowser;
let noScript: TestBrowser;

beforeAll(async () => {
  [app, browser, noScript] = await Promise.all([
    startApp(),
    launchBrowser(),
    launchBrowser({ javaScriptEnabled: false }),
  ]);
  for (const b of [browser, noScript]) {
    const signIn = new SignInPage(b.page);
    await signIn.goto(app.baseUrl);
    await signIn.signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
    await expectHeading(b.page, /Action plan/, { level: 1 });
  }
});

afterAll(async () => {
  await Promise.all([browser?.close(), noScript?.close(), app?.stop()]);
});

const open = (page: Page, path: string) => page.goto(new URL(path, app.baseUrl).toString());

describe('with JavaScript', () => {
  it('shows the crime page, its charts and tables, and another length of trend', async () => {
    const { page } = browser;
    await open(page, '/p/sosafe/evidence');
    await page.getByRole('link', { name: 'Crime and anti-social behaviour' }).click();
    await expectHeading(page, 'Crime and anti-social behaviour', { level: 1 });
    const chart = page.getByRole('img', { name: /^All crimes by month in the area/ });
    const box = await chart.boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(200);
    const totals = page.getByRole('table', { name: /^All crimes by month, area and force/ });
    expect(await textOf(totals.getByRole('row').nth(1))).toBe('January 2022 820 8058 10.2%');
    await expectNoAxeViolations(page);

    await page.getByLabel('Months shown').selectOption('3');
    await page.getByTestId('show-months').click();
    await expect.poll(() => page.url()).toContain('months=3');
    expect(await textOf(page.getByTestId('period'))).toBe('Showing 1 month: January 2022 (only 1 imported).');
  });

  it('shows an aim’s priorities’ trends and the dashboard’s', async () => {
    const { page } = browser;
    await open(page, `${DEMO_PLAN_PATH}/aims/1.2`);
    const trends = page.getByTestId('priority-trends');
    await expect(trends.getByRole('heading', { level: 3 }).count()).resolves.toBe(3);
    await expect(trends.getByRole('img').count()).resolves.toBe(3);
    await expectNoAxeViolations(page);
    await open(page, `${DEMO_PLAN_PATH}/dashboard`);
    await expectHeading(page, 'Crime trends by priority', { level: 2 });
    await expectNoAxeViolations(page);
  });

  it('goes back to the suggested links', async () => {
    const { page } = browser;
    await open(page, `${EVIDENCE}/crime/priorities`);
    await expectHeading(page, 'Crime types and the plan’s priorities', { level: 1 });
    await page.getByTestId('use-suggested').click();
    expect(await textOf(successBanner(page))).toContain('suggested by the priorities’ titles are now linked');
    await expectNoAxeViolations(page);
  });
});

describe('without JavaScript', () => {
  it('saves the links and shows the area form’s errors', async () => {
    const { page } = noScript;
    await open(page, `${EVIDENCE}/crime/priorities`);
    const asb = page.getByRole('group', { name: 'All ASB' });
    await asb.getByLabel('Public order', { exact: true }).check();
    await page.getByTestId('save-links').click();
    expect(await textOf(successBanner(page))).toContain('have been saved');
    const row = page.getByRole('row', { name: /^All ASB/ });
    expect(await textOf(row)).toBe('All ASB Anti-social behaviour, Public order');
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);

    await open(page, `${EVIDENCE}/area`);
    await expectHeading(page, 'The partnership’s area for police.uk data', { level: 1 });
    await page.getByLabel('More LSOAs, by code (optional)').fill('not a code');
    await page.getByTestId('save-area').click();
    expect(await textOf(errorSummary(page))).toContain('Enter LSOA codes like E01023719');
    expect(await page.getByLabel('More LSOAs, by code (optional)').inputValue()).toBe('not a code');
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
