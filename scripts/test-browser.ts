/**
 * `npm run test:browser`: the browser suite (vitest project `browser`) in headless Chromium.
 *
 * Chromium comes from Debian (`apt-get install -y chromium`), not from a Playwright download. Without
 * it a developer gets a loud warning and the suite is skipped; CI (CI=true) fails instead, so a
 * missing browser can never turn into a green build that tested nothing in a browser.
 * Arguments are passed on to vitest: `npm run test:browser -- test/e2e/harness.test.ts`.
 */
import { isExecutable, missingProgram, runVitestProject } from './suite-runner.js';

// CI (.ci/run) runs this suite beside `npm test`, after the PostgreSQL suite, with the cores the
// embedded-database suite leaves idle; it sets PP_BROWSER_SUITE=beside for `npm test`'s own step.
if (process.env.PP_BROWSER_SUITE === 'beside') {
  process.stdout.write('The browser suite runs beside npm test in this run (.ci/run): not here.\n');
  process.exit(0);
}

const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
const chromiumPath = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;

if (!isExecutable(chromiumPath)) {
  missingProgram(
    'BROWSER',
    `Chromium not found at ${chromiumPath}.`,
    'sudo apt-get install -y chromium (or set CHROMIUM_PATH)',
    'No page was checked in a browser, nor with axe, in this run.',
  );
}
runVitestProject('browser', { CHROMIUM_PATH: chromiumPath });
