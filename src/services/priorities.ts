/**
 * The plan's priorities (from the strategic assessment) changed mid-year by the coordinator:
 * added (as Fraud was in 2024/25), changed, linked to the aims that address them, archived (never
 * deleted). Each write checks permission, validates, writes with a version check and appends its
 * audit event, in one transaction.
 */
import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { londonDate } from '../domain/cycles.js';
import { compareAimNumbers } from '../domain/numbering.js';
import { canEditPlanStructure } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import { assertMayRead } from './plan-view.js';

function requireCoordinator(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canEditPlanStructure(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can change the plan’s priorities');
  }
}

/** Checkboxes arrive as nothing, one value or a list of values. */
const aimIds = z.preprocess(
  (value) => (value === undefined || value === null || value === '' ? [] : [value].flat()),
  z.array(
    z.coerce.number({ error: 'Select aims from the list' }).int().positive('Select aims from the list'),
  ),
);

export const priorityFormSchema = z.object({
  title: z
    .string({ error: 'Enter the priority' })
    .trim()
    .min(1, 'Enter the priority')
    .max(500, 'Priority must be 500 characters or fewer'),
  description: z
    .string()
    .trim()
    .max(2000, 'Description must be 2000 characters or fewer')
    .optional()
    .transform((v) => (v ? v : null)),
  aims: aimIds.default([]),
});

const version = z.coerce.number().int().positive();

export interface PriorityRecord {
  id: number;
  partnershipId: number;
  planId: number;
  title: string;
  description: string | null;
  addedOn: string | null;
  version: number;
  archivedAt: Date | null;
  aimIds: number[];
}

async function linkedAims(db: Db | Tx, priorityId: number) {
  return db
    .select({ id: t.aims.id, number: t.aims.number })
    .from(t.priorityAims)
    .innerJoin(t.aims, eq(t.aims.id, t.priorityAims.aimId))
    .where(eq(t.priorityAims.priorityId, priorityId));
}

/** One priority with the aims that address it, for its form. Members of the partnership. */
export async function getPriority(db: Db, actor: Actor, priorityId: number): Promise<PriorityRecord> {
  const [row] = await db.select().from(t.priorities).where(eq(t.priorities.id, priorityId));
  if (!row) throw new NotFoundError('The priority');
  assertMayRead(actor, row.partnershipId);
  const aims = await linkedAims(db, priorityId);
  return { ...row, aimIds: aims.map((a) => a.id) };
}

/**
 * The aims chosen, checked to be live aims of the plan; their numbers, in order, for the audit
 * trail and the report of changes.
 */
async function chosenAims(
  tx: Tx,
  planId: number,
  ids: readonly number[],
): Promise<{ id: number; number: string }[]> {
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  const rows = await tx
    .select({ id: t.aims.id, number: t.aims.number })
    .from(t.aims)
    .where(and(eq(t.aims.planId, planId), isNull(t.aims.archivedAt), inArray(t.aims.id, unique)));
  if (rows.length !== unique.length) {
    throw new ValidationError([{ field: 'aims', message: 'Select aims from the list' }]);
  }
  return rows.sort((a, b) => compareAimNumbers(a.number, b.number));
}

async function replaceLinks(
  tx: Tx,
  partnershipId: number,
  priorityId: number,
  aims: readonly { id: number }[],
) {
  await tx.delete(t.priorityAims).where(eq(t.priorityAims.priorityId, priorityId));
  if (aims.length) {
    await tx.insert(t.priorityAims).values(aims.map((a) => ({ partnershipId, priorityId, aimId: a.id })));
  }
}

/**
 * Adds a priority to the plan (coordinator). Once the plan year has begun it is recorded as
 * added on that day, as an aim is. input: { title, description?, aims?: aim ids }.
 */
