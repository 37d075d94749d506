import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  PLAN_SCHEMA_PATH,
  planFileJsonSchema,
  planFileJsonSchemaText,
} from '../../scripts/generate-plan-schema.js';

const REGENERATE =
  'docs/plan-file.schema.json is out of date: run node --import tsx scripts/generate-plan-schema.ts';

describe('docs/plan-file.schema.json', () => {
  const committed = fs.readFileSync(PLAN_SCHEMA_PATH, 'utf8');

  it('is what the script generates from planFileSchema', async () => {
    expect(JSON.parse(committed), REGENERATE).toEqual(planFileJsonSchema());
    expect(committed, REGENERATE).toBe(await planFileJsonSchemaText());
  });

  it('describes the plan file as people write it', () => {
    const schema = planFileJsonSchema() as {
      required: string[];
      properties: { format: { const: string } };
    };
    // `io: 'input'`: lists with defaults (organisations, people, …) may be left out of a file.
    expect(schema.required.sort()).toEqual(['format', 'partnership', 'plans']);
    expect(schema.properties.format.const).toBe('partnership-plan/v1');
  });
});
