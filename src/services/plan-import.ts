/**
 * Writes a validated plan file into the database: the demo, a user's file and a restore of an
 * export all come through here. Everything is written in one transaction, or nothing is.
 */
import { and, eq } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  fundingLineFields,
  type PlanFile,
  type PlanFileFundingLine,
  type PlanFilePlan,
  type PlanFileParty,
} from '../domain/plan-file.js';
import { canEditPlanStructure } from '../domain/permissions.js';
import { planYearDates } from '../domain/quarters.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, ValidationError } from './errors.js';

export interface ImportSummary {
  partnershipId: number;
  partnership: string;
  plans: { year: string; sections: number; aims: number; actions: number; progressUpdates: number }[];
  organisations: number;
  people: number;
  dryRun: boolean;
}

class DryRunRollback<T> extends Error {
  constructor(readonly summary: T) {
    super('dry run');
  }
}

/** Lookups by name, filled as rows are written; organisations named only in a CSV are added. */
interface Names {
  organisations: Map<string, number>;
  people: Map<string, number>;
}

/**
 * Imports a whole partnership from a plan file into the database. Refuses a partnership that
 * already exists. With dryRun, every row is written and checked by the database, then rolled back.
 */
export async function importPlanFile(
  db: Db,
  file: PlanFile,
  actor: Actor,
  options: { dryRun?: boolean; viaDemo?: boolean } = {},
): Promise<ImportSummary> {
  if (!actor.system) throw new ForbiddenError('Only the operator can import a whole partnership');
  try {
    return await db.transaction(async (tx) => {
      const existing = await tx
        .select({ id: t.partnerships.id })
        .from(t.partnerships)
        .where(eq(t.partnerships.slug, file.partnership.slug));
      if (existing.length > 0) {
        throw new ValidationError([
          {
            field: 'partnership.slug',
            message: `a partnership "${file.partnership.slug}" already exists in this database; import into an empty database`,
          },
        ]);
      }
      const [partnership] = await tx
        .insert(t.partnerships)
        .values({
          slug: file.partnership.slug,
          name: file.partnership.name,
          area: file.partnership.area ?? null,
          principlesIntro: file.partnership.principlesIntro ?? null,
        })
        .returning({ id: t.partnerships.id });
      const partnershipId = partnership!.id;

      const names: Names = { organisations: new Map(), people: new Map() };
      for (const organisation of file.organisations) {
        await ensureOrganisation(tx, partnershipId, names, organisation.name, organisation.fullName ?? null);
      }
      for (const person of file.people) {
        const organisationId = person.organisation ? names.organisations.get(person.organisation) : undefined;
        const [row] = await tx
          .insert(t.people)
          .values({ partnershipId, name: person.name, organisationId: organisationId ?? null })
          .returning({ id: t.people.id });
        names.people.set(person.name, row!.id);
      }
      if (file.principles.length) {
        await tx
          .insert(t.principles)
          .values(file.principles.map((p) => ({ partnershipId, number: p.number, text: p.text })));
      }
      if (file.glossary.length) {
        await tx
          .insert(t.glossaryTerms)
          .values(file.glossary.map((g) => ({ partnershipId, term: g.term, meaning: g.meaning })));
      }

      const summary: ImportSummary = {
        partnershipId,
        partnership: file.partnership.name,
        plans: [],
        organisations: file.organisations.length,
        people: file.people.length,
        dryRun: options.dryRun ?? false,
      };
      for (const plan of file.plans) {
        summary.plans.push(await writePlan(tx, partnershipId, plan, names));
      }
      summary.organisations = names.organisations.size;

      await recordAudit(tx, actor, {
        partnershipId,
        kind: options.viaDemo ? 'demo.loaded' : 'partnership.imported',
        entity: 'partnership',
        entityId: partnershipId,
        summary: `Imported ${file.partnership.name}: ${summary.plans
          .map(
            (p) =>
              `plan ${p.year} (${p.aims} aims, ${p.actions} actions, ${p.progressUpdates} progress updates)`,
          )
          .join(', ')}`,
        after: { plans: summary.plans, organisations: summary.organisations, people: summary.people },
        viaImport: true,
      });
      if (options.dryRun) throw new DryRunRollback(summary);
      return summary;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.summary as ImportSummary;
    throw error;
  }
}

/** Imports one plan year into an existing partnership (a CSV of next year's plan). */
export async function importPlanIntoPartnership(
  db: Db,
  partnershipId: number,
  plan: PlanFilePlan,
  actor: Actor,
  options: { dryRun?: boolean } = {},
): Promise<ImportSummary['plans'][number]> {
  if (!actor.system && actor.member?.role !== 'coordinator') {
    throw new ForbiddenError('Only the coordinator can import a plan');
  }
  try {
    return await db.transaction(async (tx) => {
      const written = await importPlanYear(tx, actor, partnershipId, plan);
      if (options.dryRun) throw new DryRunRollback(written);
      return written;
    });
  } catch (error) {
    if (error instanceof DryRunRollback) return error.summary as ImportSummary['plans'][number];
    throw error;
  }
}

/**
 * Writes one new plan year into an existing partnership, inside the caller's transaction, with
 * its audit event: organisations and people are found by name, or added. Refuses a year the
 * partnership has a plan for. `source` names where it came from in the audit trail ("sosafe.docx").
 */
export async function importPlanYear(
  tx: Tx,
  actor: Actor,
  partnershipId: number,
  plan: PlanFilePlan,
  options: { source?: string } = {},
): Promise<ImportSummary['plans'][number]> {
  if (!actor.system && !canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the coordinator can import a plan');
  }
  const clash = await tx
    .select({ id: t.plans.id })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnershipId), eq(t.plans.year, plan.year)));
  if (clash.length) {
    throw new ValidationError([
      { field: 'plan', message: `the plan ${plan.year} already exists in this partnership` },
    ]);
  }
  const names: Names = { organisations: new Map(), people: new Map() };
  for (const row of await tx
    .select({ id: t.organisations.id, name: t.organisations.name })
    .from(t.organisations)
    .where(eq(t.organisations.partnershipId, partnershipId))) {
    names.organisations.set(row.name, row.id);
  }
  for (const row of await tx
    .select({ id: t.people.id, name: t.people.name })
    .from(t.people)
    .where(eq(t.people.partnershipId, partnershipId))) {
    names.people.set(row.name, row.id);
  }
  const written = await writePlan(tx, partnershipId, plan, names);
  await recordAudit(tx, actor, {
    partnershipId,
    kind: 'plan.imported',
    entity: 'plan',
    entityId: plan.year,
    summary: `Imported plan ${plan.year}${options.source ? ` from ${options.source}` : ''} (${written.aims} aims, ${written.actions} actions)`,
    after: options.source ? { ...written, source: options.source } : written,
    viaImport: true,
  });
  return written;
}

