/**
 * The coordinator runs a quarter in the browser: from the plan's navigation to the quarters, opens
 * one through its form (a wrong date first), reads and filters the submission board, accepts an
 * update, closes the quarter and lands on the report as the board sees it. Every page on the way
 * passes axe. The same journey works with JavaScript switched off, on another quarter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations, expectNoAxeViolationsWithoutJavaScript } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  CloseQuarterPage,
  errorSummary,
  expectHeading,
  expectNoSidewaysScrolling,
  OpenQuarterPage,
  PlanPage,
  QuartersPage,
  ReviewUpdatePage,
  ServiceNavigation,
  SignInPage,
  SnapshotPage,
  SubmissionBoardPage,
  successBanner,
  textOf,
} from './support/pages.js';

const COORDINATOR = 'coordinator@sosafe.example';

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

interface Quarter {
  quarter: 3 | 4;
  due: [string, string, string];
  dueWords: string;
  boardDate: [string, string, string];
  boardDateWords: string;
  /** A demo update of this quarter, submitted before the quarter was opened: the one accepted. */
  review: { aim: string; index: number };
}

interface Journey {
  page: Page;
  checkAccessibility(page: Page): Promise<void>;
  run: Quarter;
}

async function runQuarter({ page, checkAccessibility, run }: Journey): Promise<void> {
  const { quarter } = run;
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(COORDINATOR, DEMO_PASSWORD_FOR_TESTS);
  await new PlanPage(page).expectShown();

  // The quarters, from the navigation.
  await new ServiceNavigation(page).open('Quarterly updates');
  const quarters = new QuartersPage(page);
  await quarters.expectShown();
  expect(await quarters.phase(quarter)).toBe('Not opened Not opened for updates');
  await checkAccessibility(page);

  // The form, sent first with a date that does not exist.
  await quarters.openQuarterForm(quarter);
  const form = new OpenQuarterPage(page, quarter);
  expect(await form.reminders().inputValue()).toBe('-7, 1, 7');
  await checkAccessibility(page);
  await form.fillDueDate('31', '2', run.due[2]);
  await form.open();
  await expectHeading(page, `Open Q${quarter} for updates`, { level: 1, exact: true });
  expect(await textOf(errorSummary(page))).toContain('Due date must be a real date');
  await checkAccessibility(page);

  await form.fillDueDate(...run.due);
  await form.open();
  const board = new SubmissionBoardPage(page, quarter);
  await board.expectShown();
  // The demo's lead officers with accounts: Helen Whitehead (two actions of aim 3.1), Tania King (five).
  expect(await textOf(successBanner(page))).toMatch(
    new RegExp(
      `Q${quarter} is open: 2 lead officers were asked about 7 actions; \\d+ actions have nobody to ask\\. ` +
        'No mail server is set up, so the emails are in the Outbox: send them on from there$',
    ),
  );
  expect(await textOf(page.getByTestId('phase'))).toContain(`Open for updates, due ${run.dueWords}`);
  expect(await board.state('3.1', 2)).toBe('Requested');
  expect(await board.count('total')).toBe(34);
  await checkAccessibility(page);
  await expectNoSidewaysScrolling(page);

  // Filtered to what waits for review, at an address that can be shared.
  await board.filterByState('Submitted');
  await board.expectShown();
  expect(new URL(page.url()).searchParams.get('state')).toBe('submitted');
  const submitted = await board.rowKeys();
  expect(submitted).toContain(`${run.review.aim}-${run.review.index}`);
  for (const key of submitted) expect(await board.state(...splitKey(key))).toBe('Submitted');
  expect(await page.getByLabel('State', { exact: true }).inputValue()).toBe('submitted');
  await checkAccessibility(page);

  // JAG review: accepted.
  await board.review(run.review.aim, run.review.index);
  await checkAccessibility(page);
  const review = new ReviewUpdatePage(page);
  await review.choose('Accept');
  await review.save();
  await board.expectShown();
  expect(await textOf(successBanner(page))).toContain(
    `The Q${quarter} 2024/25 update for aim ${run.review.aim}, action ${run.review.index} has been accepted`,
  );
  expect(await board.state(run.review.aim, run.review.index)).toBe('Accepted');

  // Closed, with the board's date, onto the report as the board sees it.
  await board.closeQuarter();
  expect(await page.getByTestId('outstanding-warning').count()).toBe(1);
  await checkAccessibility(page);
  const close = new CloseQuarterPage(page, quarter);
  await close.fillBoardDate(...run.boardDate);
  await close.close();
  const snapshot = new SnapshotPage(page);
  await snapshot.expectShown(`Q${quarter} 2024/25 as reported to the board on ${run.boardDateWords}`);
  expect(await textOf(successBanner(page))).toContain(
    `Q${quarter} 2024/25 is closed: the report as the board sees it is frozen`,
  );
  expect(await textOf(snapshot.row(run.review.aim, run.review.index))).toContain('Accepted');
  expect(await page.getByTestId('no-amendments').count()).toBe(1);
  await checkAccessibility(page);
  await expectNoSidewaysScrolling(page);

  // The quarters again: this one is closed, and says when it was reported.
  await page.getByRole('link', { name: 'Quarterly updates', exact: true }).first().click();
  await quarters.expectShown();
  expect(await quarters.phase(quarter)).toBe(`Closed Reported to the board on ${run.boardDateWords}`);

  await new ServiceNavigation(page).signOut();
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('-');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

describe('the coordinator runs a quarter', () => {
  it('opens Q4, reviews, closes it and sees the snapshot, with every page passing axe', async () => {
    const page = browser.page;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    expect(await page.locator('body').getAttribute('class')).toContain('govuk-frontend-supported');
    await runQuarter({
      page,
      checkAccessibility: (p) => expectNoAxeViolations(p),
      run: {
        quarter: 4,
        due: ['14', '4', '2025'],
        dueWords: '14 April 2025',
        boardDate: ['17', '4', '2025'],
        boardDateWords: '17 April 2025',
        review: { aim: '4.3', index: 1 },
      },
    });
  });

  it('in the same way with JavaScript switched off, for Q3', async () => {
    const page = noScript.page;
    const checker: BrowserContext = browser.context;
    await page.goto(new URL('/sign-in', app.baseUrl).toString());
    expect(await page.locator('body').getAttribute('class')).not.toContain('govuk-frontend-supported');
    await runQuarter({
      page,
      checkAccessibility: (p) => expectNoAxeViolationsWithoutJavaScript(p, checker),
      run: {
        quarter: 3,
        due: ['14', '1', '2025'],
        dueWords: '14 January 2025',
        boardDate: ['23', '1', '2025'],
        boardDateWords: '23 January 2025',
        review: { aim: '3.1', index: 1 },
      },
    });
  });
});
