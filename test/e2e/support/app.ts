/**
 * Starts the real app (`node --import tsx src/main.ts`, with `npm start`'s options for node) as a
 * child process for the browser suite: its own free port on 127.0.0.1, its own DATA_DIR (an
 * embedded PGlite database with the demo loaded), the demo users' password fixed, Europe/London
 * time. The same start-up path a person runs.
 *
 * The suite's global set-up starts the app once on an empty folder (migrations, then the demo) and
 * keeps that folder as a template; each startApp copies it, so a test file's app starts on the
 * demo without loading it again. `freshData` starts on an empty folder instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { exitDescription, findFreePort, startNodeArgs, terminate } from '../../support/processes.js';

/** The password of every demo user in an app started here. */
export const DEMO_PASSWORD_FOR_TESTS = 'correct-horse-battery-staple-42';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface StartAppOptions {
  /** Extra or overriding environment for the app, e.g. `{ LOG_LEVEL: 'debug' }`. */
  env?: Record<string, string>;
  /** How long to wait for GET /health to answer 200 (default 90 s). */
  startTimeoutMs?: number;
  /** Sets PUBLIC_URL to the app's own address (chosen here), for the links in its emails. */
  publicUrl?: boolean;
  /** Start on an empty DATA_DIR (migrations and demo at start-up), not a copy of the template. */
  freshData?: boolean;
}

export interface RunningApp {
  /** e.g. `http://127.0.0.1:40123`, without a trailing slash. */
  baseUrl: string;
  dataDir: string;
  /** What the app has printed so far (the last 64 KB of stdout and stderr), for a failure message. */
  output(): string;
  /**
   * Stops the app (SIGTERM, then SIGKILL after 10 s) and removes its DATA_DIR unless `keepData`.
   * Safe to call twice.
   */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const OUTPUT_LIMIT = 64 * 1024;

/** Apps still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The environment of the test run, less what must not leak into the app. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    // Vitest's own variables would tell the app it runs inside a test worker; it does not.
    if (name.startsWith('VITEST')) delete env[name];
  }
  // A browser test gets its own embedded database, even when the db suite runs on a server.
  delete env.DATABASE_URL;
  return env;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startApp(options: StartAppOptions = {}): Promise<RunningApp> {
  const port = await findFreePort();
  const host = '127.0.0.1';
  const baseUrl = `http://${host}:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-e2e-data-'));
  const template = options.freshData ? '' : templateDir();
  if (template) fs.cpSync(template, dataDir, { recursive: true });

  const child = spawn(process.execPath, [...startNodeArgs(), '--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...inheritedEnv(),
      NODE_ENV: 'development',
      HOST: host,
      PORT: String(port),
      DATA_DIR: dataDir,
      DEMO_PASSWORD: DEMO_PASSWORD_FOR_TESTS,
      LOG_LEVEL: 'warn',
      TZ: 'Europe/London',
      ...(options.publicUrl ? { PUBLIC_URL: baseUrl } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exited: string | undefined;
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  // 'close', not 'exit': by then all it printed has been read, for the failure message.
  child.once('close', (code, signal) => {
    exited = exitDescription(code, signal);
    running.delete(child);
  });

  let stopped: Promise<void> | undefined;
  const stop = (stopOptions: { keepData?: boolean } = {}): Promise<void> => {
    stopped ??= (async () => {
      await terminate(child, { graceMs: STOP_GRACE_MS });
      running.delete(child);
      if (!stopOptions.keepData) {
        fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
      }
    })();
    return stopped;
  };

  const app: RunningApp = { baseUrl, dataDir, output: () => output, stop };
  const failure = async (why: string): Promise<never> => {
    await stop();
    const printed = output.trim() || '(nothing)';
    throw new Error(`The app (node --import tsx src/main.ts) ${why}.\nIt printed:\n${printed}`);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? START_TIMEOUT_MS);
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (spawnError) return failure(`could not be started: ${spawnError.message}`);
    if (exited) return failure(`${exited} before GET /health answered 200`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) {
        await response.body?.cancel();
        return app;
      }
      lastProblem = `GET /health answered ${response.status}: ${(await response.text()).slice(0, 500)}`;
    } catch (error) {
      lastProblem = `GET /health failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    await sleep(250);
  }
  return failure(
    `did not answer GET /health with 200 within ${Math.round((options.startTimeoutMs ?? START_TIMEOUT_MS) / 1000)} s (last: ${lastProblem})`,
  );
}

/** The template DATA_DIR made by the suite's global set-up, or '' outside it (start fresh). */
function templateDir(): string {
  try {
    return inject('e2eTemplateDataDir');
  } catch {
    return '';
  }
}

/**
 * Starts the app once on an empty folder (migrations, demo), stops it cleanly and returns the
 * folder: the template each startApp copies. The caller removes it.
 */
export async function makeTemplateDataDir(): Promise<string> {
  const app = await startApp({ freshData: true, startTimeoutMs: 180_000 });
  await app.stop({ keepData: true });
  return app.dataDir;
}
