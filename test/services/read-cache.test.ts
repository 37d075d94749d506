/**
 * The read cache: a value is served again only to a request that read the same stamp, and any
 * committed write — on this connection or another instance's — changes the stamp, so the next
 * page reads the change.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStamp, type Database } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { getPartnershipBySlug, type PartnershipRow } from '../../src/services/plan-read.js';
import { openPlan } from '../../src/services/plan-view.js';
import { saveProgress } from '../../src/services/progress.js';
import { cachedRead, readStamp } from '../../src/services/read-cache.js';
import { getMember, getSignedIn } from '../../src/services/users.js';
import { createTestDatabase, openSecondConnection, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let second: Database;
let coordinator: Actor;
let coordinatorId: number;
let sosafe: PartnershipRow;

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
  second = await openSecondConnection(database);
  const [user] = await database.db
    .select({ id: t.users.id })
    .from(t.users)
    .where(eq(t.users.email, 'coordinator@sosafe.example'));
  coordinatorId = user!.id;
  sosafe = await getPartnershipBySlug(database.db, 'sosafe');
  coordinator = memberActor((await getMember(database.db, coordinatorId, sosafe.id))!);
});
afterAll(async () => {
  await second?.close();
  await database?.drop();
});

describe('the read cache', () => {
  it('loads every time without a stamp, and once a stamp while it is the same', async () => {
    let loads = 0;
    const load = async () => ({ n: ++loads });
    await cachedRead(database.db, undefined, 'k1', load);
    await cachedRead(database.db, undefined, 'k1', load);
    expect(loads).toBe(2);
    const [a, b] = await Promise.all([
      cachedRead(database.db, 'stamp-1', 'k1', load),
      cachedRead(database.db, 'stamp-1', 'k1', load),
    ]);
    expect(loads, 'two reads at once under one stamp share one load').toBe(3);
    expect(b).toBe(a);
    expect(Object.isFrozen(a), 'one object serves many requests: it cannot be changed').toBe(true);
    await cachedRead(database.db, 'stamp-2', 'k1', load);
    expect(loads).toBe(4);
  });

  it('does not keep a failed read', async () => {
    let loads = 0;
    const failing = async () => {
      loads += 1;
      throw new Error('no');
    };
    await expect(cachedRead(database.db, 's', 'k2', failing)).rejects.toThrow('no');
    await expect(cachedRead(database.db, 's', 'k2', failing)).rejects.toThrow('no');
    expect(loads).toBe(2);
  });

  it('keeps its stamp while only reads happen, and reads the signed-in account with it', async () => {
    const before = await readStamp(database.db);
    const form = database.kind === 'pglite' ? /^w\d+$/ : /^\d+:\d+:/;
    expect(before).toMatch(form);
    await openPlan(database.db, coordinator, sosafe, '2024/25');
    const signedIn = await getSignedIn(database.db, coordinatorId);
    expect(signedIn.user).toMatchObject({ id: coordinatorId, email: 'coordinator@sosafe.example' });
    expect(signedIn.stamp).toMatch(form);
    // On PostgreSQL the stamp is the server's: the other test files' databases write beside this
    // one (more reloads, never a stale read); the embedded database is this file's alone.
    if (database.kind === 'pglite') expect(signedIn.stamp).toBe(before);
    expect((await getSignedIn(database.db, 987_654)).user).toBeUndefined();
  });

  it('on the embedded database, counts its writes: a statement that writes, and every transaction', async () => {
    if (database.kind !== 'pglite') {
      expect(writeStamp(database.db), 'PostgreSQL reads the server’s snapshot').toBeUndefined();
      return;
    }
    const start = writeStamp(database.db)!;
    await database.db.select().from(t.partnerships);
    await database.db.execute(sql`select count(*) from aims`);
    expect(writeStamp(database.db), 'reads change nothing').toBe(start);
    await database.db
      .update(t.partnerships)
      .set({ area: 'Stevenage' })
      .where(eq(t.partnerships.id, sosafe.id));
    const afterUpdate = writeStamp(database.db)!;
    expect(afterUpdate).not.toBe(start);
    await database.db.execute(
      sql`with gone as (delete from sessions where false returning sid) select count(*) from gone`,
    );
    expect(writeStamp(database.db), 'a statement that may write, though it starts with "with"').not.toBe(
      afterUpdate,
    );
    const beforeTransaction = writeStamp(database.db);
    await expect(
      database.db.transaction(async (tx) => {
        await tx.select().from(t.aims).limit(1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(writeStamp(database.db), 'any transaction, even one rolled back').not.toBe(beforeTransaction);
    expect(await readStamp(database.db)).toBe(writeStamp(database.db));
  });

  it('shows a change after a write on this instance or another', async () => {
    const stamp = await readStamp(database.db);
    const first = await openPlan(database.db, coordinator, sosafe, '2024/25', { stamp });
    expect((await openPlan(database.db, coordinator, sosafe, '2024/25', { stamp })).tree).toBe(first.tree);
    const action = first.tree.sections[0]!.aims[0]!.actions[0]!;
    const q4 = (tree: typeof first.tree) =>
      tree.sections[0]!.aims[0]!.actions[0]!.progress.find((p) => p.quarter === 4)?.text;
    expect(q4(first.tree)).toBeUndefined();

    // Another instance (on PostgreSQL its own pool) saves an update.
    await saveProgress(second.db, coordinator, action.id, {
      quarter: 4,
      status: 'on_track',
      text: 'Saved elsewhere',
    });
    const next = await readStamp(database.db);
    expect(next).not.toBe(stamp);
    expect(q4((await openPlan(database.db, coordinator, sosafe, '2024/25', { stamp: next })).tree)).toBe(
      'Saved elsewhere',
    );
    // A slow request that read the old stamp before the write reads again: never a copy kept before.
    expect((await openPlan(database.db, coordinator, sosafe, '2024/25', { stamp })).tree).not.toBe(
      first.tree,
    );
  });

  it('checks the reader may see the plan on every request, cached or not', async () => {
    const stamp = await readStamp(database.db);
    await openPlan(database.db, coordinator, sosafe, '2024/25', { stamp });
    const stranger: Actor = { userId: null, label: 'signed out', member: undefined, system: false };
    await expect(openPlan(database.db, stranger, sosafe, '2024/25', { stamp })).rejects.toThrow(
      /members of the partnership/,
    );
  });
});
