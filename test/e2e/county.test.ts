/**
 * The county view in Chromium: the police inspector with roles in SoSafe and North Herts signs in,
 * lands on the list of his partnerships, follows the link to the county view and sees both side by
 * side: their statuses, the priorities they share, the organisations that lead in both. The page
 * passes axe, with and without JavaScript, and reads on a phone without sideways scrolling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { expectHeading, expectNoSidewaysScrolling, SignInPage, textOf } from './support/pages.js';

const INSPECTOR = 'inspector@herts-police.example';

/** The county view: a table of statuses, a table per shared priority, a table of shared lead organisations. */
class CountyPage {
  constructor(readonly page: Page) {}

  async expectShown(): Promise<void> {
    await expectHeading(this.page, 'County view', { level: 1, exact: true });
  }

  statuses(): Locator {
    return this.page.getByRole('table', { name: 'Actions by current status, by partnership' });
  }

  row(slug: string): Locator {
    return this.page.getByTestId(`county-row-${slug}`);
  }

  sharedPriority(title: string): Locator {
    return this.page.getByRole('table', { name: title, exact: true });
  }

  sharedLeads(): Locator {
    return this.page.getByRole('table', { name: 'Actions each organisation leads, by partnership' });
  }
}

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

async function signIn(page: Page): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(INSPECTOR, DEMO_PASSWORD_FOR_TESTS);
}

describe('the county view in the browser', () => {
  it('takes the inspector from his partnerships to both side by side, and passes axe', async () => {
    const { page } = browser;
    await signIn(page);
    await expectHeading(page, 'Your partnerships', { level: 1 });
    await expect(page.getByRole('link', { name: 'SoSafe Stevenage', exact: true }).count()).resolves.toBe(1);
    await expect(
      page.getByRole('link', { name: 'North Herts Community Safety Partnership', exact: true }).count(),
    ).resolves.toBe(1);
    await page.getByTestId('county-view').click();

    const county = new CountyPage(page);
    await county.expectShown();
    await expect(county.statuses().getByRole('columnheader', { name: 'At risk' }).count()).resolves.toBe(1);
    expect(await textOf(county.row('north-herts'))).toBe(
      'North Herts Community Safety Partnership (North Hertfordshire) Lead officer 2024/25 0 3 3 1 2 0 9',
    );
    expect(await textOf(county.row('sosafe'))).toBe(
      'SoSafe Stevenage (Stevenage) Partner 2024/25 0 0 0 0 0 34 34',
    );
    expect(await textOf(county.sharedPriority('All ASB'))).toContain('5.3 Promote Community Case Reviews');
    expect(await textOf(county.sharedLeads())).toContain('Police (Hertfordshire Constabulary)');

    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    // The header links the county view from any page, for someone in several partnerships.
    await page.goto(new URL('/p/north-herts', app.baseUrl).toString());
    await page.getByRole('link', { name: 'County view', exact: true }).click();
    await county.expectShown();
  });

  it('works and passes axe without JavaScript', async () => {
    const { page } = noScript;
    await signIn(page);
    await page.goto(new URL('/county', app.baseUrl).toString());
    await new CountyPage(page).expectShown();
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
