/**
 * The partnership dashboard of a plan for a quarter: the quarter's statuses by section, priority
 * and lead organisation with the change from the quarter before; the open quarter's submission
 * progress; the aims with no update for two quarters; which aims address each priority, and which
 * organisations lead or partner in each aim.
 *
 * Counted from the live plan as its pages show it: the same updates the board report counts (every
 * update sent, never a draft), over the plan's live (not archived) actions.
 */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  aimsWithoutUpdate,
  countAll,
  countStatuses,
  defaultQuarter,
  isLiveAction,
  organisationInvolvement,
  previousQuarter,
  priorityCoverage,
  statusColumn,
  withChange,
  type CountedAction,
  type Dashboard,
  type DashboardSubmissions,
  type Group,
  type StatusRow,
} from '../domain/dashboard.js';
import { SUBMISSION_STATES, type CyclePhase, type SubmissionState } from '../domain/cycles.js';
import { QUARTERS, parsePlanYear, type Quarter } from '../domain/quarters.js';
import type { Actor } from './actor.js';
import { selectCycles } from './cycle-read.js';
import { submissionBoard } from './cycles.js';
import { NotFoundError } from './errors.js';
import {
  allAims,
  getPartnershipBySlug,
  loadPlanTree,
  type ActionNode,
  type PartnershipRow,
  type PlanTree,
} from './plan-read.js';
import { assertMayRead } from './plan-view.js';
import { cachedRead, type ReadStamp } from './read-cache.js';

/** The label of the row of actions with no lead organisation named. */
export const NO_LEAD = 'No lead organisation named';
const NO_LEAD_KEY = 'none';

function statusIn(action: ActionNode, quarter: Quarter) {
  return statusColumn(action.progress.find((p) => p.quarter === quarter)?.status);
}

function countsFor(tree: PlanTree, quarter: Quarter) {
  const facts = tree.sections.flatMap((section) =>
    section.aims.flatMap((aim) =>
      aim.actions.map((action) => ({ section, aim, action, status: statusIn(action, quarter) })),
    ),
  );
  const counted = (keys: (f: (typeof facts)[number]) => readonly (string | number)[]): CountedAction[] =>
    facts.map((f) => ({ keys: keys(f), status: f.status }));
  const sectionGroups: Group[] = tree.sections.map((s) => ({ key: s.id, label: `${s.number}. ${s.title}` }));
  const priorityGroups: Group[] = tree.priorities.map((p) => ({ key: p.id, label: p.title }));
  const organisations = new Map<number, string>();
  for (const f of facts)
    for (const lead of f.action.leads) organisations.set(lead.organisationId, lead.organisation);
  const organisationGroups: Group[] = [...organisations]
    .map(([key, label]) => ({ key, label }))
    .sort((a, b) => a.label.localeCompare(b.label, 'en-GB'));
  if (facts.some((f) => !f.action.leads.length))
    organisationGroups.push({ key: NO_LEAD_KEY, label: NO_LEAD });
  return {
    bySection: countStatuses(
      sectionGroups,
      counted((f) => [f.section.id]),
    ),
    byPriority: countStatuses(
      priorityGroups,
      counted((f) => f.aim.priorityIds),
    ),
    byOrganisation: countStatuses(
      organisationGroups,
      counted((f) => (f.action.leads.length ? f.action.leads.map((l) => l.organisationId) : [NO_LEAD_KEY])),
    ),
    total: countAll(
      'All actions',
      counted(() => []),
    ),
  };
}

/**
 * The dashboard of a plan for a quarter (default: the latest quarter with updates or open for
 * them), for anyone who may read the plan: members, the board too.
 */
export async function getDashboard(
  db: Db,
  actor: Actor,
  which: string | PartnershipRow,
  year: string,
  quarter?: Quarter,
  /** The request's, to read the plan through the read cache (read-cache.ts). */
  stamp?: ReadStamp,
): Promise<Dashboard> {
  const partnership = typeof which === 'string' ? await getPartnershipBySlug(db, which) : which;
  assertMayRead(actor, partnership.id);
  const planYear = parsePlanYear(year);
  if (!planYear) throw new NotFoundError(`The plan ${year}`);
  // The same for every reader of the plan: kept under the request's stamp (one frozen object, on
  // which the dashboard page keeps its rendered tables).
  return cachedRead(db, stamp, `dashboard:${partnership.id}:${planYear}:${quarter ?? 'default'}`, () =>
    buildDashboard(db, actor, partnership, planYear, quarter, stamp),
  );
}