export async function createPriority(db: Db, actor: Actor, planId: number, input: unknown, now = new Date()) {
  const form = validate(priorityFormSchema, input);
  return db.transaction(async (tx) => {
    const [plan] = await tx.select().from(t.plans).where(eq(t.plans.id, planId)).for('update');
    if (!plan) throw new NotFoundError('The plan');
    requireCoordinator(actor, plan.partnershipId);
    const aims = await chosenAims(tx, planId, form.aims);
    const today = londonDate(now);
    const addedOn = today > plan.startsOn ? today : null;
    const [{ next } = { next: 1 }] = await tx
      .select({ next: sql<number>`coalesce(max(${t.priorities.position}), 0)::int + 1` })
      .from(t.priorities)
      .where(eq(t.priorities.planId, planId));
    const [row] = await tx
      .insert(t.priorities)
      .values({
        partnershipId: plan.partnershipId,
        planId,
        position: next,
        title: form.title,
        description: form.description,
        addedOn,
      })
      .returning();
    await replaceLinks(tx, plan.partnershipId, row!.id, aims);
    await recordAudit(tx, actor, {
      partnershipId: plan.partnershipId,
      kind: 'priority.created',
      entity: 'priority',
      entityId: row!.id,
      summary: `Added the priority ${form.title}`,
      after: {
        planId,
        title: form.title,
        description: form.description,
        addedOn,
        aimIds: aims.map((a) => a.id),
        aimNumbers: aims.map((a) => a.number),
      },
    });
    return { ...row!, aimIds: aims.map((a) => a.id) };
  });
}

async function lockPriority(tx: Tx, priorityId: number) {
  const [row] = await tx.select().from(t.priorities).where(eq(t.priorities.id, priorityId)).for('update');
  if (!row) throw new NotFoundError('The priority');
  return row;
}

/** Changes a priority's words and the aims that address it (coordinator). input adds { version }. */
export async function updatePriority(db: Db, actor: Actor, priorityId: number, input: unknown) {
  const form = validate(priorityFormSchema.extend({ version }), input);
  return db.transaction(async (tx) => {
    const row = await lockPriority(tx, priorityId);
    requireCoordinator(actor, row.partnershipId);
    const was = (await linkedAims(tx, priorityId)).sort((a, b) => compareAimNumbers(a.number, b.number));
    if (row.version !== form.version || row.archivedAt !== null) {
      throw new ConflictError({ ...row, aimIds: was.map((a) => a.id) });
    }
    const aims = await chosenAims(tx, row.planId, form.aims);
    const [updated] = await tx
      .update(t.priorities)
      .set({ title: form.title, description: form.description, version: row.version + 1 })
      .where(and(eq(t.priorities.id, priorityId), eq(t.priorities.version, form.version)))
      .returning();
    await replaceLinks(tx, row.partnershipId, priorityId, aims);
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'priority.updated',
      entity: 'priority',
      entityId: priorityId,
      summary: `Changed the priority ${form.title}`,
      before: {
        planId: row.planId,
        title: row.title,
        description: row.description,
        aimIds: was.map((a) => a.id),
        aimNumbers: was.map((a) => a.number),
      },
      after: {
        planId: row.planId,
        title: form.title,
        description: form.description,
        aimIds: aims.map((a) => a.id),
        aimNumbers: aims.map((a) => a.number),
      },
    });
    return { ...updated!, aimIds: aims.map((a) => a.id) };
  });
}

/** Archives a priority (coordinator): it leaves the live plan; its links and history are kept. */
export async function archivePriority(db: Db, actor: Actor, priorityId: number, expectedVersion: number) {
  return db.transaction(async (tx) => {
    const row = await lockPriority(tx, priorityId);
    requireCoordinator(actor, row.partnershipId);
    if (row.version !== expectedVersion || row.archivedAt !== null) throw new ConflictError(row);
    const aims = (await linkedAims(tx, priorityId)).sort((a, b) => compareAimNumbers(a.number, b.number));
    await tx
      .update(t.priorities)
      .set({ archivedAt: new Date(), version: row.version + 1 })
      .where(eq(t.priorities.id, priorityId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'priority.archived',
      entity: 'priority',
      entityId: priorityId,
      summary: `Archived the priority ${row.title}`,
      before: {
        planId: row.planId,
        title: row.title,
        description: row.description,
        aimIds: aims.map((a) => a.id),
        aimNumbers: aims.map((a) => a.number),
      },
      after: { planId: row.planId },
    });
  });
}

/** The plan's live aims, in number order, for the priority form's checkboxes. Members. */
export async function priorityAimChoices(db: Db, actor: Actor, planId: number) {
  const [plan] = await db
    .select({ partnershipId: t.plans.partnershipId })
    .from(t.plans)
    .where(eq(t.plans.id, planId));
  if (!plan) throw new NotFoundError('The plan');
  assertMayRead(actor, plan.partnershipId);
  const rows = await db
    .select({ id: t.aims.id, number: t.aims.number, title: t.aims.title })
    .from(t.aims)
    .where(and(eq(t.aims.planId, planId), isNull(t.aims.archivedAt)))
    .orderBy(asc(t.aims.position));
  return rows.sort((a, b) => compareAimNumbers(a.number, b.number));
}
