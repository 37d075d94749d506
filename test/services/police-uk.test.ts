/**
 * police.uk import and summary on the real January 2022 Hertfordshire files: every row kept (ASB
 * without a Crime ID, rows without a location), a re-import replacing the month, a bad or cut file
 * rolled back, and a partnership's area counted against an independent reading of the file.
 */
import { fileURLToPath } from 'node:url';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { and, count, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, policeOutcomes, policeStreetCrimes } from '../../src/db/schema.js';
import { memberActor, systemActor } from '../../src/services/actor.js';
import { ForbiddenError, ValidationError } from '../../src/services/errors.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { addUser } from '../../src/services/users.js';
import {
  importPoliceUkFile,
  PoliceUkFileError,
  readArea,
  setPartnershipArea,
  summarisePoliceUkMonth,
  type PoliceUkImportResult,
} from '../../src/services/police-uk.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));
const STREET = path.join(DATA, '2022-01-hertfordshire-street.csv');
const OUTCOMES = path.join(DATA, '2022-01-hertfordshire-outcomes.csv');
const FORCE = 'Hertfordshire Constabulary';

/** The file read independently of the import: header dropped, one array of fields a row. */
function readRows(file: string): string[][] {
  return (parse(fs.readFileSync(file, 'utf8')) as string[][]).slice(1);
}
const streetRows = readRows(STREET);
const outcomeRows = readRows(OUTCOMES);
const inStevenage = (r: string[]) => r[8]!.startsWith('Stevenage ');

function tally(rows: string[][], column: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r[column]!] = (counts[r[column]!] ?? 0) + 1;
  return counts;
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-'));
let database: TestDatabase;
let streetImport: PoliceUkImportResult;
let partnershipId: number;
const progress: [number, number, number][] = [];

async function streetCount(): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(policeStreetCrimes);
  return row!.n;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const partnership = await createPartnership(database.db, systemActor(), {
    slug: 'sosafe',
    name: 'SoSafe Stevenage',
  });
  partnershipId = partnership.id;
  streetImport = await importPoliceUkFile(database.db, STREET, systemActor(), {
    onProgress: (...args) => progress.push(args),
  });
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('importing a street file', () => {
  it('keeps every data line of the file, as one force month', async () => {
    expect(streetRows.length).toBeGreaterThan(8000);
    expect(streetImport).toMatchObject({
      kind: 'street',
      force: FORCE,
      month: '2022-01',
      rows: streetRows.length,
      replaced: 0,
    });
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('keeps ASB rows without a Crime ID and rows without a location', async () => {
    const asbWithoutId = streetRows.filter((r) => r[0] === '' && r[9] === 'Anti-social behaviour').length;
    const withoutLocation = streetRows.filter((r) => r[4] === '').length;
    expect(asbWithoutId).toBeGreaterThan(0);
    expect(withoutLocation).toBeGreaterThan(0);
    const [asb] = await database.db
      .select({ n: count() })
      .from(policeStreetCrimes)
      .where(
        and(isNull(policeStreetCrimes.crimeId), eq(policeStreetCrimes.crimeType, 'Anti-social behaviour')),
      );
    expect(asb!.n).toBe(asbWithoutId);
    const summary = await summarisePoliceUkMonth(database.db, { month: '2022-01' });
    expect(summary.withoutLocation).toBe(withoutLocation);
  });

  it('reports progress up to the whole file, and records the import in the audit trail', async () => {
    expect(progress.length).toBeGreaterThan(1);
    const [rows, bytesRead, totalBytes] = progress.at(-1)!;
    expect(rows).toBe(streetRows.length);
    expect(totalBytes).toBe(fs.statSync(STREET).size);
    expect(bytesRead).toBe(totalBytes);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThan(progress[i - 1]![0]);
    const events = await database.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.kind, 'police_uk.imported'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ partnershipId: null, entityId: `${FORCE} 2022-01 street` });
  });

  it('summarises the whole force: rows and crime types match the file, no outcomes yet', async () => {
    const summary = await summarisePoliceUkMonth(database.db, { month: '2022-01' });
    expect(summary).toMatchObject({ month: '2022-01', force: FORCE, area: null, rows: streetRows.length });
    expect(summary.byCrimeType).toEqual(tally(streetRows, 9));
    expect(summary).not.toHaveProperty('byOutcome');
  });

  it('re-importing the month replaces it: no duplicates', async () => {
    const again = await importPoliceUkFile(database.db, STREET, systemActor());
    expect(again).toMatchObject({ rows: streetRows.length, replaced: streetRows.length });
    expect(await streetCount()).toBe(streetRows.length);
  });
});

