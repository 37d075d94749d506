/**
 * The browser harness itself: Chromium starts in the right time zone and locale, axe reports what it
 * should, and the real app starts, has a working database and a sign-in page that passes axe.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from './support/app.js';
import { expectNoAxeViolations } from './support/axe.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { expectHeading, SignInPage } from './support/pages.js';

let browser: TestBrowser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('the browser', () => {
  it('runs in Europe/London time, in British English', async () => {
    // A string, because the test code is type-checked without the DOM library.
    const settings: unknown = await browser.page.evaluate(
      '({ timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, language: navigator.language })',
    );
    expect(settings).toEqual({ timeZone: 'Europe/London', language: 'en-GB' });
  });

  it('axe passes a plain accessible page', async () => {
    await browser.page.setContent(
      '<!doctype html><html lang="en"><head><title>Fine</title></head>' +
        '<body><main><h1>Fine</h1><p>Nothing wrong here.</p></main></body></html>',
    );
    await expectNoAxeViolations(browser.page);
  });

  it('axe failures name the rule, its impact and the element', async () => {
    await browser.page.setContent(
      '<!doctype html><html lang="en"><head><title>Broken</title></head>' +
        '<body><main><h1>Broken</h1><img src="data:," data-testid="no-alt"></main></body></html>',
    );
    const error = await expectNoAxeViolations(browser.page).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/image-alt \(critical\): Images must have alternative text/);
    expect(message).toContain('img');
  });
});

describe('starting the app', () => {
  it('fails with what the app printed when it exits before it is healthy', async () => {
    const failure = await startApp({ env: { PORT: 'not-a-port' }, startTimeoutMs: 60_000 }).then(
      async (app) => {
        await app.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/exited with code [1-9]\d* before GET \/health answered 200/);
    expect((failure as Error).message).toContain('It printed:');
  });
});

describe('the running app', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    const dataDir = app?.dataDir;
    await app?.stop();
    if (dataDir) expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('answers /health with its database ok', async () => {
    const response = await browser.page.goto(`${app.baseUrl}/health`);
    expect(response?.status()).toBe(200);
    const body: unknown = await response?.json();
    expect(body).toMatchObject({ status: 'ok', database: { ok: true } });
  });

  it('shows a sign-in page that passes axe', async () => {
    const signIn = new SignInPage(browser.page);
    await signIn.goto(app.baseUrl);
    await expectHeading(browser.page, 'Sign in', { level: 1 });
    await expectNoAxeViolations(browser.page);
  });
});
