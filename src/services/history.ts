/**
 * Reading the audit trail back: an aim's History (who changed what, when, with a word-level diff
 * of the text), and the coordinator's whole trail of the partnership, filtered, paged and
 * exported as CSV. The trail itself is written by each service as it changes something.
 */
import { diffWords } from 'diff';
import { and, asc, count, desc, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { writeAuditCsv } from '../documents/audit-csv.js';
import { formatParties, type PartyText } from '../domain/parties.js';
import { canReadAuditTrail } from '../domain/permissions.js';
import { isStatus, STATUS_LABELS } from '../domain/status.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { assertMayRead } from './plan-view.js';
import { escapeHtml } from '../domain/text.js';

// ——— What an event was, in words ———

const KIND_WORDS: Record<string, string> = {
  'section.created': 'Added a section',
  'section.updated': 'Changed a section',
  'section.archived': 'Archived a section',
  'section.moved': 'Moved a section',
  'aim.created': 'Added the aim',
  'aim.updated': 'Changed the aim',
  'aim.archived': 'Archived the aim',
  'aim.moved': 'Moved the aim',
  'aim.published': 'Published the aim on the public page',
  'aim.unpublished': 'Took the aim off the public page',
  'action.created': 'Added an action',
  'action.updated': 'Changed an action',
  'action.archived': 'Archived an action',
  'action.moved': 'Moved an action',
  'progress.added': 'Added a progress update',
  'progress.updated': 'Changed a progress update',
  'progress.amended': 'Amended a progress update',
  'progress.accepted': 'Accepted a progress update',
  'progress.returned': 'Returned a progress update',
  'progress.public_text': 'Wrote the public text of a progress update',
  'funding.created': 'Added a funding line',
  'funding.updated': 'Changed a funding line',
  'funding.archived': 'Archived a funding line',
  'comment.added': 'Added a comment',
  'comment.archived': 'Archived a comment',
  'user.added': 'Added a person',
  'user.signed_in': 'Signed in',
  'user.signed_out': 'Signed out',
  'plan.imported': 'Imported a plan',
  'plan.rolled_over': 'Started next year’s plan',
  'plan.exported': 'Exported the plan',
  'partnership.created': 'Created the partnership',
  'partnership.imported': 'Imported the partnership',
  'demo.loaded': 'Loaded the demo plan',
  'backup.restored': 'Restored a backup',
  'audit.exported': 'Exported the audit trail',
};

const PROGRESS_VERBS: Record<string, string> = {
  'progress.added': 'Added',
  'progress.updated': 'Changed',
  'progress.amended': 'Amended',
  'progress.accepted': 'Accepted',
  'progress.returned': 'Returned',
};

const IMPORT_KINDS = ['plan.imported', 'partnership.imported', 'demo.loaded'];

function payloadOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * "Changed the Q3 progress update", "Archived an action". Kinds added by other areas later read
 * from their code ("invitation.sent" → "Invitation sent") until they are given words here.
 */
export function kindWords(kind: string, after?: unknown): string {
  const quarter = payloadOf(after).quarter;
  const verb = PROGRESS_VERBS[kind];
  if (verb && typeof quarter === 'number') return `${verb} the Q${quarter} progress update`;
  const words = KIND_WORDS[kind];
  if (words) return words;
  const plain = kind.replace(/[._]+/g, ' ').trim();
  return plain.charAt(0).toUpperCase() + plain.slice(1);
}

// ——— Word-level differences ———

/**
 * Before → after as HTML, word by word: removed words in <del>, added in <ins>, each announced
 * to screen readers (which mostly do not read those elements out). Text is escaped first; the
 * only markup is ours.
 */
export function wordDiffHtml(before: string, after: string): string {
  return diffWords(before, after)
    .map((part) => {
      const text = escapeHtml(part.value).replace(/\r?\n/g, '<br>');
      if (part.added) return `<ins><span class="govuk-visually-hidden">added: </span>${text}</ins>`;
      if (part.removed) return `<del><span class="govuk-visually-hidden">removed: </span>${text}</del>`;
      return text;
    })
    .join('');
}

/** The text fields events carry, in the order a reader expects them, with their labels. */
const FIELDS: readonly (readonly [string, string])[] = [
  ['number', 'Number'],
  ['title', 'Title'],
  ['description', 'Action'],
  ['leads', 'Lead'],
  ['partners', 'Partners'],
  ['resources', 'Resources'],
  ['expectedOutcomes', 'Expected outcomes'],
  ['status', 'Status'],
  ['text', 'Text'],
  ['publicText', 'Text for residents'],
  // A funding line's, in words (funding.ts writes them beside the values).
  ['source', 'Source'],
  ['amount', 'Amount'],
  ['fundingState', 'State'],
  ['steps', 'Dates'],
  ['spentToDate', 'Spent to date'],
  ['notes', 'Notes'],
];

const ENTITY_LABELS: Record<string, Record<string, string>> = {
  aim: { title: 'Aim' },
  progress_update: { text: 'Progress made' },
  comment: { text: 'Comment' },
};

function isParty(value: unknown): value is PartyText {
  const p = payloadOf(value);
  return typeof p.organisation === 'string' && Array.isArray(p.officers);
}

function fieldText(field: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (field === 'status') return isStatus(value) ? STATUS_LABELS[value] : String(value);
  if (Array.isArray(value)) {
    if (value.every(isParty)) return formatParties(value);
    return value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n');
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  return JSON.stringify(value);
}

export interface FieldChange {
  field: string;
  label: string;
  before: string;
  after: string;
  /** Escaped HTML with <del>/<ins>: safe to put in a page as it is. */
  diffHtml: string;
}

export interface FieldValue {
  field: string;
  label: string;
  text: string;
}

function labelFor(entity: string, field: string, fallback: string): string {
  return ENTITY_LABELS[entity]?.[field] ?? fallback;
}

/** What changed, field by field, for an event that carries both before and after. */
export function fieldChanges(entity: string, before: unknown, after: unknown): FieldChange[] {
  const b = payloadOf(before);
  const a = payloadOf(after);
  const changes: FieldChange[] = [];
  for (const [field, label] of FIELDS) {
    if (!(field in b) && !(field in a)) continue;
    const was = fieldText(field, b[field]);
    const now = field in a ? fieldText(field, a[field]) : was;
    if (was === now) continue;
    changes.push({
      field,
      label: labelFor(entity, field, label),
      before: was,
      after: now,
      diffHtml: wordDiffHtml(was, now),
    });
  }
  return changes;
}

/** The text an event added or archived, for events that carry only one side. */
export function fieldValues(entity: string, values: unknown): FieldValue[] {
  const v = payloadOf(values);
  return FIELDS.filter(([field]) => field in v)
    .map(([field, label]) => ({
      field,
      label: labelFor(entity, field, label),
      text: fieldText(field, v[field]),
    }))
    .filter((f) => f.text !== '');
}

// ——— An aim's History ———

export interface HistoryEntry {
  id: number;
  occurredAt: Date;
  /** The person (or "command line", "demo loader") who did it. */
  who: string;
  what: string;
  /** Which part of the aim: "Action 2", "An archived action"; undefined for the aim itself. */
  about: string | undefined;
  summary: string;
  kind: string;
  /** Text fields changed, with their word-level difference. */
  changes: FieldChange[];
  /** Text added or archived, for events without a before and after. */
  values: FieldValue[];
  viaImport: boolean;
}

type EventRow = typeof t.auditEvents.$inferSelect;

/**
 * Every audit event about an aim, its actions and their progress updates, newest first; and,
 * for an aim that came in with an imported plan (the demo), that import. Comments have their
 * own page with its own permission, so their events are left out here.
 */
export async function aimHistory(db: Db, actor: Actor, aimId: number): Promise<HistoryEntry[]> {
  const [aim] = await db
    .select({ id: t.aims.id, partnershipId: t.aims.partnershipId, planId: t.aims.planId })
    .from(t.aims)
    .where(eq(t.aims.id, aimId));
  if (!aim) throw new NotFoundError('The aim');
  assertMayRead(actor, aim.partnershipId);
  const [plan] = await db.select({ year: t.plans.year }).from(t.plans).where(eq(t.plans.id, aim.planId));

  const actions = await db
    .select({ id: t.actions.id, archivedAt: t.actions.archivedAt })
    .from(t.actions)
    .where(eq(t.actions.aimId, aimId))
    .orderBy(asc(t.actions.position), asc(t.actions.id));
  const actionIds = actions.map((a) => a.id);
  const progress = actionIds.length
    ? await db
        .select({ id: t.progressUpdates.id, actionId: t.progressUpdates.actionId })
        .from(t.progressUpdates)
        .where(inArray(t.progressUpdates.actionId, actionIds))
    : [];

  const e = t.auditEvents;
  const aimKey = String(aimId);
  const about: SQL[] = [
    and(eq(e.entity, 'aim'), eq(e.entityId, aimKey))!,
    // Action and progress events carry aimId in their payload; events written before they did
    // (and any others without it) are found through the aim's actions and their updates.
    sql`${e.after}->>'aimId' = ${aimKey}`,
    sql`${e.before}->>'aimId' = ${aimKey}`,
  ];
  if (actionIds.length) {
    about.push(and(eq(e.entity, 'action'), inArray(e.entityId, actionIds.map(String)))!);
  }
  if (progress.length) {
    about.push(
      and(
        eq(e.entity, 'progress_update'),
        inArray(
          e.entityId,
          progress.map((p) => String(p.id)),
        ),
      )!,
    );
  }
  if (plan) {
    about.push(
      and(eq(e.kind, 'plan.imported'), eq(e.entityId, plan.year))!,
      and(
        inArray(e.kind, ['partnership.imported', 'demo.loaded']),
        sql`${e.after}->'plans' @> ${JSON.stringify([{ year: plan.year }])}::jsonb`,
      )!,
    );
  }
  const rows = await db
    .select()
    .from(e)
    .where(and(eq(e.partnershipId, aim.partnershipId), ne(e.entity, 'comment'), or(...about)))
    .orderBy(desc(e.occurredAt), desc(e.id));

  // An aim added after its plan was imported did not come in with that import.
  const createdHere = rows.some((r) => r.kind === 'aim.created' && r.entityId === aimKey);
  const liveActions = actions.filter((a) => a.archivedAt === null).map((a) => a.id);
  const actionOf = new Map(progress.map((p) => [String(p.id), p.actionId]));
  const describeAction = (actionId: number | undefined) => {
    if (actionId === undefined || !actionIds.includes(actionId)) return undefined;
    const index = liveActions.indexOf(actionId);
    return index >= 0 ? `Action ${index + 1}` : 'An archived action';
  };

  return (
    rows
      .filter((r) => !(IMPORT_KINDS.includes(r.kind) && createdHere))
      // A draft is its lead's working copy: members see the update once it is submitted (the
      // coordinator's audit trail still holds every draft save).
      .filter((r) => !(r.entity === 'progress_update' && payloadOf(r.after).state === 'draft'))
      .map((r) => {
        const imported = IMPORT_KINDS.includes(r.kind);
        let aboutText: string | undefined;
        if (r.entity === 'action') aboutText = describeAction(Number(r.entityId));
        if (r.entity === 'progress_update') {
          const fromPayload = payloadOf(r.after).actionId;
          aboutText = describeAction(
            typeof fromPayload === 'number' ? fromPayload : actionOf.get(r.entityId ?? ''),
          );
        }
        return {
          id: r.id,
          occurredAt: r.occurredAt,
          who: r.actorLabel,
          what: imported ? `Came in with the plan ${plan?.year ?? ''}`.trim() : kindWords(r.kind, r.after),
          about: aboutText,
          summary: r.summary,
          kind: r.kind,
          changes:
            imported || r.before === null || r.after === null
              ? []
              : fieldChanges(r.entity, r.before, r.after),
          values: imported ? [] : valuesOf(r),
          viaImport: r.viaImport,
        };
      })
  );
}

function valuesOf(r: EventRow): FieldValue[] {
  if (r.before !== null && r.after !== null) return [];
  return fieldValues(r.entity, r.after ?? r.before);
}

// ——— The coordinator's whole trail ———

export const TRAIL_PAGE_SIZE = 50;

function isRealDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === value;
}

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const optionalId = z.preprocess(blankToUndefined, z.coerce.number().int().positive().optional());
const optionalDay = (message: string) =>
  z.preprocess(blankToUndefined, z.string().trim().refine(isRealDay, message).optional());

export const trailFiltersSchema = z
  .object({
    person: optionalId,
    organisation: optionalId,
    kind: z.preprocess(blankToUndefined, z.string().trim().max(100).optional()),
    /** London days, YYYY-MM-DD, both included. */
    from: optionalDay('Date from must be a real date'),
    to: optionalDay('Date to must be a real date'),
    page: z.preprocess(blankToUndefined, z.coerce.number().int().positive().max(1_000_000).optional()),
  })
  .superRefine((f, ctx) => {
    if (f.from && f.to && f.to < f.from) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: 'Date to must be the same as or after date from',
      });
    }
  });
