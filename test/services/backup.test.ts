import fs from 'node:fs';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desc, eq, sql } from 'drizzle-orm';
import { queryRows, type Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { BackupError, createBackup, restoreBackup, type Backup } from '../../src/services/backup.js';
import { readDemoFile } from '../../src/services/demo.js';
import { importPlanFile } from '../../src/services/plan-import.js';
import { addUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { readAllTables, schemaTables } from '../support/tables.js';

/** The migrations shipped with the code, from drizzle-kit's journal. */
const MIGRATIONS = (
  JSON.parse(
    fs.readFileSync(new URL('../../src/db/migrations/meta/_journal.json', import.meta.url), 'utf8'),
  ) as { entries: unknown[] }
).entries.length;

/**
 * Shared open data and the counts made from it: deliberately not backed up (re-imported from the
 * files; docs/police-uk.md, docs/evidence-incidents.md).
 */
const POLICE_UK_TABLES = [
  'police_street_crimes',
  'police_outcomes',
  'police_crime_counts',
  'police_force_counts',
  'police_outcome_counts',
  'police_area_counts',
  'police_area_lsoa_counts',
  'defra_fly_tipping',
];

/** Counts the database keeps itself, by triggers (migration 0016): not data, not backed up either. */
const KEPT_COUNTS_TABLES = ['change_counts'];

/** Every table of the schema, read through Drizzle in primary-key order: independent of the backup code. */
const tables = schemaTables([...POLICE_UK_TABLES, ...KEPT_COUNTS_TABLES]);
const readAll = (db: Db) => readAllTables(db, tables);

const RECORDED_AT = '2024-06-30 10:11:12.345678+00';

let source: TestDatabase;
let target: TestDatabase;
let backup: Buffer;

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await importPlanFile(source.db, readDemoFile(), systemActor());
  const { userId } = await addUser(
    source.db,
    {
      email: 'casey@sosafe.example',
      name: 'Casey Coordinator',
      password: 'a long enough password',
      partnership: 'sosafe',
      role: 'lead_officer',
      organisation: 'CCSU',
      person: 'Helen Whitehead',
    },
    systemActor(),
  );
  await source.db.insert(schema.sessions).values({
    sid: 'session-1',
    userId,
    data: { csrf: 'x', flash: [{ kind: 'success', text: 'Saved' }], nested: { n: 1.5, none: null } },
    expiresAt: new Date('2030-01-01T00:00:00Z'),
  });
  // Microseconds, which a JavaScript Date cannot hold, must survive too.
  await source.db.execute(
    sql`update progress_updates set recorded_at = ${RECORDED_AT}::timestamptz, recorded_by = ${userId} where id = 1`,
  );
  backup = await createBackup(source.db);
});

afterAll(async () => {
  await Promise.all([source?.drop(), target?.drop()]);
});

describe('backup', () => {
  it('holds every table of the schema, with the migration count', () => {
    const parsed = JSON.parse(zlib.gunzipSync(backup).toString('utf8')) as Backup;
    expect(parsed.format).toBe('partnership-plan-backup/v1');
    expect(parsed.migrations).toBe(MIGRATIONS);
    expect(Object.keys(parsed.tables).sort()).toEqual(tables.map((t) => t.name).sort());
    for (const name of POLICE_UK_TABLES) expect(parsed.tables).not.toHaveProperty(name);
    expect(parsed.tables).toHaveProperty('partnership_areas');
    expect(parsed.tables.aims).toHaveLength(21);
    expect(parsed.tables.sessions?.[0]).toMatchObject({ sid: 'session-1', data: { nested: { n: 1.5 } } });
  });

  it('refuses a backup made with a different number of migrations, and writes nothing', async () => {
    const parsed = JSON.parse(zlib.gunzipSync(backup).toString('utf8')) as Backup;
    const other = zlib.gzipSync(JSON.stringify({ ...parsed, migrations: parsed.migrations + 1 }));
    await expect(restoreBackup(target.db, other)).rejects.toThrow(
      new RegExp(`made by a database with ${MIGRATIONS + 1} migrations, but this one has ${MIGRATIONS}`),
    );
    const rows = await queryRows<{ n: number }>(target.db, sql`select count(*)::int as n from partnerships`);
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses something that is not a backup', async () => {
    await expect(restoreBackup(target.db, Buffer.from('{"format":"x"}'))).rejects.toBeInstanceOf(BackupError);
  });

  it('restores every row of every table into an empty database', async () => {
    const summary = await restoreBackup(target.db, backup);
    const before = await readAll(source.db);
    const after = await readAll(target.db);
    const restoredEvent = after.audit_events!.pop();
    expect(restoredEvent).toMatchObject({ kind: 'backup.restored', actorLabel: 'command line' });
    expect(after).toEqual(before);
    expect(summary.rows).toBe(Object.values(before).reduce((n, rows) => n + rows.length, 0));
    for (const name of [
      'partnerships',
      'users',
      'memberships',
      'sessions',
      'priority_aims',
      'delivery_principles',
    ]) {
      expect(before[name]!.length, name).toBeGreaterThan(0);
    }
  });

  it('keeps jsonb, arrays and timestamps exactly', async () => {
    const [progress] = await queryRows<{ recorded_at: string }>(
      target.db,
      sql`select recorded_at::text as recorded_at from progress_updates where id = 1`,
    );
    expect(progress!.recorded_at).toBe(RECORDED_AT);
    const [session] = await target.db.select().from(schema.sessions);
    expect(session!.data).toEqual({
      csrf: 'x',
      flash: [{ kind: 'success', text: 'Saved' }],
      nested: { n: 1.5, none: null },
    });
    const [action] = await target.db.select().from(schema.actions).where(eq(schema.actions.id, 1));
    expect(action!.resources).toEqual([
      'Leaflets',
      'Posters',
      'Social Media Campaigns',
      'Visits to schools',
      'Events',
    ]);
  });

  it('moves the identity sequences on, so new rows do not clash', async () => {
    const [highest] = await source.db
      .select({ id: schema.organisations.id })
      .from(schema.organisations)
      .orderBy(desc(schema.organisations.id))
      .limit(1);
    const [created] = await target.db
      .insert(schema.organisations)
      .values({ partnershipId: 1, name: 'New organisation' })
      .returning({ id: schema.organisations.id });
    expect(created!.id).toBe(highest!.id + 1);
    const events = await target.db
      .select({ id: schema.auditEvents.id, kind: schema.auditEvents.kind })
      .from(schema.auditEvents);
    const restored = events.find((e) => e.kind === 'backup.restored')!;
    expect(restored.id).toBe(Math.max(...events.map((e) => e.id)));
  });

  it('refuses to restore into a database that holds rows', async () => {
    const count = async () =>
      (await queryRows<{ n: number }>(target.db, sql`select count(*)::int as n from audit_events`))[0]!.n;
    const before = await count();
    await expect(restoreBackup(target.db, backup)).rejects.toThrow(
      /The database is not empty \(partnerships, /,
    );
    expect(await count()).toBe(before);
  });
});
