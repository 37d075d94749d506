/**
 * The second demo partnership: an illustrative North Herts plan, not a real document. It says so,
 * it shares priorities (by exact title) and lead organisations (by name) with the SoSafe plan so that
 * the county view has something to show, and it names officers only in the party lists.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPlanFile, type PlanFile } from '../../src/domain/plan-file.js';

function load(name: string): PlanFile {
  const json: unknown = JSON.parse(
    fs.readFileSync(new URL(`../../src/demo/${name}`, import.meta.url), 'utf8'),
  );
  const result = checkPlanFile(json);
  if (!result.ok) throw new Error(`${name} is invalid: ${JSON.stringify(result.problems, null, 2)}`);
  return result.file;
}

const northHerts = load('north-herts-2024-25.json');
const sosafe = load('sosafe-2024-25.json');
const plan = northHerts.plans[0]!;
const actions = plan.sections.flatMap((s) => s.aims.flatMap((a) => a.actions));

describe('the illustrative North Herts demo plan', () => {
  it('is a smaller 2024/25 plan of its own partnership', () => {
    expect(northHerts.partnership.slug).toBe('north-herts');
    expect(plan.year).toBe('2024/25');
    expect(plan.sections.length).toBeLessThanOrEqual(3);
    expect(plan.sections.flatMap((s) => s.aims).length).toBeLessThan(10);
  });

  it('says plainly that it is an illustrative demo, not the published plan', () => {
    expect(plan.title).toContain('illustrative demo');
    expect(northHerts.partnership.principlesIntro).toContain(
      'not North Hertfordshire Community Safety Partnership',
    );
    expect(plan.howThePlanIsKept[0]).toContain('It is not North Hertfordshire Community Safety Partnership');
  });

  it('shares priorities with SoSafe word for word, and has some of its own', () => {
    const theirs = new Set(sosafe.plans[0]!.priorities.map((p) => p.title));
    const shared = plan.priorities.filter((p) => theirs.has(p.title)).map((p) => p.title);
    expect(shared).toContain('All ASB');
    expect(shared).toContain('Serious violence');
    expect(shared.length).toBeGreaterThanOrEqual(3);
    expect(shared.length).toBeLessThan(plan.priorities.length);
  });

  it('has organisations that lead actions in SoSafe too', () => {
    const leadsIn = (file: PlanFile) =>
      new Set(
        file.plans[0]!.sections.flatMap((s) =>
          s.aims.flatMap((a) => a.actions.flatMap((c) => c.leads.map((l) => l.organisation))),
        ),
      );
    const theirs = leadsIn(sosafe);
    expect([...leadsIn(northHerts)].filter((o) => theirs.has(o)).sort()).toEqual([
      'HCC',
      'Police',
      'SADA',
      'Trading Standards',
    ]);
  });

  it('gives statuses with its progress, and names officers only in lead and partner lists', () => {
    const updates = actions.flatMap((a) => a.progress);
    expect(updates.length).toBeGreaterThan(15);
    expect(updates.every((u) => u.status !== null)).toBe(true);
    for (const person of northHerts.people) {
      for (const a of actions) {
        const texts = [
          a.description,
          ...a.resources,
          ...a.expectedOutcomes,
          ...a.progress.map((u) => u.text),
        ];
        for (const text of texts) expect(text).not.toContain(person.name);
      }
    }
  });
});
