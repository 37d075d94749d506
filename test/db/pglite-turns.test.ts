/**
 * The embedded database (PGlite) runs its SQL on the app's own thread: each call waits its turn and
 * the event loop turns once before it runs (db/client.ts takeTurns), so that a queue of saves never
 * keeps Node from reading other requests or accepting connections. On PostgreSQL the driver's own
 * network I/O turns the loop.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

it('lets the event loop turn between statements called together, and keeps their order', async () => {
  const pglite = database.pglite;
  if (!pglite) {
    expect(database.kind).toBe('postgres');
    return;
  }
  // Counts the event loop's turns while the statements run.
  let turns = 0;
  let counting = true;
  const count = () => {
    turns += 1;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const ended: [string, number][] = [];
  const done = (what: string) => () => ended.push([what, turns]);
  await Promise.all([
    pglite.query('select 1').then(done('query')),
    pglite
      .transaction(async (tx) => {
        await tx.query('select 2');
        await tx.query('select 3');
      })
      .then(done('transaction')),
    pglite.exec('select 4').then(done('exec')),
  ]);
  counting = false;
  // In the order called, each in a later turn than the one before (without the turns: all in one).
  expect(ended.map(([what]) => what)).toEqual(['query', 'transaction', 'exec']);
  const [query, transaction, exec] = ended.map(([, turn]) => turn);
  expect(transaction).toBeGreaterThan(query!);
  expect(exec).toBeGreaterThan(transaction!);
});
