import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../src/db/client.js';
import { systemActor } from '../../src/services/actor.js';
import { readDemoFile } from '../../src/services/demo.js';
import { ValidationError } from '../../src/services/errors.js';
import { importPlanFile } from '../../src/services/plan-import.js';
import { exportPlanFile } from '../../src/services/plan-export.js';
import { getPartnershipBySlug } from '../../src/services/plan-read.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('importing the demo plan file', () => {
  it('a dry run checks everything and writes nothing', async () => {
    const summary = await importPlanFile(database.db, readDemoFile(), systemActor(), { dryRun: true });
    expect(summary.dryRun).toBe(true);
    expect(summary.plans[0]).toMatchObject({ year: '2024/25', sections: 5, aims: 21 });
    const rows = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from partnerships`,
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('imports, and exports back the same plan', async () => {
    const file = readDemoFile();
    const summary = await importPlanFile(database.db, file, systemActor());
    expect(summary.plans[0]!.actions).toBe(34);
    const partnership = await getPartnershipBySlug(database.db, 'sosafe');
    const exported = await exportPlanFile(database.db, partnership, '2024/25');
    expect(exported).toEqual(file);
  });

  it('refuses a second copy of the same partnership and writes nothing', async () => {
    const before = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from aims`);
    await expect(importPlanFile(database.db, readDemoFile(), systemActor())).rejects.toBeInstanceOf(
      ValidationError,
    );
    const after = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from aims`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('records the import in the audit trail, which refuses to be changed', async () => {
    const events = await queryRows<{ kind: string }>(database.db, sql`select kind from audit_events`);
    expect(events.map((e) => e.kind)).toContain('partnership.imported');
    const refusal = (query: Promise<unknown>) =>
      query.then(
        () => 'allowed',
        (error: Error) => String((error.cause as Error | undefined)?.message ?? error.message),
      );
    expect(await refusal(database.db.execute(sql`update audit_events set summary = 'x'`))).toMatch(
      /append-only/,
    );
    expect(await refusal(database.db.execute(sql`delete from audit_events`))).toMatch(/append-only/);
  });
});
