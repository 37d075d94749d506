/**
 * Reading a quarter's cycle as the pages and services show it (who opened and closed it, the
 * board date of its snapshot). One reader for the cycle service and the update form, with no
 * permission check: the callers check.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { cyclePhase } from '../domain/cycles.js';
import type { Quarter } from '../domain/quarters.js';
import type { CycleRow } from './cycles.js';
import { NotFoundError } from './errors.js';

const openedByUser = sql<
  string | null
>`(select name from users where users.id = ${t.quarterCycles.openedBy})`;
const closedByUser = sql<
  string | null
>`(select name from users where users.id = ${t.quarterCycles.closedBy})`;

const cycleColumns = {
  cycle: t.quarterCycles,
  openedBy: openedByUser,
  closedBy: closedByUser,
  reportedOn: t.quarterSnapshots.reportedOn,
};

type CycleSelection = {
  cycle: typeof t.quarterCycles.$inferSelect;
  openedBy: string | null;
  closedBy: string | null;
  reportedOn: string | null;
};

function toCycleRow({ cycle, openedBy, closedBy, reportedOn }: CycleSelection): CycleRow {
  return {
    id: cycle.id,
    partnershipId: cycle.partnershipId,
    planId: cycle.planId,
    quarter: cycle.quarter as Quarter,
    dueOn: cycle.dueOn,
    reminderOffsets: [...cycle.reminderOffsets],
    openedAt: cycle.openedAt,
    openedBy,
    closedAt: cycle.closedAt,
    closedBy,
    phase: cyclePhase(cycle),
    reportedOn: reportedOn ?? null,
    version: cycle.version,
  };
}

export async function selectCycles(db: Db | Tx, where: ReturnType<typeof and>): Promise<CycleRow[]> {
  const rows = await db
    .select(cycleColumns)
    .from(t.quarterCycles)
    .leftJoin(t.quarterSnapshots, eq(t.quarterSnapshots.cycleId, t.quarterCycles.id))
    .where(where)
    .orderBy(asc(t.quarterCycles.quarter));
  return rows.map(toCycleRow);
}

export async function cycleById(db: Db | Tx, cycleId: number): Promise<CycleRow> {
  const [cycle] = await selectCycles(db, and(eq(t.quarterCycles.id, cycleId)));
  if (!cycle) throw new NotFoundError('The quarter');
  return cycle;
}

/** A plan's cycle for a quarter, or undefined when the quarter was never opened. */
export async function findCycle(
  db: Db | Tx,
  planId: number,
  quarter: Quarter,
): Promise<CycleRow | undefined> {
  const [cycle] = await selectCycles(
    db,
    and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)),
  );
  return cycle;
}
