/**
 * Each force's month of police.uk rows is a table of its own (migration 0014,
 * src/services/police-months.ts): an import makes it, a re-import puts a new one in its place, a
 * refused file leaves nothing behind, two forces share a month's partition, imports at once wait
 * for each other, and the migration moves the rows a database already held.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { and, count, eq, sql, sum } from 'drizzle-orm';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, queryRows, type Db } from '../../src/db/client.js';
import { policeCrimeCounts, policeStreetCrimes } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { forceMonthTableName, monthTableName, POLICE_IMPORT_LOCK } from '../../src/services/police-months.js';
import { importPoliceUkFile, PoliceUkFileError } from '../../src/services/police-uk.js';
import { createTestDatabase, openSecondConnection, type TestDatabase } from '../support/database.js';
import { createServerDatabase } from '../support/server-database.js';

const STREET = fileURLToPath(
  new URL('../../src/demo/evidence/policeuk/2022-01-hertfordshire-street.csv', import.meta.url),
);
const HERTS = 'Hertfordshire Constabulary';
const BEDS = "Bedfordshire Police (King's)"; // a quote, as a name of a force may hold
const MONTH = '1999-07';
const [HEADER, ...SOURCE] = parse(fs.readFileSync(STREET, 'utf8')) as string[][];
const field = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-months-'));
let database: TestDatabase;
let files = 0;

/** A street file of the real file's first `rows` rows as the force's month; `lastLine` replaces the last. */
function file(force: string, rows: number, lastLine?: string): string {
  const lines = SOURCE.slice(0, rows).map((row) =>
    Object.assign([...row], { 1: MONTH, 2: force, 3: force })
      .map(field)
      .join(','),
  );
  if (lastLine) lines[lines.length - 1] = lastLine;
  const name = path.join(scratch, `street-${++files}.csv`);
  fs.writeFileSync(name, `${[HEADER!.join(','), ...lines].join('\n')}\n`);
  return name;
}

/** The police street tables as the catalogue shows them: each with its parent, or null for the root. */
async function tree(db: Db): Promise<{ name: string; parent: string | null }[]> {
  return queryRows(
    db,
    sql`select c.relname as name, p.relname as parent
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      left join pg_inherits i on i.inhrelid = c.oid left join pg_class p on p.oid = i.inhparent
      where n.nspname = 'public' and c.relname like 'police_street_crimes%' and c.relkind in ('r', 'p')
      order by c.relname`,
  );
}

