/**
 * Starts Partnership Plan: config → database → migrations → (demo data on a new, non-production
 * database) → listen. Stops cleanly on SIGINT/SIGTERM.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirInUseError, openDatabase } from './db/client.js';
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

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }

  if (!config.production && (await isEmptyDatabase(database.db))) {
    const password = config.demoPassword ?? generateDemoPassword();
    const { summaries } = await loadDemo(database.db, password);
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
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping');
    // A reminder round or email retry in progress finishes (its email handed over) before the database closes.
    await scheduler?.stop();
    clearInterval(prune);
    await app.close();
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
