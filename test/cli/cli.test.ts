/**
 * Runs the real `partnership-plan` command as a child process, against a fresh embedded database
 * in a temporary DATA_DIR (or, when DATABASE_URL is set, a fresh database on that server).
 * Each command opens the database (a few seconds on PGlite), so the scenarios share databases.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';
import argon2 from 'argon2';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ACCOUNTS, DEMO_FILE } from '../../src/services/demo.js';
import { cliScratch, ROOT, runCli as run } from '../support/cli.js';

const TIMEOUT = 120_000;
const DEMO_PASSWORD = 'demo password for the cli test';

const { scratch, newDataDir, emptyDatabase } = cliScratch('pp-cli-');

function scratchFile(name: string, content: string): string {
  const file = path.join(scratch, name);
  fs.writeFileSync(file, content);
  return file;
}

const demoText = fs.readFileSync(DEMO_FILE, 'utf8');

describe('partnership-plan --help', () => {
  it('lists every command, and --version prints the package version', async () => {
    const [help, version] = await Promise.all([run(['--help'], {}), run(['--version'], {})]);
    expect(help.code).toBe(0);
    for (const command of [
      'demo',
      'export',
      'import',
      'users',
      'backup',
      'restore',
      'migrate',
      'police-uk',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});

describe('a demo database: export, import, accounts, backup and restore', () => {
  let demo: NodeJS.ProcessEnv;
  let exported: string;
  beforeAll(async () => {
    demo = await emptyDatabase();
  });

  it(
    'demo loads the demo partnership and prints its accounts',
    async () => {
      const result = await run(['demo'], { ...demo, DEMO_PASSWORD });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      for (const account of DEMO_ACCOUNTS) expect(result.stdout).toContain(account.email);
      expect(result.stdout).toContain(`Password for every demo account: ${DEMO_PASSWORD}`);
    },
    TIMEOUT,
  );

  it(
    'export --format json gives back the demo plan file',
    async () => {
      // The demo holds two partnerships (SoSafe and the illustrative North Herts): export names one.
      const unnamed = await run(['export', '--plan', '2024/25', '--format', 'json'], demo);
      expect(unnamed.code).toBe(1);
      expect(unnamed.stderr).toContain('choose one with --partnership (north-herts, sosafe)');
      const result = await run(
        ['export', '--plan', '2024/25', '--partnership', 'sosafe', '--format', 'json'],
        demo,
      );
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(JSON.parse(demoText));
      exported = result.stdout;
    },
    TIMEOUT,
  );

  it(
    'an export imported into another empty database exports to the same bytes',
    async () => {
      const second = await emptyDatabase();
      const file = scratchFile('export.json', exported);
      const imported = await run(['import', '--file', file], second);
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain('plan 2024/25: 5 sections, 21 aims, 34 actions, 54 progress updates');
      const out = path.join(scratch, 're-export.json');
      const again = await run(['export', '--plan', '2024-25', '--format', 'json', '--out', out], second);
      expect(again.code).toBe(0);
      expect(fs.readFileSync(out, 'utf8')).toBe(exported);
    },
    TIMEOUT,
  );

  it(
    'demo refuses a database that holds data',
    async () => {
      const result = await run(['demo'], { ...demo, DEMO_PASSWORD });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/already holds data/);
    },
    TIMEOUT,
  );

  it(
    'users add reads the password from stdin; backup holds the account; restore into an empty database exports the same plan',
    async () => {
      const password = 'a password from standard input';
      const added = await run(
        [
          'users',
          'add',
          '--email',
          'Ann.Smith@Council.example',
          '--name',
          'Ann Smith',
          '--role',
          'coordinator',
          '--partnership',
          'sosafe',
          '--organisation',
          'SBC',
          '--password-stdin',
        ],
        demo,
        `${password}\n`,
      );
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);

      const backupFile = path.join(scratch, 'backup.json.gz');
      const backup = await run(['backup', '--out', backupFile], demo);
      expect(backup.code).toBe(0);
      const tables = (
        JSON.parse(zlib.gunzipSync(fs.readFileSync(backupFile)).toString('utf8')) as {
          tables: Record<string, Record<string, unknown>[]>;
        }
      ).tables;
      const ann = tables.users!.find((u) => u.email === 'ann.smith@council.example');
      expect(ann).toBeDefined();
      expect(await argon2.verify(String(ann!.password_hash), password)).toBe(true);
      expect(tables.memberships!.find((m) => m.user_id === ann!.id)).toMatchObject({ role: 'coordinator' });

      const restored = await emptyDatabase();
      const restore = await run(['restore', '--file', backupFile], restored);
      expect(restore.code).toBe(0);
      const after = await run(
        ['export', '--plan', '2024/25', '--partnership', 'sosafe', '--format', 'json'],
        restored,
      );
      expect(after.code).toBe(0);
      expect(after.stdout).toBe(exported);
    },
    TIMEOUT,
  );
});

describe('importing bad files', () => {
  it(
    'names the place of each problem, exits 1 and leaves the database empty',
    async () => {
      const target = await emptyDatabase();
      const demoFile = JSON.parse(demoText) as {
        plans: {
          sections: { aims: { number: string; actions: { progress: { quarter: unknown }[] }[] }[] }[];
        }[];
      };

      const duplicate = structuredClone(demoFile);
      duplicate.plans[0]!.sections[0]!.aims[1]!.number = '1.1';
      const quarter5 = structuredClone(demoFile);
      quarter5.plans[0]!.sections[1]!.aims[0]!.actions[0]!.progress[1]!.quarter = 5;

      const cases: { file: string; args?: string[]; expected: string }[] = [
        {
          file: scratchFile(
            'missing-column.csv',
            'Section,Section title,Aim,Action\r\n1,Divert young people,1.1,Visit schools\r\n',
          ),
          args: ['--partnership', 'sosafe', '--plan', '2024/25'],
          expected: 'line 1: missing column "Aim title"',
        },
        {
          file: scratchFile('duplicate-aim.json', JSON.stringify(duplicate, null, 2)),
          expected: 'plans[0].sections[0].aims[1].number: repeats aim number 1.1',
        },
        {
          file: scratchFile('quarter-5.json', JSON.stringify(quarter5, null, 2)),
          expected: 'plans[0].sections[1].aims[0].actions[0].progress[1].quarter: ',
        },
        {
          file: scratchFile(
            'malformed.json',
            '{\n  "format": "partnership-plan/v1",\n  "partnership": {,\n}\n',
          ),
          expected: 'line 3, column 19: is not valid JSON',
        },
      ];
      for (const { file, args = [], expected } of cases) {
        const result = await run(['import', '--file', file, ...args], target);
        expect(result.code, file).toBe(1);
        expect(result.stderr, file).toContain(`${file}: ${expected}`);
        expect(result.stderr, file).not.toMatch(/^\s+at /m);
      }

      const check = await run(['export', '--plan', '2024/25', '--format', 'json'], target);
      expect(check.code).toBe(1);
      expect(check.stderr).toMatch(/There is no partnership in this database yet/);
      expect(check.stdout).toBe('');
    },
    TIMEOUT,
  );
});

describe('the embedded database folder', () => {
  it(
    'refuses a second process while one holds it, and opens once it is let go',
    async () => {
      const env = { DATA_DIR: newDataDir(), DATABASE_URL: '' };
      const client = pathToFileURL(path.join(ROOT, 'src', 'db', 'client.ts')).href;
      const holder = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          `const { openDatabase } = await import(${JSON.stringify(client)});
           const database = await openDatabase({ dataDir: process.env.DATA_DIR });
           process.stdout.write('ready\\n');
           process.stdin.on('end', async () => { await database.close(); process.exit(0); });
           process.stdin.resume();`,
        ],
        { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
      try {
        await new Promise<void>((resolve, reject) => {
          holder.stdout.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('ready')) resolve();
          });
          holder.on('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
        });

        const refused = await run(['migrate'], env);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`is in use by another Partnership Plan process (pid ${holder.pid})`);
        expect(refused.stderr).not.toMatch(/^\s+at /m);
      } finally {
        holder.stdin.end();
      }
      expect(await exited).toBe(0);

      const opened = await run(['migrate'], env);
      expect(opened.code).toBe(0);
      const shipped = (
        JSON.parse(fs.readFileSync(path.join(ROOT, 'src/db/migrations/meta/_journal.json'), 'utf8')) as {
          entries: unknown[];
        }
      ).entries.length;
      expect(opened.stdout).toContain(`has ${shipped} migrations applied`);
    },
    TIMEOUT,
  );
});
