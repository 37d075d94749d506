/**
 * The session store: what @fastify/session saves after every request reaches the database only
 * when the session changed or its expiry moved on by a minute or more.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions } from '../../src/db/schema.js';
import { DatabaseSessionStore, SKIP_EXPIRY_MOVE_MS } from '../../src/services/sessions.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let store: DatabaseSessionStore;
beforeAll(async () => {
  database = await createTestDatabase();
  store = new DatabaseSessionStore(database.db, 120 * 60_000);
});
afterAll(async () => {
  await database?.drop();
});

const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);
const save = (sid: string, data: Record<string, unknown>, expires: Date) =>
  new Promise<void>((resolve, reject) =>
    store.set(sid, { ...data, cookie: { expires, originalMaxAge: 7_200_000 } }, (error) =>
      error ? reject(error as Error) : resolve(),
    ),
  );
const stored = async (sid: string) => {
  const [row] = await database.db.select().from(sessions).where(eq(sessions.sid, sid));
  return row;
};

describe('the session store', () => {
  it('skips a save that only moves the expiry on by less than a minute, and makes the rest', async () => {
    await save('s1', { userId: null, flash: 'a' }, at(0));
    expect((await stored('s1'))?.expiresAt.toISOString()).toBe(at(0).toISOString());

    await save('s1', { userId: null, flash: 'a' }, at(SKIP_EXPIRY_MOVE_MS - 1));
    expect((await stored('s1'))?.expiresAt.toISOString(), 'a save of nothing new').toBe(at(0).toISOString());

    await save('s1', { userId: null, flash: 'b' }, at(1_000));
    expect(await stored('s1')).toMatchObject({ data: { flash: 'b' }, expiresAt: at(1_000) });

    await save('s1', { userId: null, flash: 'b' }, at(1_000 + SKIP_EXPIRY_MOVE_MS));
    expect((await stored('s1'))?.expiresAt.toISOString(), 'the expiry a minute on').toBe(
      at(1_000 + SKIP_EXPIRY_MOVE_MS).toISOString(),
    );
  });

  it('writes again after a destroy, even with the same data', async () => {
    await save('s2', { userId: null, flash: 'x' }, at(0));
    await new Promise<void>((resolve, reject) =>
      store.destroy('s2', (error) => (error ? reject(error as Error) : resolve())),
    );
    expect(await stored('s2')).toBeUndefined();
    await save('s2', { userId: null, flash: 'x' }, at(1));
    expect(await stored('s2')).toMatchObject({ data: { flash: 'x' } });
  });
});
