/**
 * Roll-over: the coordinator starts next year's plan from this year's, choosing which aims carry
 * over. The new plan gets the headline aims, priorities, objectives and how the plan is kept; the
 * sections that hold a carried aim; and the carried aims (same numbers) with their live actions,
 * leads and partners, but no progress and no quarterly cycles. Each carried aim keeps a link to
 * the aim it came from, so an aim's history can be followed from year to year.
 */
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { canEditPlanStructure } from '../domain/permissions.js';
import { nextPlanYear, parsePlanYear, planYearDates } from '../domain/quarters.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, isUniqueViolation, NotFoundError, ValidationError, validate } from './errors.js';
import { allAims, getPartnershipById, loadPlanTree, type Party, type PlanTree } from './plan-read.js';

const CHOOSE = 'Choose at least one aim to carry over';

/** Checkboxes arrive as nothing, one value or a list of values. */
export const rollOverFormSchema = z.object({
  aimIds: z.preprocess(
    (value) => (value === undefined || value === null || value === '' ? [] : [value].flat()),
    z
      .array(
        z.coerce.number({ error: 'Choose aims from the list' }).int().positive('Choose aims from the list'),
      )
      .min(1, CHOOSE),
  ),
});

/** The choice, validated; problems are reported against the form's checkboxes, `aims`. */
function chosenAims(input: unknown): z.infer<typeof rollOverFormSchema> {
  try {
    return validate(rollOverFormSchema, input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(error.problems.map((p) => ({ ...p, field: 'aims' })));
  }
}

export interface RollOverResult {
  year: string;
  planId: number;
  sections: number;
  aims: number;
  actions: number;
  priorities: number;
}

function requireCoordinator(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can start next year’s plan');
  }
}

/** The plan year a roll-over of this plan would make, and whether it exists already. */
export async function rollOverTarget(
  db: Db,
  actor: Actor,
  partnershipId: number,
  fromYear: string,
): Promise<{ year: string; exists: boolean }> {
  requireCoordinator(actor, partnershipId);
  const year = nextPlanYear(fromYear);
  const rows = await db
    .select({ id: t.plans.id })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnershipId), eq(t.plans.year, year)));
  return { year, exists: rows.length > 0 };
}

/**
 * Creates the plan year after `fromYear` from it, carrying over the chosen live aims. Refuses when
 * that year's plan exists already. One transaction: everything is written, or nothing.
 */
export async function rollOver(
  db: Db,
  actor: Actor,
  partnershipId: number,
  fromYearInput: string,
  input: unknown,
): Promise<RollOverResult> {
  requireCoordinator(actor, partnershipId);
  const fromYear = parsePlanYear(fromYearInput);
  if (!fromYear) throw new NotFoundError(`The plan ${fromYearInput}`);
  const form = chosenAims(input);
  const year = nextPlanYear(fromYear);
  const alreadyExists = () =>
    new ValidationError([{ field: 'aims', message: `The ${year} plan already exists` }]);
  return db
    .transaction(async (tx) => {
      const partnership = await getPartnershipById(tx, partnershipId);
      const clash = await tx
        .select({ id: t.plans.id })
        .from(t.plans)
        .where(and(eq(t.plans.partnershipId, partnershipId), eq(t.plans.year, year)));
      if (clash.length) throw alreadyExists();
      const from = await loadPlanTree(tx, partnership, fromYear);
      const chosen = new Set(form.aimIds);
      const live = new Set(allAims(from).map((a) => a.id));
      if ([...chosen].some((id) => !live.has(id))) {
        throw new ValidationError([{ field: 'aims', message: 'Choose aims from the list' }]);
      }
      const result = await writeNextPlan(tx, partnershipId, from, year, chosen);
      await recordAudit(tx, actor, {
        partnershipId,
        kind: 'plan.rolled_over',
        entity: 'plan',
        entityId: year,
        summary:
          `Started the ${year} plan from ${fromYear}: ${result.aims} aims carried over, with ` +
          `${result.actions} actions, in ${result.sections} sections`,
        before: { year: fromYear, planId: from.plan.id },
        after: {
          ...result,
          carriedAims: allAims(from)
            .filter((a) => chosen.has(a.id))
            .map((a) => a.number),
        },
      });
      return result;
    })
    .catch((error: unknown) => {
      // Two coordinators rolling over at once: the one-plan-a-year index refuses the second.
      if (isUniqueViolation(error)) throw alreadyExists();
      throw error;
    });
}

