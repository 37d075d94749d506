/**
 * A production start: no demo data and no demo accounts; the first partnership and coordinator
 * are made from the command line, and that coordinator can sign in.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD_FOR_TESTS, startApp, type RunningApp } from '../e2e/support/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'a production session secret of more than 32 chars';

function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/partnership-plan.js', ...args],
      { cwd: ROOT, env },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

async function signIn(baseUrl: string, email: string, password: string) {
  const form = await fetch(`${baseUrl}/sign-in`);
  const cookie = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  return fetch(`${baseUrl}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email, password }),
  });
}

describe('starting in production', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-production-'));
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    DATABASE_URL: '',
    SESSION_SECRET: SECRET,
  };
  let app: RunningApp;

  beforeAll(async () => {
    expect((await cli(['partnerships', 'add', '--slug', 'test-csp', '--name', 'Test CSP'], env)).code).toBe(
      0,
    );
    const added = await cli(
      [
        'users',
        'add',
        '--email',
        'First@Council.example',
        '--name',
        'First Coordinator',
        '--role',
        'coordinator',
        '--partnership',
        'test-csp',
        '--password-stdin',
      ],
      env,
      'a strong first password\n',
    );
    expect(added.stderr).toBe('');
    app = await startApp({ env: { NODE_ENV: 'production', DATA_DIR: dataDir, SESSION_SECRET: SECRET } });
  });
  afterAll(async () => {
    await app?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loads no demo and prints no demo accounts', () => {
    expect(app.output()).not.toContain('Demo accounts');
  });

  it('refuses the demo accounts', async () => {
    const response = await signIn(app.baseUrl, 'coordinator@sosafe.example', DEMO_PASSWORD_FOR_TESTS);
    expect(response.status).toBe(401);
  });

  it('lets the coordinator made on the command line sign in, to a partnership with no plan yet', async () => {
    const response = await signIn(app.baseUrl, 'first@council.example', 'a strong first password');
    expect(response.status).toBe(302);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    const start = await fetch(`${app.baseUrl}/p/test-csp`, { headers: { cookie } });
    expect(start.status).toBe(200);
    expect(await start.text()).toContain('Test CSP has no action plan in Partnership Plan yet.');
  });
});
