/**
 * Two instances on one PostgreSQL behind nginx, one restarted under load (issue 8; never run by
 * `npm test`).
 *
 *   bash scripts/with-postgres.sh node --import tsx bench/cluster.ts
 *   node --import tsx bench/cluster.ts     # the same: without DATABASE_URL it runs itself under
 *                                          # scripts/with-postgres.sh
 *
 * Needs nginx and PostgreSQL 15 from Debian (apt-get install -y nginx postgresql), as the cluster test.
 * Starts the cluster of the cluster test (test/support/cluster.ts: a fresh database with the demo,
 * two `npm start`s in production mode, nginx round robin in front), signs in as
 * the coordinator through nginx, and runs autocannon through nginx (BENCH_CONNECTIONS, default 50,
 * for BENCH_SECONDS, default 20) on a signed-in page. BENCH_RESTART_AFTER seconds in (default 5)
 * instance A gets SIGTERM, exits, and is started again on its port. An error is a connection error
 * or a time-out; non-2xx is any other answer than 200. nginx's access log ($upstream_addr) says
 * which instance answered each request and which requests it passed on to the other.
 * Prints a table and, last, one JSON line {"bench":"cluster", …}.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { CLUSTER_DEMO_PASSWORD, startCluster, type Cluster } from '../test/support/cluster.js';
import { CookieClient } from '../test/support/cookie-client.js';
import { loadAverage, machine, round1 } from './support.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RESTART_AFTER = Number(process.env.BENCH_RESTART_AFTER ?? 5);
const PAGE = '/p/sosafe/plans/2024-25';

if (!process.env.DATABASE_URL) {
  // Standalone without a server: run again under a throwaway PostgreSQL cluster.
  const withPostgres = fileURLToPath(new URL('../scripts/with-postgres.sh', import.meta.url));
  const child = spawn(
    'bash',
    [withPostgres, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      stdio: 'inherit',
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => child.on('exit', (status) => resolve(status ?? 1)));
  process.exit(code);
}

async function signedInCookie(cluster: Cluster): Promise<string> {
  const browser = new CookieClient();
  const signIn = await browser.signIn(cluster.proxyUrl, 'coordinator@sosafe.example', CLUSTER_DEMO_PASSWORD);
  if (signIn.status !== 302) throw new Error(`Signing in answered ${signIn.status}`);
  const cookie = browser.cookiesFor(cluster.proxyUrl).join('; ');
  const page = await fetch(`${cluster.proxyUrl}${PAGE}`, { headers: { cookie }, redirect: 'manual' });
  await page.body?.cancel();
  if (page.status !== 200) throw new Error(`${PAGE} answered ${page.status} when signed in`);
  return cookie;
}

const cluster = await startCluster();
try {
  const cookie = await signedInCookie(cluster);
  const [a] = cluster.instances;
  const logBefore = cluster.accessLog().length;
  const loadAverageBefore = loadAverage();

  const responses: { at: number; status: number }[] = [];
  const started = Date.now();
  let instance: autocannon.Instance | undefined;
  const run = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      { url: `${cluster.proxyUrl}${PAGE}`, connections: CONNECTIONS, duration: SECONDS, headers: { cookie } },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance?.on('response', (_client, statusCode) => responses.push({ at: Date.now(), status: statusCode }));

  await new Promise((resolve) => setTimeout(resolve, RESTART_AFTER * 1000));
  const stopAt = Date.now();
  const exit = await a.stop('SIGTERM');
  const stoppedAt = Date.now();
  await a.start();
  const backAt = Date.now();
  const result = await run;

  const entries = cluster
    .accessLog()
    .slice(logBefore)
    .filter((e) => e.path === PAGE);
  const share = (from: number, to: number) => {
    const counts = Object.fromEntries(cluster.instances.map((i) => [i.name, 0]));
    for (const e of entries) {
      if (e.time * 1000 < from || e.time * 1000 > to) continue;
      const instance = cluster.instances.find((i) => i.address === e.upstreams.at(-1));
      if (instance) counts[instance.name] = (counts[instance.name] ?? 0) + 1;
    }
    return counts;
  };
  const passedOn = entries.filter((e) => e.upstreams.length > 1);
  const duringRestart = responses.filter((r) => r.at >= stopAt && r.at <= backAt);
  const figures = {
    bench: 'cluster',
    database: 'postgres',
    connections: CONNECTIONS,
    seconds: SECONDS,
    page: PAGE,
    requests: result.requests.total,
    requestsPerSecond: round1(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    restart: {
      afterSeconds: RESTART_AFTER,
      exit,
      stopSeconds: round1((stoppedAt - stopAt) / 1000),
      downSeconds: round1((backAt - stopAt) / 1000),
      requestsDuring: duringRestart.length,
      non2xxDuring: duringRestart.filter((r) => r.status < 200 || r.status > 299).length,
      passedOnByNginx: passedOn.length,
      passedOnBecause: [...new Set(passedOn.map((e) => e.upstreamStatuses.join(',')))],
    },
    servedBy: {
      before: share(started, stopAt),
      during: share(stopAt, backAt),
      after: share(backAt, Date.now()),
    },
    machine: machine(),
    loadAverage: loadAverageBefore,
    at: new Date().toISOString(),
  };

  const rows = [
    ['requests', `${figures.requests} (${figures.requestsPerSecond}/s)`],
    ['latency p50 / p99 / max', `${figures.p50Ms} / ${figures.p99Ms} / ${figures.maxMs} ms`],
    ['errors / time-outs / non-2xx', `${figures.errors} / ${figures.timeouts} / ${figures.non2xx}`],
    [
      'instance A restart',
      `SIGTERM at ${RESTART_AFTER} s, ${exit} in ${figures.restart.stopSeconds} s, back after ${figures.restart.downSeconds} s`,
    ],
    [
      'requests during the restart',
      `${figures.restart.requestsDuring} (non-2xx ${figures.restart.non2xxDuring}), passed on by nginx ${figures.restart.passedOnByNginx}`,
    ],
    [
      'served by A / B (before, during, after)',
      (['before', 'during', 'after'] as const)
        .map((when) => `${figures.servedBy[when].A ?? 0} / ${figures.servedBy[when].B ?? 0}`)
        .join(', '),
    ],
  ];
  process.stdout.write(
    `\nTwo instances behind nginx, ${CONNECTIONS} connections for ${SECONDS} s on ${PAGE} (${figures.machine}; load average ${figures.loadAverage.join(' ')})\n\n` +
      '| measure | value |\n|---|---|\n' +
      rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n') +
      '\n\n',
  );
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await cluster.stop();
}
