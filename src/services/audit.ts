import type { Tx } from '../db/client.js';
import { auditEvents } from '../db/schema.js';
import type { Actor } from './actor.js';

export interface AuditInput {
  partnershipId: number | null;
  kind: string;
  entity: string;
  entityId?: string | number | null;
  summary: string;
  before?: unknown;
  after?: unknown;
  viaImport?: boolean;
}

/** Appends one event to the audit trail, inside the caller's transaction. */
export async function recordAudit(tx: Tx, actor: Actor, input: AuditInput): Promise<void> {
  await auditInsert(tx, actor, input);
}

/**
 * The insert of one audit event, not yet run: recordAudit runs it on its own; a write may run it in
 * its own statement, as a WITH clause (one round trip to the database instead of two).
 */
export function auditInsert(tx: Tx, actor: Actor, input: AuditInput) {
  return tx.insert(auditEvents).values({
    partnershipId: input.partnershipId,
    actorUserId: actor.userId,
    actorLabel: actor.label,
    kind: input.kind,
    entity: input.entity,
    entityId: input.entityId == null ? null : String(input.entityId),
    summary: input.summary,
    before: input.before ?? null,
    after: input.after ?? null,
    viaImport: input.viaImport ?? false,
  });
}
