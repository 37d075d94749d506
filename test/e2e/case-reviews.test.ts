/**
 * ASB case reviews in a real browser: the coordinator takes an application (told first what was
 * missing), sees the threshold decided on the case page, records the review, a recommendation and
 * the outcome; the settings, the archive page, the change form and the public figures; every page
 * passing axe. The application and its case page work the same with JavaScript switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, SignInPage, successBanner, textOf } from './support/pages.js';

const REGISTER = '/p/sosafe/evidence/case-reviews';
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

async function fillDate(page: Page, group: ReturnType<Page['getByRole']>, iso: string) {
  const [year, month, day] = iso.split('-');
  await group.getByLabel('Day', { exact: true }).fill(String(Number(day)));
  await group.getByLabel('Month', { exact: true }).fill(String(Number(month)));
  await group.getByLabel('Year', { exact: true }).fill(year!);
}

/** Takes an application through the form, from the register; ends on its case page. */
async function takeApplication(page: Page, check: (page: Page) => Promise<void>, name: string) {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn('coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
  await page.goto(new URL(REGISTER, app.baseUrl).toString());
  await expectHeading(page, 'ASB case reviews (Community Trigger)', { level: 1 });
  await check(page);

  await page.getByTestId('add-application').click();
  await expectHeading(page, 'Add a case review application', { level: 1 });
  await page.getByTestId('save-application').click();
  await errorSummary(page).waitFor();
  expect(await textOf(errorSummary(page))).toContain('Enter the applicant’s name');
  await check(page);

  await fillDate(page, page.getByRole('group', { name: 'Date the application was received' }), '2024-06-01');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Council tenant', { exact: true }).check();
  const days = ['2024-01-12', '2024-03-02', '2024-05-20'];
  for (const [i, day] of days.entries()) {
    const complaint = page.getByRole('group', { name: `Complaint ${i + 1}`, exact: true });
    await fillDate(page, complaint.getByRole('group', { name: 'Date of the complaint' }), day);
    await complaint.getByLabel('Made to', { exact: true }).fill('Police');
  }
  await page.getByTestId('save-application').click();
  await expectHeading(page, /^CT-2024-\d{3}$/, { level: 1 });
  expect(await textOf(successBanner(page))).toContain('the threshold was met');
  expect(await textOf(page.getByTestId('threshold-reason'))).toBe(
    '3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024',
  );
  await check(page);
}

describe('the coordinator keeps the Community Trigger register', () => {
  it('from application to outcome, with every page passing axe', async () => {
    const page = browser.page;
    const check = (p: Page) => expectNoAxeViolations(p);
    await takeApplication(page, check, 'Ann Example');

    await page.getByTestId('change-review').click();
    await expectHeading(page, 'Record the review', { level: 1 });
    await check(page);
    await fillDate(page, page.getByRole('group', { name: 'Date the review was held' }), '2024-06-20');
    await page.getByLabel('Panel (optional)').fill('SBC, Police, Stevenage Homes');
    await page.getByTestId('save-review').click();
    // Back on the case page, the review recorded, before going on to its recommendations.
    await expectHeading(page, /^CT-2024-\d{3}$/, { level: 1 });
    await successBanner(page).waitFor();

    await page.getByTestId('add-recommendation').click();
    await expectHeading(page, /^Add a recommendation to CT-2024-/, { level: 1 });
    await check(page);
    await page.getByLabel('Recommendation', { exact: true }).fill('Mediation between the neighbours');
    await page.getByLabel('Owner', { exact: true }).fill('Stevenage Homes');
    await page.getByTestId('save-recommendation').click();
    expect(await textOf(page.getByTestId('recommendations'))).toContain('Mediation between the neighbours');

    await page.getByTestId('change-outcome').click();
    await expectHeading(page, 'Record the outcome', { level: 1 });
    await check(page);
    await page.getByLabel('Satisfied', { exact: true }).check();
    await page.getByTestId('save-outcome').click();
    expect(await textOf(page.getByTestId('outcome'))).toContain('Satisfied');
    await check(page);

    await page.getByRole('link', { name: /^Archive recommendation 1/ }).click();
    await expectHeading(page, 'Are you sure you want to archive this recommendation?', { level: 1 });
    await check(page);
    await page.getByRole('link', { name: 'Cancel', exact: true }).click();

    await page.getByTestId('change-application').click();
    await expectHeading(page, /^Change application CT-2024-/, { level: 1 });
    expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('Ann Example');
    await check(page);

    await page.goto(new URL(`${REGISTER}/settings`, app.baseUrl).toString());
    await expectHeading(page, 'Case review settings', { level: 1 });
    await check(page);

    await page.goto(new URL('/partnerships/north-herts/case-reviews', app.baseUrl).toString());
    await expectHeading(page, /Community Trigger/, { level: 1 });
    expect(await textOf(page.getByTestId('figures-2020-21'))).toContain('Not published');
    await check(page);
  });

  it('in the same way with JavaScript switched off', async () => {
    const page = noScript.page;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    expect(await page.locator('body').getAttribute('class')).not.toContain('js-enabled');
    await takeApplication(
      page,
      (p) => expectNoAxeViolationsWithoutJavaScript(p, browser.context),
      'Bo Example',
    );
    await page.getByTestId('change-application').click();
    await page.getByTestId('add-complaint').click();
    await expectHeading(page, /^Change application CT-2024-/, { level: 1 });
    expect(await page.getByRole('group', { name: 'Complaint 5', exact: true }).count()).toBe(1);
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
