/**
 * The `partnership-plan` command: the operator's tool for loading, moving and keeping the data.
 * Every command reads the environment through loadConfig (DATA_DIR, DATABASE_URL), opens and
 * migrates the database, does one thing through a service, and closes the database again.
 * Documented in docs/cli.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DataDirInUseError, openDatabase, type Database, type Db } from './db/client.js';
import { readPlanCsv } from './documents/plan-csv.js';
import { ROLES, ROLE_LABELS, type Role } from './domain/permissions.js';
import { parsePlanFileJson, type FileProblem, type PlanFilePlan } from './domain/plan-file.js';
import { parsePlanYear } from './domain/quarters.js';
import { systemActor } from './services/actor.js';
import { BackupError, createBackup, restoreBackup } from './services/backup.js';
import { redactDueCaseReviews } from './services/case-reviews.js';
import { generateDemoPassword, isEmptyDatabase, loadDemo } from './services/demo.js';
import { DefraFileError, importDefraFiles } from './services/local-incidents.js';
import { ForbiddenError, NotFoundError, ValidationError } from './services/errors.js';
import { exportPlan } from './services/plan-export.js';
import { createPartnership } from './services/partnerships.js';
import { importPlanFile, importPlanIntoPartnership } from './services/plan-import.js';
import { exportPlanSheet } from './services/plan-sheet.js';
import {
  describeArea,
  importPoliceUkFile,
  PoliceUkFileError,
  setPartnershipArea,
  summarisePoliceUkMonth,
} from './services/police-uk.js';
import { getPartnershipBySlug, listPartnerships, type PartnershipRow } from './services/plan-read.js';
import { addUser } from './services/users.js';

/** A refusal with a message for the operator: printed without a stack trace, exit code 1. */
class CliError extends Error {}

/** Problems found in a file: each printed as "<file>: <where>: <message>", exit code 1. */
class FileProblems extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly FileProblem[],
  ) {
    super(`${file} has ${problems.length} problem(s)`);
  }
}

const PASSWORD_ENV = 'PARTNERSHIP_PLAN_PASSWORD';

function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function withDatabase<T>(work: (database: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    return await work(database, config);
  } finally {
    await database.close();
  }
}

function planYearOption(value: string): string {
  const year = parsePlanYear(value);
  if (!year) throw new InvalidArgumentError('give a plan year like 2024/25 or 2024-25.');
  return year;
}

function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

/** Writes next to the target, then renames: a failed write never leaves half a file. */
function writeFileAtomically(file: string, content: string | Buffer, mode = 0o644): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(temporary, content, { mode });
    fs.renameSync(temporary, file);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    throw new CliError(`Cannot write ${file}: ${(error as Error).message}`);
  }
}

async function choosePartnership(db: Db, slug: string | undefined): Promise<PartnershipRow> {
  if (slug) return getPartnershipBySlug(db, slug);
  const all = await listPartnerships(db);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) {
    throw new CliError(
      'There is no partnership in this database yet: load one with `partnership-plan import`.',
    );
  }
  throw new CliError(
    `This database holds several partnerships: choose one with --partnership (${all.map((p) => p.slug).join(', ')}).`,
  );
}

function countPlan(plan: PlanFilePlan) {
  const aims = plan.sections.flatMap((s) => s.aims);
  const actions = aims.flatMap((a) => a.actions);
  return {
    year: plan.year,
    sections: plan.sections.length,
    aims: aims.length,
    actions: actions.length,
    progressUpdates: actions.reduce((n, a) => n + a.progress.length, 0),
  };
}

function describeCounts(plan: ReturnType<typeof countPlan>): string {
  return `plan ${plan.year}: ${plan.sections} sections, ${plan.aims} aims, ${plan.actions} actions, ${plan.progressUpdates} progress updates`;
}

