/**
 * The import's fast path (PostgreSQL: COPY straight into the month's own table, checking each row
 * as it comes, then one scan counts it) and its fallback: a file whose fault COPY lets through, or whose values need
 * trimming, is rolled back and read by the detailed path, which refuses it with the same message
 * and line as ever (writing nothing) or writes it as it always did. On PGlite every file takes the
 * detailed path.
 */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { and, count, eq, sum } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, policeCrimeCounts, policeStreetCrimes } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { importPoliceUkFile, PoliceUkFileError } from '../../src/services/police-uk.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const STREET = fileURLToPath(
  new URL('../../src/demo/evidence/policeuk/2022-01-hertfordshire-street.csv', import.meta.url),
);
const FORCE = 'Hertfordshire Constabulary';
const MONTH = '1998-03';
const [HEADER, ...SOURCE] = parse(fs.readFileSync(STREET, 'utf8')) as string[][];
/** 300 rows of the real file, as March 1998, rows with a location first. */
const ROWS = SOURCE.filter((r) => r[4] !== '')
  .slice(0, 300)
  .map((r) => Object.assign([...r], { 1: MONTH }));

const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-fast-'));
let database: TestDatabase;
let files = 0;

/** A street file of ROWS, `change` applied to the copy of row `index` (line index + 2). */
function file(change?: { index: number; edit: (row: string[]) => string[] | string }): string {
  const lines = ROWS.map((row, i) => {
    if (i !== change?.index) return row.map(field).join(',');
    const edited = change.edit([...row]);
    return typeof edited === 'string' ? edited : edited.map(field).join(',');
  });
  const name = path.join(scratch, `street-${++files}.csv`);
  fs.writeFileSync(name, `${[HEADER!.join(','), ...lines].join('\n')}\n`);
  return name;
}

async function importWay(name: string): Promise<{ way: string | undefined; error?: unknown }> {
  let way: string | undefined;
  try {
    await importPoliceUkFile(database.db, name, systemActor(), { onPath: (w) => (way = w) });
    return { way };
  } catch (error) {
    return { way, error };
  }
}

/** The month as held: its rows, their sum in the counts, and the imports audited. */
async function held() {
  const where = and(eq(policeStreetCrimes.force, FORCE), eq(policeStreetCrimes.month, MONTH));
  const [rows] = await database.db.select({ n: count() }).from(policeStreetCrimes).where(where);
  const [counted] = await database.db
    .select({ n: sum(policeCrimeCounts.crimes).mapWith(Number) })
    .from(policeCrimeCounts)
    .where(and(eq(policeCrimeCounts.force, FORCE), eq(policeCrimeCounts.month, MONTH)));
  const [audited] = await database.db
    .select({ n: count() })
    .from(auditEvents)
    .where(eq(auditEvents.kind, 'police_uk.imported'));
  return { rows: rows!.n, counted: counted!.n, audited: audited!.n };
}

const fastWay = () => (database.kind === 'postgres' ? 'fast' : 'detailed');

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('a valid file', () => {
  it('is written by the fast path on PostgreSQL, counted, and replaces the month when imported again', async () => {
    expect(await importWay(file())).toEqual({ way: fastWay() });
    expect(await held()).toEqual({ rows: ROWS.length, counted: ROWS.length, audited: 1 });
    expect(await importWay(file())).toEqual({ way: fastWay() });
    expect(await held()).toEqual({ rows: ROWS.length, counted: ROWS.length, audited: 2 });
    // The force, which COPY leaves out, came from the month's own table's default.
    const [row] = await database.db
      .select({ force: policeStreetCrimes.force, reportedBy: policeStreetCrimes.reportedBy })
      .from(policeStreetCrimes)
      .where(eq(policeStreetCrimes.month, MONTH))
      .limit(1);
    expect(row).toEqual({ force: FORCE, reportedBy: FORCE });
  });
});

