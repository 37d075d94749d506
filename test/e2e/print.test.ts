/**
 * Printing: the document view, an aim, the dashboard and the county view printed to PDF by
 * Chromium as a person prints them (A4 landscape, backgrounds on). Each PDF is read back with
 * poppler (pdfinfo, pdftotext): its pages are A4 landscape, the plan's text is in it, the
 * screen's navigation, buttons and footer links are not, and a tall table row does not leave the
 * page before it empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readPdfBytes } from '../support/office.js';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from './support/app.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { DEMO_PLAN_PATH, expectHeading, SignInPage } from './support/pages.js';

const INSPECTOR = 'inspector@herts-police.example';
/** A4 landscape in PDF points (297 × 210 mm), give or take Chromium's rounding to whole pixels. */
const A4_LANDSCAPE = { width: 841.89, height: 595.28 };
/** Words of the screen only: the header's navigation, the account, the footer's links, a button. */
const SCREEN_ONLY = ['Sign out', 'Your account', 'Whole plan', 'Accessibility statement', 'Privacy notice'];

let app: RunningApp;
let browser: TestBrowser;

beforeAll(async () => {
  [app, browser] = await Promise.all([startApp(), launchBrowser()]);
  const signIn = new SignInPage(browser.page);
  await signIn.goto(app.baseUrl);
  await signIn.signIn(INSPECTOR, DEMO_PASSWORD_FOR_TESTS);
  await expectHeading(browser.page, 'Your partnerships', { level: 1 });
});

afterAll(async () => {
  await Promise.all([browser?.close(), app?.stop()]);
});

async function printed(page: Page, path: string, heading: string) {
  await page.goto(new URL(path, app.baseUrl).toString());
  await expectHeading(page, heading, { level: 1 });
  const pdf = await page.pdf({ format: 'A4', landscape: true, printBackground: true });
  const document = await readPdfBytes(pdf);
  expect(document.pageSize.width).toBeCloseTo(A4_LANDSCAPE.width, -1);
  expect(document.pageSize.height).toBeCloseTo(A4_LANDSCAPE.height, -1);
  for (const words of SCREEN_ONLY) expect(document.text, path).not.toContain(words);
  return document;
}

describe('printing to PDF on A4 landscape', () => {
  it('the document view: every aim, the column headers on every page, the first row on the first page', async () => {
    const document = await printed(browser.page, `${DEMO_PLAN_PATH}/document`, 'the whole plan');
    expect(document.pages.length).toBeGreaterThan(1);
    for (const aim of ['1.1', '2.4', '3.1', '4.4', '5.0', '5.7']) expect(document.text).toContain(aim);
    // pdftotext lays the columns side by side, so a wrapped cell's words come a line at a time.
    expect(document.text).toContain('1.1 Continue to');
    expect(document.text).toContain('Hate crime awareness week and black history month');
    document.pages.forEach((text, i) =>
      expect(text, `page ${i + 1}`).toMatch(/Aim\s+Action\s+Lead\s+Partners/),
    );
    // Row 1.1 is taller than what is left of the first page: it starts there rather than leaving it empty.
    expect(document.pages[0]).toContain('Visiting schools');
    // The app's own links print without their addresses.
    expect(document.text).not.toContain('/p/sosafe/plans/2024-25/aims/');
  });

  it('an aim: its title, actions and progress', async () => {
    const document = await printed(browser.page, `${DEMO_PLAN_PATH}/aims/3.1`, '3.1');
    expect(document.text).toContain('3.1 To promote reporting of Hate Crime.');
    expect(document.text).toContain('Advertise where the Hate Crime 3rd party reporting centres are');
    expect(document.text).toContain('Hate crime leaflet produced in partnership with the police');
    // The partnership's name heads the printout.
    expect(document.pages[0]).toContain('SoSafe Stevenage');
  });

  it('the dashboard', async () => {
    const document = await printed(browser.page, `${DEMO_PLAN_PATH}/dashboard`, 'Dashboard');
    expect(document.text).toContain('Statuses by section');
    expect(document.text).toContain('Statuses by priority');
    expect(document.text).toContain('1. Divert young people');
  });

  it('the county view: both partnerships and what they share', async () => {
    const document = await printed(browser.page, '/county', 'County view');
    expect(document.text).toContain('North Herts Community Safety');
    expect(document.text).toContain('SoSafe Stevenage');
    expect(document.text).toContain('Priorities shared across partnerships');
    expect(document.text).toContain('Organisations that lead across districts');
  });
});
