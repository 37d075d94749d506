/**
 * The `partnership-plan` command as the command-line tests run it: a child process against a
 * database of its own, a fresh embedded one in a temporary DATA_DIR or, when DATABASE_URL is set,
 * a fresh database on that server made from the migrated template.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

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
 */
export function cliScratch(prefix: string) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    fs.rmSync(scratch, { recursive: true, force: true });
  });
  const newDataDir = () => fs.mkdtempSync(path.join(scratch, 'data-'));
  return {
    scratch,
    newDataDir,
    async emptyDatabase(): Promise<NodeJS.ProcessEnv> {
      const serverUrl = process.env.DATABASE_URL;
      if (!serverUrl) return { DATA_DIR: newDataDir(), DATABASE_URL: '' };
      const name = `pp_cli_${crypto.randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`create database ${name} template ${inject('pgTemplateDatabase')}`);
      await admin.end();
      cleanups.push(async () => {
        const dropper = new pg.Client({ connectionString: serverUrl });
        await dropper.connect();
        await dropper.query(`drop database if exists ${name} with (force)`);
        await dropper.end();
      });
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return { DATABASE_URL: url.toString(), DATA_DIR: newDataDir() };
    },
  };
}