async function readPasswordLine(): Promise<string> {
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

async function demoCommand(): Promise<void> {
  const config = loadConfig();
  if (config.production) {
    throw new CliError(
      'The demo is not loaded in production (NODE_ENV=production): its accounts are public.',
    );
  }
  await withDatabase(async ({ db, location }) => {
    if (!(await isEmptyDatabase(db))) {
      throw new CliError(
        `The database at ${location} already holds data: the demo loads only into an empty database ` +
          '(use a new DATA_DIR folder, or a new database in DATABASE_URL).',
      );
    }
    const password = config.demoPassword ?? generateDemoPassword();
    const { summaries, accounts } = await loadDemo(db, password);
    for (const summary of summaries) {
      console.log(`Loaded the demo partnership ${summary.partnership} into ${location}:`);
      for (const plan of summary.plans) console.log(`  ${describeCounts(plan)}`);
    }
    console.log('\nSign in with any of these accounts:');
    const width = Math.max(...accounts.map((a) => a.email.length));
    for (const account of accounts) {
      console.log(
        `  ${account.email.padEnd(width)}  ${ROLE_LABELS[account.role].padEnd(12)}  ${account.what}`,
      );
    }
    console.log(
      `\nPassword for every demo account: ${password}` +
        (config.demoPassword ? ' (from DEMO_PASSWORD)' : ' (generated; set DEMO_PASSWORD to choose it)'),
    );
  });
}

interface ExportOptions {
  plan: string;
  partnership?: string;
  format: 'json' | 'csv' | 'xlsx';
  out?: string;
}

async function exportCommand(options: ExportOptions): Promise<void> {
  const format = options.format;
  if (format === 'xlsx' && !options.out) {
    throw new CliError('An Excel workbook is not text: give --out <file.xlsx> to write it to a file.');
  }
  if (format !== 'json') {
    // The plan as a spreadsheet (docs/plan-spreadsheet.md): the same file the web page downloads.
    await withDatabase(async ({ db }) => {
      const partnership = await choosePartnership(db, options.partnership);
      const file = await exportPlanSheet(db, systemActor(), partnership, options.plan, format);
      if (options.out) {
        writeFileAtomically(options.out, file.body);
        console.error(`Wrote plan ${options.plan} of ${partnership.name} to ${options.out}.`);
      } else {
        process.stdout.write(file.body);
      }
    });
    return;
  }
  await withDatabase(async ({ db }) => {
    const partnership = await choosePartnership(db, options.partnership);
    const file = await exportPlan(
      db,
      systemActor(),
      partnership,
      options.plan,
      'json',
      options.out ? path.basename(options.out) : undefined,
    );
    const content = `${JSON.stringify(file, null, 2)}\n`;
    if (options.out) {
      writeFileAtomically(options.out, content);
      console.error(`Wrote plan ${options.plan} of ${partnership.name} to ${options.out}.`);
    } else {
      process.stdout.write(content);
    }
  });
}

interface ImportOptions {
  file: string;
  dryRun?: boolean;
  partnership?: string;
  plan?: string;
}

async function importCommand(options: ImportOptions): Promise<void> {
  const { file } = options;
  const extension = path.extname(file).toLowerCase();
  if (extension !== '.json' && extension !== '.csv') {
    throw new CliError(`${file}: the file must be a JSON plan file (.json) or a CSV plan (.csv).`);
  }
  const dryRun = options.dryRun ?? false;
  const nothingWritten = dryRun ? ' (dry run: the file is valid; nothing was written)' : '';
  try {
    if (extension === '.json') {
      if (options.partnership || options.plan) {
        throw new CliError(
          '--partnership and --plan are for a CSV file; a JSON plan file names its own partnership.',
        );
      }
      const parsed = parsePlanFileJson(readTextFile(file));
      if (!parsed.ok) throw new FileProblems(file, parsed.problems);
      const summary = await withDatabase(({ db }) =>
        importPlanFile(db, parsed.file, systemActor(), { dryRun }),
      );
      console.log(
        `${dryRun ? 'Would import' : 'Imported'} ${summary.partnership} (${parsed.file.partnership.slug}): ` +
          `${summary.organisations} organisations, ${summary.people} people${nothingWritten}`,
      );
      for (const plan of summary.plans) console.log(`  ${describeCounts(plan)}`);
      return;
    }
    if (!options.partnership || !options.plan) {
      throw new CliError(
        'A CSV holds one plan year of an existing partnership: give both --partnership <slug> and --plan <year>.',
      );
    }
    const parsed = readPlanCsv(readTextFile(file), { year: options.plan });
    if (!parsed.ok) throw new FileProblems(file, parsed.problems);
    const slug = options.partnership;
    const written = await withDatabase(async ({ db }) => {
      const partnership = await getPartnershipBySlug(db, slug);
      return importPlanIntoPartnership(db, partnership.id, parsed.plan, systemActor(), { dryRun });
    });
    // A dry run rolls back before the service counts, so count the checked plan instead.
    const counts = dryRun ? countPlan(parsed.plan) : written;
    console.log(
      `${dryRun ? 'Would import' : 'Imported'} into ${slug}: ${describeCounts(counts)}${nothingWritten}`,
    );
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new FileProblems(
        file,
        error.problems.map((p) => ({ where: p.field, message: p.message })),
      );
    }
    throw error;
  }
}

