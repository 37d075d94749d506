/**
 * Pages under load against the stack's own limit, and the server's memory (issue 8; never run by
 * `npm test`).
 *
 *   node --import tsx bench/load.ts                                 # embedded PGlite
 *   bash scripts/with-postgres.sh node --import tsx bench/load.ts   # PGlite, then PostgreSQL
 *
 * For each database (PGlite in a fresh data folder; PostgreSQL in a fresh database on the server of
 * DATABASE_URL, when it is set): loads the demo and the quarterly round (Q3 closed, Q4 open) with
 * the services, then starts
 *  - the real server, `node --import tsx src/main.ts` with NODE_ENV=production (static files cached,
 *    logging at info to a file, the scheduler on), and
 *  - the limit, bench/limit-server.ts: a bare Fastify route rendering the same templates from the
 *    same context objects, captured from the real app and held in memory: the page whole, each
 *    part the app renders once and keeps (web/render.ts KeptHtml) rendered too, for every request;
 *    and, once a page, the same bare route sending the kept parts as the app does (`/kept…`): what
 *    is left when nothing is rendered but the page around them (the "bare, parts kept" columns);
 * both with node's options of `npm start` (its young generation's size).
 * It signs in as the coordinator (GET and POST /sign-in with the form's CSRF token) and runs
 * autocannon (BENCH_CONNECTIONS, default 50; BENCH_SECONDS each, default 20; after a warm-up of
 * BENCH_WARMUP_SECONDS, default 3) against the plan page, the whole plan filtered by section and
 * quarter, an aim, the dashboard and a progress update POST, on the limit and on the app. Each page
 * is measured BENCH_ROUNDS times on each (default 2, in the order limit, app, app, limit; requests
 * a second averaged, the worst p99 kept). BENCH_PAGES=plan,document,aim,dashboard,post names the
 * ones to run (default all); BENCH_DATABASES=pglite,postgres the databases (default both).
 * The GETs send Accept-Encoding as Chromium does (BENCH_ACCEPT_ENCODING; empty for none), so the app
 * answers gzipped as it answers a browser; the limit, a bare route, answers with the page's text.
 * The POST saves a real update through the form (CSRF token, version): each request takes an
 * action and quarter (136 of them) no other request has in flight and sends the version it last
 * saved, so 50 connections do not collide (unless time-outs use up the free ones: a conflict, 409,
 * is then an error like any other). The limit answers it with the same redirect without saving, so
 * it has no ratio target. An error is a connection error, a time-out or any answer but 2xx/3xx.
 * Memory: the app's resident set (VmRSS) idle after start and after the load run.
 * Prints a table and, last, one JSON line {"bench":"load", …}.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import {
  csrfTokenOf,
  loadAverage,
  machine,
  prepareDatabase,
  round1,
  rssMb,
  signIn,
  startServer,
  type ChildServer,
  type ProgressSlot,
} from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
/**
 * How many times each page is measured on each server (default 2), in the order limit, app, app,
 * limit, …: the machine is shared and its speed drifts over minutes, and in this order a steady
 * drift weighs on both servers alike (one measure of each, one after the other, put ±0.1 on a ratio).
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Targets of the issue: app rps / limit rps, and p99. */
const TARGET_RATIO = { pglite: 0.5, postgres: 0.7 } as const;
const TARGET_P99_MS = 100;

const base = '/p/sosafe/plans/2024-25';
const allPages = [
  { key: 'plan', name: 'plan', url: base },
  { key: 'document', name: 'document, section 2 and Q3', url: `${base}/document?section=2&quarter=3` },
  { key: 'aim', name: 'aim 3.1', url: `${base}/aims/3.1` },
  { key: 'dashboard', name: 'dashboard Q3', url: `${base}/dashboard?quarter=3` },
] as const;
/** BENCH_PAGES=plan,document,aim,dashboard,post: only these (default all). */
const only = process.env.BENCH_PAGES?.split(',').map((k) => k.trim());
const pages = allPages.filter((p) => !only || only.includes(p.key));
const withPost = !only || only.includes('post');

