/**
 * Headless Chromium from Debian (not a Playwright download), in a fresh profile each time, set to
 * the service's time zone and locale so dates render as a person in England sees them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export interface TestBrowser {
  context: BrowserContext;
  /** The context's first tab. Open more with `context.newPage()`. */
  page: Page;
  /** Closes the browser and removes its profile. Safe to call twice. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  /**
   * false runs every page with JavaScript switched off, as for a person whose browser blocks it:
   * every page must work without it. Default true.
   */
  javaScriptEnabled?: boolean;
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<TestBrowser> {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-e2e-profile-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      timezoneId: 'Europe/London',
      locale: 'en-GB',
      javaScriptEnabled: options.javaScriptEnabled ?? true,
    });
  } catch (error) {
    fs.rmSync(profileDir, { recursive: true, force: true });
    throw new Error(
      `Could not launch Chromium at ${CHROMIUM_PATH} (install it with: apt-get install -y chromium, ` +
        `or set CHROMIUM_PATH): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const page = context.pages()[0] ?? (await context.newPage());

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      try {
        await context.close();
      } finally {
        fs.rmSync(profileDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      }
    })();
    return closed;
  };
  return { context, page, close };
}
