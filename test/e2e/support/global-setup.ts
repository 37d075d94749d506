/**
 * Runs once per browser run: the app started on an empty folder (migrations, the demo), stopped,
 * and its folder kept as the template every test file's app copies (see app.ts). Loading the demo
 * once instead of once per file keeps the suite well inside CI's time.
 */
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { makeTemplateDataDir } from './app.js';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eTemplateDataDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await makeTemplateDataDir();
  project.provide('e2eTemplateDataDir', dir);
  return () => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
