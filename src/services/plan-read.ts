/**
 * Reads a plan as a tree (sections → aims → actions → parties and progress). A plan is tens of
 * aims and a few hundred rows, so one tree read by a handful of queries serves every page and the
 * export; the shaping is done here, not in templates.
 */
import { and, asc, eq, inArray, isNull, ne } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { allQueries, type Db, type Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { compareAimNumbers } from '../domain/numbering.js';
import { parsePlanYear, type Quarter } from '../domain/quarters.js';
import type { Status } from '../domain/status.js';
import { NotFoundError } from './errors.js';
import { cachedRead, type ReadStamp } from './read-cache.js';

export interface PartnershipRow {
  id: number;
  slug: string;
  name: string;
  area: string | null;
  principlesIntro: string | null;
}

export interface Party {
  id: number;
  organisationId: number;
  organisation: string;
  fullName: string | null;
  officers: string[];
  personIds: number[];
}

export interface ProgressNode {
  id: number;
  actionId: number;
  quarter: Quarter | null;
  text: string;
  status: Status | null;
  recordedAt: Date | null;
  recordedBy: string | null;
  version: number;
  /** Drafts never reach the plan's pages: only the lead's own form shows them. */
  state: 'submitted' | 'accepted' | 'returned';
  evidenceUrl: string | null;
  submittedAt: Date | null;
  late: boolean;
  /** Changed after its quarter was closed: an amendment to what the board was shown. */
  amendedAt: Date | null;
}

export interface ActionNode {
  id: number;
  aimId: number;
  position: number;
  description: string;
  resources: string[];
  expectedOutcomes: string[];
  version: number;
  archivedAt: Date | null;
  leads: Party[];
  partners: Party[];
  progress: ProgressNode[];
}

export interface AimNode {
  id: number;
  sectionId: number;
  number: string;
  title: string;
  position: number;
  addedOn: string | null;
  /** The aim of an earlier year's plan this one was carried over from (roll-over). */
  carriedFrom: { year: string; number: string } | null;
  /** The aims of later years' plans carried over from this one, earliest first. */
  carriedTo: { year: string; number: string }[];
  version: number;
  archivedAt: Date | null;
  actions: ActionNode[];
  deliveryPrinciples: { id: number; number: number; principle: string; response: string }[];
  priorityIds: number[];
}

export interface SectionNode {
  id: number;
  number: number;
  title: string;
  position: number;
  version: number;
  archivedAt: Date | null;
  aims: AimNode[];
}

export interface PriorityNode {
  id: number;
  title: string;
  description: string | null;
  addedOn: string | null;
  aimIds: number[];
}

export interface PlanTree {
  partnership: PartnershipRow;
  plan: typeof t.plans.$inferSelect;
  headlineAims: string[];
  objectives: { number: number; text: string }[];
  priorities: PriorityNode[];
  sections: SectionNode[];
}

/** A partnership's columns as PartnershipRow holds them. */
export const partnershipColumns = {
  id: t.partnerships.id,
  slug: t.partnerships.slug,
  name: t.partnerships.name,
  area: t.partnerships.area,
  principlesIntro: t.partnerships.principlesIntro,
};

export async function getPartnershipById(db: Db | Tx, id: number): Promise<PartnershipRow> {
  const [row] = await db.select(partnershipColumns).from(t.partnerships).where(eq(t.partnerships.id, id));
  if (!row) throw new NotFoundError('The partnership');
  return row;
}

export async function getPartnershipBySlug(db: Db, slug: string, stamp?: ReadStamp): Promise<PartnershipRow> {
  return cachedRead(db, stamp, `partnership:${slug}`, async () => {
    const [row] = await db
      .select(partnershipColumns)
      .from(t.partnerships)
      .where(eq(t.partnerships.slug, slug));
    if (!row) throw new NotFoundError(`The partnership "${slug}"`);
    return row;
  });
}

export async function listPartnerships(db: Db): Promise<PartnershipRow[]> {
  return db.select(partnershipColumns).from(t.partnerships).orderBy(asc(t.partnerships.name));
}

export async function listPlanYears(db: Db, partnershipId: number): Promise<string[]> {
  const rows = await db
    .select({ year: t.plans.year })
    .from(t.plans)
    .where(eq(t.plans.partnershipId, partnershipId))
    .orderBy(asc(t.plans.year));
  return rows.map((r) => r.year);
}

/** The plan year to show by default: the latest one. */
export async function currentPlanYear(db: Db, partnershipId: number): Promise<string | undefined> {
  return (await listPlanYears(db, partnershipId)).at(-1);
}

/**
 * The plan of a year as a tree. With a request's stamp it may come from the read cache
 * (read-cache.ts): the same tree object for every request while nothing was written.
 */
export async function loadPlanTree(
  db: Db | Tx,
  partnership: PartnershipRow,
  yearInput: string,
  options: { includeArchived?: boolean; stamp?: ReadStamp } = {},
): Promise<PlanTree> {
  const { stamp, ...readOptions } = options;
  return cachedRead(
    db,
    stamp,
    `tree:${partnership.id}:${yearInput}:${readOptions.includeArchived ? 'all' : 'live'}`,
    () => readPlanTree(db, partnership, yearInput, readOptions),
  );
}

async function readPlanTree(
  db: Db | Tx,
  partnership: PartnershipRow,
  yearInput: string,
  options: { includeArchived?: boolean },
): Promise<PlanTree> {
  const year = parsePlanYear(yearInput);
  if (!year) throw new NotFoundError(`The plan ${yearInput}`);
  const [plan] = await db
    .select()
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnership.id), eq(t.plans.year, year)));
  if (!plan) throw new NotFoundError(`The plan ${year}`);
  const live = !options.includeArchived;
  const earlierAim = alias(t.aims, 'earlier_aim');
  const earlierPlan = alias(t.plans, 'earlier_plan');
  const laterAim = alias(t.aims, 'later_aim');
  const laterPlan = alias(t.plans, 'later_plan');

  const [headlineAims, objectives, priorities, sections, aimRows, laterRows] = await allQueries(db, [
    db
      .select()
      .from(t.headlineAims)
      .where(eq(t.headlineAims.planId, plan.id))
      .orderBy(asc(t.headlineAims.position)),
    db.select().from(t.objectives).where(eq(t.objectives.planId, plan.id)).orderBy(asc(t.objectives.number)),
    db
      .select()
      .from(t.priorities)
      .where(and(eq(t.priorities.planId, plan.id), isNull(t.priorities.archivedAt)))
      .orderBy(asc(t.priorities.position)),
    db
      .select()
      .from(t.sections)
      .where(and(eq(t.sections.planId, plan.id), live ? isNull(t.sections.archivedAt) : undefined))
      .orderBy(asc(t.sections.position), asc(t.sections.id)),
    // The aim each was carried over from, joined here rather than asked for separately.
    db
      .select({ aim: t.aims, carriedFromYear: earlierPlan.year, carriedFromNumber: earlierAim.number })
      .from(t.aims)
      .leftJoin(earlierAim, eq(earlierAim.id, t.aims.carriedFromAimId))
      .leftJoin(earlierPlan, eq(earlierPlan.id, earlierAim.planId))
      .where(and(eq(t.aims.planId, plan.id), live ? isNull(t.aims.archivedAt) : undefined))
      .orderBy(asc(t.aims.position), asc(t.aims.id)),
    // The aims of later years' plans carried over from this plan's (roll-over), the other way.
    db
      .select({ from: laterAim.carriedFromAimId, year: laterPlan.year, number: laterAim.number })
      .from(laterAim)
      .innerJoin(t.aims, eq(t.aims.id, laterAim.carriedFromAimId))
      .innerJoin(laterPlan, eq(laterPlan.id, laterAim.planId))
      .where(and(eq(t.aims.planId, plan.id), isNull(laterAim.archivedAt)))
      .orderBy(asc(laterPlan.year)),
  ]);
  const carriedFrom = new Map(
    aimRows.flatMap((r) =>
      r.carriedFromYear && r.carriedFromNumber
        ? [[r.aim.id, { year: r.carriedFromYear, number: r.carriedFromNumber }] as const]
        : [],
    ),
  );
  const carriedTo = new Map<number, { year: string; number: string }[]>();
  for (const r of laterRows) {
    if (r.from === null) continue;
    carriedTo.set(r.from, [...(carriedTo.get(r.from) ?? []), { year: r.year, number: r.number }]);
  }
  const aims = aimRows.map((r) => r.aim);
  const aimIds = aims.map((a) => a.id);
  const priorityIds = priorities.map((p) => p.id);
  const actions = aimIds.length
    ? await db
        .select()
        .from(t.actions)
        .where(and(inArray(t.actions.aimId, aimIds), live ? isNull(t.actions.archivedAt) : undefined))
        .orderBy(asc(t.actions.position), asc(t.actions.id))
    : [];
  const actionIds = actions.map((a) => a.id);
  const [parties, partyPeople, progress, principles, links] = await allQueries(db, [
    actionIds.length
      ? db
          .select({
            id: t.actionParties.id,
            actionId: t.actionParties.actionId,
            role: t.actionParties.role,
            position: t.actionParties.position,
            officers: t.actionParties.officers,
            organisationId: t.organisations.id,
            organisation: t.organisations.name,
            fullName: t.organisations.fullName,
          })
          .from(t.actionParties)
          .innerJoin(t.organisations, eq(t.organisations.id, t.actionParties.organisationId))
          .where(inArray(t.actionParties.actionId, actionIds))
          .orderBy(asc(t.actionParties.position), asc(t.actionParties.id))
      : [],
    actionIds.length
      ? db
          .select({
            actionPartyId: t.actionPartyPeople.actionPartyId,
            personId: t.actionPartyPeople.personId,
          })
          .from(t.actionPartyPeople)
          .innerJoin(t.actionParties, eq(t.actionParties.id, t.actionPartyPeople.actionPartyId))
          .where(inArray(t.actionParties.actionId, actionIds))
      : [],
    actionIds.length
      ? db
          .select({
            id: t.progressUpdates.id,
            actionId: t.progressUpdates.actionId,
            quarter: t.progressUpdates.quarter,
            text: t.progressUpdates.text,
            status: t.progressUpdates.status,
            recordedAt: t.progressUpdates.recordedAt,
            recordedBy: t.users.name,
            version: t.progressUpdates.version,
            state: t.progressUpdates.state,
            evidenceUrl: t.progressUpdates.evidenceUrl,
            submittedAt: t.progressUpdates.submittedAt,
            late: t.progressUpdates.late,
            amendedAt: t.progressUpdates.amendedAt,
          })
          .from(t.progressUpdates)
          .leftJoin(t.users, eq(t.users.id, t.progressUpdates.recordedBy))
          .where(and(inArray(t.progressUpdates.actionId, actionIds), ne(t.progressUpdates.state, 'draft')))
          .orderBy(asc(t.progressUpdates.quarter), asc(t.progressUpdates.id))
      : [],
    aimIds.length
      ? db
          .select()
          .from(t.deliveryPrinciples)
          .where(inArray(t.deliveryPrinciples.aimId, aimIds))
          .orderBy(asc(t.deliveryPrinciples.number))
      : [],
    priorityIds.length
      ? db.select().from(t.priorityAims).where(inArray(t.priorityAims.priorityId, priorityIds))
      : [],
  ]);

  const peopleByParty = group(partyPeople, (p) => p.actionPartyId);
  const partiesByAction = group(parties, (p) => p.actionId);
  const progressByAction = group(progress, (p) => p.actionId);
  const actionsByAim = group(actions, (a) => a.aimId);
  const principlesByAim = group(principles, (p) => p.aimId);
  const aimsBySection = group(aims, (a) => a.sectionId);
  const toParty = (p: (typeof parties)[number]): Party => ({
    id: p.id,
    organisationId: p.organisationId,
    organisation: p.organisation,
    fullName: p.fullName,
    officers: p.officers,
    personIds: (peopleByParty.get(p.id) ?? []).map((x) => x.personId),
  });

  const aimNode = (aim: (typeof aims)[number]): AimNode => ({
    id: aim.id,
    sectionId: aim.sectionId,
    number: aim.number,
    title: aim.title,
    position: aim.position,
    addedOn: aim.addedOn,
    carriedFrom: carriedFrom.get(aim.id) ?? null,
    carriedTo: carriedTo.get(aim.id) ?? [],
    version: aim.version,
    archivedAt: aim.archivedAt,
    deliveryPrinciples: (principlesByAim.get(aim.id) ?? []).map((d) => ({
      id: d.id,
      number: d.number,
      principle: d.principle,
      response: d.response,
    })),
    priorityIds: links.filter((l) => l.aimId === aim.id).map((l) => l.priorityId),
    actions: (actionsByAim.get(aim.id) ?? []).map((action) => {
      const actionParties = partiesByAction.get(action.id) ?? [];
      return {
        id: action.id,
        aimId: action.aimId,
        position: action.position,
        description: action.description,
        resources: action.resources,
        expectedOutcomes: action.expectedOutcomes,
        version: action.version,
        archivedAt: action.archivedAt,
        leads: actionParties.filter((p) => p.role === 'lead').map(toParty),
        partners: actionParties.filter((p) => p.role === 'partner').map(toParty),
        progress: sortProgress(
          (progressByAction.get(action.id) ?? []).map((p) => ({
            ...p,
            quarter: p.quarter as Quarter | null,
            state: p.state as ProgressNode['state'],
          })),
        ),
      };
    }),
  });

  return {
    partnership,
    plan,
    headlineAims: headlineAims.map((h) => h.text),
    objectives: objectives.map((o) => ({ number: o.number, text: o.text })),
    priorities: priorities.map((p) => ({
      id: p.id,
      title: p.title,
      description: p.description,
      addedOn: p.addedOn,
      aimIds: links.filter((l) => l.priorityId === p.id).map((l) => l.aimId),
    })),
    sections: sections.map((section) => ({
      id: section.id,
      number: section.number,
      title: section.title,
      position: section.position,
      version: section.version,
      archivedAt: section.archivedAt,
      aims: (aimsBySection.get(section.id) ?? []).map(aimNode),
    })),
  };
}

