/**
 * API tokens in a real browser: the coordinator issues one from the header, reads the plan with it
 * as a dashboard would (a plain HTTP client with the bearer header), and revokes it; each page, and
 * the form's error state, passing axe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { errorSummary, expectHeading, PlanPage, SignInPage, textOf } from './support/pages.js';

let app: RunningApp;
let browser: TestBrowser;
let page: Page;

async function readPlan(token: string) {
  return fetch(`${app.baseUrl}/api/v1/partnerships/sosafe/plans/2024-25`, {
    headers: { authorization: `Bearer ${token}` },
  });
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

describe('the coordinator’s API tokens', () => {
  let token: string;

  it('issues a token from the header, after being told what was missing', async () => {
    await page
      .getByRole('navigation', { name: 'Plan' })
      .getByRole('link', { name: 'API tokens', exact: true })
      .click();
    await expectHeading(page, 'API tokens', { level: 1 });
    await expectNoAxeViolations(page);

    await page.getByTestId('issue-token').click();
    await page.getByTestId('issue').waitFor();
    await expectNoAxeViolations(page);
    await page.getByTestId('issue').click();
    await errorSummary(page).waitFor();
    expect(await textOf(errorSummary(page))).toContain('There is a problem');
    await expectNoAxeViolations(page);

    await page.getByLabel('Name', { exact: true }).fill('County dashboard');
    await page.getByTestId('issue').click();
    await expectHeading(page, 'Your new API token', { level: 1 });
    token = await page.getByTestId('new-token').inputValue();
    expect(token).toMatch(/^pp_[A-Za-z0-9_-]{43}$/);
    await expectNoAxeViolations(page);
  });

  it('reads the plan with it, as a dashboard would', async () => {
    const response = await readPlan(token);
    expect(response.status).toBe(200);
    const plan = (await response.json()) as { year: string; sections: { aims: unknown[] }[] };
    expect(plan.year).toBe('2024/25');
    expect(plan.sections.flatMap((s) => s.aims)).toHaveLength(21);
  });

  it('revokes it after confirming, and the API refuses it from then on', async () => {
    await page.goto(`${app.baseUrl}/p/sosafe/api-tokens`);
    await page.getByTestId('revoke').first().click();
    await page.getByTestId('confirm-revoke').waitFor();
    await expectNoAxeViolations(page);
    await page.getByTestId('confirm-revoke').click();
    await expectHeading(page, 'API tokens', { level: 1 });
    expect(await textOf(page.getByTestId('api-tokens'))).toContain('County dashboard');
    expect((await readPlan(token)).status).toBe(401);
  });
});
