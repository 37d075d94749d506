/** The demo's SoSafe 2024/25 plan as the plan file holds it, and what a table carries of it. */
import type { PlanFilePlan } from '../../src/domain/plan-file.js';
import { readDemoFile } from '../../src/services/demo.js';

export function demoPlan(): PlanFilePlan {
  return readDemoFile().plans[0]!;
}

/**
 * What a table (the plan's CSV or spreadsheet) can carry of a plan: the sections, aims, actions
 * and progress, without delivery principles, funding or what is published.
 */
export function tableOf(plan: PlanFilePlan) {
  return plan.sections.map((section) => ({
    ...section,
    aims: section.aims.map(({ funding: _aimFunding, published: _published, ...aim }) => ({
      ...aim,
      deliveryPrinciples: [],
      actions: aim.actions.map(({ funding: _funding, ...action }) => action),
    })),
  }));
}