export type TrailFilters = z.input<typeof trailFiltersSchema>;

const FILTER_MESSAGES: Record<string, string> = {
  person: 'Select a person from the list',
  organisation: 'Select an organisation from the list',
  kind: 'Select a kind of event from the list',
  page: 'Page must be a whole number',
};

function checkFilters(input: TrailFilters) {
  const parsed = trailFiltersSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues.map((i) => {
        const field = String(i.path[0] ?? 'form');
        return { field, message: i.code === 'custom' ? i.message : (FILTER_MESSAGES[field] ?? i.message) };
      }),
    );
  }
  return parsed.data;
}

function requireTrailReader(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canReadAuditTrail(actor.member, partnershipId)) {
    throw new ForbiddenError('The audit trail is for the partnership’s coordinator.');
  }
}

type CheckedFilters = ReturnType<typeof checkFilters>;

function trailWhere(partnershipId: number, f: CheckedFilters): SQL {
  const e = t.auditEvents;
  return and(
    eq(e.partnershipId, partnershipId),
    f.person !== undefined ? eq(e.actorUserId, f.person) : undefined,
    f.kind !== undefined ? eq(e.kind, f.kind) : undefined,
    f.organisation !== undefined ? eq(t.memberships.organisationId, f.organisation) : undefined,
    // Days are London days: from its midnight there, to the midnight after the `to` day.
    f.from !== undefined
      ? sql`${e.occurredAt} >= (${f.from}::date::timestamp at time zone 'Europe/London')`
      : undefined,
    f.to !== undefined
      ? sql`${e.occurredAt} < ((${f.to}::date + 1)::timestamp at time zone 'Europe/London')`
      : undefined,
  )!;
}

