/**
 * Writes docs/plan-file.schema.json, the JSON Schema of the plan file, from the zod schema that
 * `import` checks files with. Run it after changing src/domain/plan-file.ts:
 *
 *   node --import tsx scripts/generate-plan-schema.ts
 *
 * test/documents/plan-file-schema.test.ts fails while the committed schema is out of date.
 */
import fs from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as prettier from 'prettier';
import { z } from 'zod';
import { PLAN_FILE_FORMAT, planFileSchema } from '../src/domain/plan-file.js';

export const PLAN_SCHEMA_PATH = fileURLToPath(new URL('../docs/plan-file.schema.json', import.meta.url));

/** The schema of a file as people write it (`io: 'input'`): fields with defaults may be left out. */
export function planFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(planFileSchema, { io: 'input' }),
    title: `Partnership Plan file (${PLAN_FILE_FORMAT})`,
    description:
      'One partnership with its organisations, people, principles, glossary and plans: what ' +
      '`partnership-plan export --format json` writes and `partnership-plan import` reads. See docs/plan-file.md.',
  };
}

/** The schema as committed: formatted by Prettier, so `npm run lint` passes on it. */
export async function planFileJsonSchemaText(): Promise<string> {
  const options = (await prettier.resolveConfig(PLAN_SCHEMA_PATH)) ?? {};
  return prettier.format(JSON.stringify(planFileJsonSchema()), { ...options, filepath: PLAN_SCHEMA_PATH });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  fs.writeFileSync(PLAN_SCHEMA_PATH, await planFileJsonSchemaText());
  console.log(`Wrote ${PLAN_SCHEMA_PATH}`);
}