interface Figures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Bytes read an answer, headers included: a gzipped page is a fraction of its text. */
  bytes: number;
  errors: number;
  timeouts: number;
}

function figuresOf(result: autocannon.Result): Figures {
  const bad = Object.entries(result.statusCodeStats ?? {})
    .filter(([code]) => !/^[23]\d\d$/.test(code))
    .reduce((sum, [, stats]) => sum + (stats as { count: number }).count, 0);
  return {
    rps: round1(result.requests.average),
    p50: round1(result.latency.p50),
    p99: round1(result.latency.p99),
    requests: result.requests.total,
    bytes: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
    // autocannon's errors count its time-outs too.
    errors: result.errors + bad,
    timeouts: result.timeouts,
  };
}

/**
 * The rounds of one server on one page as one: requests a second and p50 their mean, p99 the worst
 * round's (a p99 cannot be averaged), counts summed.
 */
function combined(rounds: readonly Figures[]): Figures {
  const mean = (pick: (f: Figures) => number) =>
    round1(rounds.reduce((s, f) => s + pick(f), 0) / rounds.length);
  const sum = (pick: (f: Figures) => number) => rounds.reduce((s, f) => s + pick(f), 0);
  return {
    rps: mean((f) => f.rps),
    p50: mean((f) => f.p50),
    p99: Math.max(...rounds.map((f) => f.p99)),
    requests: sum((f) => f.requests),
    bytes: mean((f) => f.bytes),
    errors: sum((f) => f.errors),
    timeouts: sum((f) => f.timeouts),
  };
}

function cannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ timeout: 10, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * What a GET sends as Accept-Encoding (BENCH_ACCEPT_ENCODING): by default what Chromium sends, so
 * the app answers gzipped as it does a browser; empty for pages as text. The limit, a bare route,
 * answers with the text either way (the table's bytes column shows each answer's size).
 */
const ACCEPT_ENCODING = process.env.BENCH_ACCEPT_ENCODING ?? 'gzip, deflate, br, zstd';

/** A GET page: warm up, then measure. */
async function loadGet(server: ChildServer, url: string, cookie: string | undefined): Promise<Figures> {
  const headers = {
    ...(cookie ? { cookie } : {}),
    ...(ACCEPT_ENCODING ? { 'accept-encoding': ACCEPT_ENCODING } : {}),
  };
  if (WARMUP_SECONDS > 0) {
    await cannon({ url: `${server.baseUrl}${url}`, connections: 10, duration: WARMUP_SECONDS, headers });
  }
  return figuresOf(
    await cannon({ url: `${server.baseUrl}${url}`, connections: CONNECTIONS, duration: SECONDS, headers }),
  );
}

/**
 * The progress POST. Each request takes a slot (an action and a quarter) no request in flight
 * holds, sends that slot's version and, once saved (303), counts it one on.
 */
async function loadPost(
  server: ChildServer,
  slots: ProgressSlot[],
  cookie: string,
  csrf: string,
): Promise<Figures & { saved: number; conflicts: number }> {
  const free = [...slots];
  /** Slots lent to a request; one that timed out is never given back (its save may yet be made). */
  const lent = new Set<ProgressSlot>();
  let saved = 0;
  let conflicts = 0;
  let n = 0;
  const run = (connections: number, duration: number) =>
    cannon({
      url: server.baseUrl,
      connections,
      duration,
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      requests: [
        {
          method: 'POST',
          setupRequest: (request, context) => {
            // With every slot lent (many time-outs), the longest lent goes again: it may conflict.
            const slot = free.shift() ?? lent.values().next().value!;
            lent.delete(slot);
            lent.add(slot);
            (context as { slot?: ProgressSlot }).slot = slot;
            n += 1;
            const body = new URLSearchParams({
              _csrf: csrf,
              quarter: String(slot.quarter),
              intent: 'submit',
              status: n % 2 ? 'on_track' : 'at_risk',
              text: `Progress under load, save ${n}: partners met and the work goes on as planned.`,
              evidenceUrl: '',
              ...(slot.version === undefined ? {} : { version: String(slot.version) }),
            });
            return {
              ...request,
              path: `${base}/actions/${slot.actionId}/progress`,
              body: body.toString(),
            };
          },
          onResponse: (status, _body, context) => {
            const slot = (context as { slot: ProgressSlot }).slot;
            if (status === 303) {
              slot.version = (slot.version ?? 0) + 1;
              saved += 1;
            } else if (status === 409) conflicts += 1;
            if (lent.delete(slot)) free.push(slot);
          },
        },
      ],
    });
  if (WARMUP_SECONDS > 0) await run(10, WARMUP_SECONDS);
  saved = 0;
  conflicts = 0;
  return { ...figuresOf(await run(CONNECTIONS, SECONDS)), saved, conflicts };
}