export interface TrailEvent {
  id: number;
  occurredAt: Date;
  who: string;
  actorUserId: number | null;
  /** The actor's organisation in this partnership, through their membership. */
  organisation: string | null;
  /** The aim the event was about, as it is numbered now; null when it was about no aim. */
  aim: { number: string; planYear: string; archived: boolean } | null;
  what: string;
  summary: string;
  kind: string;
  entity: string;
  entityId: string | null;
  viaImport: boolean;
  before: unknown;
  after: unknown;
}

/** The trail's events with the actor's organisation, newest first. */
/**
 * The aim an event was about: its own id for an aim's events, the aimId action, progress and
 * comment events carry, or (for events written without it) through the action or update.
 */
function aimIdOfEvent(): SQL<number | null> {
  const e = t.auditEvents;
  const numericId = sql`${e.entityId} ~ '^[0-9]+$'`;
  return sql<number | null>`case
    when ${e.entity} = 'aim' and ${numericId} then ${e.entityId}::int
    when ${e.after}->>'aimId' ~ '^[0-9]+$' then (${e.after}->>'aimId')::int
    when ${e.before}->>'aimId' ~ '^[0-9]+$' then (${e.before}->>'aimId')::int
    when ${e.entity} = 'action' and ${numericId}
      then (select ${t.actions.aimId} from ${t.actions} where ${t.actions.id} = ${e.entityId}::int)
    when ${e.entity} = 'progress_update' and ${numericId}
      then (select ${t.actions.aimId} from ${t.progressUpdates}
            join ${t.actions} on ${t.actions.id} = ${t.progressUpdates.actionId}
            where ${t.progressUpdates.id} = ${e.entityId}::int)
  end`;
}

