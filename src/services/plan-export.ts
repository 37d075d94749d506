/**
 * Builds the plan file (docs/plan-file.md) for one plan year of a partnership: what the CLI's
 * `export --format json` writes, and what `import` reads back to the same file.
 */
import { and, asc, eq, isNotNull, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import { PLAN_FILE_FORMAT, type PlanFile, type PlanFileParty } from '../domain/plan-file.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { addFundingToFilePlan } from './funding.js';
import { allAims, loadPlanTree, type Party, type PartnershipRow, type PlanTree } from './plan-read.js';
import { assertMayRead } from './plan-view.js';

function toParty(party: Party): PlanFileParty {
  return { organisation: party.organisation, officers: [...party.officers] };
}

export function planTreeToFilePlan(tree: PlanTree): PlanFile['plans'][number] {
  const numberOfAim = new Map(allAims(tree).map((a) => [a.id, a.number]));
  return {
    year: tree.plan.year,
    title: tree.plan.title,
    headlineAimsIntro: tree.plan.headlineAimsIntro,
    headlineAims: tree.headlineAims,
    prioritiesIntro: tree.plan.prioritiesIntro,
    priorities: tree.priorities.map((p) => ({
      title: p.title,
      description: p.description,
      addedOn: p.addedOn,
      aims: allAims(tree)
        .filter((a) => p.aimIds.includes(a.id))
        .map((a) => numberOfAim.get(a.id)!),
    })),
    objectivesIntro: tree.plan.objectivesIntro,
    objectives: tree.objectives,
    howThePlanIsKept: tree.plan.howThePlanIsKept,
    sections: tree.sections.map((section) => ({
      number: section.number,
      title: section.title,
      aims: section.aims.map((aim) => ({
        number: aim.number,
        title: aim.title,
        addedOn: aim.addedOn,
        actions: aim.actions.map((action) => ({
          description: action.description,
          leads: action.leads.map(toParty),
          partners: action.partners.map(toParty),
          resources: action.resources,
          expectedOutcomes: action.expectedOutcomes,
          progress: action.progress.map((p) => ({
            quarter: p.quarter,
            text: p.text,
            status: p.status,
            ...(p.recordedAt ? { recordedAt: p.recordedAt.toISOString() } : {}),
          })),
        })),
        deliveryPrinciples: aim.deliveryPrinciples.map((d) => ({
          number: d.number,
          principle: d.principle,
          response: d.response,
        })),
      })),
    })),
  };
}

/** The plan with `published: true` on the aims on the public page (a new year's plan starts unpublished). */
function withPublished(plan: PlanFile['plans'][number], published: ReadonlySet<string>) {
  return {
    ...plan,
    sections: plan.sections.map((section) => ({
      ...section,
      aims: section.aims.map((aim) => (published.has(aim.number) ? { ...aim, published: true } : aim)),
    })),
  };
}

export async function exportPlanFile(db: Db, partnership: PartnershipRow, year: string): Promise<PlanFile> {
  const tree = await loadPlanTree(db, partnership, year);
  const [organisations, people, principles, glossary] = await Promise.all([
    db
      .select({ id: t.organisations.id, name: t.organisations.name, fullName: t.organisations.fullName })
      .from(t.organisations)
      .where(and(eq(t.organisations.partnershipId, partnership.id), isNull(t.organisations.archivedAt)))
      .orderBy(asc(t.organisations.id)),
    db
      .select({ name: t.people.name, organisationId: t.people.organisationId })
      .from(t.people)
      .where(and(eq(t.people.partnershipId, partnership.id), isNull(t.people.archivedAt)))
      .orderBy(asc(t.people.id)),
    db
      .select({ number: t.principles.number, text: t.principles.text })
      .from(t.principles)
      .where(eq(t.principles.partnershipId, partnership.id))
      .orderBy(asc(t.principles.number), asc(t.principles.id)),
    db
      .select({ term: t.glossaryTerms.term, meaning: t.glossaryTerms.meaning })
      .from(t.glossaryTerms)
      .where(eq(t.glossaryTerms.partnershipId, partnership.id))
      .orderBy(asc(t.glossaryTerms.id)),
  ]);
  const organisationName = new Map(organisations.map((o) => [o.id, o.name]));
  const published = new Set(
    (
      await db
        .select({ number: t.aims.number })
        .from(t.aims)
        .where(and(eq(t.aims.planId, tree.plan.id), isNotNull(t.aims.publishedAt)))
    ).map((a) => a.number),
  );
  return {
    format: PLAN_FILE_FORMAT,
    partnership: {
      slug: partnership.slug,
      name: partnership.name,
      area: partnership.area,
      principlesIntro: partnership.principlesIntro,
    },
    organisations: organisations.map((o) => ({ name: o.name, fullName: o.fullName })),
    people: people.map((p) => ({
      name: p.name,
      organisation: p.organisationId ? (organisationName.get(p.organisationId) ?? null) : null,
    })),
    principles,
    glossary,
    plans: [withPublished(await addFundingToFilePlan(db, tree, planTreeToFilePlan(tree)), published)],
  };
}

/**
 * Exports a plan for someone: checks they may read it and records the export in the audit trail
 * (before the data leaves), then returns the plan file.
 */
export async function exportPlan(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  year: string,
  format: 'json' | 'csv',
  destination?: string,
): Promise<PlanFile> {
  assertMayRead(actor, partnership.id);
  const file = await exportPlanFile(db, partnership, year);
  await db.transaction((tx) =>
    recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'plan.exported',
      entity: 'plan',
      entityId: year,
      summary: `Exported plan ${year} as ${format.toUpperCase()}${destination ? ` to ${destination}` : ''}`,
      after: { format, year, file: destination ?? null },
    }),
  );
  return file;
}
