import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePlanFileJson, type PlanFileInput } from '../../src/domain/plan-file.js';

const demo = JSON.parse(
  fs.readFileSync(new URL('../../src/demo/sosafe-2024-25.json', import.meta.url), 'utf8'),
) as PlanFileInput;
const clone = () => structuredClone(demo) as PlanFileInput & { plans: NonNullable<PlanFileInput['plans']> };

function problems(file: unknown) {
  const result = parsePlanFileJson(JSON.stringify(file));
  return result.ok ? [] : result.problems;
}

describe('checking a plan file', () => {
  it('accepts the demo file', () => {
    expect(problems(demo)).toEqual([]);
  });

  it('says where malformed JSON breaks', () => {
    const result = parsePlanFileJson('{\n  "format": "partnership-plan/v1",\n  "plans": [,]\n}');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      { where: 'line 3, column 13', message: 'is not valid JSON (value expected)' },
    ]);
  });

  it('names a duplicate aim number and where it was first used', () => {
    const file = clone();
    file.plans[0]!.sections![0]!.aims![1]!.number = '1.1';
    expect(problems(file)).toContainEqual({
      where: 'plans[0].sections[0].aims[1].number',
      message: 'repeats aim number 1.1, already used at plans[0].sections[0].aims[0]',
    });
  });

  it('refuses an unknown quarter at its place', () => {
    const file = clone();
    (file.plans[0]!.sections![0]!.aims![0]!.actions![0]!.progress![0] as { quarter: unknown }).quarter = 5;
    const found = problems(file);
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual({
      where: 'plans[0].sections[0].aims[0].actions[0].progress[0].quarter',
      message: 'must be a quarter: 1, 2, 3 or 4 (Q1 to Q4), or null for progress with no quarter',
    });
  });

  it('refuses a lead organisation that is not listed, and a priority naming an unknown aim', () => {
    const file = clone();
    file.plans[0]!.sections![0]!.aims![0]!.actions![0]!.leads![0]!.organisation = 'Nobody';
    file.plans[0]!.priorities![0]!.aims = ['9.9'];
    expect(problems(file)).toEqual(
      expect.arrayContaining([
        {
          where: 'plans[0].sections[0].aims[0].actions[0].leads[0].organisation',
          message: 'names "Nobody", which is not in organisations',
        },
        { where: 'plans[0].priorities[0].aims[0]', message: 'names aim 9.9, which is not in this plan' },
      ]),
    );
  });

  it('refuses an aim filed under the wrong section, and unknown fields', () => {
    const file = clone();
    file.plans[0]!.sections![0]!.aims![0]!.number = '2.9';
    (file.plans[0]! as Record<string, unknown>).colour = 'blue';
    const found = problems(file);
    expect(found.some((p) => p.where === 'plans[0]' && /colour/.test(p.message))).toBe(true);
  });
});