interface UsersAddOptions {
  email: string;
  name: string;
  role: Role;
  partnership: string;
  organisation?: string;
  person?: string;
  passwordStdin?: boolean;
}

async function usersAddCommand(options: UsersAddOptions): Promise<void> {
  const password = options.passwordStdin ? await readPasswordLine() : loadConfig().cliPassword;
  if (!password) {
    throw new CliError(
      options.passwordStdin
        ? 'No password was read from standard input.'
        : `Give the password on standard input with --password-stdin, or in the ${PASSWORD_ENV} environment variable.`,
    );
  }
  await withDatabase(async ({ db }) => {
    await addUser(
      db,
      {
        email: options.email,
        name: options.name,
        password,
        partnership: options.partnership,
        role: options.role,
        organisation: options.organisation,
        person: options.person,
      },
      systemActor(),
    );
  });
  console.log(
    `Added ${options.name} <${options.email.toLowerCase()}> as ${ROLE_LABELS[options.role].toLowerCase()} of ${options.partnership}.`,
  );
}

async function partnershipsAddCommand(options: { slug: string; name: string; area?: string }): Promise<void> {
  await withDatabase(({ db }) => createPartnership(db, systemActor(), options));
  console.log(
    `Created the partnership ${options.name} (${options.slug}). Add its coordinator with: partnership-plan users add`,
  );
}

async function backupCommand(options: { out: string }): Promise<void> {
  const backup = await withDatabase(({ db }) => createBackup(db));
  // It holds password hashes and sessions: readable by its owner only.
  writeFileAtomically(options.out, backup, 0o600);
  console.log(`Wrote a backup of ${Math.ceil(backup.length / 1024)} KB to ${options.out}.`);
}

async function restoreCommand(options: { file: string }): Promise<void> {
  let buffer: Buffer;
  try {
    buffer = fs.readFileSync(options.file);
  } catch (error) {
    throw new CliError(`Cannot read ${options.file}: ${(error as Error).message}`);
  }
  const summary = await withDatabase(({ db }) => restoreBackup(db, buffer));
  console.log(
    `Restored ${summary.rows} rows into ${summary.tables} tables from the backup made ${summary.createdAt}.`,
  );
}

/** A one-line progress bar on standard error, redrawn in place; only when stderr is a terminal. */
function progressBar(label: string): {
  update: (rows: number, bytesRead: number, totalBytes: number) => void;
  done: () => void;
} {
  let last = 0;
  return {
    update(rows, bytesRead, totalBytes) {
      const now = Date.now();
      if (now - last < 100 && bytesRead < totalBytes) return;
      last = now;
      const fraction = totalBytes > 0 ? Math.min(1, bytesRead / totalBytes) : 1;
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(
        `\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)
          .toString()
          .padStart(3)}% ${rows.toLocaleString('en-GB')} rows`,
      );
    },
    done() {
      process.stderr.write('\r\x1b[2K');
    },
  };
}

