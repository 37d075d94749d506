/**
 * A board member reads the partnership dashboard in Chromium: reached from the plan's navigation,
 * its charts drawn as SVG images with their tables, another quarter chosen with the form, a
 * table's CSV downloaded, and the page printed to an A4 landscape PDF that holds its words. The
 * page passes axe with and without JavaScript, breaks no Content Security Policy rule, and reads
 * on a phone without sideways scrolling of the page itself.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** The dashboard: its heading, charts, tables, quarter form and CSV links. */
class DashboardPage {
  constructor(readonly page: Page) {}

  async expectShown(title: string): Promise<void> {
    await expectHeading(this.page, title, { level: 1, exact: true });
  }

  chart(name: RegExp): Locator {
    return this.page.getByRole('img', { name });
  }

  table(caption: string): Locator {
    return this.page.getByRole('table', { name: caption });
  }

  async chooseQuarter(quarter: 1 | 2 | 3 | 4): Promise<void> {
    await this.page.getByLabel('Quarter').selectOption(String(quarter));
    await Promise.all([this.page.waitForURL(/quarter=/), this.page.getByTestId('show-quarter').click()]);
  }

  async downloadCsv(id: string) {
    const [download] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.getByTestId(`csv-${id}`).click(),
    ]);
    return download;
  }
}

let app: RunningApp;
let browser: TestBrowser;
let noScript: TestBrowser;
let scratch: string;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-dashboard-'));
  [app, browser, noScript] = await Promise.all([
    startApp(),
    launchBrowser(),
    launchBrowser({ javaScriptEnabled: false }),
  ]);
});

afterAll(async () => {
  await Promise.all([browser?.close(), noScript?.close(), app?.stop()]);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

async function signIn(page: Page): Promise<void> {
  const signIn = new SignInPage(page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(BOARD_MEMBER, DEMO_PASSWORD_FOR_TESTS);
}

describe('the dashboard in the browser', () => {
  it('shows a board member charts with their tables, another quarter, a CSV and passes axe', async () => {
    const { page } = browser;
    const problems: string[] = [];
    // Script errors and CSP violations show in the console; failed loads are checked by address
    // below (the browser asks for /favicon.ico by itself, and the app has no favicon by design).
    page.on('console', (message) => {
      const text = message.text();
      if (
        /Content Security Policy/i.test(text) ||
        (message.type() === 'error' && !/Failed to load resource/.test(text))
      ) {
        problems.push(text);
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') {
        problems.push(`${response.status()} ${response.url()}`);
      }
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await signIn(page);
    await page.goto(new URL(DEMO_PLAN_PATH, app.baseUrl).toString());
    await page.getByRole('navigation', { name: 'Plan' }).getByRole('link', { name: 'Dashboard' }).click();

    const dashboard = new DashboardPage(page);
    await dashboard.expectShown('Dashboard: Q4 2024/25');
    for (const name of [/^Statuses by section/, /^Statuses by priority/, /^Statuses by lead organisation/]) {
      const chart = dashboard.chart(name);
      await expect(chart.evaluate((el) => el.tagName.toLowerCase())).resolves.toBe('svg');
      const box = await chart.boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(300);
      expect(box?.height ?? 0).toBeGreaterThan(50);
      await expect(chart.locator('path, rect').count()).resolves.toBeGreaterThan(5);
    }
    await expect(dashboard.table('Statuses by section, Q4 2024/25').count()).resolves.toBe(1);

    await dashboard.chooseQuarter(3);
    await dashboard.expectShown('Dashboard: Q3 2024/25');
    const bySection = dashboard.table('Statuses by section, Q3 2024/25');
    expect(await textOf(bySection.getByRole('row').last())).toMatch(/^All actions\b/);
    expect(await textOf(dashboard.table('Aims with no update in Q2 or Q3'))).toContain('Aim');
    await expectNoAxeViolations(page);
    await expectNoSidewaysScrolling(page);

    const csv = await dashboard.downloadCsv('by-section');
    expect(csv.suggestedFilename()).toBe('sosafe-2024-25-Q3-by-section.csv');
    const csvText = fs.readFileSync((await csv.path())!, 'utf8');
    expect(csvText).toContain('All actions,');

    await page.screenshot({ path: path.join(scratch, 'dashboard.png'), fullPage: true });
    if (process.env.DASHBOARD_SHOTS) {
      fs.copyFileSync(
        path.join(scratch, 'dashboard.png'),
        path.join(process.env.DASHBOARD_SHOTS, 'dashboard.png'),
      );
    }
    expect(problems).toEqual([]);
  });

  it('prints to an A4 landscape PDF with the dashboard’s words', async () => {
    const { page } = browser;
    await page.goto(new URL(`${DEMO_PLAN_PATH}/dashboard?quarter=3`, app.baseUrl).toString());
    const pdfPath = path.join(scratch, 'dashboard.pdf');
    await page.pdf({ path: pdfPath, format: 'A4', landscape: true, printBackground: true });
    if (process.env.DASHBOARD_SHOTS)
      fs.copyFileSync(pdfPath, path.join(process.env.DASHBOARD_SHOTS, 'dashboard.pdf'));
    const info = execFileSync('pdfinfo', [pdfPath], { encoding: 'utf8' });
    // A4 landscape: 842 × 595 points.
    expect(info).toMatch(/Page size:\s+84[12]\.\d+ x 595\.\d+ pts/);
    const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
    for (const words of [
      'Dashboard: Q3 2024/25',
      'Statuses by section, Q3 2024/25',
      'Statuses by priority',
      'Aims with no update for two quarters',
      'Organisations and the aims they work on',
    ]) {
      expect(text).toContain(words);
    }
    // The quarter form and the CSV links are for the screen.
    expect(text).not.toContain('Show quarter');
    expect(text).not.toContain('Download this table as CSV');
  });

  it('works and passes axe without JavaScript, its charts drawn all the same', async () => {
    const { page } = noScript;
    await signIn(page);
    await page.goto(new URL(`${DEMO_PLAN_PATH}/dashboard`, app.baseUrl).toString());
    const dashboard = new DashboardPage(page);
    await dashboard.expectShown('Dashboard: Q4 2024/25');
    await dashboard.chooseQuarter(2);
    await dashboard.expectShown('Dashboard: Q2 2024/25');
    const box = await dashboard.chart(/^Statuses by section/).boundingBox();
    expect(box?.width ?? 0).toBeGreaterThan(300);
    await expectNoAxeViolationsWithoutJavaScript(page, browser.context);
  });
});
