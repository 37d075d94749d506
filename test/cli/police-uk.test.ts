/**
 * `partnership-plan police-uk` as a child process, against a fresh database: the demo (which gives
 * SoSafe the area "Stevenage "), the real January 2022 Hertfordshire files imported, the summary
 * printed as JSON, and a file with the wrong headers refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliScratch, runCli as run } from '../support/cli.js';

const TIMEOUT = 120_000;
const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));
const STREET = path.join(DATA, '2022-01-hertfordshire-street.csv');
const OUTCOMES = path.join(DATA, '2022-01-hertfordshire-outcomes.csv');

const { scratch, emptyDatabase } = cliScratch('pp-cli-police-');

const streetRows = (parse(fs.readFileSync(STREET, 'utf8')) as string[][]).slice(1);
const stevenageRows = streetRows.filter((r) => r[8]!.startsWith('Stevenage '));

describe('partnership-plan police-uk', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = await emptyDatabase();
    const demo = await run(['demo'], { ...env, DEMO_PASSWORD: 'demo password for the police test' });
    expect(demo.code, demo.stderr).toBe(0);
  }, TIMEOUT);

  it(
    'imports the street and outcomes files with a line for each, then prints the area summary as JSON',
    async () => {
      const imported = await run(['police-uk', 'import', STREET, OUTCOMES], env);
      expect(imported.stderr).toBe(''); // not a terminal: no progress bar
      expect(imported.code).toBe(0);
      expect(imported.stdout).toContain(
        `${STREET}: imported ${streetRows.length} street rows for Hertfordshire Constabulary, 2022-01`,
      );
      expect(imported.stdout).toMatch(/hertfordshire-outcomes\.csv: imported \d+ outcomes rows/);

      const summary = await run(
        ['police-uk', 'summary', '--month', '2022-01', '--area', 'sosafe', '--format', 'json'],
        env,
      );
      expect(summary.stderr).toBe('');
      expect(summary.code).toBe(0);
      const json = JSON.parse(summary.stdout) as Record<string, unknown>;
      expect(json).toMatchObject({
        month: '2022-01',
        force: 'Hertfordshire Constabulary',
        rows: stevenageRows.length,
        withoutLocation: 0,
      });
      expect(Object.values(json.byCrimeType as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(
        stevenageRows.length,
      );
      expect(Object.keys(json.byOutcome as object).length).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    'refuses a file with the wrong headers: exit 1, the message, nothing written',
    async () => {
      const file = path.join(scratch, 'wrong.csv');
      fs.writeFileSync(file, 'Crime ID,Month,Force,Type\nabc,2022-01,Herts,Drugs\n');
      const result = await run(['police-uk', 'import', file], env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `error: ${file}: line 1: the headers are not those of a police.uk street or outcomes file.`,
      );
      expect(result.stderr).toContain('Nothing was written for this file.');
      expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
      // Had its row been written, 2022-01 would hold a second force and the summary would ask which.
      const summary = await run(['police-uk', 'summary', '--month', '2022-01', '--format', 'json'], env);
      expect(summary.code, summary.stderr).toBe(0);
      expect(JSON.parse(summary.stdout)).toMatchObject({ force: 'Hertfordshire Constabulary', area: null });
    },
    TIMEOUT,
  );

  it(
    'sets an area by LSOA code, and the summary follows it',
    async () => {
      const code = stevenageRows[0]![7]!;
      const set = await run(['police-uk', 'area', '--partnership', 'north-herts', '--code', code], env);
      expect(set.code, set.stderr).toBe(0);
      expect(set.stdout).toContain(`LSOA codes ${code}`);
      const summary = await run(
        ['police-uk', 'summary', '--month', '2022-01', '--area', 'north-herts', '--format', 'json'],
        env,
      );
      expect(summary.code, summary.stderr).toBe(0);
      expect((JSON.parse(summary.stdout) as { rows: number }).rows).toBe(
        streetRows.filter((r) => r[7] === code).length,
      );
    },
    TIMEOUT,
  );
});
