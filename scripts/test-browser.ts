/**
 * `npm run test:browser`: the browser suite (vitest project `browser`) in headless Chromium.
 *
 * Chromium comes from Debian (`apt-get install -y chromium`), not from a Playwright download. Without
 * it a developer gets a loud warning and the suite is skipped; CI (CI=true) fails instead, so a
 * missing browser can never turn into a green build that tested nothing in a browser.
 * Arguments are passed on to vitest: `npm run test:browser -- test/e2e/harness.test.ts`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function box(lines: string[]): string {
  const width = Math.max(...lines.map((line) => line.length));
  const edge = '!'.repeat(width + 8);
  const body = lines.map((line) => `!!  ${line.padEnd(width)}  !!`);
  return [edge, edge, ...body, edge, edge].join('\n');
}

const chromiumPath = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;

if (!isExecutable(chromiumPath)) {
  if (isCi()) {
    console.error(
      `ERROR: the browser tests need Chromium, and there is none at ${chromiumPath}.\n` +
        'Install it with: apt-get install -y chromium (or set CHROMIUM_PATH).',
    );
    process.exit(1);
  }
  console.warn(
    '\n' +
      box([
        '',
        `BROWSER TESTS SKIPPED: Chromium not found at ${chromiumPath}.`,
        '',
        'Install it with: sudo apt-get install -y chromium (or set CHROMIUM_PATH)',
        '',
        'No page was checked in a browser, nor with axe, in this run.',
        '',
      ]) +
      '\n',
  );
  process.exit(0);
}

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const child = spawn(npx, ['vitest', 'run', '--project', 'browser', ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromiumPath },
});

// Pass a Ctrl-C or a CI time-out on to vitest, so it can stop the app and the browser it started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal));
}

child.on('error', (error) => {
  console.error(`Could not start vitest: ${error.message}`);
  process.exit(1);
});

child.on('exit', (code, signal) => {
  if (signal) {
    console.error(`vitest was stopped by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
