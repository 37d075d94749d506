/**
 * Benchmarks (never run by `npm test`):
 *
 *   npm run bench                      # every benchmark, one after another
 *   npm run bench -- load pages        # those only
 *   npm run bench -- --help            # the list
 *
 * Each runs as a child process (`node --import tsx bench/<name>.ts`) with its output shown as it
 * comes; each prints one JSON line of figures last, and this collects them into a summary: a line
 * per run, then one JSON line {"bench":"summary","runs":[…]}. A benchmark that needs PostgreSQL
 * runs inside scripts/with-postgres.sh (a throwaway cluster of its own) when DATABASE_URL is not
 * set. Settings such as BENCH_SECONDS or BENCH_ROUNDS pass through to the benchmarks.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { lastJsonLine, loadAverage, machine, REPO_ROOT } from './support.js';

/**
 * How a benchmark uses the databases: `pglite` runs without DATABASE_URL; `postgres` needs one;
 * `both` needs one and measures PGlite as well in the same run; `each` runs once on PGlite and
 * once on PostgreSQL.
 */
type Databases = 'pglite' | 'postgres' | 'both' | 'each';

const BENCHES: { name: string; what: string; databases: Databases }[] = [
  {
    name: 'pages',
    what: 'the pages and documents through inject, one at a time (PGlite)',
    databases: 'pglite',
  },
  {
    name: 'load',
    what: 'pages under load (autocannon) beside the stack’s limit, and memory (PGlite, PostgreSQL)',
    databases: 'both',
  },
  {
    name: 'police-import',
    what: 'a year of a large force’s police.uk files imported (PGlite, PostgreSQL)',
    databases: 'both',
  },
  {
    name: 'trend-queries',
    what: 'the crime trend reads over five years of a large force (PGlite, then PostgreSQL)',
    databases: 'each',
  },
  {
    name: 'saturation',
    what: 'a bare Node server’s latency tail under the same load, by the CPU a request takes (no database)',
    databases: 'pglite',
  },
  {
    name: 'cluster',
    what: 'two instances behind nginx on PostgreSQL, one restarted under load',
    databases: 'postgres',
  },
];

function help(): void {
  process.stdout.write('npm run bench [-- <name> …]: runs the benchmarks named, or all of them\n\n');
  for (const bench of BENCHES) process.stdout.write(`  ${bench.name.padEnd(15)} ${bench.what}\n`);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  help();
  process.exit(0);
}
const unknown = args.filter((a) => !BENCHES.some((b) => b.name === a));
if (unknown.length) {
  process.stderr.write(`No benchmark called ${unknown.join(', ')}.\n\n`);
  help();
  process.exit(2);
}
const chosen = args.length ? BENCHES.filter((b) => args.includes(b.name)) : BENCHES;

interface Run {
  bench: string;
  database: 'pglite' | 'postgres' | 'both';
  exitCode: number | null;
  seconds: number;
  figures: Record<string, unknown> | undefined;
}

/** Runs one benchmark as a child process, its output shown and kept; the last JSON line is its figures. */
function runChild(name: string, database: 'pglite' | 'postgres' | 'both'): Promise<Run> {
  const script = path.join('bench', `${name}.ts`);
  const env = { ...process.env };
  const node = [process.execPath, '--import', 'tsx', script];
  let command = node;
  if (database === 'pglite') delete env.DATABASE_URL;
  else if (!env.DATABASE_URL) command = ['bash', 'scripts/with-postgres.sh', ...node];
  process.stdout.write(`\n=== ${name} (${database}): ${command.join(' ')}\n`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      output = (output + chunk.toString('utf8')).slice(-1_000_000);
    });
    child.once('close', (exitCode) => {
      resolve({
        bench: name,
        database,
        exitCode,
        seconds: Math.round((Date.now() - started) / 1000),
        figures: lastJsonLine(output),
      });
    });
  });
}

const loadBefore = loadAverage();
const runs: Run[] = [];
for (const bench of chosen) {
  if (!fs.existsSync(path.join(REPO_ROOT, 'bench', `${bench.name}.ts`))) {
    process.stdout.write(`\n=== ${bench.name}: bench/${bench.name}.ts is not there; skipped\n`);
    runs.push({ bench: bench.name, database: 'pglite', exitCode: null, seconds: 0, figures: undefined });
    continue;
  }
  const databases =
    bench.databases === 'each' ? (['pglite', 'postgres'] as const) : ([bench.databases] as const);
  for (const database of databases) runs.push(await runChild(bench.name, database));
}

process.stdout.write(`\n=== summary: ${machine()}\n`);
for (const run of runs) {
  const outcome =
    run.exitCode === 0
      ? run.figures
        ? 'figures collected'
        : 'no JSON line'
      : `failed (exit ${run.exitCode})`;
  process.stdout.write(
    `  ${run.bench.padEnd(15)} ${run.database.padEnd(9)} ${String(run.seconds).padStart(5)} s  ${outcome}\n`,
  );
}
console.log(
  JSON.stringify({
    bench: 'summary',
    machine: machine(),
    loadAverage: { before: loadBefore, after: loadAverage() },
    runs,
  }),
);
process.exitCode = runs.every((r) => r.exitCode === 0 && r.figures) ? 0 : 1;