async function ensureOrganisation(
  tx: Tx,
  partnershipId: number,
  names: Names,
  name: string,
  fullName: string | null,
): Promise<number> {
  const known = names.organisations.get(name);
  if (known !== undefined) return known;
  const [row] = await tx
    .insert(t.organisations)
    .values({ partnershipId, name, fullName })
    .returning({ id: t.organisations.id });
  names.organisations.set(name, row!.id);
  return row!.id;
}

async function writePlan(tx: Tx, partnershipId: number, plan: PlanFilePlan, names: Names) {
  const { startsOn, endsOn } = planYearDates(plan.year);
  const [planRow] = await tx
    .insert(t.plans)
    .values({
      partnershipId,
      year: plan.year,
      title: plan.title,
      startsOn,
      endsOn,
      headlineAimsIntro: plan.headlineAimsIntro ?? null,
      prioritiesIntro: plan.prioritiesIntro ?? null,
      objectivesIntro: plan.objectivesIntro ?? null,
      howThePlanIsKept: plan.howThePlanIsKept,
    })
    .returning({ id: t.plans.id });
  const planId = planRow!.id;

  if (plan.headlineAims.length) {
    await tx
      .insert(t.headlineAims)
      .values(plan.headlineAims.map((text, i) => ({ partnershipId, planId, position: i + 1, text })));
  }
  if (plan.objectives.length) {
    await tx
      .insert(t.objectives)
      .values(plan.objectives.map((o) => ({ partnershipId, planId, number: o.number, text: o.text })));
  }

  const aimIds = new Map<string, number>();
  let aimCount = 0;
  let actionCount = 0;
  let progressCount = 0;
  for (const [s, section] of plan.sections.entries()) {
    const [sectionRow] = await tx
      .insert(t.sections)
      .values({ partnershipId, planId, number: section.number, title: section.title, position: s + 1 })
      .returning({ id: t.sections.id });
    for (const [a, aim] of section.aims.entries()) {
      const [aimRow] = await tx
        .insert(t.aims)
        .values({
          partnershipId,
          planId,
          sectionId: sectionRow!.id,
          number: aim.number,
          title: aim.title,
          position: a + 1,
          addedOn: aim.addedOn ?? null,
          // Published by the import (its audit event), so by no one in particular.
          publishedAt: aim.published ? new Date() : null,
        })
        .returning({ id: t.aims.id });
      const aimId = aimRow!.id;
      aimIds.set(aim.number, aimId);
      aimCount++;
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
        const actionId = actionRow!.id;
        actionCount++;
        await writeParties(tx, partnershipId, actionId, 'lead', action.leads, names);
        await writeParties(tx, partnershipId, actionId, 'partner', action.partners, names);
        if (action.progress.length) {
          await tx.insert(t.progressUpdates).values(
            action.progress.map((u) => ({
              partnershipId,
              actionId,
              quarter: u.quarter,
              text: u.text,
              status: u.status,
              recordedAt: u.recordedAt ? new Date(u.recordedAt) : null,
            })),
          );
          progressCount += action.progress.length;
        }
        await writeFunding(tx, { partnershipId, planId, aimId, actionId }, action.funding);
      }
      await writeFunding(tx, { partnershipId, planId, aimId, actionId: null }, aim.funding);
    }
  }

  for (const [i, priority] of plan.priorities.entries()) {
    const [row] = await tx
      .insert(t.priorities)
      .values({
        partnershipId,
        planId,
        position: i + 1,
        title: priority.title,
        description: priority.description ?? null,
        addedOn: priority.addedOn ?? null,
      })
      .returning({ id: t.priorities.id });
    const links = priority.aims
      .map((number) => aimIds.get(number))
      .filter((id): id is number => id !== undefined);
    if (links.length) {
      await tx
        .insert(t.priorityAims)
        .values([...new Set(links)].map((aimId) => ({ partnershipId, priorityId: row!.id, aimId })));
    }
  }

  return {
    year: plan.year,
    sections: plan.sections.length,
    aims: aimCount,
    actions: actionCount,
    progressUpdates: progressCount,
  };
}