describe('a fault the fast path finds only in its checks', () => {
  // Each is COPied without complaint; the checks roll it back and the detailed path names the line.
  const cases: [string, { index: number; edit: (row: string[]) => string[] | string }, string][] = [
    [
      'a row of another month',
      { index: 150, edit: (r) => Object.assign(r, { 1: '1998-04' }) },
      `line 152: a police.uk file holds one force's month; this row is ${FORCE} 1998-04, the file began with ${FORCE} ${MONTH}.`,
    ],
    [
      "a row of another force's",
      { index: 7, edit: (r) => Object.assign(r, { 2: 'Essex Police' }) },
      `line 9: a police.uk file holds one force's month; this row is Essex Police ${MONTH}, the file began with ${FORCE} ${MONTH}.`,
    ],
    [
      'a longitude beyond 180 degrees',
      { index: 299, edit: (r) => Object.assign(r, { 4: '200.5' }) },
      'line 301: "Longitude" is not a coordinate: "200.5".',
    ],
    [
      'a latitude without its longitude',
      { index: 40, edit: (r) => Object.assign(r, { 4: '' }) },
      'line 42: "Longitude" and "Latitude" must both be given or both empty.',
    ],
    [
      'a crime type given as ""',
      {
        index: 12,
        edit: (r) =>
          r
            .map(field)
            .join(',')
            .replace(/,[^,]*,([^,]*),([^,]*)$/, ',"",$1,$2'),
      },
      'line 14: "Crime type" is empty.',
    ],
    [
      'a longitude in hexadecimal (which PostgreSQL reads as a number)',
      { index: 60, edit: (r) => Object.assign(r, { 4: '0x10' }) },
      'line 62: "Longitude" is not a coordinate: "0x10".',
    ],
    [
      'a longitude that is no number (COPY refuses it)',
      { index: 3, edit: (r) => Object.assign(r, { 4: 'west' }) },
      'line 5: "Longitude" is not a coordinate: "west".',
    ],
  ];

  it.each(cases)('%s: the same message and line as ever, and nothing written', async (_, change, message) => {
    const before = await held();
    const name = file(change);
    const { way, error } = await importWay(name);
    expect(error).toEqual(new PoliceUkFileError(`${name}: ${message}`));
    // Refused by the detailed path (`way` is told before it runs); on PostgreSQL after the fast
    // path rolled back.
    expect(way).toBe('detailed');
    expect(await held()).toEqual(before);
  });
});

describe('values the detailed path trims or nulls', () => {
  it('a file whose values need trimming is written by the detailed path, trimmed', async () => {
    const name = file({
      index: 20,
      edit: (r) => Object.assign(r, { 6: '\tOn or near Sheep Lane', 8: `${r[8]} `, 9: ` ${r[9]} ` }),
    });
    expect(await importWay(name)).toEqual({ way: 'detailed' });
    const rows = await database.db
      .select({ location: policeStreetCrimes.location, lsoaName: policeStreetCrimes.lsoaName })
      .from(policeStreetCrimes)
      .where(
        and(eq(policeStreetCrimes.month, MONTH), eq(policeStreetCrimes.location, 'On or near Sheep Lane')),
      );
    expect(rows).toContainEqual({ location: 'On or near Sheep Lane', lsoaName: ROWS[20]![8] });
    expect(await held()).toMatchObject({ rows: ROWS.length, counted: ROWS.length });
  });

  it('an unquoted empty location (which COPY cannot write) is imported as empty', async () => {
    const name = file({ index: 5, edit: (r) => Object.assign(r, { 6: '' }) });
    expect(await importWay(name)).toEqual({ way: 'detailed' });
    const [empty] = await database.db
      .select({ n: count() })
      .from(policeStreetCrimes)
      .where(and(eq(policeStreetCrimes.month, MONTH), eq(policeStreetCrimes.location, '')));
    expect(empty!.n).toBe(1);
  });
});