async function buildDashboard(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  planYear: string,
  quarter: Quarter | undefined,
  stamp: ReadStamp,
): Promise<Dashboard> {
  const tree = await loadPlanTree(db, partnership, planYear, { stamp });
  const cycles = await cachedRead(db, stamp, `cycles:${tree.plan.id}`, () =>
    selectCycles(db, and(eq(t.quarterCycles.planId, tree.plan.id))),
  );
  const aims = allAims(tree);
  const actions = aims.flatMap((a) => a.actions);

  const updatesIn = (q: Quarter) => actions.filter((a) => a.progress.some((p) => p.quarter === q)).length;
  const quarters = QUARTERS.map((q) => ({
    quarter: q,
    updates: updatesIn(q),
    phase: cycles.find((c) => c.quarter === q)?.phase ?? ('not_opened' as CyclePhase),
  }));
  const open = cycles.filter((c) => c.phase === 'open');
  const chosen =
    quarter ??
    defaultQuarter(
      quarters.filter((q) => q.updates > 0).map((q) => q.quarter),
      open.map((c) => c.quarter),
    );
  const before = previousQuarter(chosen);

  const now = countsFor(tree, chosen);
  const then = before ? countsFor(tree, before) : null;

  const openCycle = open.at(-1);
  let submissions: DashboardSubmissions | null = null;
  if (openCycle) {
    const board = await cachedRead(
      db,
      stamp,
      `board-counts:${tree.plan.id}:${openCycle.quarter}`,
      async () => {
        const { counts, total } = await submissionBoard(db, actor, tree.plan.id, openCycle.quarter);
        return { counts, total };
      },
    );
    const counts = Object.fromEntries(SUBMISSION_STATES.map((s) => [s, board.counts[s]])) as Record<
      SubmissionState,
      number
    >;
    submissions = { quarter: openCycle.quarter, dueOn: openCycle.dueOn, counts, total: board.total };
  }

  const aimColumns = aims.map((aim) => ({
    id: aim.id,
    number: aim.number,
    title: aim.title,
    liveActions: aim.actions.filter((a) => isLiveAction(a.progress, chosen)).length,
  }));
  const organisationNames = new Map<number, string>();
  for (const action of actions) {
    for (const party of [...action.leads, ...action.partners]) {
      organisationNames.set(party.organisationId, party.organisation);
    }
  }

  return {
    partnership: { id: partnership.id, slug: partnership.slug, name: partnership.name },
    plan: { id: tree.plan.id, title: tree.plan.title, year: tree.plan.year },
    quarter: chosen,
    previousQuarter: before ?? null,
    quarters,
    bySection: withChange(now.bySection, then?.bySection ?? null),
    byPriority: withChange(now.byPriority, then?.byPriority ?? null),
    byOrganisation: withChange(now.byOrganisation, then?.byOrganisation ?? null),
    total: withChange([now.total], then ? [then.total] : null)[0]!,
    submissions,
    aimsWithoutUpdate: aimsWithoutUpdate(
      aims.map((aim) => ({
        id: aim.id,
        number: aim.number,
        title: aim.title,
        quartersUpdated: [
          ...new Set(aim.actions.flatMap((a) => a.progress.flatMap((p) => (p.quarter ? [p.quarter] : [])))),
        ],
      })),
      chosen,
    ),
    aims: aimColumns,
    coverage: priorityCoverage(tree.priorities, aimColumns),
    organisations: organisationInvolvement(
      aims.map((aim) => ({
        id: aim.id,
        actions: aim.actions.map((a) => ({
          leads: a.leads.map((l) => l.organisationId),
          partners: a.partners.map((p) => p.organisationId),
        })),
      })),
      organisationNames,
    ),
  };
}

export type { Dashboard, StatusRow };