/** An aim's or action's funding lines, as the file gives them (checked by checkPlanFile). */
async function writeFunding(
  tx: Tx,
  at: { partnershipId: number; planId: number; aimId: number; actionId: number | null },
  lines: readonly PlanFileFundingLine[] | undefined,
) {
  if (!lines?.length) return;
  await tx.insert(t.fundingLines).values(lines.map((line) => ({ ...at, ...fundingLineFields(line) })));
}

async function writeParties(
  tx: Tx,
  partnershipId: number,
  actionId: number,
  role: 'lead' | 'partner',
  parties: readonly PlanFileParty[],
  names: Names,
) {
  for (const [i, party] of parties.entries()) {
    const organisationId = await ensureOrganisation(tx, partnershipId, names, party.organisation, null);
    const [row] = await tx
      .insert(t.actionParties)
      .values({ partnershipId, actionId, organisationId, role, position: i + 1, officers: party.officers })
      .returning({ id: t.actionParties.id });
    const personIds = new Set(
      party.officers.map((o) => names.people.get(o)).filter((id): id is number => id !== undefined),
    );
    if (personIds.size) {
      await tx
        .insert(t.actionPartyPeople)
        .values([...personIds].map((personId) => ({ partnershipId, actionPartyId: row!.id, personId })));
    }
  }
}
