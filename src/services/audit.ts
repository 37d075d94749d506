import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { reusableQuery } from '../db/reusable-query.js';
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
  await insertAuditEvent(tx, auditValues(actor, input));
}

/** The columns of one audit event. */
function auditRow(actor: Actor, input: AuditInput) {
  return {
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
  };
}

type AuditColumn = keyof ReturnType<typeof auditRow>;

const AUDIT_COLUMNS = [
  'partnershipId',
  'actorUserId',
  'actorLabel',
  'kind',
  'entity',
  'entityId',
  'summary',
  'before',
  'after',
  'viaImport',
] as const satisfies readonly AuditColumn[];

// Every column of auditRow is in the list (a type error here otherwise).
const everyAuditColumn: Exclude<AuditColumn, (typeof AUDIT_COLUMNS)[number]> extends never ? true : never =
  true;
void everyAuditColumn;

/**
 * The insert of one audit event with every value a placeholder, named `audit.<column>`, that
 * auditValues gives: recordAudit runs it on its own (a reusable query, db/reusable-query.ts); a
 * write may run it in its own statement, as a WITH clause (one round trip instead of two).
 */
export function auditInsert(db: Db | Tx) {
  return db
    .insert(auditEvents)
    .values(
      Object.fromEntries(
        AUDIT_COLUMNS.map((column) => [column, sql.placeholder(`audit.${column}`)]),
      ) as Record<AuditColumn, ReturnType<typeof sql.placeholder>>,
    );
}

const insertAuditEvent = reusableQuery('insert_audit_event', auditInsert);

/** The values of auditInsert's placeholders for one event. */
export function auditValues(actor: Actor, input: AuditInput): Record<string, unknown> {
  const row = auditRow(actor, input);
  return Object.fromEntries(AUDIT_COLUMNS.map((column) => [`audit.${column}`, row[column]]));
}
