/**
 * A board member reads the quarter's board report in Chromium: from the quarter's page to the
 * report, a draft saying so, its tables, and its Word and PDF downloads. The page passes axe, with
 * and without JavaScript, and reads on a phone without sideways scrolling of the page itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  DEMO_PLAN_PATH,
  expectHeading,
  expectNoSidewaysScrolling,
  SignInPage,
  textOf,
} from './support/pages.js';

const BOARD_MEMBER = 'board@sosafe.example';

/** The report page: its heading, draft notice, tables and downloads. */
class BoardReportPage {
  constructor(readonly page: Page) {}

  async expectShown(title: string): Promise<void> {
    await expectHeading(this.page, title, { level: 1, exact: true });
  }

  draftNotice(): Locator {
    return this.page.getByTestId('draft-notice');
  }

  row(aim: string, index: number): Locator {
    return this.page.getByTestId(`report-row-${aim}-${index}`);
  }

  bySection(): Locator {
    return this.page.getByRole('table', { name: 'Q3 statuses by section' });
  }

  async download(name: 'Word (DOCX)' | 'PDF') {
    const link = this.page
      .getByTestId('downloads')
      .getByRole('link', { name: new RegExp(`^${name.replace(/[()]/g, '\\$&')}`) });
    const [download] = await Promise.all([this.page.waitForEvent('download'), link.click()]);
    return download;
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
  await signIn.signIn(BOARD_MEMBER, DEMO_PASSWORD_FOR_TESTS);
}

describe('the board report in the browser', () => {
  it('takes a board member from the quarter to its draft report, which passes axe', async () => {
    const { page } = browser;
    await signIn(page);
    await page.goto(new URL(`${DEMO_PLAN_PATH}/quarters/3`, app.baseUrl).toString());
    await page
      .getByTestId('board-report-link')
      .getByRole('link', { name: 'Q3 2024/25 board report' })
      .click();

    const report = new BoardReportPage(page);
    await report.expectShown('Q3 2024/25 progress report to the board (draft)');
    expect(await textOf(report.draftNotice())).toContain(
      'Draft: this quarter is not closed; figures may change',
    );
    expect(await textOf(report.row('1.1', 1))).toContain(
      'Promotion of NMSY at Jackmans community day in Letchworth',
    );
    expect(await textOf(report.row('1.1', 1).getByTestId('status'))).toBe('No status given');
    await expect(report.bySection().getByRole('columnheader', { name: 'On track' }).count()).resolves.toBe(1);
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    const docx = await report.download('Word (DOCX)');
    expect(docx.suggestedFilename()).toBe('sosafe-2024-25-Q3-board-report.docx');
    const pdf = await report.download('PDF');
    expect(pdf.suggestedFilename()).toBe('sosafe-2024-25-Q3-board-report.pdf');
  });

  it('works and passes axe without JavaScript', async () => {
    const { page } = noScript;
    await signIn(page);
    await page.goto(new URL(`${DEMO_PLAN_PATH}/quarters/3/report`, app.baseUrl).toString());
    await new BoardReportPage(page).expectShown('Q3 2024/25 progress report to the board (draft)');
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
