/**
 * A fresh, migrated database for each test file (or the demo: `demo: true`). On PGlite: a copy of
 * a template made once per run (globalSetup), loaded in about half a second. With DATABASE_URL: a new
 * database on that server, made from a template database, dropped at the end.
 */
import fs from 'node:fs';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createServerDatabase } from './server-database.js';

export interface TestDatabase extends Database {
  /** PostgreSQL only: the test database's own URL, for a second connection pool to it. */
  url?: string;
  drop(): Promise<void>;
}

/**
 * `demo: true` starts from the demo (both partnerships, their accounts with TEST_PASSWORD, their
 * evidence), copied from a template loaded once per run.
 */
export async function createTestDatabase(options: { demo?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const created = await createServerDatabase(serverUrl, {
      prefix: 'pp_test',
      template: inject(options.demo ? 'pgDemoTemplateDatabase' : 'pgTemplateDatabase'),
    });
    const url = created.url;
    const database = await openDatabase({ databaseUrl: url });
    return {
      ...database,
      url,
      close: database.close,
      async drop() {
        await database.close();
        await created.drop();
      },
    };
  }
  const templatePath = inject(options.demo ? 'pgliteDemoTemplatePath' : 'pgliteTemplatePath');
  const blob = new Blob([fs.readFileSync(templatePath)]);
  const database = await openDatabase({ inMemory: true, loadDataDir: blob });
  return { ...database, drop: () => database.close() };
}

/**
 * What a second app instance would open: on PostgreSQL, its own connection pool to the same test
 * database; on PGlite (one process, one connection) the same handle, whose close() does nothing.
 */
export async function openSecondConnection(database: TestDatabase): Promise<Database> {
  if (database.url) return openDatabase({ databaseUrl: database.url });
  return { ...database, close: async () => {} };
}