function group<T, K>(rows: readonly T[], key: (row: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return map;
}

/** Quarters in order, progress with no quarter last. */
function sortProgress(progress: ProgressNode[]): ProgressNode[] {
  return progress.sort((a, b) => (a.quarter ?? 9) - (b.quarter ?? 9) || a.id - b.id);
}

export function allAims(tree: PlanTree): AimNode[] {
  return tree.sections.flatMap((s) => s.aims);
}

export function findAim(tree: PlanTree, number: string): { section: SectionNode; aim: AimNode } {
  for (const section of tree.sections) {
    const aim = section.aims.find((a) => a.number === number);
    if (aim) return { section, aim };
  }
  throw new NotFoundError(`Aim ${number}`);
}

/** An action of the plan by id, with where it stands: its section, aim and 1-based place in the aim. */
export function findAction(
  tree: PlanTree,
  id: number,
): { section: SectionNode; aim: AimNode; action: ActionNode; index: number } {
  for (const section of tree.sections) {
    for (const aim of section.aims) {
      const index = aim.actions.findIndex((a) => a.id === id);
      if (index >= 0) return { section, aim, action: aim.actions[index]!, index: index + 1 };
    }
  }
  throw new NotFoundError('The action');
}

/** The most recent dated progress across an aim's actions (or an action's), and the latest status given. */
export function latestProgress(actions: readonly ActionNode[]): {
  latest: (ProgressNode & { actionPosition: number }) | undefined;
  status: Status | null;
} {
  const dated = actions
    .flatMap((a) => a.progress.map((p) => ({ ...p, actionPosition: a.position })))
    .filter((p) => p.quarter !== null)
    .sort(
      (a, b) =>
        (b.quarter ?? 0) - (a.quarter ?? 0) ||
        (b.recordedAt?.getTime() ?? 0) - (a.recordedAt?.getTime() ?? 0) ||
        b.id - a.id,
    );
  const latest = dated[0];
  const withStatus = dated.find((p) => p.status !== null);
  return { latest, status: withStatus?.status ?? null };
}

export function sortAimNumbers(numbers: string[]): string[] {
  return [...numbers].sort(compareAimNumbers);
}
