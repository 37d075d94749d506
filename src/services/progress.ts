/**
 * Progress updates: a lead officer (or the coordinator) records, for an action and a quarter, the
 * progress made and its status. One update per action per quarter; editing it later needs the
 * version the form was loaded with, so two people editing at once never overwrite each other.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { canUpdateProgress, type ActionLeadership } from '../domain/permissions.js';
import { quarterLabel, type Quarter } from '../domain/quarters.js';
import { STATUSES } from '../domain/status.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, validate } from './errors.js';

export const progressFormSchema = z.object({
  quarter: z.coerce
    .number({ error: 'Select the quarter' })
    .int()
    .refine((q) => q >= 1 && q <= 4, 'Select the quarter'),
  status: z.enum(STATUSES, { error: 'Select the status' }),
  text: z
    .string()
    .trim()
    .min(1, 'Enter the progress made')
    .max(10000, 'Progress must be 10,000 characters or fewer'),
  /** Present when editing an existing update: the version the form was loaded with. */
  version: z.coerce.number().int().positive().optional(),
});
export type ProgressForm = z.input<typeof progressFormSchema>;

export async function actionLeadership(
  db: Db | Tx,
  actionId: number,
): Promise<ActionLeadership & { aimId: number }> {
  const [action] = await db
    .select({ id: t.actions.id, partnershipId: t.actions.partnershipId, aimId: t.actions.aimId })
    .from(t.actions)
    .where(and(eq(t.actions.id, actionId), isNull(t.actions.archivedAt)));
  if (!action) throw new NotFoundError('The action');
  const parties = await db
    .select({ id: t.actionParties.id, organisationId: t.actionParties.organisationId })
    .from(t.actionParties)
    .where(and(eq(t.actionParties.actionId, actionId), eq(t.actionParties.role, 'lead')));
  const people = parties.length
    ? await db
        .select({ personId: t.actionPartyPeople.personId, partyId: t.actionPartyPeople.actionPartyId })
        .from(t.actionPartyPeople)
        .innerJoin(t.actionParties, eq(t.actionParties.id, t.actionPartyPeople.actionPartyId))
        .where(and(eq(t.actionParties.actionId, actionId), eq(t.actionParties.role, 'lead')))
    : [];
  return {
    partnershipId: action.partnershipId,
    aimId: action.aimId,
    organisationIds: parties.map((p) => p.organisationId),
    personIds: people.map((p) => p.personId),
  };
}

/** Whether this actor may record progress on this action (for showing the link). */
export async function mayUpdateProgress(db: Db, actor: Actor, actionId: number): Promise<boolean> {
  if (actor.system) return true;
  return canUpdateProgress(actor.member, await actionLeadership(db, actionId));
}

export interface SavedProgress {
  id: number;
  version: number;
  created: boolean;
}

/**
 * Adds the update for a quarter, or changes it. Adding when one already exists, or changing with
 * a stale version, is a conflict that carries the update as it now stands.
 */
export async function saveProgress(
  db: Db,
  actor: Actor,
  actionId: number,
  input: unknown,
): Promise<SavedProgress> {
  const form = validate(progressFormSchema, input);
  const quarter = form.quarter as Quarter;
  return db.transaction(async (tx) => {
    const leadership = await actionLeadership(tx, actionId);
    if (!actor.system && !canUpdateProgress(actor.member, leadership)) {
      throw new ForbiddenError('Only the action’s lead officers and the coordinator can record its progress');
    }
    // Lock the action row so two first saves of the same quarter queue up rather than collide.
    await tx.select({ id: t.actions.id }).from(t.actions).where(eq(t.actions.id, actionId)).for('update');
    const [existing] = await tx
      .select()
      .from(t.progressUpdates)
      .where(and(eq(t.progressUpdates.actionId, actionId), eq(t.progressUpdates.quarter, quarter)));
    const now = new Date();
    if (!existing) {
      if (form.version !== undefined) throw new NotFoundError(`The ${quarterLabel(quarter)} update`);
      const [row] = await tx
        .insert(t.progressUpdates)
        .values({
          partnershipId: leadership.partnershipId,
          actionId,
          quarter,
          text: form.text,
          status: form.status,
          recordedAt: now,
          recordedBy: actor.userId,
        })
        .returning();
      await recordAudit(tx, actor, {
        partnershipId: leadership.partnershipId,
        kind: 'progress.added',
        entity: 'progress_update',
        entityId: row!.id,
        summary: `Added the ${quarterLabel(quarter)} progress update`,
        after: { aimId: leadership.aimId, actionId, quarter, status: form.status, text: form.text },
      });
      return { id: row!.id, version: row!.version, created: true };
    }
    if (form.version !== existing.version) throw new ConflictError(existing);
    const [row] = await tx
      .update(t.progressUpdates)
      .set({
        text: form.text,
        status: form.status,
        recordedAt: now,
        recordedBy: actor.userId,
        version: existing.version + 1,
        updatedAt: now,
      })
      .where(and(eq(t.progressUpdates.id, existing.id), eq(t.progressUpdates.version, existing.version)))
      .returning();
    if (!row) throw new ConflictError(existing);
    await recordAudit(tx, actor, {
      partnershipId: leadership.partnershipId,
      kind: 'progress.updated',
      entity: 'progress_update',
      entityId: existing.id,
      summary: `Changed the ${quarterLabel(quarter)} progress update`,
      before: { status: existing.status, text: existing.text },
      after: { aimId: leadership.aimId, actionId, quarter, status: form.status, text: form.text },
    });
    return { id: row.id, version: row.version, created: false };
  });
}

export async function getProgress(db: Db, actionId: number, quarter: Quarter) {
  const [row] = await db
    .select()
    .from(t.progressUpdates)
    .where(and(eq(t.progressUpdates.actionId, actionId), eq(t.progressUpdates.quarter, quarter)));
  return row;
}