describe('a bad file writes nothing', () => {
  const lines = fs.readFileSync(STREET, 'utf8').split('\n');

  it('a corrupted row names its line, and the month already imported is left as it was', async () => {
    const corrupted = [...lines];
    corrupted[4999] = corrupted[4999]!.replace(',2022-01,', ',Jan 2022,'); // line 5000
    const file = path.join(scratch, 'corrupted.csv');
    fs.writeFileSync(file, corrupted.join('\n'));
    await expect(importPoliceUkFile(database.db, file, systemActor())).rejects.toThrow(
      new PoliceUkFileError(`${file}: line 5000: "Month" must be YYYY-MM, not "Jan 2022".`),
    );
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('a file cut mid-row is refused with its last line', async () => {
    const file = path.join(scratch, 'cut.csv');
    // Past the first megabyte: the embedded database reads the file a megabyte of rows at a time.
    expect(lines.slice(0, 6000).join('\n').length).toBeGreaterThan(1024 * 1024);
    fs.writeFileSync(file, `${lines.slice(0, 6000).join('\n')}\n${lines[6000]!.slice(0, 70)}`);
    await expect(importPoliceUkFile(database.db, file, systemActor())).rejects.toThrow(
      /cut\.csv: line 6001: expected 12 fields, found \d+ \(is the file cut short\?\)/,
    );
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('each check of a row refuses it with its own message and line, on both kinds of file', async () => {
    const [, good] = readRows(STREET);
    const [, goodOutcome] = readRows(OUTCOMES);
    const row = (from: string[], changes: Record<number, string>) =>
      from.map((value, i) => (i in changes ? changes[i]! : value));
    const cases: [string, string[], string][] = [
      [STREET, row(good!, { 1: '2022-13' }), '"Month" must be YYYY-MM, not "2022-13".'],
      [STREET, row(good!, { 4: 'west' }), '"Longitude" is not a coordinate: "west".'],
      [STREET, row(good!, { 4: '-181' }), '"Longitude" is not a coordinate: "-181".'],
      [STREET, row(good!, { 5: '91.5' }), '"Latitude" is not a coordinate: "91.5".'],
      [STREET, row(good!, { 5: '' }), '"Longitude" and "Latitude" must both be given or both empty.'],
      [STREET, row(good!, { 2: ' ' }), '"Reported by" is empty.'],
      [STREET, row(good!, { 3: '' }), '"Falls within" is empty.'],
      [STREET, row(good!, { 9: '' }), '"Crime type" is empty.'],
      [
        STREET,
        row(good!, { 2: 'Bedfordshire Police' }),
        `a police.uk file holds one force's month; this row is Bedfordshire Police 2022-01, the file began with ${FORCE} 2022-01.`,
      ],
      [
        STREET,
        row(good!, { 1: '2022-02' }),
        `a police.uk file holds one force's month; this row is ${FORCE} 2022-02, the file began with ${FORCE} 2022-01.`,
      ],
      [STREET, [...good!, 'extra'], 'expected 12 fields, found more.'],
      [OUTCOMES, row(goodOutcome!, { 0: '' }), '"Crime ID" is empty.'],
      [OUTCOMES, row(goodOutcome!, { 9: '' }), '"Outcome type" is empty.'],
    ];
    for (const [source, bad, message] of cases) {
      const [header, ...rows] = fs.readFileSync(source, 'utf8').split('\n').slice(0, 6);
      const file = path.join(scratch, 'bad-row.csv');
      // Line 5 is the bad one: the header, three good rows, then it, then a good row.
      fs.writeFileSync(
        file,
        [
          header,
          ...rows.slice(0, 3),
          bad.map((v) => (/[",]/.test(v) ? `"${v}"` : v)).join(','),
          rows[4],
        ].join('\n'),
      );
      await expect(importPoliceUkFile(database.db, file, systemActor()), message).rejects.toThrow(
        new PoliceUkFileError(`${file}: line 5: ${message}`),
      );
    }
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('a blank line between rows, or a quote left open, is refused with its line', async () => {
    const blank = path.join(scratch, 'blank.csv');
    fs.writeFileSync(blank, [...lines.slice(0, 3), '', ...lines.slice(3, 6)].join('\n'));
    await expect(importPoliceUkFile(database.db, blank, systemActor())).rejects.toThrow(
      new PoliceUkFileError(`${blank}: line 4: expected 12 fields, found 1 (is the file cut short?).`),
    );
    const open = path.join(scratch, 'open-quote.csv');
    fs.writeFileSync(open, [...lines.slice(0, 3), `"${lines[3]}`].join('\n'));
    await expect(importPoliceUkFile(database.db, open, systemActor())).rejects.toThrow(
      /open-quote\.csv: line 4: not valid CSV \(unterminated CSV quoted field\); is the file cut short or damaged\?/,
    );
    // A quoted line break in a row before: the line is still the file's.
    const multiline = path.join(scratch, 'multi-line.csv');
    const withBreak = lines[1]!.replace(',On or near ', ',"On or near\n').replace(/,(E0\d+),/, '",$1,');
    expect(withBreak).toContain('\n');
    const badMonth = lines[3]!.replace(',2022-01,', ',2022-1,');
    fs.writeFileSync(multiline, [lines[0], withBreak, lines[2], badMonth].join('\n'));
    await expect(importPoliceUkFile(database.db, multiline, systemActor())).rejects.toThrow(
      new PoliceUkFileError(`${multiline}: line 5: "Month" must be YYYY-MM, not "2022-1".`),
    );
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('a file with unknown headers is refused, naming the expected headers', async () => {
    const file = path.join(scratch, 'renamed.csv');
    fs.writeFileSync(file, [lines[0]!.replace('Crime type', 'Offence'), ...lines.slice(1, 10)].join('\n'));
    await expect(importPoliceUkFile(database.db, file, systemActor())).rejects.toThrow(
      /renamed\.csv: line 1: the headers are not those of a police\.uk street or outcomes file.*A street file has: Crime ID,Month/,
    );
    expect(await streetCount()).toBe(streetRows.length);
  });

  it('a coordinator may import; a lead officer or partner may not, nor set an area', async () => {
    const as = (role: 'coordinator' | 'lead_officer' | 'partner') =>
      memberActor({
        userId: 1,
        name: 'Casey Member',
        partnershipId,
        role,
        organisationId: null,
        personId: null,
        reviewsUpdates: false,
      });
    for (const role of ['lead_officer', 'partner'] as const) {
      await expect(importPoliceUkFile(database.db, STREET, as(role))).rejects.toBeInstanceOf(ForbiddenError);
      await expect(
        setPartnershipArea(database.db, as(role), 'sosafe', { codes: ['E01000001'], prefixes: [] }),
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    const { userId } = await addUser(
      database.db,
      {
        email: 'casey@example.org',
        name: 'Casey Member',
        password: 'a long enough password',
        partnership: 'sosafe',
        role: 'coordinator',
      },
      systemActor(),
    );
    const coordinator = { ...as('coordinator'), userId };
    const again = await importPoliceUkFile(database.db, STREET, coordinator);
    expect(again).toMatchObject({ rows: streetRows.length, replaced: streetRows.length });
    // The coordinator's import is in their partnership's audit trail.
    const [event] = await database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.kind, 'police_uk.imported'), eq(auditEvents.actorUserId, userId)));
    expect(event?.partnershipId).toBe(partnershipId);
    expect(await streetCount()).toBe(streetRows.length);
  });
});

describe('a partnership area', () => {
  it('needs an area before an area summary', async () => {
    await expect(summarisePoliceUkMonth(database.db, { month: '2022-01', area: 'sosafe' })).rejects.toThrow(
      ValidationError,
    );
  });

  it('counts only the rows whose LSOA name starts with the prefix', async () => {
    await setPartnershipArea(database.db, systemActor(), 'sosafe', { codes: [], prefixes: ['Stevenage '] });
    const expected = streetRows.filter(inStevenage);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(streetRows.length);
    const summary = await summarisePoliceUkMonth(database.db, { month: '2022-01', area: 'sosafe' });
    expect(summary).toMatchObject({
      force: FORCE,
      area: 'sosafe',
      rows: expected.length,
      withoutLocation: 0,
    });
    expect(summary.byCrimeType).toEqual(tally(expected, 9));
  });

  it('matches LSOA codes too, and replaces the area when set again', async () => {
    const codes = [...new Set(streetRows.filter(inStevenage).map((r) => r[7]!))].slice(0, 3);
    await setPartnershipArea(database.db, systemActor(), 'sosafe', { codes, prefixes: [] });
    expect(await readArea(database.db, partnershipId)).toEqual({ codes: [...codes].sort(), prefixes: [] });
    const summary = await summarisePoliceUkMonth(database.db, { month: '2022-01', area: 'sosafe' });
    expect(summary.rows).toBe(streetRows.filter((r) => codes.includes(r[7]!)).length);
    await setPartnershipArea(database.db, systemActor(), 'sosafe', { codes: [], prefixes: ['Stevenage '] });
  });
});

describe('importing an outcomes file', () => {
  it('imports every outcome and adds byOutcome to the summary, for the force and the area', async () => {
    const result = await importPoliceUkFile(database.db, OUTCOMES, systemActor());
    expect(result).toMatchObject({
      kind: 'outcomes',
      force: FORCE,
      month: '2022-01',
      rows: outcomeRows.length,
    });
    const [stored] = await database.db.select({ n: count() }).from(policeOutcomes);
    expect(stored!.n).toBe(outcomeRows.length);
    expect(await streetCount()).toBe(streetRows.length); // an outcomes import leaves street rows alone

    const force = await summarisePoliceUkMonth(database.db, { month: '2022-01' });
    expect(force.byOutcome).toEqual(tally(outcomeRows, 9));
    const area = await summarisePoliceUkMonth(database.db, { month: '2022-01', area: 'sosafe' });
    expect(area.byOutcome).toEqual(tally(outcomeRows.filter(inStevenage), 9));
    expect(area.rows).toBe(streetRows.filter(inStevenage).length);
  });

  it('refuses a month with no data, and a month not written YYYY-MM', async () => {
    await expect(summarisePoliceUkMonth(database.db, { month: '2022-02' })).rejects.toThrow(
      /no police\.uk street data is imported for 2022-02/,
    );
    await expect(summarisePoliceUkMonth(database.db, { month: 'January' })).rejects.toThrow(ValidationError);
  });
});

describe('values as the file has them', () => {
  it('keeps a backslash, a tab, quotes, commas and a line break in a value, and nulls where the file is blank', async () => {
    const header = fs.readFileSync(STREET, 'utf8').split('\n')[0]!;
    const odd = 'On or near "Back\\Lane",\tby the\r\nshops';
    const file = path.join(scratch, 'odd-values.csv');
    fs.writeFileSync(
      file,
      [
        header,
        `,1999-01,${FORCE},${FORCE},-0.2,51.9,"${odd.replaceAll('"', '""')}",E01000001,Stevenage 001A,Anti-social behaviour,,`,
        `X1,1999-01,${FORCE},${FORCE},,,No location,,,Drugs,Under investigation,`,
        '',
        '',
      ].join('\r\n'),
    );
    await importPoliceUkFile(database.db, file, systemActor());
    const rows = await database.db
      .select()
      .from(policeStreetCrimes)
      .where(eq(policeStreetCrimes.month, '1999-01'))
      .orderBy(sql`${policeStreetCrimes.crimeId} nulls first`);
    expect(rows.map((r) => [r.crimeId, r.location, r.longitude, r.lsoaCode, r.lastOutcomeCategory])).toEqual([
      [null, odd, -0.2, 'E01000001', null],
      ['X1', 'No location', null, null, 'Under investigation'],
    ]);
    // Gone again, so that nothing after this counts them.
    await database.db.delete(policeStreetCrimes).where(eq(policeStreetCrimes.month, '1999-01'));
  });
});
