/**
 * The read cache: a value is served again only to a request that read the same stamp, and any
 * committed write — on this connection or another instance's — changes the stamp, so the next
 * page reads the change.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, untilWritesHeard, writeStamp, type Database } from '../../src/db/client.js';
import * as t from '../../src/db/schema.js';
import { memberActor, type Actor } from '../../src/services/actor.js';
import { getPartnershipBySlug, type PartnershipRow } from '../../src/services/plan-read.js';
import { openPlan } from '../../src/services/plan-view.js';
import { saveProgress } from '../../src/services/progress.js';
import { cachedRead, madeFromKept, readStamp } from '../../src/services/read-cache.js';
import { getMember, getPartnershipMember, getSignedIn } from '../../src/services/users.js';
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

  it('makes what a page makes from a kept value once for each value and variant, and forgets a failure', async () => {
    const made: string[] = [];
    const html = madeFromKept(async (kept: { n: number }, variant: string) => {
      made.push(`${kept.n}${variant}`);
      if (variant === 'fails') throw new Error('no');
      return `<p id="${variant}">${kept.n}</p>`;
    });
    const first = await cachedRead(database.db, 'stamp-made', 'k3', async () => ({ n: 1 }));
    const again = await cachedRead(database.db, 'stamp-made', 'k3', async () => ({ n: 1 }));
    expect(await html(first, 'a')).toBe('<p id="a">1</p>');
    expect(await html(again, 'a'), 'the same kept value: made once').toBe('<p id="a">1</p>');
    expect(await html(first, 'b')).toBe('<p id="b">1</p>');
    // A value read under another stamp is another object: made again.
    const later = await cachedRead(database.db, 'stamp-made-2', 'k3', async () => ({ n: 2 }));
    expect(await html(later, 'a')).toBe('<p id="a">2</p>');
    await expect(html(first, 'fails')).rejects.toThrow('no');
    await expect(html(first, 'fails')).rejects.toThrow('no');
    expect(made).toEqual(['1a', '1b', '2a', '1fails', '1fails']);
  });

  it('keeps at most maxVariants of a kept value, the oldest made going first, and passes what the making needs', () => {
    const made: string[] = [];
    const filtered = madeFromKept((kept: { rows: string[] }, variant: string, heading: string) => {
      made.push(variant);
      return `${heading}: ${kept.rows.filter((r) => r.startsWith(variant)).join(',')}`;
    }, 2);
    const kept = { rows: ['a1', 'a2', 'b1', 'c1'] };
    expect(filtered(kept, 'a', 'Rows')).toBe('Rows: a1,a2');
    expect(filtered(kept, 'b', 'Rows')).toBe('Rows: b1');
    expect(filtered(kept, 'a', 'Rows')).toBe('Rows: a1,a2');
    expect(made).toEqual(['a', 'b']);
    filtered(kept, 'c', 'Rows'); // a third variant: 'a', the oldest, is forgotten
    filtered(kept, 'b', 'Rows');
    filtered(kept, 'a', 'Rows');
    expect(made).toEqual(['a', 'b', 'c', 'a']);
  });

  it('keeps its stamp while only reads happen, and reads the signed-in account with it', async () => {
    await untilWritesHeard(database.db);
    const before = await readStamp(database.db);
    const form = database.kind === 'pglite' ? /^w\d+$/ : /^n\d+\.\d+$/;
    expect(before).toMatch(form);
    await openPlan(database.db, coordinator, sosafe, '2024/25');
    const signedIn = await getSignedIn(database.db, coordinatorId);
    expect(signedIn.user).toMatchObject({ id: coordinatorId, email: 'coordinator@sosafe.example' });
    expect(signedIn.stamp).toMatch(form);
    expect(signedIn.stamp).toBe(before);
    expect((await getSignedIn(database.db, 987_654)).user).toBeUndefined();
  });

  it('counts the writes made here: a statement that writes, and every transaction', async () => {
    await untilWritesHeard(database.db);
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

    // Another instance (on PostgreSQL its own pool) saves an update; on PostgreSQL this one hears
    // of it a moment after its commit.
    await saveProgress(second.db, coordinator, action.id, {
      quarter: 4,
      status: 'on_track',
      text: 'Saved elsewhere',
    });
    await untilWritesHeard(database.db);
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

  it('on PostgreSQL, hears of commits made elsewhere (not of a rollback), and reads the stamp by query while it cannot', async () => {
    if (database.kind === 'pglite') {
      // One process owns the embedded database: the count of its own writes is the whole story,
      // and its writes send no notice (the trigger's cost saved).
      expect(writeStamp(database.db)).toMatch(/^w\d+$/);
      const notices: string[] = [];
      const unlisten = await database.pglite!.listen('partnership_plan_writes', (payload) =>
        notices.push(payload),
      );
      await database.db
        .update(t.partnerships)
        .set({ area: 'Stevenage' })
        .where(eq(t.partnerships.id, sosafe.id));
      await database.db.execute(sql`select pg_notify('partnership_plan_writes', 'sent by hand')`);
      await expect.poll(() => notices).toEqual(['sent by hand']);
      await unlisten();
      return;
    }
    const parts = () => {
      const [, generation, epoch] = /^n(\d+)\.(\d+)$/.exec(writeStamp(database.db) ?? '') ?? [];
      return { generation: Number(generation), epoch: Number(epoch) };
    };
    await untilWritesHeard(database.db);
    const start = parts();
    await expect(
      second.db.transaction(async (tx) => {
        await tx.update(t.partnerships).set({ area: 'Rolled back' }).where(eq(t.partnerships.id, sosafe.id));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await untilWritesHeard(database.db);
    expect(parts(), 'only the notice it sent itself').toEqual({ ...start, epoch: start.epoch + 1 });
    await second.db.update(t.partnerships).set({ area: 'Stevenage' }).where(eq(t.partnerships.id, sosafe.id));
    await untilWritesHeard(database.db);
    expect(parts(), 'the commit, then its own notice').toEqual({ ...start, epoch: start.epoch + 3 });

    // The listening connection is cut (a server restart, a network fault): until it listens again
    // the stamp is the server's snapshot, read by a query; then a new generation of stamps begins.
    await queryRows(
      second.db,
      sql`select pg_terminate_backend(pid) from pg_stat_activity
          where datname = current_database() and query = 'listen partnership_plan_writes'`,
    );
    await expect.poll(() => writeStamp(database.db), { timeout: 5_000 }).toBeUndefined();
    expect(await readStamp(database.db)).toMatch(/^\d+:\d+:/);
    await expect.poll(() => writeStamp(database.db), { timeout: 10_000 }).toMatch(/^n\d+\.\d+$/);
    expect(parts().generation).toBe(start.generation + 1);
  });

  it('keeps the membership stamp while other tables change; a committed change to partnerships, memberships or users moves it on', async () => {
    const membershipStamp = async () => (await getSignedIn(database.db, coordinatorId)).membershipStamp;
    const start = await membershipStamp();
    expect(start).toMatch(/^membership:\d+$/);
    const stamp = await readStamp(database.db);
    const kept = await getPartnershipMember(database.db, 'sosafe', coordinatorId, start);
    expect(kept.member?.role).toBe('coordinator');

    const plan = await openPlan(database.db, coordinator, sosafe, '2024/25');
    const action = plan.tree.sections[1]!.aims[0]!.actions[0]!;
    await saveProgress(database.db, coordinator, action.id, { quarter: 4, status: 'at_risk', text: 'Kept' });
    await untilWritesHeard(database.db);
    expect(await readStamp(database.db), 'the write moved the read stamp on').not.toBe(stamp);
    expect(await membershipStamp(), 'but not the membership stamp').toBe(start);
    expect(
      await getPartnershipMember(database.db, 'sosafe', coordinatorId, start),
      'so the partnership and member are still kept',
    ).toBe(kept);

    await expect(
      database.db.transaction(async (tx) => {
        await tx.update(t.users).set({ name: 'Rolled back' }).where(eq(t.users.id, coordinatorId));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await membershipStamp(), 'a rolled-back change moves nothing').toBe(start);

    const seen = new Set([start]);
    const changes = [
      () =>
        database.db.update(t.partnerships).set({ area: 'Stevenage' }).where(eq(t.partnerships.id, sosafe.id)),
      () => database.db.update(t.users).set({ name: 'Coordinator' }).where(eq(t.users.id, coordinatorId)),
      () =>
        database.db
          .update(t.memberships)
          .set({ role: 'partner' })
          .where(and(eq(t.memberships.userId, coordinatorId), eq(t.memberships.partnershipId, sosafe.id))),
    ];
    for (const change of changes) {
      await change();
      const next = await membershipStamp();
      expect(seen.has(next), 'each change moves it on').toBe(false);
      seen.add(next);
    }
    const after = await getPartnershipMember(database.db, 'sosafe', coordinatorId, [...seen].at(-1));
    expect(after.member?.role, 'read again under the new stamp: the new role').toBe('partner');
    await database.db
      .update(t.memberships)
      .set({ role: kept.member!.role })
      .where(and(eq(t.memberships.userId, coordinatorId), eq(t.memberships.partnershipId, sosafe.id)));
    await database.db.update(t.users).set({ name: kept.member!.name }).where(eq(t.users.id, coordinatorId));

    if (database.kind === 'postgres') {
      // Not before the change commits: a read meanwhile reads the old stamp with the old account.
      const before = await membershipStamp();
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let changed!: () => void;
      const madeChange = new Promise<void>((resolve) => (changed = resolve));
      const transaction = second.db.transaction(async (tx) => {
        await tx.update(t.users).set({ name: 'Renamed' }).where(eq(t.users.id, coordinatorId));
        changed();
        await held;
      });
      await madeChange;
      expect(await membershipStamp()).toBe(before);
      expect((await getSignedIn(database.db, coordinatorId)).user?.name).toBe(kept.member!.name);
      commit();
      await transaction;
      expect(await membershipStamp()).not.toBe(before);
      expect((await getSignedIn(database.db, coordinatorId)).user?.name).toBe('Renamed');
      await database.db.update(t.users).set({ name: kept.member!.name }).where(eq(t.users.id, coordinatorId));
    }
  });

  it('has every table tell of its writes (the trigger of migration 0013, which a new table needs too)', async () => {
    const rows = await queryRows<{ name: string; notifies: boolean }>(
      database.db,
      sql`select c.relname as name,
            exists (select 1 from pg_trigger g where g.tgrelid = c.oid and g.tgname = 'pp_notify_write') as notifies
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition`,
    );
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['aims', 'progress_updates', 'sessions']));
    expect(rows.filter((r) => !r.notifies).map((r) => r.name)).toEqual([]);
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