async function policeUkImportCommand(files: string[]): Promise<void> {
  await withDatabase(async ({ db }) => {
    for (const file of files) {
      const bar = process.stderr.isTTY ? progressBar(path.basename(file)) : undefined;
      const started = Date.now();
      try {
        const result = await importPoliceUkFile(db, file, systemActor(), { onProgress: bar?.update });
        bar?.done();
        const seconds = (Date.now() - started) / 1000;
        console.log(
          `${file}: imported ${result.rows} ${result.kind} rows for ${result.force}, ${result.month}` +
            (result.replaced ? ` (replacing ${result.replaced})` : '') +
            ` in ${seconds.toFixed(1)} s.`,
        );
      } catch (error) {
        bar?.done();
        if (error instanceof PoliceUkFileError) {
          throw new CliError(`${error.message} Nothing was written for this file.`);
        }
        throw error;
      }
    }
  });
}

interface PoliceUkSummaryOptions {
  month: string;
  area?: string;
  force?: string;
  format: 'json';
}

async function policeUkSummaryCommand(options: PoliceUkSummaryOptions): Promise<void> {
  const summary = await withDatabase(({ db }) =>
    summarisePoliceUkMonth(db, { month: options.month, area: options.area, force: options.force }),
  );
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

async function policeUkAreaCommand(options: {
  partnership: string;
  prefix: string[];
  code: string[];
}): Promise<void> {
  const area = await withDatabase(({ db }) =>
    setPartnershipArea(db, systemActor(), options.partnership, {
      prefixes: options.prefix,
      codes: options.code,
    }),
  );
  console.log(`Set the police.uk area of ${options.partnership}: ${describeArea(area)}.`);
}

const collect = (value: string, previous: string[]) => [...previous, value];

async function caseReviewsRedactCommand(options: { dryRun?: boolean }): Promise<void> {
  const result = await withDatabase(({ db }) =>
    redactDueCaseReviews(db, systemActor(), { dryRun: options.dryRun ?? false }),
  );
  const verb = result.dryRun ? 'Would redact' : 'Redacted';
  for (const c of result.cases) console.log(`${verb} ${c.reference} (retention period ended ${c.dueOn})`);
  console.log(
    `${verb} the personal details of ${result.cases.length} case review${result.cases.length === 1 ? '' : 's'}.`,
  );
}

async function defraImportCommand(files: string[]): Promise<void> {
  const read = files.map((file) => ({ name: file, data: readTextFile(file) }));
  await withDatabase(async ({ db }) => {
    try {
      for (const r of await importDefraFiles(db, systemActor(), read)) {
        console.log(
          `${r.file}: imported DEFRA fly-tipping ${r.kind}: ${r.rows} rows, ${r.authorities} authorities, ` +
            `${r.years[0]} to ${r.years.at(-1)}.`,
        );
      }
    } catch (error) {
      if (error instanceof DefraFileError) throw new CliError(`${error.message}\nNothing was written.`);
      throw error;
    }
  });
}

async function migrateCommand(): Promise<void> {
  await withDatabase(async (database) => {
    const health = await database.health();
    console.log(
      `The database at ${database.location} (${database.kind}) has ${health.migrations} migrations applied.`,
    );
  });
}

// ---------------------------------------------------------------------------------------------
// The program

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function buildProgram(): Command {
  const program = new Command('partnership-plan')
    .description(
      'Runs a Community Safety Partnership action plan: load the demo, import and export plans, add ' +
        'accounts, back up and restore the database, import police.uk crime data.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
The database is the embedded one under DATA_DIR (default ./data), or the PostgreSQL server in
DATABASE_URL. Each command applies any pending migrations first. The embedded database allows one
process at a time: stop the server before running a command on the same DATA_DIR.

Environment:
  DATA_DIR                   folder of the embedded database (default ./data)
  DATABASE_URL               postgres://user:password@host:5432/database, instead of DATA_DIR
  NODE_ENV                   development, test or production (the demo refuses production)
  DEMO_PASSWORD              password for the demo accounts (otherwise one is generated)
  ${PASSWORD_ENV}  password for \`users add\` when --password-stdin is not used
${examples(
  'partnership-plan demo',
  'partnership-plan export --plan 2024/25 --format csv --out plan.csv',
  'partnership-plan users add --email ann@council.example --name "Ann Smith" --role coordinator --partnership sosafe --password-stdin',
  'DATA_DIR=/var/lib/partnership-plan partnership-plan backup --out backup.json.gz',
)}`,
    );

  program
    .command('demo')
    .summary('Load the demo partnership into an empty database')
    .description(
      'Load the demo partnership (SoSafe Stevenage, plan 2024/25) and one account for each role into an ' +
        'empty database. Refused in production and on a database that holds data.',
    )
    .addHelpText(
      'after',
      examples('DATA_DIR=./demo-data DEMO_PASSWORD="choose a long one" partnership-plan demo'),
    )
    .action(demoCommand);

  program
    .command('export')
    .summary('Write a plan year as a JSON plan file, or a CSV or XLSX spreadsheet')
    .description(
      'Write one plan year as a JSON plan file (the whole partnership: re-importable) or as a spreadsheet, ' +
        'CSV or XLSX (one row per action, with its id; see docs/plan-spreadsheet.md). Writes to standard ' +
        'output unless --out is given (an XLSX needs --out). ' +
        'Each export is recorded in the audit trail.',
    )
    .requiredOption('--plan <year>', 'the plan year, e.g. 2024/25 or 2024-25', planYearOption)
    .option('--partnership <slug>', 'the partnership (default: the only one in the database)')
    .addOption(
      new Option('--format <format>', 'json (plan file), csv or xlsx (spreadsheet, with action ids)')
        .choices(['json', 'csv', 'xlsx'])
        .makeOptionMandatory(),
    )
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText(
      'after',
      examples(
        'partnership-plan export --plan 2024/25 --format json --out sosafe-2024-25.json',
        'partnership-plan export --plan 2024-25 --partnership sosafe --format csv > plan.csv',
        'partnership-plan export --plan 2024/25 --format xlsx --out plan.xlsx',
      ),
    )
    .action(exportCommand);

  program
    .command('import')
    .summary('Check a JSON or CSV plan file and import it')
    .description(
      'Check a plan file and import it. A JSON plan file (.json) brings a whole partnership into a ' +
        'database that does not hold it; a CSV plan (.csv) adds one plan year to an existing partnership ' +
        '(--partnership and --plan required). Every problem is listed with its place and nothing is ' +
        'written unless the whole file is valid.',
    )
    .requiredOption('--file <file>', 'the .json or .csv file to import')
    .option('--dry-run', 'check everything, including against the database, but write nothing')
    .option('--partnership <slug>', 'CSV only: the partnership the plan belongs to')
    .option('--plan <year>', 'CSV only: the plan year the CSV holds, e.g. 2025/26', planYearOption)
    .addHelpText(
      'after',
      examples(
        'partnership-plan import --file sosafe-2024-25.json --dry-run',
        'partnership-plan import --file plan-2025-26.csv --partnership sosafe --plan 2025/26',
      ),
    )
    .action(importCommand);

  const partnerships = program
    .command('partnerships')
    .summary('Manage partnerships (partnerships add)')
    .description('Manage partnerships.')
    .addHelpText('after', examples('partnership-plan partnerships add --help'));
  partnerships
    .command('add')
    .summary('Create an empty partnership')
    .description(
      'Create an empty partnership, the first step on a new production server: then add its coordinator ' +
        'with `users add` and bring in its plan with `import` (a CSV plan needs the partnership to exist).',
    )
    .requiredOption('--slug <slug>', 'short name used in addresses, like sosafe')
    .requiredOption('--name <name>', 'the partnership’s name, like "SoSafe Stevenage"')
    .option('--area <area>', 'the area it covers, like Stevenage')
    .addHelpText(
      'after',
      examples('partnership-plan partnerships add --slug sosafe --name "SoSafe Stevenage" --area Stevenage'),
    )
    .action(partnershipsAddCommand);

  const users = program
    .command('users')
    .summary('Manage sign-in accounts (users add)')
    .description('Manage sign-in accounts.')
    .addHelpText('after', examples('partnership-plan users add --help'));
  users
    .command('add')
    .summary('Add an account with a role in a partnership')
    .description(
      'Add an account with a role in a partnership: how the first coordinator is made in production. ' +
        `The password is read from standard input (--password-stdin) or from ${PASSWORD_ENV}, never ` +
        'from an argument, so it does not appear in the process list or shell history.',
    )
    .requiredOption('--email <email>', 'the address they sign in with')
    .requiredOption('--name <name>', 'their name as shown in the plan and the audit trail')
    .addOption(new Option('--role <role>', 'their role').choices(ROLES).makeOptionMandatory())
    .requiredOption('--partnership <slug>', 'the partnership they hold the role in')
    .option('--organisation <name>', 'their organisation, by the name the plan uses (e.g. SBC)')
    .option('--person <name>', 'the person in the plan they are, so "what I lead" finds their actions')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .addHelpText(
      'after',
      examples(
        'printf "%s\\n" "$PASSWORD" | partnership-plan users add --email ann@council.example --name "Ann Smith" --role coordinator --partnership sosafe --organisation SBC --password-stdin',
      ),
    )
    .action(usersAddCommand);

  program
    .command('backup')
    .summary('Back up every table to a gzipped JSON file')
    .description(
      'Write every table of the database to a gzipped JSON file. It restores into PGlite or PostgreSQL ' +
        'alike, and holds password hashes: keep it safe.',
    )
    .requiredOption('--out <file>', 'the backup file to write')
    .addHelpText('after', examples('partnership-plan backup --out partnership-plan-2025-01-31.json.gz'))
    .action(backupCommand);

  program
    .command('restore')
    .summary('Restore a backup into an empty database')
    .description(
      'Restore a backup into an empty database made by the same version (the same migrations), in one ' +
        'transaction. Refused when the database holds any rows.',
    )
    .requiredOption('--file <file>', 'the backup file to read')
    .addHelpText(
      'after',
      examples(
        'DATA_DIR=/var/lib/partnership-plan-new partnership-plan restore --file partnership-plan-2025-01-31.json.gz',
      ),
    )
    .action(restoreCommand);

  const policeUk = program
    .command('police-uk')
    .summary('Import police.uk crime data and summarise a month (police-uk import, summary, area)')
    .description(
      'police.uk open data: import monthly street-level and outcomes CSV files, set a partnership’s area, ' +
        'and summarise a month. See docs/police-uk.md.',
    )
    .addHelpText(
      'after',
      examples(
        'partnership-plan police-uk area --partnership sosafe --prefix "Stevenage "',
        'partnership-plan police-uk import 2022-01-hertfordshire-street.csv 2022-01-hertfordshire-outcomes.csv',
        'partnership-plan police-uk summary --month 2022-01 --area sosafe --format json',
      ),
    );
  policeUk
    .command('import')
    .summary('Import police.uk monthly street or outcomes CSV files')
    .description(
      'Import police.uk monthly CSV files ("-street.csv" or "-outcomes.csv", recognised by their exact ' +
        'headers), each streamed in one transaction. Re-importing a force’s month replaces it. A file with ' +
        'unknown headers or a bad row is refused with its line, and nothing of that file is written; the ' +
        'files before it stay imported.',
    )
    .argument('<files...>', 'the CSV files to import')
    .addHelpText(
      'after',
      examples(
        'partnership-plan police-uk import 2022-01-hertfordshire-street.csv 2022-01-hertfordshire-outcomes.csv',
      ),
    )
    .action(policeUkImportCommand);
  policeUk
    .command('summary')
    .summary('Print a month of police.uk data as JSON')
    .description(
      'Print one JSON object for a month: month, force, area, rows, withoutLocation, byCrimeType and, when the ' +
        'month’s outcomes file was imported, byOutcome. With --area, only the rows in that partnership’s area.',
    )
    .requiredOption('--month <YYYY-MM>', 'the month, e.g. 2022-01')
    .option('--area <slug>', 'only the rows in this partnership’s area (see `police-uk area`)')
    .option(
      '--force <name>',
      'the force, when several have data for the month (e.g. "Hertfordshire Constabulary")',
    )
    .addOption(new Option('--format <format>', 'the output format').choices(['json']).makeOptionMandatory())
    .addHelpText(
      'after',
      examples('partnership-plan police-uk summary --month 2022-01 --area sosafe --format json'),
    )
    .action(policeUkSummaryCommand);
  policeUk
    .command('area')
    .summary('Set the LSOAs a partnership covers')
    .description(
      'Set (replace) a partnership’s area for police.uk data: LSOA name prefixes and/or LSOA codes. A row ' +
        'is in the area when its LSOA code is one of the codes or its LSOA name starts with a prefix.',
    )
    .requiredOption('--partnership <slug>', 'the partnership')
    .option('--prefix <text>', 'an LSOA name prefix, e.g. "Stevenage " (repeatable)', collect, [])
    .option('--code <code>', 'an LSOA code, e.g. E01023698 (repeatable)', collect, [])
    .addHelpText(
      'after',
      examples('partnership-plan police-uk area --partnership sosafe --prefix "Stevenage "'),
    )
    .action(policeUkAreaCommand);

  program
    .command('case-reviews')
    .summary('ASB case reviews (the Community Trigger): redact personal details past retention')
    .description('ASB case reviews (the Community Trigger). See docs/evidence-case-reviews.md.')
    .addHelpText('after', examples('partnership-plan case-reviews redact --dry-run'))
    .command('redact')
    .summary('Redact the personal details of case reviews past their retention period')
    .description(
      'Redact the applicant’s name, contact, contact preference and vulnerability, and the complaints’ ' +
        'summaries, of every case review past its partnership’s retention period (years after it closed, ' +
        'or after it was received when never closed). The counts stay. The server also does this daily.',
    )
    .option('--dry-run', 'list the case reviews that would be redacted, and change nothing')
    .addHelpText('after', examples('partnership-plan case-reviews redact --dry-run'))
    .action(caseReviewsRedactCommand);

  program
    .command('defra')
    .summary('Import DEFRA’s fly-tipping figures by local authority (defra import)')
    .description('DEFRA’s fly-tipping statistics by local authority. See docs/evidence-incidents.md.')
    .addHelpText('after', examples('partnership-plan defra import LA_incidents.csv LA_actions.csv'))
    .command('import')
    .summary('Import DEFRA’s LA_incidents and LA_actions sheets saved as CSV')
    .description(
      'Import DEFRA’s LA_incidents and/or LA_actions sheets (from the workbook “Fly-tipping in England”, ' +
        'saved as CSV, whole or a county’s rows), recognised by their headers. Every file is checked first: ' +
        'any problem is listed with its file, line and column, and nothing is written. Each year and ' +
        'authority in a file replaces the figures held for it; other authorities stay as they are.',
    )
    .argument('<files...>', 'the CSV files to import')
    .addHelpText(
      'after',
      examples('partnership-plan defra import LA_incidents_hertfordshire.csv LA_actions_hertfordshire.csv'),
    )
    .action(defraImportCommand);

  program
    .command('migrate')
    .summary('Apply pending database migrations')
    .description('Apply any pending database migrations and report how many are applied.')
    .addHelpText('after', examples('DATABASE_URL=postgres://app@db.internal/plan partnership-plan migrate'))
    .action(migrateCommand);

  return program;
}

/** Runs the command; the answer is the exit code. Known refusals print a message, not a stack. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    if (error instanceof FileProblems) {
      for (const p of error.problems) console.error(`${error.file}: ${p.where}: ${p.message}`);
      console.error(
        `Nothing was written: ${error.problems.length === 1 ? '1 problem' : `${error.problems.length} problems`}.`,
      );
      return 1;
    }
    if (error instanceof ValidationError) {
      for (const p of error.problems) console.error(`error: ${p.field}: ${p.message}`);
      return 1;
    }
    if (
      error instanceof CliError ||
      error instanceof ConfigError ||
      error instanceof DataDirInUseError ||
      error instanceof BackupError ||
      error instanceof PoliceUkFileError ||
      error instanceof NotFoundError ||
      error instanceof ForbiddenError
    ) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    console.error(error);
    return 1;
  }
}

process.exitCode = await main(process.argv);
