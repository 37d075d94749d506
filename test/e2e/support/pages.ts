/**
 * Page objects: what a person does on a page, in their words, so a test reads as a journey and a
 * change of markup is fixed in one place. Find things by role and label (as a screen reader would),
 * or by `data-testid` where there is no good accessible name.
 */
import type { Page } from 'playwright-core';

const WAIT_MS = 10_000;

/** Waits for a heading with this text (a string matches part of the name, case-insensitively). */
export async function expectHeading(
  page: Page,
  text: string | RegExp,
  options: { level?: number; exact?: boolean } = {},
): Promise<void> {
  const heading = page
    .getByRole('heading', { name: text, exact: options.exact ?? false, level: options.level })
    .first();
  try {
    await heading.waitFor({ state: 'visible', timeout: WAIT_MS });
  } catch {
    const headings = await page.getByRole('heading').allInnerTexts();
    const found = headings.map((h) => `"${h.replace(/\s+/g, ' ').trim()}"`).join(', ') || 'none';
    throw new Error(
      `Expected a heading ${typeof text === 'string' ? JSON.stringify(text) : String(text)}${options.level ? ` (h${options.level})` : ''} on ${page.url()}; ` +
        `the headings there are: ${found}`,
    );
  }
}

export class SignInPage {
  constructor(readonly page: Page) {}

  async goto(baseUrl: string): Promise<void> {
    await this.page.goto(new URL('/sign-in', baseUrl).toString());
  }

  async fillEmail(email: string): Promise<void> {
    await this.page.getByLabel('Email address', { exact: true }).fill(email);
  }

  async fillPassword(password: string): Promise<void> {
    await this.page.getByLabel('Password', { exact: true }).fill(password);
  }

  async submit(): Promise<void> {
    await this.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** Fills the form and submits it; where the browser lands is for the test to check. */
  async signIn(email: string, password: string): Promise<void> {
    await this.fillEmail(email);
    await this.fillPassword(password);
    await this.submit();
  }
}
