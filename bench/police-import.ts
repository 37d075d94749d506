/**
 * Benchmark of the police.uk import (never run by `npm test`; issue 8):
 *
 *   bash scripts/with-postgres.sh node --import tsx bench/police-import.ts
 *
 * Builds a year of a large force from the real January 2022 Hertfordshire files
 * (src/demo/evidence/policeuk): for each month of 2021, COPIES copies of the street and the
 * outcomes rows with fresh Crime IDs and the month set, written as police.uk files to a temporary
 * folder (about a million rows with the default 5). Then imports them all with importPoliceUkFile,
 * each database in a child process of its own so that its peak memory is its own: the embedded
 * database (PGlite, in a data folder made and migrated beforehand, as `npm start` keeps it) and
 * PostgreSQL (a fresh database on that server). Each child also counts the files its import wrote by
 * the fast path (`fastFiles`: COPY straight into the police table, PostgreSQL only) and then times
 * importing the first file again (`reimportSeconds`: its month deleted among the year's and
 * written again). On PostgreSQL it also times the limit: psql's \copy of the
 * same files into unindexed tables. Prints a line per step, a table, and at the end one JSON line
 * of figures (what bench/run.ts collects):
 *
 *   {"bench":"police-import","rows":…,"pglite":{"rowsPerSecond":…,"peakRssMb":…,…},
 *    "postgres":{…},"copyLimit":{"rowsPerSecond":…,"seconds":…},"ratioPostgres":…,…}
 *
 * Without DATABASE_URL it starts a throwaway PostgreSQL itself (it runs again under
 * scripts/with-postgres.sh, which needs PostgreSQL 15 installed: without it, it says so and exits
 * non-zero), unless BENCH_ONLY=pglite.
 *
 * Settings: COPIES (default 5), BENCH_ONLY=pglite|postgres to run one database.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import pg from 'pg';

const DATA = fileURLToPath(new URL('../src/demo/evidence/policeuk', import.meta.url));
const SOURCES = {
  street: path.join(DATA, '2022-01-hertfordshire-street.csv'),
  outcomes: path.join(DATA, '2022-01-hertfordshire-outcomes.csv'),
};
const MONTHS = Array.from({ length: 12 }, (_, i) => `2021-${String(i + 1).padStart(2, '0')}`);

interface ImportFigures {
  database: 'pglite' | 'postgres';
  files: number;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** The highest resident set size seen, sampled every 50 ms, and the kernel's own maximum. */
  peakRssMb: number;
  maxRssMb: number;
  /** The process before any row is read: Node, tsx, the import's modules, the database opened. */
  baselineRssMb: number;
  /** Files written by the fast path (COPY straight into the police table; PostgreSQL only). */
  fastFiles: number;
  /** The first file imported again once all are in: its month replaced. */
  reimportSeconds: number;
}

const mb = (bytes: number) => Math.round(bytes / (1024 * 1024));

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The source file's header and rows, read whole (the sources are 2 MB each). */
function readSource(file: string): { header: string; rows: string[][] } {
  const records = parseCsv(fs.readFileSync(file, 'utf8'), {
    bom: true,
    relax_column_count: true,
  }) as string[][];
  return { header: records[0]!.join(','), rows: records.slice(1) };
}

/** Writes the year's files: per month, `copies` copies of each source's rows with fresh Crime IDs. */
function buildFiles(dir: string, copies: number): { files: string[]; rows: number } {
  const files: string[] = [];
  let rows = 0;
  for (const [kind, source] of Object.entries(SOURCES)) {
    const { header, rows: sourceRows } = readSource(source);
    for (const month of MONTHS) {
      const file = path.join(dir, `${month}-bench-${kind}.csv`);
      const out: string[] = [header];
      for (let copy = 0; copy < copies; copy++) {
        for (const fields of sourceRows) {
          const row = [...fields];
          // ASB rows keep their empty Crime ID; outcomes need one, as police.uk gives them.
          if (row[0] !== '' || kind === 'outcomes') row[0] = crypto.randomBytes(32).toString('hex');
          row[1] = month;
          out.push(row.map(csvField).join(','));
          rows++;
        }
      }
      fs.writeFileSync(file, `${out.join('\n')}\n`);
      files.push(file);
    }
  }
  return { files, rows };
}

