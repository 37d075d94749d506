/**
 * Uploads waiting for the coordinator's confirmation (a plan spreadsheet, a Word plan, a council's
 * incident CSV): what was read from the file, kept in plan_uploads until it expires. Nothing in
 * them is part of the plan or the evidence until it is confirmed.
 */
import { and, eq, lt } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';

export interface PendingUpload {
  partnershipId: number;
  /** The plan it would change, or null (a new plan year, or not a plan at all). */
  planId: number | null;
  userId: number;
  kind: string;
  filename: string;
  content: unknown;
}

/**
 * Keeps an upload for `lifetimeMs` and returns its id, in one transaction that first drops the
 * partnership's expired uploads of the same kind (nobody confirmed them).
 */
export async function storePendingUpload(
  db: Db,
  upload: PendingUpload,
  lifetimeMs: number,
  now = new Date(),
): Promise<number> {
  return db.transaction(async (tx) => {
    await tx
      .delete(t.planUploads)
      .where(
        and(
          eq(t.planUploads.partnershipId, upload.partnershipId),
          eq(t.planUploads.kind, upload.kind),
          lt(t.planUploads.expiresAt, now),
        ),
      );
    const [row] = await tx
      .insert(t.planUploads)
      .values({ ...upload, createdAt: now, expiresAt: new Date(now.getTime() + lifetimeMs) })
      .returning({ id: t.planUploads.id });
    return row!.id;
  });
}
