/**
 * Changes of the year: what changed in a plan after it started, with dates, for the next report
 * to the board: aims added, changed or archived; actions added or archived; priorities and
 * sections added, changed or archived.
 *
 * Two sources: the plan's own rows (an imported plan records when an aim or priority was added
 * mid-year, e.g. the demo's aim 4.1 "Added August 2024"), and the audit trail of the changes made
 * here since the plan started. An aim or priority made here has both; it is listed once.
 */
import { and, asc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { allQueries, type Db, type Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { londonDate } from '../domain/cycles.js';
import { compareAimNumbers } from '../domain/numbering.js';
import type { Quarter } from '../domain/quarters.js';
import { PLAN_CHANGE_LABELS, type PlanChangeKind } from '../domain/plan-changes.js';
import type { Actor } from './actor.js';
import { NotFoundError } from './errors.js';
import { assertMayRead } from './plan-view.js';

export { PLAN_CHANGE_LABELS, type PlanChangeKind };

export interface PlanChange {
  /** The day it happened, YYYY-MM-DD in Europe/London. */
  on: string;
  kind: PlanChangeKind;
  /** "4.1" for aims and actions; undefined for priorities and sections. */
  aimNumber?: string | undefined;
  /** What changed, in words: the aim's or priority's title. */
  title: string;
  /** More: "Title changed from … to …", "Moved from section 2". */
  detail?: string | undefined;
  /** Who, when the audit trail knows. */
  by?: string | undefined;
  /**
   * When exactly, for changes from the audit trail (undefined for a date the plan itself
   * records): what places a change before or after the closing of a quarter on the same day.
   */
  at?: Date | undefined;
}

/** The audit kinds that are changes to the plan's structure, and what each is. */
const KIND_OF_EVENT: Record<string, PlanChangeKind> = {
  'aim.created': 'aim_added',
  'aim.updated': 'aim_changed',
  'aim.archived': 'aim_archived',
  'action.created': 'action_added',
  'action.archived': 'action_archived',
  'priority.created': 'priority_added',
  'priority.updated': 'priority_changed',
  'priority.archived': 'priority_archived',
  'section.created': 'section_added',
  'section.updated': 'section_changed',
  'section.archived': 'section_archived',
};

function payloadOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function firstLine(value: unknown): string {
  return text(value).split('\n')[0] ?? '';
}

function aimList(numbers: readonly string[]): string {
  const sorted = [...numbers].sort(compareAimNumbers);
  if (!sorted.length) return 'no aim';
  return `${sorted.length === 1 ? 'aim' : 'aims'} ${sorted.join(', ')}`;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** "Title changed from “A” to “B”; number changed from 3.1 to 3.4": the fields that differ. */
function differences(before: Record<string, unknown>, after: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  if ('number' in after && text(before.number) !== text(after.number)) {
    parts.push(`Number changed from ${text(before.number)} to ${text(after.number)}`);
  }
  if ('title' in after && text(before.title) !== text(after.title)) {
    parts.push(`Title changed from “${text(before.title)}” to “${text(after.title)}”`);
  }
  if ('description' in after && text(before.description) !== text(after.description)) {
    parts.push(
      text(after.description) ? `Description changed to “${text(after.description)}”` : 'Description removed',
    );
  }
  if ('aimNumbers' in after) {
    const was = stringList(before.aimNumbers).sort(compareAimNumbers).join(',');
    const now = stringList(after.aimNumbers).sort(compareAimNumbers).join(',');
    if (was !== now) parts.push(`Now addressed by ${aimList(stringList(after.aimNumbers))}`);
  }
  if (!parts.length) return undefined;
  return parts.map((p, i) => (i === 0 ? p : p.charAt(0).toLowerCase() + p.slice(1))).join('; ');
}

function priorityDetail(description: unknown, aimNumbers: readonly string[]): string {
  const addressed = `Addressed by ${aimList(aimNumbers)}`;
  const words = text(description).trim();
  return words ? `${words.replace(/\.$/, '')}. ${addressed}` : addressed;
}

async function planRow(db: Db, planId: number) {
  const [plan] = await db.select().from(t.plans).where(eq(t.plans.id, planId));
  if (!plan) throw new NotFoundError('The plan');
  return plan;
}

/**
 * The plan's changes dated within [from, to] (YYYY-MM-DD London days, both included and both
 * optional), oldest first. Members of the partnership. `db` may be a transaction.
 */
export async function planChanges(
  db: Db | Tx,
  actor: Actor,
  planId: number,
  range: { from?: string | undefined; to?: string | undefined } = {},
): Promise<PlanChange[]> {
  const plan = await planRow(db, planId);
  assertMayRead(actor, plan.partnershipId);

  const [aims, sections, priorities, links] = await allQueries(db, [
    db
      .select({ id: t.aims.id, number: t.aims.number, title: t.aims.title, addedOn: t.aims.addedOn })
      .from(t.aims)
      .where(eq(t.aims.planId, planId)),
    db.select({ id: t.sections.id }).from(t.sections).where(eq(t.sections.planId, planId)),
    db
      .select({
        id: t.priorities.id,
        title: t.priorities.title,
        description: t.priorities.description,
        addedOn: t.priorities.addedOn,
      })
      .from(t.priorities)
      .where(eq(t.priorities.planId, planId)),
    db
      .select({ priorityId: t.priorityAims.priorityId, aimNumber: t.aims.number })
      .from(t.priorityAims)
      .innerJoin(t.aims, eq(t.aims.id, t.priorityAims.aimId))
      .where(eq(t.aims.planId, planId)),
  ]);
  const actions = aims.length
    ? await db
        .select({ id: t.actions.id, aimId: t.actions.aimId })
        .from(t.actions)
        .where(
          inArray(
            t.actions.aimId,
            aims.map((a) => a.id),
          ),
        )
    : [];

  const e = t.auditEvents;
  const events = await db
    .select({
      id: e.id,
      occurredAt: e.occurredAt,
      who: e.actorLabel,
      kind: e.kind,
      entity: e.entity,
      entityId: e.entityId,
      before: e.before,
      after: e.after,
    })
    .from(e)
    .where(
      and(
        eq(e.partnershipId, plan.partnershipId),
        inArray(e.kind, Object.keys(KIND_OF_EVENT)),
        eq(e.viaImport, false),
        isNotNull(e.entityId),
        // Changes of the year: from the day after the plan started, in London.
        sql`${e.occurredAt} >= ((${plan.startsOn}::date + 1)::timestamp at time zone 'Europe/London')`,
      ),
    )
    .orderBy(asc(e.occurredAt), asc(e.id));

  const aimById = new Map(aims.map((a) => [String(a.id), a]));
  const aimOfAction = new Map(actions.map((a) => [String(a.id), a.aimId]));
  const sectionIds = new Set(sections.map((s) => String(s.id)));
  const priorityById = new Map(priorities.map((p) => [String(p.id), p]));
  const ofPlan: Record<string, (id: string) => boolean> = {
    aim: (id) => aimById.has(id),
    action: (id) => aimOfAction.has(id),
    section: (id) => sectionIds.has(id),
    priority: (id) => priorityById.has(id),
  };

  const changes: PlanChange[] = [];
  const createdHere = { aim: new Set<string>(), priority: new Set<string>() };

  for (const event of events) {
    const kind = KIND_OF_EVENT[event.kind];
    const id = event.entityId!;
    if (!kind || !ofPlan[event.entity]?.(id)) continue;
    const before = payloadOf(event.before);
    const after = payloadOf(event.after);
    const base = { on: londonDate(event.occurredAt), kind, by: event.who, at: event.occurredAt };
    switch (event.kind) {
      case 'aim.created': {
        createdHere.aim.add(id);
        // The day the plan shows it as added, when it was recorded (it is the same day in use).
        const addedOn = aimById.get(id)?.addedOn;
        changes.push({
          ...base,
          on: addedOn ?? base.on,
          aimNumber: text(after.number),
          title: text(after.title),
        });
        break;
      }
      case 'aim.updated': {
        const detail = differences(before, after);
        if (detail)
          changes.push({ ...base, aimNumber: text(after.number), title: text(after.title), detail });
        break;
      }
      case 'aim.archived':
        changes.push({ ...base, aimNumber: text(before.number), title: text(before.title) });
        break;
      case 'action.created':
      case 'action.archived': {
        const aimId = aimOfAction.get(id);
        const aim = aimId === undefined ? undefined : aimById.get(String(aimId));
        const description = event.kind === 'action.created' ? after.description : before.description;
        changes.push({ ...base, aimNumber: aim?.number, title: firstLine(description) });
        break;
      }
      case 'priority.created': {
        createdHere.priority.add(id);
        const addedOn = priorityById.get(id)?.addedOn;
        changes.push({
          ...base,
          on: addedOn ?? base.on,
          title: text(after.title),
          detail: priorityDetail(after.description, stringList(after.aimNumbers)),
        });
        break;
      }
      case 'priority.updated': {
        const detail = differences(before, after);
        if (detail) changes.push({ ...base, title: text(after.title), detail });
        break;
      }
      case 'priority.archived':
        changes.push({ ...base, title: text(before.title) });
        break;
      case 'section.created':
        changes.push({ ...base, title: `${text(after.number)}. ${text(after.title)}` });
        break;
      case 'section.updated': {
        const detail = differences(before, after);
        if (detail) changes.push({ ...base, title: `${text(after.number)}. ${text(after.title)}`, detail });
        break;
      }
      case 'section.archived':
        changes.push({ ...base, title: `${text(before.number)}. ${text(before.title)}` });
        break;
    }
  }

  // Added mid-year as the plan itself records it (an imported plan's history), once.
  const inYear = (day: string | null): day is string =>
    day !== null && day >= plan.startsOn && day <= plan.endsOn;
  for (const aim of aims) {
    if (!inYear(aim.addedOn) || createdHere.aim.has(String(aim.id))) continue;
    changes.push({ on: aim.addedOn, kind: 'aim_added', aimNumber: aim.number, title: aim.title });
  }
  for (const priority of priorities) {
    if (!inYear(priority.addedOn) || createdHere.priority.has(String(priority.id))) continue;
    changes.push({
      on: priority.addedOn,
      kind: 'priority_added',
      title: priority.title,
      detail: priorityDetail(
        priority.description,
        links.filter((l) => l.priorityId === priority.id).map((l) => l.aimNumber),
      ),
    });
  }

  // Oldest first; on one day, what the plan records comes before the trail's changes in order.
  const order = changes.map((change, index) => ({ change, index }));
  order.sort(
    (a, b) =>
      a.change.on.localeCompare(b.change.on) ||
      (a.change.at?.getTime() ?? 0) - (b.change.at?.getTime() ?? 0) ||
      a.index - b.index,
  );
  return order
    .map((o) => o.change)
    .filter(
      (c) => (range.from === undefined || c.on >= range.from) && (range.to === undefined || c.on <= range.to),
    );
}

// ——— Grouped by the quarter reports ———

export interface ChangeReport {
  /** The closed quarter these changes were reported with; undefined for "since the last report". */
  quarter: Quarter | undefined;
  /** The board date of that report, YYYY-MM-DD. */
  reportedOn: string | undefined;
  closedAt: Date | undefined;
  changes: PlanChange[];
}

/** True when a change happened at or before a moment (by the day, for a change with no time). */
function notAfter(change: PlanChange, moment: Date): boolean {
  return change.at ? change.at.getTime() <= moment.getTime() : change.on <= londonDate(moment);
}

/**
 * The plan's changes grouped by the quarter reports: each closed quarter (in the order they were
 * closed) with the changes made up to its closing and since the one before; then the changes
 * since the last report (always present, possibly empty). Members.
 */
export async function changesByReport(db: Db, actor: Actor, planId: number): Promise<ChangeReport[]> {
  const changes = await planChanges(db, actor, planId);
  const closed = await db
    .select({
      quarter: t.quarterCycles.quarter,
      closedAt: t.quarterCycles.closedAt,
      reportedOn: t.quarterSnapshots.reportedOn,
    })
    .from(t.quarterCycles)
    .leftJoin(t.quarterSnapshots, eq(t.quarterSnapshots.cycleId, t.quarterCycles.id))
    .where(and(eq(t.quarterCycles.planId, planId), isNotNull(t.quarterCycles.closedAt)))
    .orderBy(asc(t.quarterCycles.closedAt), asc(t.quarterCycles.quarter));

  const reports: ChangeReport[] = [];
  let rest = changes;
  for (const cycle of closed) {
    const closedAt = cycle.closedAt!;
    reports.push({
      quarter: cycle.quarter as Quarter,
      reportedOn: cycle.reportedOn ?? undefined,
      closedAt,
      changes: rest.filter((c) => notAfter(c, closedAt)),
    });
    rest = rest.filter((c) => !notAfter(c, closedAt));
  }
  reports.push({ quarter: undefined, reportedOn: undefined, closedAt: undefined, changes: rest });
  return reports;
}
