/**
 * The acceptance scenario: a lead officer in a partner agency signs in, finds her aim on the plan,
 * adds her Q4 progress to an action she leads, and sees it on the aim and on the plan. Every page
 * on the way passes axe. The same journey works with JavaScript switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  AimPage,
  DEMO_PLAN_PATH,
  expectHeading,
  PlanPage,
  ProgressFormPage,
  ServiceNavigation,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

const HELEN = 'helen.whitehead@sosafe.example';
/** Helen's Q2 update of action 1 of aim 3.1, as the demo plan has it. */
const HELENS_Q2_TEXT =
  'Training and ongoing work with the NHS at the Lister to encourage the reporting of hate crime';

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
  /** Checks the page the journey is on with axe. */
  checkAccessibility(page: Page): Promise<void>;
  /** The action of aim 3.1 she adds her Q4 update to (she leads actions 1 and 2). */
  action: 1 | 2;
  text: string;
}

async function recordQ4ProgressAsHelen({ page, checkAccessibility, action, text }: Journey): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await expectHeading(page, 'Sign in', { level: 1 });
  await checkAccessibility(page);

  // Signed in, she lands on her partnership's current plan.
  await signIn.signIn(HELEN, DEMO_PASSWORD_FOR_TESTS);
  const plan = new PlanPage(page);
  await plan.expectShown();
  expect(new URL(page.url()).pathname).toBe(DEMO_PLAN_PATH);
  await checkAccessibility(page);

  await plan.openAim('3.1');
  const aim = new AimPage(page);
  expect(await textOf(aim.heading())).toBe('3.1 To promote reporting of Hate Crime.');
  expect(await textOf(aim.quarterEntry(1, 2))).toContain(HELENS_Q2_TEXT);
  // She may record progress on the two actions she leads, and on no other.
  expect(await aim.recordProgressButton(1).count()).toBe(1);
  expect(await aim.recordProgressButton(2).count()).toBe(1);
  expect(await aim.allRecordProgressButtons().count()).toBe(2);
  // Nor may she change the plan's structure.
  expect(await page.getByRole('link', { name: 'Change this aim' }).count()).toBe(0);
  await checkAccessibility(page);

  await aim.addQuarterUpdate(action, 4);
  const form = new ProgressFormPage(page);
  expect(await textOf(page.getByRole('main'))).toContain(`Aim 3.1, action ${action}`);
  expect(await form.quarter(4).isChecked()).toBe(true);
  expect(await form.progressText().inputValue()).toBe('');
  await checkAccessibility(page);

  await form.chooseQuarter(4);
  await form.chooseStatus('On track');
  await form.fillProgress(text);
  await form.save();

  await expectHeading(page, /^3\.1 /, { level: 1 });
  expect(await textOf(successBanner(page))).toContain('Your Q4 update for aim 3.1 has been submitted');
  const q4 = await textOf(aim.quarterEntry(action, 4));
  expect(q4).toContain('On track');
  expect(q4).toContain(text);
  expect(q4).toContain('by Helen Whitehead');
  // The form did not touch the updates she did not choose.
  expect(await textOf(aim.quarterEntry(1, 2))).toContain(HELENS_Q2_TEXT);
  await checkAccessibility(page);

  await new ServiceNavigation(page).open('Plan');
  await plan.expectShown();
  expect(await plan.latestStatus('3.1')).toBe('On track');
  const latest = await plan.latestProgress('3.1');
  expect(latest).toMatch(/^Q4 /);
  expect(latest).toContain(text);
  await checkAccessibility(page);
}

describe('a lead officer records her Q4 progress', () => {
  it('from the plan, to the aim, to the form, and back to the plan, with every page passing axe', async () => {
    const page = browser.page;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    // GOV.UK Frontend marks the page once its script has run: this browser runs scripts.
    expect(await page.locator('body').getAttribute('class')).toContain('govuk-frontend-supported');

    await recordQ4ProgressAsHelen({
      page,
      checkAccessibility: (p) => expectNoAxeViolations(p),
      action: 1,
      text: 'Q4: hate crime reporting sessions held with NHS staff at the Lister; two more booked.',
    });
  });

  it('in the same way with JavaScript switched off', async () => {
    const page = noScript.page;
    const checker: BrowserContext = browser.context;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    expect(await page.locator('body').getAttribute('class')).not.toContain('js-enabled');

    await recordQ4ProgressAsHelen({
      page,
      checkAccessibility: (p) => expectNoAxeViolationsWithoutJavaScript(p, checker),
      action: 2,
      text: 'Q4: the five types of hate crime featured in a social media campaign, without scripts.',
    });
  });
});
