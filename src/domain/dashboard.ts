/**
 * The partnership dashboard's arithmetic: statuses counted by a key (section, priority, lead
 * organisation), the change from the previous quarter, the aims with no update for two quarters,
 * and the coverage matrices (priority by aim, organisation by aim). Pure: the service gathers the
 * facts, this counts them.
 */
import { SUMMARY_COLUMNS, type SummaryColumn } from './board-report.js';
import type { CyclePhase, SubmissionState } from './cycles.js';
import type { Quarter } from './quarters.js';
import type { Status } from './status.js';

/** The five statuses, then "none": no update this quarter, or one with no status. */
export const STATUS_COLUMNS = SUMMARY_COLUMNS;
export type StatusColumn = SummaryColumn;

/**
 * A priority with this many live actions or fewer (but some) has "few"; with none it has none.
 * Two: one lead officer leaving would leave the priority with one action or none.
 */
export const FEW_LIVE_ACTIONS = 2;

export type GroupKey = string | number;

export interface Group {
  key: GroupKey;
  label: string;
}

/** One action as counted: its status this quarter and the groups it falls in. */
export interface CountedAction {
  keys: readonly GroupKey[];
  status: StatusColumn;
}

export interface StatusRow {
  key: GroupKey;
  label: string;
  counts: Record<StatusColumn, number>;
  total: number;
}

export interface StatusRowWithChange extends StatusRow {
  /** Counts now minus counts in the previous quarter; null when there is no previous quarter. */
  change: Record<StatusColumn, number> | null;
}

export function emptyStatusCounts(): Record<StatusColumn, number> {
  return Object.fromEntries(STATUS_COLUMNS.map((c) => [c, 0])) as Record<StatusColumn, number>;
}

/** An action's column: its update's status, or "none" for no update or an update with no status. */
export function statusColumn(status: Status | null | undefined): StatusColumn {
  return status ?? 'none';
}

/**
 * Counts each action under every group it falls in (an action of an aim with two priorities counts
 * under both), one row per group in the groups' order. Keys no group names are ignored.
 */
export function countStatuses(groups: readonly Group[], actions: readonly CountedAction[]): StatusRow[] {
  const rows = new Map<GroupKey, StatusRow>(
    groups.map((g) => [g.key, { key: g.key, label: g.label, counts: emptyStatusCounts(), total: 0 }]),
  );
  for (const action of actions) {
    for (const key of new Set(action.keys)) {
      const row = rows.get(key);
      if (!row) continue;
      row.counts[action.status] += 1;
      row.total += 1;
    }
  }
  return [...rows.values()];
}

/** Every action once: the "All actions" row. */
export function countAll(label: string, actions: readonly CountedAction[]): StatusRow {
  const [row] = countStatuses(
    [{ key: '*', label }],
    actions.map((a) => ({ keys: ['*'], status: a.status })),
  );
  return row!;
}

/** The change of each count from the previous quarter's row of the same key (absent: all zero). */
export function withChange(
  current: readonly StatusRow[],
  previous: readonly StatusRow[] | null,
): StatusRowWithChange[] {
  const before = new Map((previous ?? []).map((r) => [r.key, r]));
  return current.map((row) => {
    if (!previous) return { ...row, change: null };
    const prior = before.get(row.key)?.counts ?? emptyStatusCounts();
    const change = emptyStatusCounts();
    for (const c of STATUS_COLUMNS) change[c] = row.counts[c] - prior[c];
    return { ...row, change };
  });
}

/** "+2", "−1" (a real minus sign), "0". */
export function formatChange(n: number): string {
  if (n > 0) return `+${n}`;
  if (n < 0) return `\u2212${-n}`;
  return '0';
}

/** The quarter before, or undefined for Q1 (the plan year starts there). */
export function previousQuarter(quarter: Quarter): Quarter | undefined {
  return quarter > 1 ? ((quarter - 1) as Quarter) : undefined;
}

/**
 * The quarter a dashboard opens on: the latest quarter with updates or open for them, whichever is
 * later; Q1 for a plan with neither.
 */
export function defaultQuarter(
  quartersWithUpdates: readonly Quarter[],
  openQuarters: readonly Quarter[],
): Quarter {
  return [...quartersWithUpdates, ...openQuarters].reduce<Quarter>((a, b) => (b > a ? b : a), 1);
}

export interface AimUpdates {
  id: number;
  number: string;
  title: string;
  /** The quarters in which any action of the aim has an update (never a draft). */
  quartersUpdated: readonly Quarter[];
}

export interface AimWithoutUpdate {
  id: number;
  number: string;
  title: string;
  /** The latest quarter up to the chosen one with an update, or null for none yet this year. */
  lastUpdated: Quarter | null;
}

/**
 * The aims with no update in the chosen quarter nor the one before it. From Q2 on: in Q1 there
 * are not yet two quarters of the year to go without (undefined says so).
 */