function trailQuery(db: Db | Tx, partnershipId: number, f: CheckedFilters) {
  const e = t.auditEvents;
  return db
    .select({
      id: e.id,
      occurredAt: e.occurredAt,
      who: e.actorLabel,
      actorUserId: e.actorUserId,
      organisation: t.organisations.name,
      aimNumber: t.aims.number,
      aimArchivedAt: t.aims.archivedAt,
      planYear: t.plans.year,
      kind: e.kind,
      summary: e.summary,
      entity: e.entity,
      entityId: e.entityId,
      viaImport: e.viaImport,
      before: e.before,
      after: e.after,
    })
    .from(e)
    .leftJoin(
      t.memberships,
      and(eq(t.memberships.userId, e.actorUserId), eq(t.memberships.partnershipId, e.partnershipId)),
    )
    .leftJoin(t.organisations, eq(t.organisations.id, t.memberships.organisationId))
    .leftJoin(t.aims, and(eq(t.aims.id, aimIdOfEvent()), eq(t.aims.partnershipId, e.partnershipId)))
    .leftJoin(t.plans, eq(t.plans.id, t.aims.planId))
    .where(trailWhere(partnershipId, f))
    .orderBy(desc(e.occurredAt), desc(e.id));
}

type TrailRow = Awaited<ReturnType<typeof trailQuery>>[number];

