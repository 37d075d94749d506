/**
 * Imports left 'running' at start-up: failed only when the instance running them has gone. On
 * PostgreSQL an import names its instance (`runner`), whose advisory lock the instance holds while
 * it lives; a restart of another instance (a second pool on the same database here) leaves a live
 * instance's imports alone. On PGlite, one process, every import started before is dead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceLock, openDatabase } from '../../src/db/client.js';
import { policeUkImports } from '../../src/db/schema.js';
import { memberActor, systemActor } from '../../src/services/actor.js';
import { createPartnership } from '../../src/services/partnerships.js';
import {
  failInterruptedPoliceUkImports,
  policeUkImportsIdle,
  startPoliceUkUpload,
} from '../../src/services/police-uk.js';
import { addUser } from '../../src/services/users.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const STREET = fileURLToPath(
  new URL('../../src/demo/evidence/policeuk/2022-01-hertfordshire-street.csv', import.meta.url),
);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-runners-'));
let database: TestDatabase;
let partnershipId: number;
let userId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  partnershipId = (await createPartnership(database.db, systemActor(), { slug: 'sosafe', name: 'SoSafe' }))
    .id;
  userId = (
    await addUser(
      database.db,
      {
        email: 'casey@example.org',
        name: 'Casey',
        password: 'a long enough password',
        partnership: 'sosafe',
        role: 'coordinator',
      },
      systemActor(),
    )
  ).userId;
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** An import row left 'running' a minute ago by `runner`. */
async function leftRunning(filename: string, runner: number | null): Promise<number> {
  const [row] = await database.db
    .insert(policeUkImports)
    .values({
      partnershipId,
      userId,
      filename,
      totalBytes: 100,
      runner,
      startedAt: new Date(Date.now() - 60_000),
    })
    .returning({ id: policeUkImports.id });
  return row!.id;
}

async function states(ids: number[]): Promise<Record<string, string>> {
  const rows = await database.db
    .select({ filename: policeUkImports.filename, state: policeUkImports.state })
    .from(policeUkImports)
    .where(inArray(policeUkImports.id, ids));
  return Object.fromEntries(rows.map((r) => [r.filename, r.state]));
}

describe('an upload names the instance importing it', () => {
  it('its runner is this instance’s lock on PostgreSQL, none on PGlite', async () => {
    const upload = path.join(scratch, 'upload.csv');
    fs.copyFileSync(STREET, upload);
    const coordinator = memberActor({
      userId,
      name: 'Casey',
      partnershipId,
      role: 'coordinator',
      organisationId: null,
      personId: null,
      reviewsUpdates: false,
    });
    const [id] = await startPoliceUkUpload(database.db, coordinator, 'sosafe', [
      { filename: 'street.csv', path: upload, bytes: fs.statSync(upload).size },
    ]);
    await policeUkImportsIdle();
    const [row] = await database.db
      .select({ runner: policeUkImports.runner, state: policeUkImports.state })
      .from(policeUkImports)
      .where(eq(policeUkImports.id, id!));
    const runner = await instanceLock(database.db);
    expect(row).toEqual({ runner, state: 'done' });
    if (database.kind === 'postgres') expect(runner).toBeGreaterThan(0);
    else expect(runner).toBeNull();
  });
});

describe('imports left running at start-up', () => {
  it('an instance restarting fails only the imports of an instance that has gone (PGlite: all earlier ones)', async () => {
    // Three instances of the app on one database: `database` lives on, `gone` stops, `restarted`
    // starts again. On PGlite each is the one process's handle (openSecondConnection's way).
    const second = async () =>
      database.url ? openDatabase({ databaseUrl: database.url }) : { ...database, close: async () => {} };
    const restarted = await second();
    const gone = await second();
    try {
      const live = await instanceLock(database.db);
      const goneRunner = await instanceLock(gone.db);
      if (database.kind === 'postgres') expect(goneRunner).not.toBe(live);
      const ids = [
        await leftRunning('live.csv', live),
        await leftRunning('gone.csv', goneRunner),
        await leftRunning('before-runners.csv', null),
      ];
      await gone.close(); // its lock goes with its connection
      const failed = await failInterruptedPoliceUkImports(restarted.db, new Date());
      const expected =
        database.kind === 'postgres'
          ? { 'live.csv': 'running', 'gone.csv': 'failed', 'before-runners.csv': 'failed' }
          : { 'live.csv': 'failed', 'gone.csv': 'failed', 'before-runners.csv': 'failed' };
      expect(await states(ids)).toEqual(expected);
      expect(failed).toBe(database.kind === 'postgres' ? 2 : 3);
      // Taking a gone instance's lock to look left none held: a second look fails nothing more.
      expect(await failInterruptedPoliceUkImports(restarted.db, new Date())).toBe(0);
      await database.db
        .update(policeUkImports)
        .set({ state: 'failed' })
        .where(inArray(policeUkImports.id, ids));
    } finally {
      await restarted.close();
    }
  });

  it('an import started after this instance started is left alone', async () => {
    const startedAt = new Date(Date.now() - 30_000);
    const ids = [await leftRunning('before.csv', null)];
    const [after] = await database.db
      .insert(policeUkImports)
      .values({ partnershipId, userId, filename: 'after.csv', totalBytes: 1 })
      .returning({ id: policeUkImports.id });
    ids.push(after!.id);
    expect(await failInterruptedPoliceUkImports(database.db, startedAt)).toBe(1);
    expect(await states(ids)).toEqual({ 'before.csv': 'failed', 'after.csv': 'running' });
  });
});
