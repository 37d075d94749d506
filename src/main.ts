/**
 * Starts Partnership Plan: config → database → migrations → (demo data on a new, non-production
 * database) → listen. Stops cleanly on SIGINT/SIGTERM: stops taking connections, lets the requests
 * in progress finish (within SHUTDOWN_GRACE_MS), then closes the database.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirInUseError, openDatabase, type Db } from './db/client.js';
import { DEMO_ACCOUNTS, generateDemoPassword, isEmptyDatabase, loadDemo } from './services/demo.js';
import { createServices } from './services/index.js';
import { startScheduler, type Scheduler } from './services/scheduler.js';
import { buildApp } from './web/app.js';

/** Without SESSION_SECRET (allowed outside production), one is made once and kept beside the data. */
function sessionSecret(config: Config): string {
  if (config.sessionSecret) return config.sessionSecret;
  fs.mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, 'session-secret');
  if (!fs.existsSync(file))
    fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Any number; the same in every instance, and not the migrations' or the reminders' lock. */
const DEMO_LOCK = 7_245_003;

/**
 * Requests in progress get this long to finish once the process is told to stop; then their
 * connections are cut. A load balancer's own timeout for a draining instance should be longer.
 */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Loads the demo into an empty database, once. Several instances starting together on one new
 * PostgreSQL database would all find it empty: a session advisory lock, held on a connection of its
 * own while the demo loads through the pool, makes the others wait and then find it loaded. The
 * embedded database has one process (its DATA_DIR lock) and needs none. Returns undefined when the
 * database was not empty.
 */
async function loadDemoIfEmpty(config: Config, db: Db, password: string) {
  if (!config.databaseUrl) return (await isEmptyDatabase(db)) ? loadDemo(db, password) : undefined;
  const lock = new pg.Client({ connectionString: config.databaseUrl });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [DEMO_LOCK]);
    return (await isEmptyDatabase(db)) ? await loadDemo(db, password) : undefined;
  } finally {
    await lock.end(); // ends the session, and with it the lock
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }

  const password = config.demoPassword ?? generateDemoPassword();
  const demo =
    !config.production && (await isEmptyDatabase(database.db))
      ? await loadDemoIfEmpty(config, database.db, password)
      : undefined;
  if (demo) {
    const { summaries } = demo;
    say('');
    for (const summary of summaries) {
      const plan = summary.plans[0];
      say(
        `Loaded the demo partnership: ${summary.partnership}, plan ${plan?.year} (${plan?.aims} aims, ${plan?.actions} actions).`,
      );
    }
    say('Demo accounts (this is shown once, at first start):');
    for (const account of DEMO_ACCOUNTS)
      say(`  ${account.email.padEnd(32)} ${account.role.replace('_', ' ').padEnd(13)} ${account.what}`);
    say(`  Password for all of them: ${password}${config.demoPassword ? ' (from DEMO_PASSWORD)' : ''}`);
    say('');
  }

  const services = createServices(database, {
    sessionIdleMinutes: config.sessionIdleMinutes,
    oidc: config.oidc && { ...config.oidc, publicUrl: config.publicUrl },
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom },
  });
  const app = await buildApp({ config, services, sessionSecret: sessionSecret(config) });
  const prune = setInterval(() => void services.sessionStore.prune().catch(() => undefined), 60 * 60 * 1000);
  prune.unref();

  let scheduler: Scheduler | undefined;
  let stopping = false;
  // While stopping, every answer closes its connection: a proxy keeping connections open to this
  // instance (nginx's upstream keepalive) sends its next request elsewhere instead of on a
  // connection about to go, and the server's close is not held up by idle kept-alive connections.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (stopping) reply.header('connection', 'close');
    return payload;
  });
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    const cut = setTimeout(() => {
      app.log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still running when stopping: cutting them off');
      app.server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    cut.unref();
    const giveUp = setTimeout(() => {
      app.log.error('could not stop cleanly: exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS * 2);
    giveUp.unref();
    clearInterval(prune);
    // At once: no new connections (a proxy's next try goes to another instance), idle kept-alive
    // connections closed, and any request arriving on a busy one answered 503 (Fastify's
    // return503OnClosing; nginx passes it on). Requests in progress finish. Meanwhile a reminder
    // round or email retry in progress finishes (its email handed over); then the database closes.
    await Promise.all([scheduler?.stop(), app.close()]);
    clearTimeout(cut);
    await database.close();
    process.exit(0);
  };
  // A failure outside any request (a store callback, a timer) is logged; it must not take the
  // whole service down for everyone.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled rejection'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  await app.listen({ host: config.host, port: config.port });
  if (config.remindersEveryMinutes > 0 && !stopping) {
    const links = { baseUrl: config.publicUrl ?? `http://localhost:${config.port}` };
    scheduler = startScheduler({
      intervalMs: config.remindersEveryMinutes * 60_000,
      log: app.log,
      jobs: [
        {
          name: 'reminders',
          run: async () => {
            const { ran, rounds } = await services.cycles.sendDueReminders(new Date(), links);
            if (rounds.length) app.log.info({ ran, rounds }, 'sent reminder rounds');
            return { ran, rounds: rounds.length };
          },
        },
        // Case reviews past their retention period lose their personal details (once a day).
        { name: 'case review redaction', run: services.caseReviews.dailyRedaction() },
        // Email the mail server did not take is tried again, a few times, backing off.
        ...(services.mailer.transport === 'smtp'
          ? [
              {
                name: 'email retries',
                run: async () => {
                  const outcome = await services.mailer.retryFailedEmails(database.db, new Date());
                  if (outcome.tried) app.log.info(outcome, 'tried failed email again');
                  return outcome;
                },
              },
            ]
          : []),
      ],
    });
  }
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  say(
    `Partnership Plan is running at http://${shown}:${config.port} (database: ${database.kind}, ${database.location})`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirInUseError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `Partnership Plan could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