function toTrailEvent({ aimNumber, aimArchivedAt, planYear, ...row }: TrailRow): TrailEvent {
  return {
    ...row,
    aim:
      aimNumber !== null && planYear !== null
        ? { number: aimNumber, planYear, archived: aimArchivedAt !== null }
        : null,
    what: kindWords(row.kind, row.after),
  };
}

export interface TrailOption {
  value: string;
  text: string;
}

export interface AuditTrailPage {
  events: TrailEvent[];
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
  filters: CheckedFilters;
  /** Choices for the filters: the people, organisations and kinds the trail holds. */
  options: { people: TrailOption[]; organisations: TrailOption[]; kinds: TrailOption[] };
}

async function trailOptions(db: Db, partnershipId: number): Promise<AuditTrailPage['options']> {
  const e = t.auditEvents;
  const [people, organisations, kinds] = await Promise.all([
    db
      .selectDistinct({ id: t.users.id, name: t.users.name })
      .from(e)
      .innerJoin(t.users, eq(t.users.id, e.actorUserId))
      .where(eq(e.partnershipId, partnershipId))
      .orderBy(asc(t.users.name), asc(t.users.id)),
    db
      .selectDistinct({ id: t.organisations.id, name: t.organisations.name })
      .from(t.memberships)
      .innerJoin(t.organisations, eq(t.organisations.id, t.memberships.organisationId))
      .where(eq(t.memberships.partnershipId, partnershipId))
      .orderBy(asc(t.organisations.name)),
    db.selectDistinct({ kind: e.kind }).from(e).where(eq(e.partnershipId, partnershipId)),
  ]);
  return {
    people: people.map((p) => ({ value: String(p.id), text: p.name })),
    organisations: organisations.map((o) => ({ value: String(o.id), text: o.name })),
    kinds: kinds
      .map((k) => ({ value: k.kind, text: kindWords(k.kind) }))
      .sort((a, b) => a.text.localeCompare(b.text, 'en-GB')),
  };
}

/**
 * The partnership's whole trail for the coordinator, filtered by person, organisation (the
 * actor's, through their membership), kind and London days, 50 events a page.
 */
export async function auditTrail(
  db: Db,
  actor: Actor,
  partnershipId: number,
  filters: TrailFilters = {},
): Promise<AuditTrailPage> {
  requireTrailReader(actor, partnershipId);
  const f = checkFilters(filters);
  const [{ total } = { total: 0 }] = await db
    .select({ total: count() })
    .from(t.auditEvents)
    .leftJoin(
      t.memberships,
      and(
        eq(t.memberships.userId, t.auditEvents.actorUserId),
        eq(t.memberships.partnershipId, t.auditEvents.partnershipId),
      ),
    )
    .where(trailWhere(partnershipId, f));
  const pageCount = Math.max(1, Math.ceil(total / TRAIL_PAGE_SIZE));
  const page = Math.min(f.page ?? 1, pageCount);
  const [rows, options] = await Promise.all([
    trailQuery(db, partnershipId, f)
      .limit(TRAIL_PAGE_SIZE)
      .offset((page - 1) * TRAIL_PAGE_SIZE),
    trailOptions(db, partnershipId),
  ]);
  return {
    events: rows.map(toTrailEvent),
    total,
    page,
    pageCount,
    pageSize: TRAIL_PAGE_SIZE,
    filters: f,
    options,
  };
}

/**
 * The filtered trail (every page) as CSV. Taking a copy of the trail is itself recorded, in the
 * same transaction that reads it.
 */
export async function auditTrailCsv(
  db: Db,
  actor: Actor,
  partnershipId: number,
  filters: TrailFilters = {},
): Promise<{ csv: string; rows: number }> {
  requireTrailReader(actor, partnershipId);
  const { page: _page, ...f } = checkFilters(filters);
  return db.transaction(async (tx) => {
    const rows = (await trailQuery(tx, partnershipId, f)).map(toTrailEvent);
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'audit.exported',
      entity: 'partnership',
      entityId: partnershipId,
      summary: `Exported the audit trail as CSV (${rows.length} ${rows.length === 1 ? 'event' : 'events'})`,
      after: { filters: f, rows: rows.length },
    });
    return { csv: writeAuditCsv(rows), rows: rows.length };
  });
}
