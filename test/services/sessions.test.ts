/**
 * The session store: what @fastify/session saves after every request reaches the database only
 * when the session changed or its expiry moved on by a minute or more.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessions, users } from '../../src/db/schema.js';
import { untilWritesHeard } from '../../src/db/client.js';
import { readStamp } from '../../src/services/read-cache.js';
import { DatabaseSessionStore, SKIP_EXPIRY_MOVE_MS, takeSignedIn } from '../../src/services/sessions.js';
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

  it('skips saving a session read back unchanged, whatever order its keys come back in', async () => {
    await save('s3', { userId: null, flash: 'm', _csrf: 'secret' }, at(0));
    // Another instance (its own store) reads it: the database gives the keys back in its own order.
    const other = new DatabaseSessionStore(database.db, 120 * 60_000);
    const read = await new Promise<Record<string, unknown>>((resolve, reject) =>
      other.get('s3', (error, session) => (error ? reject(error as Error) : resolve(session!))),
    );
    expect(read).toMatchObject({ userId: null, flash: 'm', _csrf: 'secret' });
    await new Promise<void>((resolve, reject) =>
      other.set(
        's3',
        {
          _csrf: 'secret',
          flash: 'm',
          userId: null,
          cookie: { expires: at(1_000), originalMaxAge: 7_200_000 },
        },
        (error) => (error ? reject(error as Error) : resolve()),
      ),
    );
    expect((await stored('s3'))?.expiresAt.toISOString(), 'nothing new to write').toBe(at(0).toISOString());
  });

  it('writes a change inside an object of the session, such as a new single sign-on started within the minute', async () => {
    const pending = (state: string) => ({ state, nonce: `n-${state}`, returnTo: '/p/sosafe', startedAt: 1 });
    await save('s5', { userId: null, sso: pending('first') }, at(0));
    await save('s5', { userId: null, sso: pending('second') }, at(1_000));
    expect(await stored('s5')).toMatchObject({ data: { sso: { state: 'second', nonce: 'n-second' } } });
    // The same nested data, its keys in another order: nothing new to write.
    await save(
      's5',
      { sso: { startedAt: 1, returnTo: '/p/sosafe', nonce: 'n-second', state: 'second' }, userId: null },
      at(2_000),
    );
    expect((await stored('s5'))?.expiresAt.toISOString()).toBe(at(1_000).toISOString());
  });

  it('reads the signed-in account and the read stamp with the session, and never saves them', async () => {
    const [user] = await database.db
      .insert(users)
      .values({ email: 'reader@example.org', name: 'Rea Der' })
      .returning({ id: users.id });
    await save('s4', { userId: user!.id, _csrf: 'secret' }, at(0));
    await untilWritesHeard(database.db);
    const session = await new Promise<Record<string, unknown>>((resolve, reject) =>
      store.get('s4', (error, found) => (error ? reject(error as Error) : resolve(found!))),
    );
    const read = takeSignedIn(session);
    expect(read).toMatchObject({
      userId: user!.id,
      user: { id: user!.id, name: 'Rea Der', partnerships: 0 },
    });
    expect(read?.stamp).toMatch(database.kind === 'pglite' ? /^w\d+$/ : /^n\d+\.\d+$/);
    expect(read?.stamp).toBe(await readStamp(database.db));
    expect(takeSignedIn(session), 'taken once').toBeUndefined();

    await database.db.update(users).set({ deactivatedAt: new Date() }).where(eq(users.id, user!.id));
    const again = await new Promise<Record<string, unknown>>((resolve, reject) =>
      store.get('s4', (error, found) => (error ? reject(error as Error) : resolve(found!))),
    );
    expect(takeSignedIn({ ...again }), 'a deactivated account is no one').toMatchObject({
      userId: user!.id,
      user: undefined,
    });
    // Saved as it came (not taken): what was read is left out of the row.
    await save('s4', { ...again, flash: 'new' }, at(SKIP_EXPIRY_MOVE_MS * 2));
    expect((await stored('s4'))?.data).toEqual({
      userId: user!.id,
      _csrf: 'secret',
      flash: 'new',
      cookie: { expires: at(SKIP_EXPIRY_MOVE_MS * 2).toISOString(), originalMaxAge: 7_200_000 },
    });
  });

  it('reads a session again without a query while nothing was written, and afresh when told to', async () => {
    const [user] = await database.db
      .insert(users)
      .values({ email: 'kept@example.org', name: 'Kept Read' })
      .returning({ id: users.id });
    await save('s5', { userId: user!.id, nested: { state: 'a' } }, at(0));
    await untilWritesHeard(database.db);
    const read = () =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        store.get('s5', (error, found) => (error ? reject(error as Error) : resolve(found!))),
      );
    const first = await read();
    // Every query made on the handle, built or reused, is prepared by its session first.
    const session = database.db._.session;
    const prepareQuery = session.prepareQuery.bind(session);
    let queries = 0;
    session.prepareQuery = ((...args: Parameters<typeof prepareQuery>) => {
      queries++;
      return prepareQuery(...args);
    }) as typeof prepareQuery;
    try {
      (first.nested as { state: string }).state = 'changed by the first request';
      const second = await read();
      expect(queries, 'no query: nothing was written since').toBe(0);
      expect(second.nested, 'each request gets its own copy').toEqual({ state: 'a' });
      expect(takeSignedIn(second)?.stamp).toBe(takeSignedIn(first)?.stamp);

      await database.db.update(users).set({ name: 'Renamed' }).where(eq(users.id, user!.id));
      queries = 0;
      const third = await read();
      expect(queries, 'the write: the session read again').toBe(1);
      expect(takeSignedIn(third)?.user?.name).toBe('Renamed');
      await untilWritesHeard(database.db);
      await read();
      queries = 0;
      await read();
      expect(queries, 'kept again').toBe(0);

      // A session that has just written (on another instance, say): read afresh, with the
      // server's own stamp (its snapshot), until the time given; then kept again.
      store.readAfresh('s5', Date.now() + 60_000);
      const afresh = await read();
      expect(queries).toBe(1);
      expect(takeSignedIn(afresh)?.stamp).toMatch(/^\d+:\d+:/);
      await read();
      expect(queries, 'still afresh').toBe(2);
      store.readAfresh('s5', Date.now() - 1);
      await read();
      await read();
      expect(queries, 'the time has passed: read once, then kept').toBe(3);
    } finally {
      session.prepareQuery = prepareQuery;
    }
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
