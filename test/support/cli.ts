/**
 * The `partnership-plan` command as the command-line tests run it: a child process against a
 * database of its own, a fresh embedded one in a temporary DATA_DIR or, when DATABASE_URL is set,
 * a fresh database on that server made from the migrated template.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, inject } from 'vitest';
import { createServerDatabase } from './server-database.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = path.join(ROOT, 'bin', 'partnership-plan.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with the environment of one database; `input` is written to its stdin. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * A scratch folder for the test file and its databases, all removed after the file's tests:
 * `newDataDir()` a folder for DATA_DIR, `emptyDatabase()` the environment of a new, empty database.
 * On the embedded database the folder holds the run's migrated template already (unpacked with
 * tar, as PGlite's own loadDataDir would): the command then skips creating the database cluster
 * and migrating it, about 4 s of each run. Starting on a folder with nothing in it is what the
 * production start test (test/cli/production-start.test.ts) and the browser suite's app do.
 */
export function cliScratch(prefix: string) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });
  const template = inject('pgliteTemplatePath'); // '' on a PostgreSQL run
  const newDataDir = () => {
    const dataDir = fs.mkdtempSync(path.join(scratch, 'data-'));
    if (template) {
      fs.mkdirSync(path.join(dataDir, 'pgdata'));
      execFileSync('tar', ['-xf', template, '-C', path.join(dataDir, 'pgdata')], { stdio: 'ignore' });
    }
    return dataDir;
  };
  return {
    scratch,
    newDataDir,
    async emptyDatabase(): Promise<NodeJS.ProcessEnv> {
      const serverUrl = process.env.DATABASE_URL;
      if (!serverUrl) return { DATA_DIR: newDataDir(), DATABASE_URL: '' };
      const created = await createServerDatabase(serverUrl, {
        prefix: 'pp_cli',
        template: inject('pgTemplateDatabase'),
      });
      cleanups.push(created.drop);
      return { DATABASE_URL: created.url, DATA_DIR: newDataDir() };
    },
  };
}
