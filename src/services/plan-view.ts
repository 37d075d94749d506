/**
 * Opening a plan for someone to read: checks that they may see it, then loads it. Every page of
 * the live plan goes through here, so the read permission is checked in one place.
 */
import type { Db } from '../db/client.js';
import { canReadPlan } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import {
  currentPlanYear,
  getPartnershipBySlug,
  listPlanYears,
  loadPlanTree,
  type PartnershipRow,
  type PlanTree,
} from './plan-read.js';
import { listGlossary, listPrinciples } from './partnership-read.js';
import { cachedRead, type ReadStamp } from './read-cache.js';

export interface OpenedPlan {
  tree: PlanTree;
  years: string[];
  glossary: { term: string; meaning: string }[];
  principles: { number: number; text: string }[];
}

export function assertMayRead(actor: Actor, partnershipId: number, what = 'The live plan'): void {
  if (actor.system) return;
  if (!canReadPlan(actor.member, partnershipId)) {
    throw new ForbiddenError(
      `${what} is for members of the partnership. Sign in with an account that holds a role in it.`,
    );
  }
}

/** A partnership by its slug, or the row the caller already read (pages have it from their context). */
async function resolvePartnership(db: Db, partnership: string | PartnershipRow): Promise<PartnershipRow> {
  return typeof partnership === 'string' ? getPartnershipBySlug(db, partnership) : partnership;
}

export async function openPlan(
  db: Db,
  actor: Actor,
  which: string | PartnershipRow,
  year: string | undefined,
  /** stamp: the request's, to read through the read cache (read-cache.ts). */
  options: { includeArchived?: boolean; stamp?: ReadStamp } = {},
): Promise<OpenedPlan> {
  const partnership = await resolvePartnership(db, which);
  assertMayRead(actor, partnership.id);
  const { stamp } = options;
  const planYear = year ?? (await currentPlanYear(db, partnership.id));
  if (!planYear) throw new NotFoundError('A plan for this partnership');
  const [tree, rest] = await Promise.all([
    loadPlanTree(db, partnership, planYear, options),
    cachedRead(db, stamp, `plan-context:${partnership.id}`, async () => {
      const [years, glossary, principles] = await Promise.all([
        listPlanYears(db, partnership.id),
        listGlossary(db, partnership.id),
        listPrinciples(db, partnership.id),
      ]);
      return { years, glossary, principles };
    }),
  ]);
  return { tree, ...rest };
}

/** The plan year a reader lands on: the latest one; undefined for a partnership with no plan yet. */
export async function latestPlanYear(
  db: Db,
  actor: Actor,
  which: string | PartnershipRow,
): Promise<string | undefined> {
  const partnership = await resolvePartnership(db, which);
  assertMayRead(actor, partnership.id);
  return currentPlanYear(db, partnership.id);
}