/** A force's month as read through the police table, and its sum in the counts. */
async function held(force: string): Promise<{ rows: number; counted: number | null }> {
  const [rows] = await database.db
    .select({ n: count() })
    .from(policeStreetCrimes)
    .where(and(eq(policeStreetCrimes.force, force), eq(policeStreetCrimes.month, MONTH)));
  const [counted] = await database.db
    .select({ n: sum(policeCrimeCounts.crimes).mapWith(Number) })
    .from(policeCrimeCounts)
    .where(and(eq(policeCrimeCounts.force, force), eq(policeCrimeCounts.month, MONTH)));
  return { rows: rows!.n, counted: counted!.n };
}

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('a force’s month of police.uk rows', () => {
  const monthTable = monthTableName('street', MONTH);
  const herts = forceMonthTableName('street', HERTS, MONTH);
  const beds = forceMonthTableName('street', BEDS, MONTH);

  it('is a table of its own under its month, replaced whole when imported again', async () => {
    const first = await importPoliceUkFile(database.db, file(HERTS, 120), systemActor());
    expect(first.replaced).toBe(0);
    expect(await tree(database.db)).toEqual(
      expect.arrayContaining([
        { name: 'police_street_crimes', parent: null },
        { name: monthTable, parent: 'police_street_crimes' },
        { name: herts, parent: monthTable },
      ]),
    );
    expect(await held(HERTS)).toEqual({ rows: 120, counted: 120 });

    const again = await importPoliceUkFile(database.db, file(HERTS, 80), systemActor());
    expect(again.replaced).toBe(120);
    expect(await held(HERTS)).toEqual({ rows: 80, counted: 80 });
    const names = (await tree(database.db)).map((t) => t.name);
    expect(names.filter((name) => name.startsWith(`${monthTable}_`))).toEqual([herts]);
  });

  it('shares its month with another force’s, each read alone', async () => {
    await importPoliceUkFile(database.db, file(BEDS, 30), systemActor());
    expect(await held(BEDS)).toEqual({ rows: 30, counted: 30 });
    expect(await held(HERTS)).toEqual({ rows: 80, counted: 80 });
    const children = (await tree(database.db)).filter((t) => t.parent === monthTable).map((t) => t.name);
    expect(children.sort()).toEqual([beds, herts].sort());
  });

  it('is left as it was when a file is refused, and no table of the refused file is left', async () => {
    const before = await tree(database.db);
    const bad = file(
      HERTS,
      50,
      `x,${MONTH},${HERTS},${HERTS},not a number,51.8,On or near X,E01,Y,Burglary,,`,
    );
    await expect(importPoliceUkFile(database.db, bad, systemActor())).rejects.toThrow(PoliceUkFileError);
    expect(await tree(database.db)).toEqual(before);
    expect(await held(HERTS)).toEqual({ rows: 80, counted: 80 });
  });

  it('waits, on PostgreSQL, while another import holds the import lock (any instance)', async () => {
    if (database.kind === 'pglite') {
      // One connection: the embedded database runs one transaction at a time anyway (below).
      expect(database.url).toBeUndefined();
      return;
    }
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1)', [POLICE_IMPORT_LOCK]);
      let settled = false;
      const waiting = importPoliceUkFile(database.db, file(HERTS, 80), systemActor()).finally(
        () => (settled = true),
      );
      // Until PostgreSQL shows the import waiting for the lock.
      for (let tries = 0; ; tries++) {
        const { rows } = await holder.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = $1 and not granted`,
          [POLICE_IMPORT_LOCK],
        );
        if (rows[0]!.n === 1) break;
        expect(tries).toBeLessThan(200);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(settled).toBe(false);
      await holder.query('select pg_advisory_unlock($1)', [POLICE_IMPORT_LOCK]);
      expect(await waiting).toMatchObject({ rows: 80, replaced: 80 });
    } finally {
      await holder.end();
    }
  });

  it('is written by one import at a time: imports started together both land, counted', async () => {
    // On PostgreSQL two instances' connections; the embedded database has one.
    const second = database.kind === 'postgres' ? await openSecondConnection(database) : undefined;
    try {
      const results = await Promise.all([
        importPoliceUkFile(database.db, file(HERTS, 60), systemActor()),
        importPoliceUkFile((second ?? database).db, file(BEDS, 40), systemActor()),
        importPoliceUkFile(database.db, file(HERTS, 70), systemActor()),
      ]);
      // The two of Hertfordshire ran one after the other, whichever began first: it replaced the
      // 80 rows held, and the other replaced its rows and is what is held now.
      const [a, b] = results.filter((r) => r.force === HERTS);
      const [first, last] = a!.replaced === 80 ? [a!, b!] : [b!, a!];
      expect(first.replaced).toBe(80);
      expect(last.replaced).toBe(first.rows);
      expect(await held(HERTS)).toEqual({ rows: last.rows, counted: last.rows });
      expect(await held(BEDS)).toEqual({ rows: 40, counted: 40 });
    } finally {
      await second?.close();
    }
  });
});

describe('migration 0014', () => {
  it('moves the rows a database held into a table per force’s month', async () => {
    // The migrations up to 0013, as a database made before this one had them.
    const before = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-migrations-0013-'));
    fs.cpSync(migrationsFolder, before, { recursive: true });
    const journalFile = path.join(before, 'meta', '_journal.json');
    const journal = JSON.parse(fs.readFileSync(journalFile, 'utf8')) as { entries: { idx: number }[] };
    journal.entries = journal.entries.filter((entry) => entry.idx <= 13);
    fs.writeFileSync(journalFile, JSON.stringify(journal));

    const serverUrl = process.env.DATABASE_URL;
    const server = serverUrl
      ? await createServerDatabase(serverUrl, { prefix: 'pp_test_migration' })
      : undefined;
    const client = server ? new pg.Client({ connectionString: server.url }) : undefined;
    const pglite = server ? undefined : await PGlite.create();
    try {
      await client?.connect();
      const db = (client ? drizzlePg(client) : drizzlePglite(pglite!)) as unknown as Db;
      const migrate = (folder: string) =>
        client
          ? migratePg(drizzlePg(client), { migrationsFolder: folder })
          : migratePglite(drizzlePglite(pglite!), { migrationsFolder: folder });
      await migrate(before);
      await db.execute(sql`insert into police_street_crimes (force, month, reported_by, falls_within, location,
          crime_type, lsoa_code)
        values ('Kent Police', '2023-01', 'Kent Police', 'Kent Police', 'On or near A', 'Burglary', 'E1'),
          ('Kent Police', '2023-01', 'Kent Police', 'Kent Police', 'On or near B', 'Robbery', 'E2'),
          ('Kent Police', '2023-02', 'Kent Police', 'Kent Police', 'On or near C', 'Burglary', 'E1'),
          ('Essex Police', '2023-01', 'Essex Police', 'Essex Police', 'On or near D', 'Arson', null)`);
      await db.execute(sql`insert into police_outcomes (force, month, crime_id, reported_by, falls_within,
          location, outcome_type)
        values ('Kent Police', '2023-02', 'c1', 'Kent Police', 'Kent Police', 'On or near A', 'Charged')`);

      await migrate(migrationsFolder);

      const kent = forceMonthTableName('street', 'Kent Police', '2023-01');
      const [moved] = await queryRows<{ kent: number; all: number; essex: number; outcomes: number }>(
        db,
        sql`select (select count(*)::int from ${sql.raw(kent)}) as kent,
          (select count(*)::int from police_street_crimes) as all,
          (select count(*)::int from police_street_crimes where force = 'Essex Police' and month = '2023-01') as essex,
          (select count(*)::int from ${sql.raw(forceMonthTableName('outcomes', 'Kent Police', '2023-02'))}) as outcomes`,
      );
      expect(moved).toEqual({ kent: 2, all: 4, essex: 1, outcomes: 1 });
      const names = (await tree(db)).map((t) => t.name);
      expect(names).not.toContain('police_street_crimes_before_0014');
      expect(names).toEqual(
        expect.arrayContaining([
          monthTableName('street', '2023-01'),
          monthTableName('street', '2023-02'),
          kent,
        ]),
      );
    } finally {
      await client?.end();
      await pglite?.close();
      await server?.drop();
      fs.rmSync(before, { recursive: true, force: true });
    }
  });
});