export function aimsWithoutUpdate(
  aims: readonly AimUpdates[],
  quarter: Quarter,
): AimWithoutUpdate[] | undefined {
  const before = previousQuarter(quarter);
  if (!before) return undefined;
  return aims
    .filter((aim) => !aim.quartersUpdated.includes(quarter) && !aim.quartersUpdated.includes(before))
    .map((aim) => {
      const earlier = aim.quartersUpdated.filter((q) => q <= quarter);
      return {
        id: aim.id,
        number: aim.number,
        title: aim.title,
        lastUpdated: earlier.length ? earlier.reduce<Quarter>((a, b) => (b > a ? b : a), earlier[0]!) : null,
      };
    });
}

/**
 * An action is live in a quarter unless its latest status given by then is "complete" (archived
 * actions are not in the plan at all).
 */
export function isLiveAction(
  updates: readonly { quarter: Quarter | null; status: Status | null }[],
  quarter: Quarter,
): boolean {
  const latest = updates
    .filter(
      (u): u is { quarter: Quarter; status: Status } =>
        u.quarter !== null && u.quarter <= quarter && !!u.status,
    )
    .sort((a, b) => b.quarter - a.quarter)[0];
  return latest?.status !== 'complete';
}

export type Coverage = 'none' | 'few' | 'covered';

export const COVERAGE_LABELS: Record<Coverage, string> = {
  none: 'No live actions',
  few: 'Few live actions',
  covered: 'Covered',
};

export interface CoverageRow {
  priorityId: number;
  title: string;
  /** One cell per aim, in the aims' order: its live actions when the aim addresses the priority, else null. */
  cells: (number | null)[];
  aims: number;
  liveActions: number;
  coverage: Coverage;
}

export function coverageOf(liveActions: number): Coverage {
  if (liveActions === 0) return 'none';
  return liveActions <= FEW_LIVE_ACTIONS ? 'few' : 'covered';
}

/** Priority by aim: which aims address each priority, with how many live actions each has. */
export function priorityCoverage(
  priorities: readonly { id: number; title: string; aimIds: readonly number[] }[],
  aims: readonly { id: number; liveActions: number }[],
): CoverageRow[] {
  return priorities.map((priority) => {
    const linked = new Set(priority.aimIds);
    const cells = aims.map((aim) => (linked.has(aim.id) ? aim.liveActions : null));
    const liveActions = cells.reduce<number>((sum, n) => sum + (n ?? 0), 0);
    return {
      priorityId: priority.id,
      title: priority.title,
      cells,
      aims: cells.filter((n) => n !== null).length,
      liveActions,
      coverage: coverageOf(liveActions),
    };
  });
}

export type Involvement = 'lead' | 'partner' | 'both';

export const INVOLVEMENT_LABELS: Record<Involvement, string> = {
  lead: 'Lead',
  partner: 'Partner',
  both: 'Lead and partner',
};

export interface OrganisationRow {
  organisationId: number;
  name: string;
  /** One cell per aim, in the aims' order. */
  cells: (Involvement | null)[];
  aimsLed: number;
  aimsAsPartner: number;
}

/**
 * Organisation by aim: every organisation named as a lead or partner of a live action, by name,
 * with whether it leads an action of each aim, is a partner in one, or both.
 */
export function organisationInvolvement(
  aims: readonly {
    id: number;
    actions: readonly { leads: readonly number[]; partners: readonly number[] }[];
  }[],
  organisations: ReadonlyMap<number, string>,
): OrganisationRow[] {
  const ids = new Set(aims.flatMap((a) => a.actions.flatMap((x) => [...x.leads, ...x.partners])));
  return [...ids]
    .map((id) => {
      const cells = aims.map((aim): Involvement | null => {
        const leads = aim.actions.some((x) => x.leads.includes(id));
        const partners = aim.actions.some((x) => x.partners.includes(id));
        if (leads && partners) return 'both';
        if (leads) return 'lead';
        return partners ? 'partner' : null;
      });
      return {
        organisationId: id,
        name: organisations.get(id) ?? `Organisation ${id}`,
        cells,
        aimsLed: cells.filter((c) => c === 'lead' || c === 'both').length,
        aimsAsPartner: cells.filter((c) => c === 'partner' || c === 'both').length,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name, 'en-GB') || a.organisationId - b.organisationId);
}

export interface DashboardSubmissions {
  quarter: Quarter;
  /** YYYY-MM-DD */
  dueOn: string;
  counts: Record<SubmissionState, number>;
  total: number;
}

export interface Dashboard {
  partnership: { id: number; slug: string; name: string };
  plan: { id: number; title: string; year: string };
  quarter: Quarter;
  previousQuarter: Quarter | null;
  /** Every quarter, with its updates sent and its cycle's phase, for the quarter chooser. */
  quarters: { quarter: Quarter; updates: number; phase: CyclePhase }[];
  bySection: StatusRowWithChange[];
  byPriority: StatusRowWithChange[];
  byOrganisation: StatusRowWithChange[];
  total: StatusRowWithChange;
  /** The quarter open for updates (the latest, if several are): its submission board's counts. */
  submissions: DashboardSubmissions | null;
  /** Undefined in Q1: there are not yet two quarters to go without. */
  aimsWithoutUpdate: AimWithoutUpdate[] | undefined;
  /** The plan's aims in order: the columns of both matrices. */
  aims: { id: number; number: string; title: string; liveActions: number }[];
  coverage: CoverageRow[];
  organisations: OrganisationRow[];
}