interface PageResult {
  page: string;
  app: Figures;
  limit: Figures;
  ratio: number;
  /** The bare route sending the page's kept parts as they are kept (one round; not a target). */
  keptParts?: Figures;
  /** Each round's requests a second (GET pages), in the order measured within each server. */
  rounds?: { app: number[]; limit: number[] };
}

const POST_PAGE = 'progress update POST';

/**
 * Whether every page met the targets: the ratio to the limit (not for the POST: the limit
 * answers it without saving anything, so it is no limit of a save), p99, no errors.
 */
function targetsMet(kind: keyof typeof TARGET_RATIO, results: readonly PageResult[]): boolean {
  return results.every(
    (r) =>
      (r.page === POST_PAGE || r.ratio >= TARGET_RATIO[kind]) &&
      r.app.p99 < TARGET_P99_MS &&
      r.app.errors === 0,
  );
}

async function runOn(databaseUrl: string | undefined) {
  const prepared = await prepareDatabase(databaseUrl);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-load-'));
  const servers: ChildServer[] = [];
  try {
    const limit = await startServer({
      script: 'bench/limit-server.ts',
      env: { ...prepared.env, LIMIT_PAGES: JSON.stringify(pages.map((p) => p.url)) },
      nodeArgs: (process.env.BENCH_LIMIT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
      logFile: path.join(scratch, 'limit.log'),
      readyPath: '/ready',
    });
    servers.push(limit);
    const app = await startServer({
      script: 'src/main.ts',
      env: {
        ...prepared.env,
        NODE_ENV: 'production',
        SESSION_SECRET: crypto.randomBytes(36).toString('base64url'),
      },
      // BENCH_APP_NODE_ARGS: node's own options for the app, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
      // (which NODE_OPTIONS does not accept); BENCH_LIMIT_NODE_ARGS the same for the limit.
      nodeArgs: (process.env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
      logFile: path.join(scratch, 'app.log'),
    });
    servers.push(app);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleRssMb = rssMb(app.pid);
    const { cookie } = await signIn(app.baseUrl);
    const results: PageResult[] = [];
    for (const page of pages) {
      const limitRounds: Figures[] = [];
      const appRounds: Figures[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const measureLimit = () => loadGet(limit, page.url, undefined).then((f) => limitRounds.push(f));
        const measureApp = () => loadGet(app, page.url, cookie).then((f) => appRounds.push(f));
        // limit, app, app, limit, …
        if (round % 2 === 0) {
          await measureLimit();
          await measureApp();
        } else {
          await measureApp();
          await measureLimit();
        }
      }
      const appFigures = combined(appRounds);
      const limitFigures = combined(limitRounds);
      const keptParts = await loadGet(limit, `/kept${page.url}`, undefined);
      results.push({
        page: page.name,
        app: appFigures,
        limit: limitFigures,
        ratio: Number((appFigures.rps / limitFigures.rps).toFixed(2)),
        keptParts,
        rounds: { app: appRounds.map((f) => f.rps), limit: limitRounds.map((f) => f.rps) },
      });
      process.stderr.write(`${prepared.kind} ${page.name}: ${JSON.stringify(results.at(-1))}\n`);
    }
    let progressSaves = { saved: 0, conflicts: 0 };
    if (withPost) {
      const first = prepared.slots[0]!;
      const csrf = await csrfTokenOf(
        app.baseUrl,
        `${base}/actions/${first.actionId}/progress?quarter=${first.quarter}`,
        cookie,
      );
      const {
        saved: _limitSaved,
        conflicts: _limitConflicts,
        ...limitPost
      } = await loadPost(limit, structuredClone(prepared.slots), cookie, csrf);
      const { saved, conflicts, ...appPost } = await loadPost(app, prepared.slots, cookie, csrf);
      results.push({
        page: POST_PAGE,
        app: appPost,
        limit: limitPost,
        ratio: Number((appPost.rps / limitPost.rps).toFixed(2)),
      });
      progressSaves = { saved, conflicts };
      process.stderr.write(
        `${prepared.kind} POST: ${JSON.stringify(results.at(-1))} saved ${saved}, conflicts ${conflicts}\n`,
      );
    }
    return {
      database: prepared.kind,
      targetRatio: TARGET_RATIO[prepared.kind],
      pages: results,
      progressSaves,
      memory: { idleRssMb, afterLoadRssMb: rssMb(app.pid), limitRssMb: rssMb(limit.pid) },
      met: targetsMet(prepared.kind, results),
    };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await prepared.remove();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const loadBefore = loadAverage();
/** BENCH_DATABASES=pglite,postgres: only these (default both; PostgreSQL only where DATABASE_URL is set). */
const databases = process.env.BENCH_DATABASES?.split(',').map((k) => k.trim()) ?? ['pglite', 'postgres'];
const runs: Awaited<ReturnType<typeof runOn>>[] = [];
if (databases.includes('pglite')) runs.push(await runOn(undefined));
if (databases.includes('postgres') && process.env.DATABASE_URL)
  runs.push(await runOn(process.env.DATABASE_URL));

console.log(machine());
console.log(`load average before: ${loadBefore.join(', ')}; after: ${loadAverage().join(', ')}`);
console.log(
  `autocannon: ${CONNECTIONS} connections, ${SECONDS} s a page, signed in as the coordinator, Accept-Encoding: ${ACCEPT_ENCODING || '(none)'}`,
);
console.log('');
console.log(
  '| database | page | app req/s | limit req/s | ratio | app p50 | app p99 | limit p99 | bare, parts kept: req/s, p99 | bytes an answer: app, limit | errors (of them time-outs) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const run of runs) {
  for (const r of run.pages) {
    const kept = r.keptParts ? `${r.keptParts.rps}, ${r.keptParts.p99} ms` : '';
    console.log(
      `| ${run.database} | ${r.page} | ${r.app.rps} | ${r.limit.rps} | ${r.page === POST_PAGE ? '(none)' : r.ratio} | ${r.app.p50} ms | ${r.app.p99} ms | ${r.limit.p99} ms | ${kept} | ${r.app.bytes}, ${r.limit.bytes} | ${r.app.errors} (${r.app.timeouts}) |`,
    );
  }
}
console.log('');
for (const run of runs) {
  console.log(
    `${run.database}: RSS idle ${run.memory.idleRssMb} MB, after the load ${run.memory.afterLoadRssMb} MB; progress saves ${run.progressSaves.saved}, conflicts ${run.progressSaves.conflicts}; targets (ratio ≥ ${run.targetRatio}, p99 < ${TARGET_P99_MS} ms, no errors) ${run.met ? 'met' : 'not met'}`,
  );
}
console.log(
  JSON.stringify({
    bench: 'load',
    machine: machine(),
    loadAverage: { before: loadBefore, after: loadAverage() },
    connections: CONNECTIONS,
    seconds: SECONDS,
    acceptEncoding: ACCEPT_ENCODING,
    runs,
  }),
);