async function writeNextPlan(
  tx: Tx,
  partnershipId: number,
  from: PlanTree,
  year: string,
  chosen: ReadonlySet<number>,
): Promise<RollOverResult> {
  const { startsOn, endsOn } = planYearDates(year);
  const old = from.plan;
  const [planRow] = await tx
    .insert(t.plans)
    .values({
      partnershipId,
      year,
      title: old.title.includes(old.year) ? old.title.replaceAll(old.year, year) : `${old.title} ${year}`,
      startsOn,
      endsOn,
      headlineAimsIntro: old.headlineAimsIntro,
      prioritiesIntro: old.prioritiesIntro,
      objectivesIntro: old.objectivesIntro,
      howThePlanIsKept: old.howThePlanIsKept,
    })
    .returning({ id: t.plans.id });
  const planId = planRow!.id;

  if (from.headlineAims.length) {
    await tx
      .insert(t.headlineAims)
      .values(from.headlineAims.map((text, i) => ({ partnershipId, planId, position: i + 1, text })));
  }
  if (from.objectives.length) {
    await tx
      .insert(t.objectives)
      .values(from.objectives.map((o) => ({ partnershipId, planId, number: o.number, text: o.text })));
  }

  const newAimIds = new Map<number, number>();
  let sectionCount = 0;
  let actionCount = 0;
  for (const section of from.sections) {
    const aims = section.aims.filter((a) => chosen.has(a.id));
    if (!aims.length) continue;
    sectionCount++;
    const [sectionRow] = await tx
      .insert(t.sections)
      .values({ partnershipId, planId, number: section.number, title: section.title, position: sectionCount })
      .returning({ id: t.sections.id });
    for (const [a, aim] of aims.entries()) {
      const [aimRow] = await tx
        .insert(t.aims)
        .values({
          partnershipId,
          planId,
          sectionId: sectionRow!.id,
          number: aim.number,
          title: aim.title,
          position: a + 1,
          addedOn: null,
          carriedFromAimId: aim.id,
        })
        .returning({ id: t.aims.id });
      const aimId = aimRow!.id;
      newAimIds.set(aim.id, aimId);
      if (aim.deliveryPrinciples.length) {
        await tx.insert(t.deliveryPrinciples).values(
          aim.deliveryPrinciples.map((d) => ({
            partnershipId,
            aimId,
            number: d.number,
            principle: d.principle,
            response: d.response,
          })),
        );
      }
      for (const [c, action] of aim.actions.entries()) {
        const [actionRow] = await tx
          .insert(t.actions)
          .values({
            partnershipId,
            aimId,
            position: c + 1,
            description: action.description,
            resources: action.resources,
            expectedOutcomes: action.expectedOutcomes,
          })
          .returning({ id: t.actions.id });
        actionCount++;
        await copyParties(tx, partnershipId, actionRow!.id, 'lead', action.leads);
        await copyParties(tx, partnershipId, actionRow!.id, 'partner', action.partners);
      }
    }
  }

  for (const [i, priority] of from.priorities.entries()) {
    const [row] = await tx
      .insert(t.priorities)
      .values({
        partnershipId,
        planId,
        position: i + 1,
        title: priority.title,
        description: priority.description,
        addedOn: null,
      })
      .returning({ id: t.priorities.id });
    const links = [
      ...new Set(priority.aimIds.map((id) => newAimIds.get(id)).filter((id) => id !== undefined)),
    ];
    if (links.length) {
      await tx
        .insert(t.priorityAims)
        .values(links.map((aimId) => ({ partnershipId, priorityId: row!.id, aimId })));
    }
  }

  return {
    year,
    planId,
    sections: sectionCount,
    aims: newAimIds.size,
    actions: actionCount,
    priorities: from.priorities.length,
  };
}

async function copyParties(
  tx: Tx,
  partnershipId: number,
  actionId: number,
  role: 'lead' | 'partner',
  parties: readonly Party[],
): Promise<void> {
  for (const [i, party] of parties.entries()) {
    const [row] = await tx
      .insert(t.actionParties)
      .values({
        partnershipId,
        actionId,
        organisationId: party.organisationId,
        role,
        position: i + 1,
        officers: party.officers,
      })
      .returning({ id: t.actionParties.id });
    const personIds = [...new Set(party.personIds)];
    if (personIds.length) {
      await tx
        .insert(t.actionPartyPeople)
        .values(personIds.map((personId) => ({ partnershipId, actionPartyId: row!.id, personId })));
    }
  }
}