/** In the child: import every file into one database and report the figures as JSON on stdout. */
async function importAll(database: 'pglite' | 'postgres', files: string[]): Promise<void> {
  const { openDatabase } = await import('../src/db/client.js');
  const { systemActor } = await import('../src/services/actor.js');
  const { importPoliceUkFile } = await import('../src/services/police-uk.js');
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const opened =
    database === 'pglite'
      ? await openDatabase({ dataDir: process.env.BENCH_PGLITE_DIR! })
      : await openDatabase({ databaseUrl: process.env.BENCH_DATABASE_URL! });
  await opened.migrate();
  const baseline = process.memoryUsage().rss;
  let rows = 0;
  let fastFiles = 0;
  const onPath = (way: 'fast' | 'detailed') => (fastFiles += way === 'fast' ? 1 : 0);
  const start = performance.now();
  for (const file of files) {
    const result = await importPoliceUkFile(opened.db, file, systemActor(), { onPath });
    rows += result.rows;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - start) / 1000;
  // A month imported again: its rows deleted among the year's, then written again.
  const again = performance.now();
  await importPoliceUkFile(opened.db, files[0]!, systemActor());
  const reimportSeconds = (performance.now() - again) / 1000;
  clearInterval(sampler);
  await opened.close();
  const figures: ImportFigures = {
    database,
    files: files.length,
    rows,
    seconds: Number(seconds.toFixed(2)),
    rowsPerSecond: Math.round(rows / seconds),
    peakRssMb: mb(peak),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    baselineRssMb: mb(baseline),
    fastFiles,
    reimportSeconds: Number(reimportSeconds.toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/**
 * A data folder for the embedded database, made and migrated by a process of its own: as
 * `npm start` finds it after its first start. (A fresh folder's first opening runs initdb in a
 * second PGlite, whose memory the process keeps: about 500 MB more than opening a folder made.)
 */
function preparePgliteFolder(): string {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-pglite-'));
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--prepare'],
    {
      env: { ...process.env, BENCH_PGLITE_DIR: dataDir },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`The embedded database could not be made:\n${result.stderr}`);
  return dataDir;
}

async function prepare(): Promise<void> {
  const { openDatabase } = await import('../src/db/client.js');
  const opened = await openDatabase({ dataDir: process.env.BENCH_PGLITE_DIR! });
  await opened.migrate();
  await opened.close();
}

function runChild(database: 'pglite' | 'postgres', files: string[], env: NodeJS.ProcessEnv): ImportFigures {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', database, ...files],
    { env, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (result.status !== 0) throw new Error(`The ${database} import failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as ImportFigures;
}

/** PostgreSQL's own COPY (psql's \copy) of the same files into unindexed tables of text columns. */
function copyLimit(url: string, files: string[], rows: number) {
  const columns = (header: string) =>
    header
      .split(',')
      .map((_, i) => `c${i} text`)
      .join(', ');
  const street = fs.readFileSync(SOURCES.street, 'utf8').split('\n')[0]!;
  const outcomes = fs.readFileSync(SOURCES.outcomes, 'utf8').split('\n')[0]!;
  const script = path.join(path.dirname(files[0]!), 'copy.sql');
  fs.writeFileSync(
    script,
    [
      `create table copy_street (${columns(street)});`,
      `create table copy_outcomes (${columns(outcomes)});`,
    ].join('\n'),
  );
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', script]);
  fs.writeFileSync(
    script,
    files
      .map(
        (f) =>
          `\\copy ${f.endsWith('-street.csv') ? 'copy_street' : 'copy_outcomes'} from '${f}' with (format csv, header true)`,
      )
      .join('\n'),
  );
  const start = performance.now();
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', script]);
  const seconds = (performance.now() - start) / 1000;
  return { rows, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds) };
}

/** The figures as a table, one line per step. */
function printTable(out: {
  rows: number;
  pglite?: ImportFigures;
  postgres?: ImportFigures;
  copyLimit?: { seconds: number; rowsPerSecond: number };
}): void {
  const lines: [string, string, string, string, string][] = [
    ['what', 'time', 'rows/s', 'peak RSS', 'before rows'],
  ];
  const add = (what: string, f?: ImportFigures) => {
    if (f)
      lines.push([
        what,
        `${f.seconds} s`,
        f.rowsPerSecond.toLocaleString('en-GB'),
        `${f.peakRssMb} MB`,
        `${f.baselineRssMb} MB`,
      ]);
  };
  add('import, embedded database (PGlite, data folder)', out.pglite);
  add('import, PostgreSQL', out.postgres);
  if (out.copyLimit) {
    const c = out.copyLimit;
    lines.push([
      'PostgreSQL COPY into unindexed tables (the limit)',
      `${c.seconds} s`,
      c.rowsPerSecond.toLocaleString('en-GB'),
      '',
      '',
    ]);
  }
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const line of lines)
    console.log(
      line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

/** Without DATABASE_URL: this benchmark again, under a throwaway PostgreSQL; exits with its status. */
function underThrowawayPostgres(): never {
  console.log('No DATABASE_URL: starting a throwaway PostgreSQL (scripts/with-postgres.sh).');
  const script = fileURLToPath(new URL('../scripts/with-postgres.sh', import.meta.url));
  const result = spawnSync(
    'bash',
    [script, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      stdio: 'inherit',
    },
  );
  if (result.status !== 0) {
    console.error(
      'bench/police-import.ts needs PostgreSQL: set DATABASE_URL, or install PostgreSQL 15 for ' +
        'scripts/with-postgres.sh (or BENCH_ONLY=pglite).',
    );
  }
  process.exit(result.status ?? 1);
}

async function main(): Promise<void> {
  const copies = Number(process.env.COPIES ?? 5);
  const only = process.env.BENCH_ONLY;
  const admin = process.env.DATABASE_URL;
  if (!admin && only !== 'pglite') underThrowawayPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-bench-police-'));
  const benchDb = `pp_bench_${crypto.randomBytes(4).toString('hex')}`;
  try {
    const built = performance.now();
    const { files, rows } = buildFiles(dir, copies);
    const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    console.log(
      `built ${files.length} files, ${rows.toLocaleString('en-GB')} rows, ${mb(bytes)} MB in ${((performance.now() - built) / 1000).toFixed(1)} s`,
    );
    const loadBefore = os.loadavg()[0]!;
    const out: {
      bench: 'police-import';
      rows: number;
      files: number;
      megabytes: number;
      copies: number;
      pglite?: ImportFigures;
      postgres?: ImportFigures;
      copyLimit?: { rows: number; seconds: number; rowsPerSecond: number };
      ratioPostgres?: number;
      [more: string]: unknown;
    } = { bench: 'police-import', rows, files: files.length, megabytes: mb(bytes), copies };
    if (only !== 'postgres') {
      const dataDir = preparePgliteFolder();
      try {
        out.pglite = runChild('pglite', files, { ...process.env, BENCH_PGLITE_DIR: dataDir });
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
      console.log('PGlite', JSON.stringify(out.pglite));
    }
    if (admin && only !== 'pglite') {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`create database ${benchDb}`);
      const url = new URL(admin);
      url.pathname = `/${benchDb}`;
      try {
        out.postgres = runChild('postgres', files, { ...process.env, BENCH_DATABASE_URL: url.toString() });
        console.log('PostgreSQL', JSON.stringify(out.postgres));
        out.copyLimit = copyLimit(url.toString(), files, rows);
        out.ratioPostgres = Number((out.postgres.rowsPerSecond / out.copyLimit.rowsPerSecond).toFixed(2));
        console.log('PostgreSQL COPY', JSON.stringify(out.copyLimit));
      } finally {
        await client.query(`drop database if exists ${benchDb} with (force)`);
        await client.end();
      }
    }
    out.node = process.version;
    out.machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${mb(os.totalmem()) / 1024} GiB`;
    out.loadAverage = { before: Number(loadBefore.toFixed(2)), after: Number(os.loadavg()[0]!.toFixed(2)) };
    printTable(out);
    console.log(JSON.stringify(out));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--prepare') {
  await prepare();
} else if (process.argv[2] === '--child') {
  await importAll(process.argv[3] as 'pglite' | 'postgres', process.argv.slice(4));
} else {
  await main();
}
