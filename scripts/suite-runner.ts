/**
 * What the suites that need a program from Debian share (the browser suite needs Chromium, the
 * office suite LibreOffice and poppler-utils): without the program a developer gets a loud
 * warning and the suite is skipped; CI (CI=true) fails instead, so a missing program can never
 * turn into a green build that tested nothing.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first of these on the PATH (or given as a path), if any. */
export function findProgram(...names: string[]): string | undefined {
  for (const name of names) {
    if (name.includes('/')) {
      if (isExecutable(name)) return name;
      continue;
    }
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (dir && isExecutable(`${dir}/${name}`)) return `${dir}/${name}`;
    }
  }
  return undefined;
}

export function isCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function box(lines: string[]): string {
  const width = Math.max(...lines.map((line) => line.length));
  const edge = '!'.repeat(width + 8);
  const body = lines.map((line) => `!!  ${line.padEnd(width)}  !!`);
  return [edge, edge, ...body, edge, edge].join('\n');
}

/**
 * A suite cannot run here: in CI that fails the run; elsewhere it is skipped, loudly.
 * `suite` names it (BROWSER), `what` says what is missing, `install` how to get it, `untested`
 * what this run did not check.
 */
export function missingProgram(suite: string, what: string, install: string, untested: string): never {
  if (isCi()) {
    console.error(`ERROR: ${what}\nInstall it with: ${install}`);
    process.exit(1);
  }
  console.warn(
    '\n' +
      box(['', `${suite} TESTS SKIPPED: ${what}`, '', `Install it with: ${install}`, '', untested, '']) +
      '\n',
  );
  process.exit(0);
}

/** Runs one vitest project with this process's arguments, and exits with its status. */
export function runVitestProject(
  project: string,
  env: Record<string, string> = {},
  args: string[] = [],
): void {
  const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
  const child = spawn(npx, ['vitest', 'run', '--project', project, ...args, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });

  // Pass a Ctrl-C or a CI time-out on to vitest, so it can stop what it started.
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
}
