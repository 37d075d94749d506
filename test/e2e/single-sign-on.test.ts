/**
 * Single sign-on in a real browser: the app as a person runs it (configured by OIDC_* variables),
 * a real OpenID provider (oidc-provider) on 127.0.0.1 with its development login and consent
 * pages, and Chromium going back and forth between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { DEMO_PLAN_PATH, expectHeading, PlanPage, textOf } from './support/pages.js';

const LABEL = 'Sign in with your council account';

let provider: TestOidcProvider;
let app: RunningApp;
let browser: TestBrowser;

beforeAll(async () => {
  provider = await startOidcProvider();
  [app, browser] = await Promise.all([
    startApp({
      env: {
        OIDC_ISSUER: provider.issuer,
        OIDC_CLIENT_ID: provider.clientId,
        OIDC_CLIENT_SECRET: provider.clientSecret,
        OIDC_LABEL: LABEL,
      },
    }),
    launchBrowser(),
  ]);
  // Without PUBLIC_URL the app sends the provider the address it was reached at.
  await provider.register(`${app.baseUrl}/sign-in/sso/callback`);
  provider.accounts.set('helen-at-ccsu', 'Helen.Whitehead@sosafe.example');
  provider.accounts.set('stranger', 'nobody@elsewhere.example');
});

afterAll(async () => {
  await Promise.all([browser?.close(), app?.stop()]);
  await provider?.close();
});

/** At the provider's development pages: signs in as `subject` (any password) and consents. */
async function signInAtProvider(page: Page, subject: string): Promise<void> {
  await page.locator('input[name="login"]').fill(subject);
  await page.locator('input[name="password"]').fill('any password will do');
  await page.getByRole('button', { name: 'Sign-in', exact: true }).click();
  await page.getByRole('button', { name: 'Continue', exact: true }).click();
}

describe('single sign-on in the browser', () => {
  it('a lead officer signs in with her organisation’s account and lands on the plan she asked for', async () => {
    const { page } = browser;
    await page.goto(new URL(DEMO_PLAN_PATH, app.baseUrl).toString());
    await expectHeading(page, 'Sign in', { level: 1 });
    const button = page.getByRole('button', { name: LABEL, exact: true });
    expect(await button.getAttribute('href')).toBe(
      `/sign-in/sso?returnTo=${encodeURIComponent(DEMO_PLAN_PATH)}`,
    );
    await expectNoAxeViolations(page);

    await button.click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    expect(new URL(page.url()).origin).toBe(provider.issuer);
    await signInAtProvider(page, 'helen-at-ccsu');

    const plan = new PlanPage(page);
    await plan.expectShown();
    expect(new URL(page.url()).origin).toBe(app.baseUrl);
    expect(new URL(page.url()).pathname).toBe(DEMO_PLAN_PATH);
    expect(await textOf(page.locator('body'))).toContain('Helen Whitehead');
    expect(await page.getByRole('button', { name: 'Sign out', exact: true }).count()).toBe(1);
  });

  it('a person without an account is told to ask the coordinator, and is not signed in', async () => {
    const { page, context } = browser;
    // Leave the app first: a request of the last page still under way (under load, in CI) would
    // answer after the cookies are cleared and set the signed-in session's cookie again.
    await page.goto('about:blank');
    await context.clearCookies();
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    await page.getByRole('button', { name: LABEL, exact: true }).click();
    await signInAtProvider(page, 'stranger');

    await expectHeading(page, 'There is no account for you in Partnership Plan', { level: 1 });
    expect(await textOf(page.getByTestId('sso-problem'))).toBe(
      'There is no account for nobody@elsewhere.example in Partnership Plan. Ask your partnership’s coordinator to invite you.',
    );
    await expectNoAxeViolations(page);

    await page.goto(new URL(DEMO_PLAN_PATH, app.baseUrl).toString());
    await expectHeading(page, 'Sign in', { level: 1 });
  });
});
