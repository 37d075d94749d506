/**
 * Every page passes axe at WCAG 2.2 AA. A failure names each rule broken, how badly, how to fix
 * it and where, so the test output alone is enough to act on.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Result } from 'axe-core';
import type { BrowserContext, Page } from 'playwright-core';

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const TARGETS_SHOWN = 3;

function describeTarget(target: Result['nodes'][number]['target']): string {
  // One selector per frame; inside a shadow root, one per level.
  return target.map((part) => (Array.isArray(part) ? part.join(' >>> ') : part)).join(' | ');
}

export function formatAxeViolations(violations: Result[]): string {
  return violations
    .map((violation) => {
      const targets = violation.nodes.slice(0, TARGETS_SHOWN).map((node) => describeTarget(node.target));
      const more = violation.nodes.length - targets.length;
      const where = targets.map((target) => `      ${target}`).join('\n');
      return (
        `  - ${violation.id} (${violation.impact ?? 'impact unknown'}): ${violation.help}\n` +
        `    ${violation.helpUrl}\n` +
        `    ${violation.nodes.length} element(s)${more > 0 ? `, the first ${targets.length}` : ''}:\n` +
        where
      );
    })
    .join('\n');
}

export interface AxeOptions {
  /** CSS selectors to leave out, e.g. a third-party widget. Say why where you use it. */
  exclude?: string[];
}

/**
 * axe.run in the page itself (AxeBuilder's legacy mode): its default runs axe in each frame, then
 * opens a blank tab to put the frames' results together, which was a third of each check's time.
 * The app's pages have no frames. Only violations are gathered: what passed is not read.
 */
export async function expectNoAxeViolations(page: Page, options: AxeOptions = {}): Promise<void> {
  let builder = new AxeBuilder({ page })
    .withTags(AXE_TAGS)
    .setLegacyMode()
    .options({ resultTypes: ['violations'] });
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  const results = await builder.analyze();
  if (results.violations.length > 0) {
    throw new Error(
      `axe found ${results.violations.length} accessibility violation(s) on ${page.url()}:\n` +
        formatAxeViolations(results.violations),
    );
  }
}

/** The page's address without its fragment: what the browser asks the server for. */
function requestedUrl(url: string): string {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.toString();
}

/**
 * axe runs in the page and needs its timers, so it cannot check a page in a context with
 * JavaScript switched off. This checks a copy instead: the page's HTML as the browser built it
 * without scripts, with every script removed, served at the same address in a scratch tab of
 * `checker` (a context with JavaScript on), so the same stylesheets apply and no script changes it.
 */
export async function expectNoAxeViolationsWithoutJavaScript(
  page: Page,
  checker: BrowserContext,
  options: AxeOptions = {},
): Promise<void> {
  const address = requestedUrl(page.url());
  const html = (await page.content()).replace(/<script\b[^>]*>[\s\S]*?<\/script\s*>/gi, '');
  const copy = await checker.newPage();
  try {
    await copy.route(
      (url) => url.toString() === address,
      (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );
    await copy.goto(page.url());
    const [original, copied] = [await page.title(), await copy.title()];
    if (copied !== original) {
      throw new Error(`The copy of ${page.url()} for axe is "${copied}", not "${original}"`);
    }
    await expectNoAxeViolations(copy, options);
  } finally {
    await copy.close();
  }
}
