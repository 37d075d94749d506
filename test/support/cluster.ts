/**
 * Two app instances on one PostgreSQL database behind nginx, round robin: the cluster test
 * (test/cluster/) and its benchmark (bench/cluster.ts) share this.
 *
 * startCluster makes a fresh database on the server DATABASE_URL names, migrates it and loads the
 * demo once (then `prepare` may arrange more; or, with `empty`, leaves both to the instances),
 * starts two real app processes (`node --import tsx src/main.ts` with `npm start`'s options for
 * node, in production mode) on free ports with the same SESSION_SECRET and DATABASE_URL, and nginx
 * in front of them (its own master, config, logs and temp folders in a fresh temporary folder;
 * never the system's).
 * stop() ends every process it started and drops the database, also after a failure; a test
 * process that exits without calling it still kills its children.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, type Database, type Db } from '../../src/db/client.js';
import { loadDemo } from '../../src/services/demo.js';
import { exitDescription, findFreePort, startNodeArgs, terminate as terminateProcess } from './processes.js';
import { createServerDatabase } from './server-database.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NGINX_PATH = process.env.NGINX_PATH || '/usr/sbin/nginx';
/** The demo accounts' password in a cluster started here. */
export const CLUSTER_DEMO_PASSWORD = 'cluster-demo-password-2026';

const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const OUTPUT_LIMIT = 64 * 1024;

/**
 * Every process started here, with the signal that ends it at once, sent if this process exits
 * without stopping them: SIGKILL for an app; SIGTERM for nginx, whose master then stops its
 * workers (killed, it would leave them running).
 */
