/**
 * An aim's Comments and History, and the coordinator's audit trail, in a real browser: reached
 * through the aim's sub-navigation and the header, each page (and each error state) passing axe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  AimPage,
  errorSummary,
  expectHeading,
  expectNoSidewaysScrolling,
  PlanPage,
  ProgressFormPage,
  ServiceNavigation,
  SignInPage,
  successBanner,
  textOf,
} from './support/pages.js';

let app: RunningApp;
let browser: TestBrowser;
let page: Page;

async function signInAs(email: string): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(email, DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();
}

function aimNav(): ReturnType<Page['getByRole']> {
  return page.getByRole('navigation', { name: 'Aim 3.1' });
}

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  page = browser.page;
});

afterAll(async () => {
  await Promise.all([browser?.close(), app?.stop()]);
});

describe('as a partner', () => {
  beforeAll(async () => {
    await signInAs('partner@sosafe.example');
  });

  it('comments on an aim, after being told what was missing', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    await aimNav().getByRole('link', { name: 'Comments (0)', exact: true }).click();
    await expectHeading(page, 'Comments', { level: 2 });
    await expectNoAxeViolations(page);

    await page.getByRole('button', { name: 'Add comment', exact: true }).click();
    // Wait for the re-shown page itself: click() returns once the form is sent, not once it is back.
    await errorSummary(page).waitFor();
    await expect(errorSummary(page).count()).resolves.toBe(1);
    await expectNoAxeViolations(page);

    await page.getByLabel('Add a comment', { exact: true }).fill('Can the Lister sessions move to Tuesdays?');
    await page.getByRole('button', { name: 'Add comment', exact: true }).click();
    await successBanner(page).waitFor();
    expect(await textOf(successBanner(page))).toContain('Your comment on aim 3.1 has been added');
    expect(await textOf(page.getByTestId('comment'))).toContain('Can the Lister sessions move to Tuesdays?');
    expect(await textOf(aimNav())).toContain('Comments (1)');
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);
  });

  it('is asked to confirm before archiving their comment', async () => {
    await page.getByRole('link', { name: /^Archive the comment by Pat Partner/ }).click();
    await expectHeading(page, 'Are you sure you want to archive this comment?', { level: 1 });
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Cancel', exact: true }).click();
    await expectHeading(page, 'Comments', { level: 2 });
  });

  afterAll(async () => {
    await new ServiceNavigation(page).signOut();
  });
});

describe('as the coordinator', () => {
  beforeAll(async () => {
    await signInAs('coordinator@sosafe.example');
  });

  it('sees a progress change on the aim’s History, word by word', async () => {
    const aim = new AimPage(page);
    await aim.goto(app.baseUrl, '3.1');
    await aim.addQuarterUpdate(1, 4);
    const form = new ProgressFormPage(page);
    await form.chooseStatus('On track');
    await form.fillProgress('Courses have been run');
    await form.save();
    await page.getByRole('link', { name: 'Change the Q4 update of action 1', exact: true }).click();
    await form.fillProgress('Courses were run');
    await form.save();

    await aimNav().getByRole('link', { name: 'History', exact: true }).click();
    await expectHeading(page, 'History', { level: 2 });
    const latest = page.getByTestId('history-entry').first();
    expect(await textOf(latest)).toContain('Changed the Q4 progress update · Action 1');
    expect(await textOf(latest.locator('del'))).toBe('removed: have been');
    expect(await textOf(latest.locator('ins'))).toBe('added: were');
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);
  });

  it('opens the audit trail from the header and filters it by person', async () => {
    await page
      .getByRole('navigation', { name: 'Plan' })
      .getByRole('link', { name: 'Audit trail', exact: true })
      .click();
    await expectHeading(page, 'Audit trail', { level: 1 });
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    await page.getByLabel('Person', { exact: true }).selectOption({ label: 'Pat Partner' });
    await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    await page.waitForURL(/\/p\/sosafe\/audit\?person=\d+/);
    await page.getByTestId('trail-row').first().waitFor();
    const people = await page.getByTestId('trail-row').locator('td:nth-child(2)').allInnerTexts();
    expect(people.length).toBeGreaterThan(0);
    expect(new Set(people)).toEqual(new Set(['Pat Partner']));
    await expectNoAxeViolations(page);
  });

  it('is told when a date is not real', async () => {
    const from = page.getByRole('group', { name: 'From' });
    await from.getByLabel('Day', { exact: true }).fill('31');
    await from.getByLabel('Month', { exact: true }).fill('2');
    await from.getByLabel('Year', { exact: true }).fill('2025');
    await page.getByRole('button', { name: 'Apply filters', exact: true }).click();
    expect(await textOf(errorSummary(page))).toContain('Date from must be a real date');
    await expectNoAxeViolations(page);
  });
});
