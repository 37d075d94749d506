/**
 * Reusable queries: built once with placeholders, each run gives what drizzle's own query with
 * those values gives, on the pool and inside a transaction; a null value is SQL NULL wherever a
 * column would encode a value; on PostgreSQL the text is a named statement, parsed once a connection.
 */
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { placeholder, reusableQuery, reusableSql } from '../../src/db/reusable-query.js';
import * as t from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { recordAudit } from '../../src/services/audit.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase({ demo: true });
});
afterAll(async () => {
  await database?.drop();
});

const partnershipBySlug = reusableQuery('test_partnership_by_slug', (db) =>
  db
    .select({ id: t.partnerships.id, slug: t.partnerships.slug, name: t.partnerships.name })
    .from(t.partnerships)
    .where(eq(t.partnerships.slug, placeholder('slug'))),
);

const membersOf = reusableQuery('test_members_of', (db) =>
  db
    .select({ userId: t.memberships.userId, email: t.users.email, role: t.memberships.role })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.memberships.partnershipId))
    .where(and(eq(t.partnerships.slug, placeholder('slug')), eq(t.memberships.role, placeholder('role'))))
    .orderBy(t.users.email),
);

const insertEvent = reusableQuery('test_insert_event', (db) =>
  db
    .insert(t.auditEvents)
    .values({
      partnershipId: sql.placeholder('partnershipId'),
      actorLabel: 'test',
      kind: sql.placeholder('kind'),
      entity: 'test',
      summary: sql.placeholder('summary'),
      before: sql.placeholder('before'),
      after: sql.placeholder('after'),
      occurredAt: sql.placeholder('at'),
    })
    .returning({ id: t.auditEvents.id }),
);

const countEvents = reusableSql<{ kind: string }, { n: number; kinds: string }>(
  'test_count_events',
  sql`select count(*)::int as n, string_agg(distinct kind, ',') as kinds from audit_events
    where kind = ${sql.placeholder('kind')}`,
);

describe('a reusable query', () => {
  it("gives what drizzle's own query gives, for each run's values", async () => {
    const { db } = database;
    for (const slug of ['sosafe', 'north-herts', 'no-such-place']) {
      const own = await db
        .select({ id: t.partnerships.id, slug: t.partnerships.slug, name: t.partnerships.name })
        .from(t.partnerships)
        .where(eq(t.partnerships.slug, slug));
      expect(await partnershipBySlug(db, { slug }), slug).toEqual(own);
    }
    const coordinators = await membersOf(db, { slug: 'sosafe', role: 'coordinator' });
    const leads = await membersOf(db, { slug: 'sosafe', role: 'lead_officer' });
    expect(coordinators.map((m) => m.email)).toContain('coordinator@sosafe.example');
    expect(leads.map((m) => m.email)).toContain('helen.whitehead@sosafe.example');
    expect(leads.every((m) => m.role === 'lead_officer')).toBe(true);
    expect(leads.length).toBeGreaterThan(coordinators.length);
  });

  it('runs inside a transaction on its connection, and sees the transaction’s own writes', async () => {
    const { db } = database;
    const kind = 'test.in-transaction';
    const sosafe = (await partnershipBySlug(db, { slug: 'sosafe' }))[0]!;
    let seen: unknown;
    await expect(
      db.transaction(async (tx) => {
        await insertEvent(tx, {
          partnershipId: sosafe.id,
          kind,
          summary: 'one',
          before: null,
          after: null,
          at: new Date(),
        });
        [seen] = await countEvents(tx, { kind });
        tx.rollback();
      }),
    ).rejects.toThrow(/Rollback/);
    expect(seen, 'inside: its own insert').toEqual({ n: 1, kinds: kind });
    expect((await countEvents(db, { kind }))[0], 'rolled back').toEqual({ n: 0, kinds: null });
    const committed = await db.transaction(async (tx) => {
      await insertEvent(tx, {
        partnershipId: sosafe.id,
        kind,
        summary: 'two',
        before: null,
        after: null,
        at: new Date(),
      });
      return (await countEvents(tx, { kind }))[0];
    });
    expect(committed).toEqual({ n: 1, kinds: kind });
    expect((await countEvents(db, { kind }))[0]).toEqual({ n: 1, kinds: kind });
  });

  it('sends NULL for a null value, and encodes any other as its column does', async () => {
    const { db } = database;
    const at = new Date('2026-05-04T03:02:01.000Z');
    const [plain] = await insertEvent(db, {
      partnershipId: null,
      kind: 'test.encoded',
      summary: 'nulls',
      before: null,
      after: { a: [1, 'two'] },
      at,
    });
    const [row] = await queryRows<{ before_null: boolean; after: unknown; at: string; partnership_id: null }>(
      db,
      sql`select before is null as before_null, after, to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') as at,
        partnership_id from audit_events where id = ${plain!.id}`,
    );
    expect(row).toEqual({
      before_null: true,
      after: { a: [1, 'two'] },
      at: '2026-05-04 03:02:01',
      partnership_id: null,
    });
  });

  it('writes audit events (recordAudit): a missing before is NULL, the rest as given', async () => {
    const { db } = database;
    const [sosafe] = await partnershipBySlug(db, { slug: 'sosafe' });
    await db.transaction(async (tx) => {
      await recordAudit(tx, systemActor(), {
        partnershipId: sosafe!.id,
        kind: 'test.recorded',
        entity: 'test',
        entityId: 42,
        summary: 'Recorded through the reusable insert',
        after: { text: 'after' },
      });
    });
    const rows = await queryRows<Record<string, unknown>>(
      db,
      sql`select partnership_id, actor_user_id, actor_label, entity, entity_id, summary, before is null as before_null,
        after, via_import from audit_events where kind = 'test.recorded'`,
    );
    expect(rows).toEqual([
      {
        partnership_id: sosafe!.id,
        actor_user_id: systemActor().userId,
        actor_label: systemActor().label,
        entity: 'test',
        entity_id: '42',
        summary: 'Recorded through the reusable insert',
        before_null: true,
        after: { text: 'after' },
        via_import: false,
      },
    ]);
  });

  it('fails a run that leaves a placeholder without a value, and refuses a name given twice', async () => {
    await expect(partnershipBySlug(database.db, {})).rejects.toThrow(/slug/);
    await expect(
      insertEvent(database.db, { partnershipId: null, kind: 'x', summary: 'x', before: null, after: null }),
    ).rejects.toThrow(/at/);
    expect(() => reusableQuery('test_partnership_by_slug', (db) => db.select().from(t.partnerships))).toThrow(
      /Two reusable queries are named test_partnership_by_slug/,
    );
    expect(() => reusableSql('Not Snake', sql`select 1`)).toThrow(/snake_case/);
  });

  it('is a statement PostgreSQL parses once a connection, by its name', async () => {
    const { db } = database;
    const prepared = await db.transaction(async (tx) => {
      await partnershipBySlug(tx, { slug: 'sosafe' });
      await partnershipBySlug(tx, { slug: 'north-herts' });
      return queryRows<{ name: string; statement: string }>(
        tx,
        sql`select name, statement from pg_prepared_statements where name like 'test_partnership_by_slug%'`,
      );
    });
    if (database.kind === 'postgres') {
      expect(prepared).toHaveLength(1);
      expect(prepared[0]!.name).toBe('test_partnership_by_slug');
      expect(prepared[0]!.statement).toMatch(/from "partnerships" where "partnerships"\."slug" = \$1/);
    } else {
      // PGlite, one connection in this process, leaves statements unnamed.
      expect(prepared).toEqual([]);
    }
  });
});
