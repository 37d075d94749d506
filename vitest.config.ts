import { defineConfig } from 'vitest/config';

/**
 * Five projects: `unit` (pure code, fast), `db` (services, routes and CLI over a real database:
 * PGlite, or PostgreSQL with DATABASE_URL), `office` (the documents the app writes, opened in
 * LibreOffice), `browser` (Chromium against a running app), `cluster` (two app instances on one
 * PostgreSQL behind nginx: scripts/test-cluster.ts).
 */
export default defineConfig({
  test: {
    // Cheaper argon2id hashes for the accounts the tests make (src/services/users.ts); the apps the
    // browser suite starts run as a person runs them, with the full cost.
    env: { TZ: 'Europe/London', PP_TEST_CHEAP_PASSWORD_HASHES: '1' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          // A bound, not a measure: CI runs these beside the PostgreSQL suite on two cores.
          testTimeout: 20_000,
          include: [
            'test/domain/**/*.test.ts',
            'test/documents/**/*.test.ts',
            'test/demo/**/*.test.ts',
            'test/config.test.ts',
            'test/web/render.test.ts',
          ],
        },
      },
      {
        extends: true,
        test: {
          name: 'db',
          sequence: { groupOrder: 1 },
          globalSetup: ['test/support/global-setup.ts'],
          include: [
            'test/services/**/*.test.ts',
            'test/web/**/*.test.ts',
            'test/cli/**/*.test.ts',
            'test/db/**/*.test.ts',
          ],
          // DB_SUITE_EXCLUDE: files to leave out of a run, comma-separated (CI's PostgreSQL run leaves
          // out the permission table, which does not depend on the database: see .ci/run).
          exclude: [
            'test/web/render.test.ts',
            ...(process.env.DB_SUITE_EXCLUDE ?? '').split(',').filter((file) => file.trim() !== ''),
          ],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // PGlite takes ~0.5 GB a database: keep to two files at once on a 2-core machine.
          maxWorkers: 2,
          // A worker's test files share its modules (loaded once, not once a file: about a quarter
          // of this suite's time was loading the app again). Every file opens its own database and
          // app and closes them; a file that changes the process's environment puts it back.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'office',
          sequence: { groupOrder: 2 },
          globalSetup: ['test/support/global-setup.ts'],
          include: ['test/office/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // LibreOffice converts one document at a time per profile; the files run one by one.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          sequence: { groupOrder: 3 },
          // One app start on an empty folder loads the demo; each file's app starts on a copy.
          globalSetup: ['test/e2e/support/global-setup.ts'],
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two files at once: each starts its own app (own port, own DATA_DIR) and its own
          // Chromium profile, and spends most of its time waiting on pages.
          maxWorkers: 2,
          // A worker's files share its modules (Playwright and axe loaded once, not once a file);
          // each file starts and stops its own app and browser.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          sequence: { groupOrder: 4 },
          include: ['test/cluster/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Each file starts its own PostgreSQL database, two app processes and nginx.
          fileParallelism: false,
        },
      },
    ],
  },
});
