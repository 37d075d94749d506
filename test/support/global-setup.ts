/**
 * Runs once per test run: migrates one template database for the database tests to copy, and a
 * second one with the demo loaded (the demo accounts' password is TEST_PASSWORD), so that a test
 * file that starts from the demo copies it instead of loading it again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';
import { loadDemo } from '../../src/services/demo.js';
import { TEST_PASSWORD } from './password.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    pgTemplateDatabase: string;
    /** The same with the demo loaded. */
    pgliteDemoTemplatePath: string;
    pgDemoTemplateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  // The templates' demo accounts get the cheap hashes the test workers make (vitest.config.ts env),
  // so signing in as them costs the tests as little.
  process.env.PP_TEST_CHEAP_PASSWORD_HASHES = '1';
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `pp_template_${process.pid}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name}`);
    await admin.query(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ databaseUrl: url.toString() });
    await database.migrate();
    await database.close();
    const demoName = `${name}_demo`;
    await admin.query(`drop database if exists ${demoName}`);
    await admin.query(`create database ${demoName} template ${name}`);
    url.pathname = `/${demoName}`;
    const demo = await openDatabase({ databaseUrl: url.toString() });
    await loadDemo(demo.db, TEST_PASSWORD);
    await demo.close();
    project.provide('pgTemplateDatabase', name);
    project.provide('pgDemoTemplateDatabase', demoName);
    project.provide('pgliteTemplatePath', '');
    project.provide('pgliteDemoTemplatePath', '');
    return async () => {
      await admin.query(`drop database if exists ${demoName} with (force)`);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const database = await openDatabase({ inMemory: true });
  await database.migrate();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-template-'));
  // Uncompressed (43 MB): each test file's database loads it, and unpacking a gzipped one took a
  // third of opening the database (~0.45 s of CPU, 61 times a run).
  const file = path.join(dir, 'template.tar');
  fs.writeFileSync(file, Buffer.from(await (await database.pglite!.dumpDataDir('none')).arrayBuffer()));
  await loadDemo(database.db, TEST_PASSWORD);
  const demoFile = path.join(dir, 'demo-template.tar');
  fs.writeFileSync(demoFile, Buffer.from(await (await database.pglite!.dumpDataDir('none')).arrayBuffer()));
  await database.close();
  project.provide('pgliteTemplatePath', file);
  project.provide('pgliteDemoTemplatePath', demoFile);
  project.provide('pgTemplateDatabase', '');
  project.provide('pgDemoTemplateDatabase', '');
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
