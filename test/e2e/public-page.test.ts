/**
 * The public page in a real browser: the coordinator opens the Public page from the plan,
 * publishes aim 5.2 (giving the public the facts) and writes what residents read for its Q2
 * update; a signed-out resident then reads it — sections, the aim, its organisations and that
 * text, never the lead's own words or an officer's name — and follows the footer to the
 * accessibility statement. Every page passes axe, with JavaScript and without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  expectHeading,
  expectNoSidewaysScrolling,
  PlanPage,
  ServiceNavigation,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

const COORDINATOR = 'coordinator@sosafe.example';
const PUBLIC_PATH = '/partnerships/sosafe';
const RESIDENTS_TEXT = 'The partnership now shares crime figures on Herts Connected every month.';

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

/** The coordinator's list of aims, published or not, with a button for each. */
class PublishingPage {
  constructor(readonly page: Page) {}

  async openFromPlan(): Promise<void> {
    await this.page.getByTestId('public-page-admin').click();
    await expectHeading(this.page, 'Public page', { level: 1, exact: true });
  }

  state(aim: string) {
    return this.page.getByTestId(`manage-aim-${aim}-state`);
  }

  async publish(aim: string): Promise<void> {
    await this.page.getByRole('button', { name: `Publish aim ${aim}`, exact: true }).click();
    await expectHeading(this.page, 'Public page', { level: 1, exact: true });
  }

  async unpublish(aim: string): Promise<void> {
    await this.page.getByRole('button', { name: `Unpublish aim ${aim}`, exact: true }).click();
    await expectHeading(this.page, 'Public page', { level: 1, exact: true });
  }

  async publishEveryAim(): Promise<void> {
    await this.page.getByRole('button', { name: 'Publish every aim', exact: true }).click();
    await expectHeading(this.page, 'Public page', { level: 1, exact: true });
  }

  async openTexts(aim: string): Promise<void> {
    await this.page.getByTestId(`texts-${aim}`).click();
    await expectHeading(this.page, `Aim ${aim}: text for residents`, { level: 1, exact: true });
  }
}

/** What a resident reads: the partnership's page, a plan year, an aim. */
class PublicPages {
  constructor(readonly page: Page) {}

  async gotoPartnership(): Promise<void> {
    await this.page.goto(new URL(PUBLIC_PATH, app.baseUrl).toString());
    await expectHeading(this.page, 'Community safety action plan', { level: 1, exact: true });
  }

  async openPlan(): Promise<void> {
    await this.page.getByRole('link', { name: 'Action plan 2024/25', exact: true }).click();
    await expectHeading(this.page, 'Action plan 2024/25', { level: 1, exact: true });
  }

  async openAim(number: string): Promise<void> {
    await this.page
      .getByTestId(`aim-${number}`)
      .getByRole('link', { name: new RegExp(`^${number.replace('.', '\\.')} `) })
      .click();
    await expectHeading(this.page, new RegExp(`^${number.replace('.', '\\.')} `), { level: 1 });
  }

  async openAccessibilityStatement(): Promise<void> {
    await this.page.getByRole('contentinfo').getByRole('link', { name: 'Accessibility statement' }).click();
    await expectHeading(this.page, 'Accessibility statement for Partnership Plan', { level: 1, exact: true });
  }
}

async function signInAsCoordinator(page: Page): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(COORDINATOR, DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();
}

describe('the public page in the browser', () => {
  it('the coordinator takes aim 5.2 off and publishes it again, and a resident reads it; every page passes axe', async () => {
    const { page } = browser;
    const resident = new PublicPages(page);

    // (Not visited before publishing: a browser may keep a resident's page for a minute.)
    await signInAsCoordinator(page);
    const publishing = new PublishingPage(page);
    await publishing.openFromPlan();
    // The demo's SoSafe plan is published (it is a published document).
    expect(await textOf(publishing.state('5.2'))).toMatch(/^Published /);
    await publishing.unpublish('5.2');
    expect(await textOf(successBanner(page))).toContain('Aim 5.2 is no longer on the public page');
    expect(await textOf(publishing.state('5.2'))).toBe('Not published');
    await expectNoAxeViolations(page);

    await publishing.publish('5.2');
    expect(await textOf(successBanner(page))).toContain('Aim 5.2 is published on the public page');
    expect(await textOf(publishing.state('5.2'))).toMatch(/^Published /);
    await expectNoAxeViolations(page);

    await publishing.openTexts('5.2');
    const box = page.getByLabel('Text for residents: Q2 update of action 1', { exact: true });
    // Offered the lead's words to start from.
    expect(await box.inputValue()).toBe('Echo is now closed. Everything is on Herts Connected.');
    await expectNoAxeViolations(page);
    await box.fill(RESIDENTS_TEXT);
    await page.getByRole('button', { name: 'Save the text for residents' }).first().click();
    expect(await textOf(successBanner(page))).toContain('The text for residents is saved');
    await expectNoAxeViolations(page);
    await new ServiceNavigation(page).signOut();

    // A resident, signed out, reads the plan.
    await resident.gotoPartnership();
    await expectNoAxeViolations(page);
    await resident.openPlan();
    expect(await textOf(page.getByTestId('aim-5.2-progress'))).toContain(RESIDENTS_TEXT);
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    await resident.openAim('5.2');
    const action = await textOf(page.getByTestId('action-1'));
    expect(action).toContain('Led by Police, SBC');
    expect(action).toContain(RESIDENTS_TEXT);
    // 5.2's first action names "Jessica Warren" for SBC, and its Q2 update was in the lead's words.
    expect(await textOf(page.locator('main'))).not.toMatch(/Jessica Warren|Echo is now closed/);
    await expect(page.getByRole('link', { name: /Sign in/ }).count()).resolves.toBeGreaterThan(0);
    await expect(page.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    await resident.openAccessibilityStatement();
    expect(await textOf(page.getByTestId('compliance-status'))).toContain('partially compliant');
    await expectNoAxeViolations(page);
  });

  it('works and passes axe without JavaScript', async () => {
    const { page } = noScript;
    await signInAsCoordinator(page);
    const publishing = new PublishingPage(page);
    await publishing.openFromPlan();
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
    await publishing.unpublish('3.1');
    await publishing.unpublish('1.1');
    await publishing.publishEveryAim();
    expect(await textOf(successBanner(page))).toMatch(/Published 2 aims on the public page$/);
    expect(await textOf(page.getByTestId('published-count'))).toMatch(/^(\d+) of \1 aims are published/);
    await publishing.openTexts('5.2');
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
    await new ServiceNavigation(page).signOut();

    const resident = new PublicPages(page);
    await resident.gotoPartnership();
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
    await resident.openPlan();
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
    await resident.openAim('3.1');
    expect(await textOf(page.getByTestId('aim-heading'))).toBe('3.1 To promote reporting of Hate Crime.');
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
    await resident.openAccessibilityStatement();
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
