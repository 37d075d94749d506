/**
 * `npm run test:cluster`: the cluster suite (vitest project `cluster`): two app instances on one
 * PostgreSQL database behind nginx, round robin (test/cluster/, test/support/cluster.ts).
 *
 * nginx and PostgreSQL 15 come from Debian (`apt-get install -y nginx postgresql`). Without them a
 * developer gets a loud warning and the suite is skipped; CI (CI=true) fails instead. Without
 * DATABASE_URL the suite runs against a throwaway PostgreSQL cluster (scripts/with-postgres.sh).
 * Arguments are passed on to vitest.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isExecutable, missingProgram, runVitestProject } from './suite-runner.js';

// CI (.ci/run) runs this suite beside `npm test`, between the PostgreSQL suite and the browser suite,
// to even out its two halves; it sets PP_CLUSTER_SUITE=beside for `npm test`'s own step.
if (process.env.PP_CLUSTER_SUITE === 'beside') {
  process.stdout.write('The cluster suite runs beside npm test in this run (.ci/run): not here.\n');
  process.exit(0);
}

const nginx = process.env.NGINX_PATH || '/usr/sbin/nginx';
const pgBin = process.env.PG_BIN || '/usr/lib/postgresql/15/bin';
const needsServer = !process.env.DATABASE_URL;
const missing = [
  !isExecutable(nginx) && nginx,
  needsServer && !isExecutable(`${pgBin}/initdb`) && `${pgBin}/initdb`,
].filter(Boolean);

if (missing.length) {
  missingProgram(
    'CLUSTER',
    `the cluster tests need nginx and PostgreSQL 15; ${missing.join(' and ')} not found.`,
    'sudo apt-get install -y nginx postgresql (or set NGINX_PATH, PG_BIN)',
    'Two instances behind a proxy (sessions, the reminder job, a restart under load) were not tested in this run.',
  );
}

if (needsServer) {
  // A throwaway PostgreSQL cluster for the run: with-postgres.sh sets DATABASE_URL and runs this
  // script again, which then runs vitest.
  const withPostgres = fileURLToPath(new URL('./with-postgres.sh', import.meta.url));
  const child = spawn(
    'bash',
    [
      withPostgres,
      process.execPath,
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, PG_BIN: pgBin } },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    console.error(`Could not start scripts/with-postgres.sh: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
} else {
  runVitestProject('cluster', { NGINX_PATH: nginx });
}