const children = new Map<ChildProcess, NodeJS.Signals>();
process.once('exit', () => {
  for (const [child, signal] of children) child.kill(signal);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `signal` (SIGTERM), then the child's signal to end at once (SIGKILL for an app) if it has not
 * gone after the grace period. Resolves once it has exited.
 */
async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await terminateProcess(child, { signal, kill: children.get(child) ?? 'SIGKILL', graceMs: STOP_GRACE_MS });
  children.delete(child);
}

interface Spawned {
  child: ChildProcess;
  output(): string;
  /** Why it ended, once it has: "exited with code 0", "was killed by SIGKILL". */
  exited(): string | undefined;
}

function spawnLogged(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  endAtOnce: NodeJS.Signals = 'SIGKILL',
): Spawned {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(child, endAtOnce);
  let output = '';
  let exited: string | undefined;
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (error) => {
    exited = `could not be started: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    exited = exitDescription(code, signal);
    children.delete(child);
  });
  return { child, output: () => output, exited: () => exited };
}

/** Polls `url` until it answers 200, or throws saying why (`gone`: the process ended). */
async function waitForOk(
  url: string,
  timeoutMs: number,
  gone: () => string | undefined,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const ended = gone();
    if (ended) throw new Error(`${what} ${ended} before ${url} answered 200`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `answered ${response.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`${what}: ${url} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}

export interface AppInstance {
  name: string;
  port: number;
  /** e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** 127.0.0.1:40123, as nginx's $upstream_addr names it. */
  address: string;
  /** Starts the process (again, after stop) on the same port; resolves when /health answers 200. */
  start(): Promise<void>;
  /**
   * Sends `signal` (default SIGTERM) and waits for the process to exit (SIGKILL after 15 s);
   * resolves with how it ended.
   */
  stop(signal?: NodeJS.Signals): Promise<string>;
  /** What the current (or last) process printed, for a failure message. */
  output(): string;
}

function appInstance(name: string, port: number, env: NodeJS.ProcessEnv): AppInstance {
  let current: Spawned | undefined;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    name,
    port,
    baseUrl,
    address: `127.0.0.1:${port}`,
    async start() {
      if (current && !current.exited()) throw new Error(`instance ${name} is already running`);
      const spawned = spawnLogged(
        process.execPath,
        [...startNodeArgs(), '--import', 'tsx', 'src/main.ts'],
        { ...env, PORT: String(port) },
        REPO_ROOT,
      );
      current = spawned;
      try {
        await waitForOk(`${baseUrl}/health`, START_TIMEOUT_MS, spawned.exited, `App instance ${name}`);
      } catch (error) {
        await terminate(spawned.child);
        throw new Error(`${(error as Error).message}\nIt printed:\n${spawned.output() || '(nothing)'}`, {
          cause: error,
        });
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!current) return 'not started';
      await terminate(current.child, signal);
      return current.exited() ?? 'exited';
    },
    output: () => current?.output() ?? '',
  };
}

/** One line of nginx's access log (the `cluster` format below). */
export interface ProxyLogEntry {
  /** Seconds since the epoch, with milliseconds. */
  time: number;
  status: number;
  method: string;
  path: string;
  /** Each upstream nginx tried, in order: one entry, or more when it passed the request on. */
  upstreams: string[];
  upstreamStatuses: string[];
}

export interface Cluster {
  /** nginx, e.g. http://127.0.0.1:40125 */
  proxyUrl: string;
  instances: [AppInstance, AppInstance];
  /** The cluster's own database, open for the test's reads. */
  database: Database;
  databaseUrl: string;
  /** The nginx configuration it runs with (docs/operations.md shows the same). */
  nginxConfig: string;
  /** nginx's access log so far. */
  accessLog(): ProxyLogEntry[];
  /** nginx's error log so far. */
  errorLog(): string;
  /** What every process printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** The PostgreSQL server (a URL to any database on it); default DATABASE_URL. */
  serverUrl?: string;
  /** Runs on the migrated demo database before the instances start. */
  prepare?: (db: Db) => Promise<void>;
  /**
   * Start on an empty database instead (not even migrated): the instances, in development, both
   * migrate and load the demo at start, as two instances of a new installation would.
   */
  empty?: boolean;
  /** More environment for both instances. */
  env?: Record<string, string>;
}

/** The upstream block and proxy settings: what the operations guide recommends, as tested. */
export function nginxConfig(options: { dir: string; listenPort: number; upstreams: string[] }): string {
  const { dir, listenPort, upstreams } = options;
  return `# Written by test/support/cluster.ts: nginx in front of two Partnership Plan instances.
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  log_format cluster '$msec $status "$request" "$upstream_addr" "$upstream_status"';
  access_log ${dir}/access.log cluster;

  upstream partnership_plan {
${upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
  }

  server {
    listen 127.0.0.1:${listenPort};
    # The largest upload the app takes (10 MB) and its form fields.
    client_max_body_size 11m;

    location / {
      proxy_pass http://partnership_plan;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      # A request goes to the other instance when this one refused the connection or closed it
      # without an answer (error), did not answer in time (timeout) or answered 502/503 (an instance
      # stopping answers 503). nginx never passes on a POST once it has been sent (it may have been
      # applied): only GET, HEAD and the like, and any request whose connection failed.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
      proxy_next_upstream_timeout 10s;
      proxy_read_timeout 120s;
    }
  }
}
`;
}

function parseAccessLog(text: string): ProxyLogEntry[] {
  const entries: ProxyLogEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\S+) (\d+) "(\S+) (\S+)[^"]*" "([^"]*)" "([^"]*)"$/.exec(line);
    if (!match) continue;
    entries.push({
      time: Number(match[1]),
      status: Number(match[2]),
      method: match[3]!,
      path: match[4]!,
      upstreams: match[5]!.split(/, | : /).filter((u) => u && u !== '-'),
      upstreamStatuses: match[6]!.split(/, | : /).filter((s) => s && s !== '-'),
    });
  }
  return entries;
}

/** The environment of this process, less what must not leak into the app. */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('VITEST') || name.startsWith('PP_TEST_')) delete env[name];
  }
  return env;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const serverUrl = options.serverUrl ?? process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('startCluster needs a PostgreSQL server: set DATABASE_URL');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-cluster-'));
  // nginx's workers run as nobody when the master is root: they write the proxy's temp files here.
  fs.chmodSync(dir, 0o755);

  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    const created = await createServerDatabase(serverUrl, { prefix: 'pp_cluster' });
    const databaseUrl = created.url;
    cleanups.push(created.drop);
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));

    const [ports, database] = await Promise.all([
      Promise.all([findFreePort(), findFreePort(), findFreePort()]),
      (async () => {
        const opened = await openDatabase({ databaseUrl });
        cleanups.push(() => opened.close());
        if (options.empty) return opened;
        await opened.migrate();
        await loadDemo(opened.db, CLUSTER_DEMO_PASSWORD);
        await options.prepare?.(opened.db);
        return opened;
      })(),
    ]);
    const [portA, portB, proxyPort] = ports as [number, number, number];

    const sessionSecret = crypto.randomBytes(48).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      ...inheritedEnv(),
      ...(options.empty
        ? { NODE_ENV: 'development', DEMO_PASSWORD: CLUSTER_DEMO_PASSWORD }
        : { NODE_ENV: 'production' }),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      SESSION_SECRET: sessionSecret,
      TRUST_PROXY: 'true',
      PUBLIC_URL: `http://127.0.0.1:${proxyPort}`,
      LOG_LEVEL: 'warn',
      TZ: 'Europe/London',
      ...options.env,
    };
    const instances: [AppInstance, AppInstance] = [
      appInstance('A', portA, env),
      appInstance('B', portB, env),
    ];
    cleanups.push(async () => {
      await Promise.all(instances.map((instance) => instance.stop()));
    });

    const config = nginxConfig({ dir, listenPort: proxyPort, upstreams: instances.map((i) => i.address) });
    fs.writeFileSync(path.join(dir, 'nginx.conf'), config);
    const proxyUrl = `http://127.0.0.1:${proxyPort}`;

    const startNginx = async () => {
      const nginx = spawnLogged(
        NGINX_PATH,
        ['-p', dir, '-c', path.join(dir, 'nginx.conf')],
        {},
        dir,
        'SIGTERM',
      );
      cleanups.push(() => terminate(nginx.child, 'SIGTERM'));
      // nginx answers at once; /ping through it proves it listens (the instances may not be up yet).
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        if (nginx.exited()) throw new Error(`nginx ${nginx.exited()}:\n${nginx.output()}`);
        if (
          await new Promise<boolean>((resolve) => {
            const socket = net.connect(proxyPort, '127.0.0.1');
            socket.once('connect', () => (socket.destroy(), resolve(true)));
            socket.once('error', () => resolve(false));
          })
        )
          return;
        await sleep(50);
      }
      throw new Error(`nginx did not listen on ${proxyPort} within 10 s:\n${nginx.output()}`);
    };
    await Promise.all([startNginx(), ...instances.map((instance) => instance.start())]);
    await waitForOk(`${proxyUrl}/health`, 10_000, () => undefined, 'nginx');

    const read = (file: string) => {
      try {
        return fs.readFileSync(path.join(dir, file), 'utf8');
      } catch {
        return '';
      }
    };
    return {
      proxyUrl,
      instances,
      database,
      databaseUrl,
      nginxConfig: config,
      accessLog: () => parseAccessLog(read('access.log')),
      errorLog: () => read('error.log'),
      output: () =>
        instances.map((i) => `---- instance ${i.name} ----\n${i.output()}`).join('\n') +
        `\n---- nginx error log ----\n${read('error.log')}`,
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
