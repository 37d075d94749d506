/**
 * What the benchmarks share: a fresh database with the demo (an embedded data folder, or a new
 * database on the PostgreSQL server of DATABASE_URL), a server started as a child process and
 * waited for, its resident memory, signing in over HTTP, and the figures' small sums.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/client.js';
import * as t from '../src/db/schema.js';
import { systemActor } from '../src/services/actor.js';
import { loadDemo } from '../src/services/demo.js';
import { createServices } from '../src/services/index.js';
import type { FastifyInstance } from 'fastify';
import { findFreePort, startNodeArgs } from '../test/support/processes.js';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const BENCH_PASSWORD = 'benchmark password 123';
export const COORDINATOR = 'coordinator@sosafe.example';

export function machine(): string {
  return `Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/** The 1, 5 and 15 minute load averages: the machine is shared, so every run records them. */
export function loadAverage(): number[] {
  return os.loadavg().map((n) => Number(n.toFixed(2)));
}

export const round1 = (n: number) => Number(n.toFixed(1));

/** Resident memory of a process in MB, from /proc (Linux), or ps elsewhere. */
export function rssMb(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** The slots a progress-update load can save to: one per action and quarter, with its version now. */
export interface ProgressSlot {
  actionId: number;
  quarter: number;
  version: number | undefined;
}

export interface PreparedDatabase {
  kind: 'pglite' | 'postgres';
  /** What the server's environment needs to open it: DATA_DIR or DATABASE_URL. */
  env: Record<string, string>;
  slots: ProgressSlot[];
  remove(): Promise<void>;
}

/**
 * A fresh database with the SoSafe and North Herts demo (loaded through the same services as the
 * app's first start; the app loads it itself only outside production), Q3 opened and closed and
 * Q4 opened for updates, due in a month (the quarterly round, its requests in the outbox). On PostgreSQL a new
 * database on the server of `databaseUrl`; otherwise a new embedded data folder.
 */
export async function prepareDatabase(databaseUrl: string | undefined): Promise<PreparedDatabase> {
  let database: Database;
  let env: Record<string, string>;
  let remove: () => Promise<void>;
  if (databaseUrl) {
    const name = `pp_bench_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    env = { DATABASE_URL: url.toString() };
    database = await openDatabase({ databaseUrl: env.DATABASE_URL });
    remove = async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    };
  } else {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-data-'));
    // Empty: the servers must not take the DATABASE_URL this process may have been given.
    env = { DATA_DIR: dataDir, DATABASE_URL: '' };
    database = await openDatabase({ dataDir });
    remove = async () => fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  }
  try {
    await database.migrate();
    await loadDemo(database.db, BENCH_PASSWORD);
    const services = createServices(database);
    const [plan] = await database.db
      .select({ id: t.plans.id })
      .from(t.plans)
      .innerJoin(t.partnerships, eq(t.partnerships.id, t.plans.partnershipId))
      .where(eq(t.partnerships.slug, 'sosafe'));
    const links = { baseUrl: 'http://localhost:3000' };
    await services.cycles.open(systemActor(), plan!.id, { quarter: 3, dueOn: '2025-01-14' }, links);
    const q3 = (await services.cycles.get(systemActor(), plan!.id, 3))!;
    await services.cycles.close(systemActor(), q3.id, { reportedOn: '2025-01-21', version: q3.version });
    // Due in a month, so the updates saved under load are on time.
    const dueOn = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
    await services.cycles.open(systemActor(), plan!.id, { quarter: 4, dueOn }, links);
    const actions = await database.db
      .select({ id: t.actions.id })
      .from(t.actions)
      .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
      .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
      .where(
        and(
          eq(t.aims.planId, plan!.id),
          isNull(t.actions.archivedAt),
          isNull(t.aims.archivedAt),
          isNull(t.sections.archivedAt),
        ),
      );
    const updates = await database.db
      .select({
        actionId: t.progressUpdates.actionId,
        quarter: t.progressUpdates.quarter,
        version: t.progressUpdates.version,
      })
      .from(t.progressUpdates)
      .where(
        inArray(
          t.progressUpdates.actionId,
          actions.map((a) => a.id),
        ),
      );
    // Q4 (open) first, then Q3 (closed: a save there is an amendment), then Q1 and Q2 (no cycle).
    const slots = [4, 3, 1, 2].flatMap((quarter) =>
      actions.map((a) => ({
        actionId: a.id,
        quarter,
        version: updates.find((u) => u.actionId === a.id && u.quarter === quarter)?.version,
      })),
    );
    return { kind: database.kind, env, slots, remove };
  } finally {
    await database.close();
  }
}

/** Servers still running, killed if this process ends without stopping them (an uncaught error). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ChildServer {
  pid: number;
  baseUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `node <npm start's options> [nodeArgs] --import tsx <script>` with `env` on a free port of
 * 127.0.0.1 and waits for `readyPath` to answer 200. What it prints goes to `logFile` (pino writes
 * every request).
 */
export async function startServer(options: {
  script: string;
  env: Record<string, string>;
  logFile: string;
  nodeArgs?: string[];
  readyPath?: string;
  timeoutMs?: number;
}): Promise<ChildServer> {
  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const log = fs.openSync(options.logFile, 'w');
  const child: ChildProcess = spawn(
    process.execPath,
    [...startNodeArgs(), ...(options.nodeArgs ?? []), '--import', 'tsx', options.script],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), TZ: 'Europe/London', ...options.env },
      stdio: ['ignore', log, log],
    },
  );
  fs.closeSync(log);
  running.add(child);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ?? String(code);
    running.delete(child);
  });
  const output = () => {
    try {
      return fs.readFileSync(options.logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const stop = async () => {
    if (exited !== undefined) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`${options.script} exited (${exited}):\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}${options.readyPath ?? '/health'}`, {
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      if (response.status === 200) return { pid: child.pid!, baseUrl, output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`${options.script} did not answer within the time:\n${output()}`);
}

/** The session cookie and a CSRF token of a real sign-in (GET the form, POST it). */
export async function signIn(
  baseUrl: string,
  email = COORDINATOR,
  password = BENCH_PASSWORD,
): Promise<{ cookie: string }> {
  const form = await fetch(`${baseUrl}/sign-in`);
  const cookie0 = (form.headers.get('set-cookie') ?? '').split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!token) throw new Error('no CSRF token on the sign-in page');
  const signedIn = await fetch(`${baseUrl}/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie0, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: token, email, password }).toString(),
  });
  const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
  if (signedIn.status !== 302 || !cookie) throw new Error(`sign-in answered ${signedIn.status}`);
  return { cookie };
}

/** The CSRF token on a page, read with the session's cookie. */
export async function csrfTokenOf(baseUrl: string, url: string, cookie: string): Promise<string> {
  const page = await fetch(`${baseUrl}${url}`, { headers: { cookie } });
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!token) throw new Error(`no CSRF token on ${url} (${page.status})`);
  return token;
}

/** The last line of an output that parses as a JSON object, or undefined. */
export function lastJsonLine(output: string): Record<string, unknown> | undefined {
  const lines = output.trim().split('\n').reverse();
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      return JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/**
 * Signs in through the app's own sign-in form by `inject` (no network), as a person would: the
 * form's cookie and CSRF token, then its POST. Returns the signed-in session's cookie.
 */
export async function signInByInject(
  app: { inject: FastifyInstance['inject'] },
  email: string,
  password: string,
): Promise<string> {
  const form = await app.inject({ url: '/sign-in' });
  const formCookie = String(form.headers['set-cookie']).split(';')[0]!;
  const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
  if (!token) throw new Error('No CSRF token on the sign-in page');
  const signedIn = await app.inject({
    method: 'POST',
    url: '/sign-in',
    headers: { cookie: formCookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: token, email, password }).toString(),
  });
  if (signedIn.statusCode !== 302) throw new Error(`Signing in answered ${signedIn.statusCode}`);
  return String(signedIn.headers['set-cookie']).split(';')[0]!;
}
