/**
 * Progress updates: a lead officer (or the coordinator) records, for an action and a quarter, the
 * progress made and its status. One update per action per quarter; editing it later needs the
 * version the form was loaded with, so two people editing at once never overwrite each other.
 *
 * In a quarter opened as a cycle an update is saved as a draft (seen only on its form) or
 * submitted, marked late when submitted after the due date; JAG review accepts it or returns it
 * to its lead with a comment; once the quarter is closed, a change is an amendment to what the
 * board was shown.
 */
import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  inArray,
  isNotNull,
  isNull,
  lt,
  ne,
  or,
  sql,
} from 'drizzle-orm';
import { z } from 'zod';
import { type Db, type Tx } from '../db/client.js';
import { placeholder, reusableQuery } from '../db/reusable-query.js';
import * as t from '../db/schema.js';
import {
  cyclePhase,
  isLate,
  requestRecipients,
  type CyclePhase,
  type RequestCandidate,
  type UpdateState,
} from '../domain/cycles.js';
import { compareAimNumbers } from '../domain/numbering.js';
import {
  canReviewUpdate,
  canReviewUpdates,
  canUpdateProgress,
  type ActionLeadership,
} from '../domain/permissions.js';
import { isQuarter, planYearSlug, quarterLabel, type Quarter } from '../domain/quarters.js';
import { STATUSES, type Status } from '../domain/status.js';
import type { Links } from './accounts.js';
import type { Actor } from './actor.js';
import { findCycle } from './cycle-read.js';
import type { CycleRow } from './cycles.js';
import type { Mailer } from './mail.js';
import { auditInsert, auditValues, recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';

// ——— The form ———

export const PROGRESS_INTENTS = ['draft', 'submit'] as const;
export type ProgressIntent = (typeof PROGRESS_INTENTS)[number];

export const EVIDENCE_URL_MESSAGE = 'Enter the evidence link as a full web address, starting with https://';
export const DRAFT_NEEDS_CONTENT_MESSAGE =
  'Enter the progress made, or choose a status, before saving a draft';
export const CLOSED_QUARTER_MESSAGE =
  'This quarter has been closed. Changes to it are saved as amendments to what the board was shown.';

const blankToUndefined = (v: unknown) =>
  v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v;

/** A full http or https address: what a reader of the report can open. */
export function isWebAddress(value: string): boolean {
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Each field on its own, so that every field is checked even when another is wrong. Which of
 * status and text are required depends on the intent: see checkProgress.
 */
export const progressFormSchema = z.object({
  quarter: z.coerce
    .number({ error: 'Select the quarter' })
    .int()
    .refine((q) => q >= 1 && q <= 4, 'Select the quarter'),
  intent: z.preprocess(
    blankToUndefined,
    z.enum(PROGRESS_INTENTS, { error: 'Choose whether to save a draft or submit the update' }).optional(),
  ),
  status: z.preprocess(blankToUndefined, z.enum(STATUSES, { error: 'Select the status' }).optional()),
  text: z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'Enter the progress made' })
      .trim()
      .max(10000, 'Progress must be 10,000 characters or fewer')
      .optional(),
  ),
  evidenceUrl: z.preprocess(
    blankToUndefined,
    z
      .string({ error: EVIDENCE_URL_MESSAGE })
      .trim()
      .max(2000, 'The evidence link must be 2,000 characters or fewer')
      .refine(isWebAddress, EVIDENCE_URL_MESSAGE)
      .optional(),
  ),
  /** Present when editing an existing update: the version the form was loaded with. */
  version: z.preprocess(
    blankToUndefined,
    z.coerce.number({ error: 'Reload the page and try again' }).int().positive().optional(),
  ),
});
export type ProgressForm = z.input<typeof progressFormSchema>;

type Problems = Map<string, string>;
type Parsed<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.output<S[K]> | undefined };

/** Parses each field on its own: the first problem of each field, and the values that passed. */
function parseFields<S extends Record<string, z.ZodType>>(
  shape: S,
  raw: unknown,
  fields: readonly (keyof S & string)[],
): { values: Parsed<S>; problems: Problems } {
  const record = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const values: Record<string, unknown> = {};
  const problems: Problems = new Map();
  for (const field of fields) {
    const parsed = shape[field]!.safeParse(record[field]);
    if (parsed.success) values[field] = parsed.data;
    else problems.set(field, parsed.error.issues[0]?.message ?? 'Check this answer');
  }
  return { values: values as Parsed<S>, problems };
}

/** Problems in the order the form asks its questions, named as the form names its fields. */
function listProblems(
  order: readonly string[],
  problems: Problems,
  key: (field: string) => string,
): { field: string; message: string }[] {
  return order.filter((f) => problems.has(f)).map((f) => ({ field: key(f), message: problems.get(f)! }));
}

const FORM_ORDER = ['quarter', 'intent', 'status', 'text', 'evidenceUrl', 'version'] as const;

/** What a valid form says. */
export interface ProgressInput {
  intent: ProgressIntent;
  status: Status | undefined;
  text: string | undefined;
  evidenceUrl: string | undefined;
  version: number | undefined;
}

/**
 * One update's fields: a draft needs the progress made or a status (something worth keeping);
 * a submitted update needs both. `intent` given by the caller (one page's button) wins.
 */
function checkProgress(
  raw: unknown,
  intent: ProgressIntent | undefined,
  withQuarter: boolean,
): { form: ProgressInput; quarter: Quarter | undefined; problems: Problems } {
  const fields = FORM_ORDER.filter((f) => (f === 'quarter' ? withQuarter : f !== 'intent' || !intent));
  const { values, problems } = parseFields(progressFormSchema.shape, raw, fields);
  const form: ProgressInput = {
    intent: intent ?? values.intent ?? 'submit',
    status: values.status,
    text: values.text,
    evidenceUrl: values.evidenceUrl,
    version: values.version,
  };
  const noStatus = form.status === undefined && !problems.has('status');
  const noText = form.text === undefined && !problems.has('text');
  if (form.intent === 'draft') {
    if (noStatus && noText) problems.set('text', DRAFT_NEEDS_CONTENT_MESSAGE);
  } else {
    if (noStatus) problems.set('status', 'Select the status');
    if (noText) problems.set('text', 'Enter the progress made');
  }
  return { form, quarter: values.quarter as Quarter | undefined, problems };
}

// ——— Who leads an action ———

/** An action, where it sits, and who leads it. */
export interface ActionContext extends ActionLeadership {
  actionId: number;
  aimId: number;
  planId: number;
}

/**
 * An action's leadership as the columns of a query over `actions` joined to `aims`: where it sits,
 * and its lead organisations and lead people (subqueries, so one row an action).
 */
const leadershipColumns = {
  id: t.actions.id,
  partnershipId: t.actions.partnershipId,
  aimId: t.actions.aimId,
  planId: t.aims.planId,
  organisationIds: sql<number[]>`array(select p.organisation_id from action_parties p
    where p.action_id = ${t.actions.id} and p.role = 'lead')`,
  personIds: sql<number[]>`array(select pp.person_id from action_party_people pp
    join action_parties p on p.id = pp.action_party_id
    where p.action_id = ${t.actions.id} and p.role = 'lead')`,
};

/** Leadership of live (unarchived) actions, in one query; actions not found are missing from the map. */
export async function actionsLeadership(
  db: Db | Tx,
  actionIds: readonly number[],
): Promise<Map<number, ActionContext>> {
  const ids = [...new Set(actionIds)];
  if (!ids.length) return new Map();
  const actions = await db
    .select(leadershipColumns)
    .from(t.actions)
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .where(and(inArray(t.actions.id, ids), isNull(t.actions.archivedAt)));
  return new Map(actions.map(({ id, ...action }) => [id, { actionId: id, ...action }]));
}

export async function actionLeadership(db: Db | Tx, actionId: number): Promise<ActionContext> {
  const action = (await actionsLeadership(db, [actionId])).get(actionId);
  if (!action) throw new NotFoundError('The action');
  return action;
}

/** Whether this actor may record progress on this action (for showing the link). */
export async function mayUpdateProgress(db: Db, actor: Actor, actionId: number): Promise<boolean> {
  if (actor.system) return true;
  return canUpdateProgress(actor.member, await actionLeadership(db, actionId));
}

function requireProgressWriter(actor: Actor, action: ActionLeadership): void {
  if (actor.system) return;
  if (!canUpdateProgress(actor.member, action)) {
    throw new ForbiddenError('Only the action’s lead officers and the coordinator can record its progress');
  }
}

export interface EmailRecipient {
  userId: number;
  name: string;
  email: string;
}

/** The partnership's active members (account and membership both live), as request candidates. */
export async function activeRequestCandidates(
  db: Db | Tx,
  partnershipId: number,
): Promise<(RequestCandidate & EmailRecipient)[]> {
  return db
    .select({
      userId: t.memberships.userId,
      role: t.memberships.role,
      personId: t.memberships.personId,
      organisationId: t.memberships.organisationId,
      name: t.users.name,
      email: t.users.email,
    })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(
      and(
        eq(t.memberships.partnershipId, partnershipId),
        isNull(t.memberships.deactivatedAt),
        isNull(t.users.deactivatedAt),
      ),
    )
    .orderBy(asc(t.users.name), asc(t.users.id));
}

/** The people asked for an action's update (domain requestRecipients over active members). */
export async function actionRecipients(db: Db | Tx, actionId: number): Promise<EmailRecipient[]> {
  const action = await actionLeadership(db, actionId);
  const members = await activeRequestCandidates(db, action.partnershipId);
  const ids = requestRecipients(action, members);
  return members
    .filter((m) => ids.includes(m.userId))
    .map((m) => ({ userId: m.userId, name: m.name, email: m.email }));
}

// ——— The quarter's cycle, as an update sees it ———

interface CycleState {
  id: number;
  dueOn: string;
  closedAt: Date | null;
}

/**
 * The cycle of a plan's quarter. Inside a save or review it is read FOR SHARE: closing the
 * quarter (which updates this row) then waits for the save, or the save waits for the close and
 * sees it closed, so an update is either in the snapshot or an amendment to it, never neither.
 */
async function cycleOf(
  db: Db | Tx,
  planId: number,
  quarter: Quarter,
  lock = false,
): Promise<CycleState | undefined> {
  const query = db
    .select({ id: t.quarterCycles.id, dueOn: t.quarterCycles.dueOn, closedAt: t.quarterCycles.closedAt })
    .from(t.quarterCycles)
    .where(and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)));
  const [cycle] = lock ? await query.for('share') : await query;
  return cycle;
}

// ——— Saving ———

export interface SavedProgress {
  id: number;
  actionId: number;
  version: number;
  created: boolean;
  state: UpdateState;
  /** Submitted after the quarter's due date. */
  late: boolean;
  /** Saved after the quarter was closed: recorded as an amendment. */
  amendment: boolean;
}

export type ProgressRow = typeof t.progressUpdates.$inferSelect;

interface NextState {
  state: UpdateState;
  submittedAt: Date | null;
  late: boolean;
  amendedAt: Date | null;
}

/**
 * Where a saved update stands. Outside a cycle, as intended and never late. In an open cycle a
 * submit (re)submits it, late after the due date, and needs review again even if accepted; a
 * draft takes it back to its lead. After closing it is an amendment: an accepted or submitted
 * update keeps its state, anything else becomes submitted.
 */
function nextState(
  existing: ProgressRow | undefined,
  phase: CyclePhase,
  intent: ProgressIntent,
  dueOn: string | undefined,
  now: Date,
): NextState {
  const submitted = (): NextState => ({
    state: 'submitted',
    submittedAt: now,
    late: dueOn !== undefined && isLate(dueOn, now),
    amendedAt: existing?.amendedAt ?? null,
  });
  if (phase === 'closed') {
    const keep = existing && (existing.state === 'submitted' || existing.state === 'accepted');
    const next = keep
      ? { state: existing.state, submittedAt: existing.submittedAt, late: existing.late, amendedAt: null }
      : submitted();
    return { ...next, amendedAt: now };
  }
  if (intent === 'draft') {
    return {
      state: 'draft',
      submittedAt: existing?.submittedAt ?? null,
      late: existing?.late ?? false,
      amendedAt: existing?.amendedAt ?? null,
    };
  }
  return submitted();
}

/** An action's update for a quarter (reusable: a save reads it every time). */
const readProgressUpdate = reusableQuery('read_progress_update', (db) =>
  db
    .select()
    .from(t.progressUpdates)
    .where(
      and(
        eq(t.progressUpdates.actionId, placeholder('actionId')),
        eq(t.progressUpdates.quarter, placeholder('quarter')),
      ),
    ),
);

/**
 * The change of an update (by id, unless its version has moved on) with its audit event
 * (auditInsert) in one statement; `now` is when it was recorded and updated.
 */
const updateProgressWithAudit = reusableQuery('update_progress_update', (db) => {
  const audit = db.$with('audit').as(auditInsert(db).returning({ id: t.auditEvents.id }));
  return db
    .with(audit)
    .update(t.progressUpdates)
    .set({
      text: placeholder('text'),
      status: placeholder('status'),
      evidenceUrl: placeholder('evidenceUrl'),
      state: placeholder('state'),
      submittedAt: placeholder('submittedAt'),
      late: placeholder('late'),
      amendedAt: placeholder('amendedAt'),
      recordedAt: placeholder('now'),
      recordedBy: placeholder('recordedBy'),
      version: sql`${placeholder('version')} + 1`,
      updatedAt: placeholder('now'),
    })
    .where(
      and(eq(t.progressUpdates.id, placeholder('id')), eq(t.progressUpdates.version, placeholder('version'))),
    )
    .returning();
});

/**
 * The one save of an update, inside the caller's transaction: permission, the cycle's rules,
 * the version check, the write and its audit event.
 */
async function saveInTransaction(
  tx: Tx,
  actor: Actor,
  actionId: number,
  quarter: Quarter,
  form: ProgressInput,
  options: {
    planId?: number;
    key: (field: string) => string;
    /** The action as lockActionForSave read it (locked) for this quarter in this transaction. */
    action?: LockedAction;
  },
): Promise<SavedProgress> {
  const action = options.action ?? (await lockActionForSave(tx, actionId, quarter));
  if (options.planId !== undefined && action.planId !== options.planId) throw new NotFoundError('The action');
  requireProgressWriter(actor, action);
  const { cycle } = action;
  const phase = cyclePhase(cycle);
  if (phase === 'closed' && form.intent === 'draft') {
    throw new ValidationError([{ field: options.key('intent'), message: CLOSED_QUARTER_MESSAGE }]);
  }
  // The update as it stood when the action's lock was taken (lockActionForSave). If taking it
  // waited for another save of this action, a change that save made is not in it; but then the
  // form cannot have seen that change either (it was made after the form's POST began), so the
  // version check (below, or the update's own) refuses the save as it should, and the conflict
  // shows the update as it now stands.
  const existing = action.existing;
  const conflict = async () =>
    new ConflictError((await readProgressUpdate(tx, { actionId, quarter }))[0] ?? existing);
  if (!existing && form.version !== undefined) throw new NotFoundError(`The ${quarterLabel(quarter)} update`);
  if (existing && form.version !== existing.version) throw await conflict();

  const now = new Date();
  const next = nextState(existing, phase, form.intent, cycle?.dueOn, now);
  const content = {
    text: form.text ?? '',
    status: form.status ?? null,
    evidenceUrl: form.evidenceUrl ?? null,
  };
  const amendment = phase === 'closed';
  const label = quarterLabel(quarter);
  const after = {
    aimId: action.aimId,
    actionId,
    quarter,
    ...content,
    state: next.state,
    late: next.late,
  };

  if (!existing) {
    const [row] = await tx
      .insert(t.progressUpdates)
      .values({
        partnershipId: action.partnershipId,
        actionId,
        quarter,
        ...content,
        ...next,
        recordedAt: now,
        recordedBy: actor.userId,
      })
      // Added meanwhile by a save the lock waited for (see above): a conflict.
      .onConflictDoNothing()
      .returning();
    if (!row) throw await conflict();
    await recordAudit(tx, actor, {
      partnershipId: action.partnershipId,
      kind: amendment ? 'progress.amended' : 'progress.added',
      entity: 'progress_update',
      entityId: row.id,
      summary: amendment
        ? `Added the ${label} progress update after the quarter was closed, as an amendment`
        : next.state === 'draft'
          ? `Saved a draft of the ${label} progress update`
          : `Added the ${label} progress update`,
      after,
    });
    return { id: row.id, actionId, version: row.version, created: true, ...outcome(next, amendment) };
  }

  // The audit event is written by the update's own statement (a WITH clause): when the version
  // has moved on the update changes nothing and the ConflictError below rolls the event back.
  const [row] = await updateProgressWithAudit(tx, {
    ...content,
    ...next,
    id: existing.id,
    version: existing.version,
    now,
    recordedBy: actor.userId,
    ...auditValues(actor, {
      partnershipId: action.partnershipId,
      kind: amendment ? 'progress.amended' : 'progress.updated',
      entity: 'progress_update',
      entityId: existing.id,
      summary: amendment
        ? `Amended the ${label} progress update after the quarter was closed`
        : next.state === 'draft'
          ? `Saved a draft of the ${label} progress update`
          : `Changed the ${label} progress update`,
      before: {
        status: existing.status,
        text: existing.text,
        evidenceUrl: existing.evidenceUrl,
        state: existing.state,
        late: existing.late,
      },
      after,
    }),
  });
  if (!row) throw await conflict();
  return { id: row.id, actionId, version: row.version, created: false, ...outcome(next, amendment) };
}

function outcome(next: NextState, amendment: boolean) {
  return { state: next.state, late: next.late, amendment };
}

/** Where the plan's pages show an action: its aim's number and its number among the aim's live actions. */
export interface ActionPlace {
  aimNumber: string;
  actionNumber: number;
}

/** lockActionForSave's query: `within` a plan (placeholders partnershipId and year) or any live action. */
function lockActionQuery(within: boolean) {
  return (db: Db | Tx) =>
    db
      .select({
        ...leadershipColumns,
        aimNumber: t.aims.number,
        // The tree's order: position, then id, among the aim's live actions.
        actionNumber: sql<number>`(select count(*) from actions s where s.aim_id = ${t.actions.aimId}
          and s.archived_at is null and (s.position, s.id) <= (${t.actions.position}, ${t.actions.id}))`.mapWith(
          Number,
        ),
        existing: getTableColumns(t.progressUpdates),
        // A subquery of its own, so that it may lock the cycle's row (there may be no cycle).
        cycle: sql<
          [number, string, string | null] | null
        >`(select json_build_array(c.id, c.due_on, c.closed_at)
          from quarter_cycles c where c.plan_id = ${t.aims.planId} and c.quarter = ${placeholder('quarter')} for share)`,
      })
      .from(t.actions)
      .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
      .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
      .innerJoin(t.plans, eq(t.plans.id, t.aims.planId))
      .leftJoin(
        t.progressUpdates,
        and(
          eq(t.progressUpdates.actionId, t.actions.id),
          eq(t.progressUpdates.quarter, placeholder('quarter')),
        ),
      )
      .where(
        and(
          eq(t.actions.id, placeholder('actionId')),
          isNull(t.actions.archivedAt),
          ...(within
            ? [
                isNull(t.aims.archivedAt),
                isNull(t.sections.archivedAt),
                eq(t.plans.partnershipId, placeholder('partnershipId')),
                eq(t.plans.year, placeholder('year')),
              ]
            : []),
        ),
      )
      .for('update', { of: t.actions });
}

const lockAction = reusableQuery('lock_action_for_save', lockActionQuery(false));
const lockActionWithin = reusableQuery('lock_action_for_save_within', lockActionQuery(true));

/** An action as a save of its update for a quarter reads it (lockActionForSave). */
interface LockedAction extends ActionContext {
  /** The quarter's cycle, read FOR SHARE (cycleOf). */
  cycle: CycleState | undefined;
  /** The action's update for the quarter, as it stood when the lock was taken (none yet: undefined). */
  existing: ProgressRow | undefined;
  place?: ActionPlace;
}

/**
 * The action an update for `quarter` is saved for, in one query: its leadership (the columns
 * actionsLeadership reads), locked FOR UPDATE so that two saves of it queue up; the quarter's
 * cycle, read FOR SHARE (see cycleOf); its update for the quarter as it stood when the statement
 * began (a save the lock waited for may have changed it since: saveInTransaction); and, with `within`,
 * its place in that plan (NotFoundError unless it is one of that plan's live actions, its aim and
 * section live too). Without `within`, any live action.
 */
async function lockActionForSave(
  tx: Tx,
  actionId: number,
  /** Undefined when the form has none: no cycle is read (the form is refused). */
  quarter: Quarter | undefined,
  within?: { partnershipId: number; year: string },
): Promise<LockedAction> {
  if (!Number.isSafeInteger(actionId) || actionId <= 0) throw new NotFoundError('The action');
  const [row] = within
    ? await lockActionWithin(tx, { actionId, quarter: quarter ?? null, ...within })
    : await lockAction(tx, { actionId, quarter: quarter ?? null });
  if (!row) throw new NotFoundError('The action');
  const { id, aimNumber, actionNumber, cycle, existing, ...action } = row;
  return {
    actionId: id,
    ...action,
    existing: existing ?? undefined,
    cycle: cycle
      ? { id: cycle[0], dueOn: cycle[1], closedAt: cycle[2] === null ? null : new Date(cycle[2]) }
      : undefined,
    ...(within ? { place: { aimNumber, actionNumber } } : {}),
  };
}

/**
 * Adds the update for a quarter, or changes it: input { quarter, status, text, evidenceUrl,
 * intent: 'draft' | 'submit' (default submit), version }. Adding when one already exists, or
 * changing with a stale version, is a conflict that carries the update as it now stands.
 *
 * All in one transaction, in this order: the action (with `within`, one of that plan's live
 * actions, else NotFoundError), the permission (ForbiddenError), the form (ValidationError), the
 * cycle's rules and the version. With `within` the result says where the action is shown (`place`),
 * so the form's POST needs no other read of the plan.
 */
export async function saveProgress(
  db: Db,
  actor: Actor,
  actionId: number,
  input: unknown,
  options: { within?: { partnershipId: number; year: string } } = {},
): Promise<SavedProgress & { place?: ActionPlace }> {
  const { form, quarter, problems } = checkProgress(input, undefined, true);
  return db.transaction(async (tx) => {
    const { place, ...action } = await lockActionForSave(tx, actionId, quarter, options.within);
    requireProgressWriter(actor, action);
    if (problems.size || quarter === undefined) {
      throw new ValidationError(listProblems(FORM_ORDER, problems, (f) => f));
    }
    const saved = await saveInTransaction(tx, actor, actionId, quarter, form, { key: (f) => f, action });
    return place ? { ...saved, place } : saved;
  });
}

/**
 * Saves several actions' updates for one quarter from one page, in one transaction: all are
 * saved, or none. Each entry: { actionId, status, text, evidenceUrl, version }; entries with
 * neither text nor status are left alone. ValidationError fields are `${field}-${actionId}`
 * (e.g. "text-12"); a draft in a closed quarter is refused on `intent`.
 */
export async function saveProgressMany(
  db: Db,
  actor: Actor,
  planId: number,
  quarter: Quarter,
  entries: readonly Record<string, unknown>[],
  intent: 'draft' | 'submit',
): Promise<SavedProgress[]> {
  if (!isQuarter(quarter)) throw new ValidationError([{ field: 'quarter', message: 'Select the quarter' }]);
  if (!PROGRESS_INTENTS.includes(intent)) {
    throw new ValidationError([
      { field: 'intent', message: 'Choose whether to save drafts or submit the updates' },
    ]);
  }
  const problems: { field: string; message: string }[] = [];
  const checked: { actionId: number; form: ProgressInput }[] = [];
  for (const entry of entries) {
    const actionId = Number(entry.actionId);
    if (!Number.isInteger(actionId) || actionId <= 0) throw new NotFoundError('The action');
    if (blankToUndefined(entry.text) === undefined && blankToUndefined(entry.status) === undefined) continue;
    const result = checkProgress(entry, intent, false);
    problems.push(...listProblems(FORM_ORDER, result.problems, (f) => `${f}-${actionId}`));
    checked.push({ actionId, form: result.form });
  }
  if (problems.length) throw new ValidationError(problems);
  if (!checked.length) return [];
  return db.transaction(async (tx) => {
    if (intent === 'draft' && (await cycleOf(tx, planId, quarter))?.closedAt) {
      throw new ValidationError([{ field: 'intent', message: CLOSED_QUARTER_MESSAGE }]);
    }
    const saved: SavedProgress[] = [];
    for (const { actionId, form } of checked) {
      saved.push(
        await saveInTransaction(tx, actor, actionId, quarter, form, {
          planId,
          key: (f) => `${f}-${actionId}`,
        }),
      );
    }
    return saved;
  });
}

export async function getProgress(db: Db, actionId: number, quarter: Quarter) {
  const [row] = await readProgressUpdate(db, { actionId, quarter });
  return row;
}

// ——— Reading for the forms ———

export interface UpdateFormData {
  /** This quarter's update, drafts included (only its leads and the coordinator see a draft). */
  update: ProgressRow | undefined;
  /** The latest non-draft update of an earlier quarter, for context. */
  previous: { quarter: Quarter; text: string; status: Status | null; recordedAt: Date | null } | undefined;
  /** The quarter's cycle, when it was opened. */
  cycle: CycleRow | undefined;
}

/** An action's update for a quarter (drafts included), the previous quarter's, and the cycle. */
async function formData(db: Db, actionId: number, planId: number, quarter: Quarter): Promise<UpdateFormData> {
  const p = t.progressUpdates;
  const [[update], previous, cycle] = await Promise.all([
    db
      .select()
      .from(p)
      .where(and(eq(p.actionId, actionId), eq(p.quarter, quarter))),
    previousUpdate(db, actionId, quarter),
    findCycle(db, planId, quarter),
  ]);
  return { update, previous, cycle };
}

/** What the update form shows for an action and quarter. Checks the actor may update the action. */
export async function progressFormData(
  db: Db,
  actor: Actor,
  actionId: number,
  quarter: Quarter,
): Promise<UpdateFormData> {
  const action = await actionLeadership(db, actionId);
  requireProgressWriter(actor, action);
  return formData(db, actionId, action.planId, quarter);
}

/** The latest non-draft update of an earlier quarter, for context. */
async function previousUpdate(
  db: Db,
  actionId: number,
  quarter: Quarter,
): Promise<UpdateFormData['previous']> {
  const p = t.progressUpdates;
  const [previous] = await db
    .select({ quarter: p.quarter, text: p.text, status: p.status, recordedAt: p.recordedAt })
    .from(p)
    .where(and(eq(p.actionId, actionId), isNotNull(p.quarter), lt(p.quarter, quarter), ne(p.state, 'draft')))
    .orderBy(desc(p.quarter))
    .limit(1);
  return previous && { ...previous, quarter: previous.quarter as Quarter };
}

/**
 * The plan's live actions that the actor leads (named as a lead, or their organisation leads),
 * in the plan's order. Only lead officers and coordinators lead actions; the system leads none.
 */
export async function ledActionIds(db: Db, actor: Actor, planId: number): Promise<number[]> {
  const member = actor.member;
  if (!member || (member.role !== 'lead_officer' && member.role !== 'coordinator')) return [];
  const [plan] = await db
    .select({ partnershipId: t.plans.partnershipId })
    .from(t.plans)
    .where(eq(t.plans.id, planId));
  if (!plan) throw new NotFoundError('The plan');
  if (plan.partnershipId !== member.partnershipId) return [];
  const leads = [
    // A coordinator's own list is the actions the plan names them on; their organisation's other
    // actions belong to its lead officers (as requestRecipients asks them).
    member.organisationId !== null && member.role === 'lead_officer'
      ? eq(t.actionParties.organisationId, member.organisationId)
      : undefined,
    member.personId !== null ? eq(t.actionPartyPeople.personId, member.personId) : undefined,
  ].filter((c) => c !== undefined);
  if (!leads.length) return [];
  const rows = await db
    .selectDistinct({
      id: t.actions.id,
      position: t.actions.position,
      aimNumber: t.aims.number,
      aimPosition: t.aims.position,
      sectionPosition: t.sections.position,
    })
    .from(t.actions)
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .innerJoin(
      t.actionParties,
      and(eq(t.actionParties.actionId, t.actions.id), eq(t.actionParties.role, 'lead')),
    )
    .leftJoin(t.actionPartyPeople, eq(t.actionPartyPeople.actionPartyId, t.actionParties.id))
    .where(
      and(
        eq(t.aims.planId, planId),
        isNull(t.actions.archivedAt),
        isNull(t.aims.archivedAt),
        isNull(t.sections.archivedAt),
        leads.length === 1 ? leads[0] : or(...leads),
      ),
    );
  return rows
    .sort(
      (a, b) =>
        a.sectionPosition - b.sectionPosition ||
        a.aimPosition - b.aimPosition ||
        compareAimNumbers(a.aimNumber, b.aimNumber) ||
        a.position - b.position ||
        a.id - b.id,
    )
    .map((r) => r.id);
}

/** The quarter's updates of these actions, drafts included; only actions the actor may update. */
export async function updatesFor(
  db: Db,
  actor: Actor,
  actionIds: readonly number[],
  quarter: Quarter,
): Promise<ProgressRow[]> {
  const leadership = await actionsLeadership(db, actionIds);
  const allowed = [...leadership.values()]
    .filter((a) => actor.system || canUpdateProgress(actor.member, a))
    .map((a) => a.actionId);
  if (!allowed.length) return [];
  return db
    .select()
    .from(t.progressUpdates)
    .where(and(inArray(t.progressUpdates.actionId, allowed), eq(t.progressUpdates.quarter, quarter)))
    .orderBy(asc(t.progressUpdates.actionId));
}

// ——— JAG review ———

export const REVIEWERS_ONLY_MESSAGE =
  'Only the partnership’s coordinator, and the reviewers the coordinator names, can accept or return progress updates';
export const OWN_ACTION_MESSAGE =
  'You lead this action, so its update is reviewed by someone else: the coordinator or another reviewer';

function requireReviewer(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canReviewUpdates(actor.member, partnershipId)) throw new ForbiddenError(REVIEWERS_ONLY_MESSAGE);
}

/** Nobody marks their own homework: a reviewer who leads the action does not review its update. */
function requireReviewerOf(actor: Actor, action: ActionLeadership): void {
  if (actor.system) return;
  requireReviewer(actor, action.partnershipId);
  if (!canReviewUpdate(actor.member, action)) throw new ForbiddenError(OWN_ACTION_MESSAGE);
}

/**
 * What the review page shows for an action and quarter: its update, the previous one and the
 * cycle. For the coordinator, as the update form sees it; a reviewer sees no drafts (a draft has
 * not been sent), and is refused an action they lead.
 */
export async function reviewFormData(
  db: Db,
  actor: Actor,
  actionId: number,
  quarter: Quarter,
): Promise<UpdateFormData> {
  const action = await actionLeadership(db, actionId);
  requireReviewerOf(actor, action);
  const { update, previous, cycle } = await formData(db, actionId, action.planId, quarter);
  const seesDrafts = actor.system || actor.member?.role === 'coordinator';
  return {
    update: update?.state === 'draft' && !seesDrafts ? undefined : update,
    previous,
    cycle,
  };
}

export const REVIEW_DECISIONS = ['accept', 'return'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export const reviewFormSchema = z.object({
  decision: z.enum(REVIEW_DECISIONS, {
    error: 'Select whether to accept the update or return it to its lead',
  }),
  comment: z.preprocess(
    blankToUndefined,
    z.string().trim().max(5000, 'The comment must be 5,000 characters or fewer').optional(),
  ),
  version: z.coerce.number({ error: 'Reload the page and try again' }).int().positive(),
});

const REVIEW_ORDER = ['decision', 'comment', 'version'] as const;

function checkReview(input: unknown): {
  decision: ReviewDecision;
  comment: string | undefined;
  version: number;
} {
  const { values, problems } = parseFields(reviewFormSchema.shape, input, REVIEW_ORDER);
  if (values.decision === 'return' && values.comment === undefined && !problems.has('comment')) {
    problems.set('comment', 'Enter what the lead officer needs to change');
  }
  if (problems.size) throw new ValidationError(listProblems(REVIEW_ORDER, problems, (f) => f));
  return { decision: values.decision!, comment: values.comment, version: values.version! };
}

/**
 * JAG review (the coordinator, or a reviewer who does not lead the action): input
 * { decision: 'accept' | 'return', comment, version }. A return
 * needs a comment and emails it to the people asked for the action, and to whoever recorded the
 * update, with a link to the form. Not on drafts, nor once the quarter is closed.
 */
export async function reviewUpdate(
  deps: { db: Db; mailer: Mailer },
  actor: Actor,
  progressId: number,
  input: Record<string, unknown>,
  links: Links,
): Promise<{ state: 'accepted' | 'returned'; emails: number }> {
  const { db, mailer } = deps;
  const [found] = await db
    .select({ partnershipId: t.progressUpdates.partnershipId, actionId: t.progressUpdates.actionId })
    .from(t.progressUpdates)
    .where(eq(t.progressUpdates.id, progressId));
  if (!found) throw new NotFoundError('The progress update');
  requireReviewer(actor, found.partnershipId);
  requireReviewerOf(actor, await actionLeadership(db, found.actionId));
  const form = checkReview(input);
  const result = await db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(t.progressUpdates)
      .where(eq(t.progressUpdates.id, progressId))
      .for('update');
    if (!current) throw new NotFoundError('The progress update');
    if (form.version !== current.version) throw new ConflictError(current);
    if (current.state === 'draft') {
      throw new ValidationError([
        {
          field: 'decision',
          message:
            'This update is still a draft. It can be accepted or returned once its lead officer submits it.',
        },
      ]);
    }
    const action = await actionLeadership(tx, current.actionId);
    const quarter = current.quarter as Quarter | null;
    const cycle = quarter !== null ? await cycleOf(tx, action.planId, quarter, true) : undefined;
    if (cycle?.closedAt) {
      throw new ValidationError([
        {
          field: 'decision',
          message:
            'This quarter has been closed, so its updates can no longer be accepted or returned. Changes to it are saved as amendments.',
        },
      ]);
    }
    const now = new Date();
    const state = form.decision === 'accept' ? 'accepted' : 'returned';
    const comment = form.comment ?? null;
    const [row] = await tx
      .update(t.progressUpdates)
      .set({
        state,
        reviewedAt: now,
        reviewedBy: actor.userId,
        reviewComment: comment,
        version: current.version + 1,
        updatedAt: now,
      })
      .where(and(eq(t.progressUpdates.id, current.id), eq(t.progressUpdates.version, current.version)))
      .returning();
    if (!row) throw new ConflictError(current);
    const label = quarter !== null ? `${quarterLabel(quarter)} ` : '';
    await recordAudit(tx, actor, {
      partnershipId: action.partnershipId,
      kind: state === 'accepted' ? 'progress.accepted' : 'progress.returned',
      entity: 'progress_update',
      entityId: current.id,
      summary:
        state === 'accepted'
          ? `Accepted the ${label}progress update`
          : `Returned the ${label}progress update to its lead`,
      before: { state: current.state },
      after: { aimId: action.aimId, actionId: current.actionId, quarter, state, comment },
    });
    const ids =
      state === 'returned'
        ? await recordReturnEmails(tx, mailer, actor, current, action, comment!, links)
        : [];
    return { state, ids } as const;
  });
  await mailer.deliver(db, result.ids);
  return { state: result.state, emails: result.ids.length };
}

function link(links: Links, path: string): string {
  return `${links.baseUrl.replace(/\/+$/, '')}${path}`;
}

/** The returned update's email, one to each person asked for the action and to its recorder. */
async function recordReturnEmails(
  tx: Tx,
  mailer: Mailer,
  actor: Actor,
  update: ProgressRow,
  action: ActionContext,
  comment: string,
  links: Links,
): Promise<number[]> {
  const people = new Map((await actionRecipients(tx, update.actionId)).map((r) => [r.userId, r]));
  if (update.recordedBy !== null && !people.has(update.recordedBy)) {
    const [recorder] = (await activeRequestCandidates(tx, action.partnershipId)).filter(
      (m) => m.userId === update.recordedBy,
    );
    if (recorder) people.set(recorder.userId, recorder);
  }
  if (!people.size) return [];

  const [where] = await tx
    .select({
      partnership: t.partnerships.name,
      slug: t.partnerships.slug,
      year: t.plans.year,
      aimNumber: t.aims.number,
      aimTitle: t.aims.title,
      description: t.actions.description,
    })
    .from(t.actions)
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .innerJoin(t.plans, eq(t.plans.id, t.aims.planId))
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.actions.partnershipId))
    .where(eq(t.actions.id, update.actionId));
  if (!where) throw new NotFoundError('The action');
  const siblings = await tx
    .select({ id: t.actions.id })
    .from(t.actions)
    .where(and(eq(t.actions.aimId, action.aimId), isNull(t.actions.archivedAt)))
    .orderBy(asc(t.actions.position), asc(t.actions.id));
  const actionNumber = siblings.findIndex((s) => s.id === update.actionId) + 1;
  const quarter = update.quarter as Quarter | null;
  const period = quarter !== null ? `${quarterLabel(quarter)} ${where.year}` : where.year;
  const form = link(
    links,
    `/p/${where.slug}/plans/${planYearSlug(where.year)}/actions/${update.actionId}/progress${
      quarter !== null ? `?quarter=${quarter}` : ''
    }`,
  );
  const firstLine = where.description.split(/\r?\n/)[0]!.trim();
  const subject = `${where.partnership}: your ${period} update for aim ${where.aimNumber} has been returned`;

  const ids: number[] = [];
  for (const person of people.values()) {
    ids.push(
      await mailer.record(tx, {
        partnershipId: action.partnershipId,
        to: person.email,
        subject,
        body: [
          `Hello ${person.name},`,
          '',
          `${actor.label} has returned the ${period} progress update for aim ${where.aimNumber} ${where.aimTitle}, action ${actionNumber}: ${firstLine}`,
          '',
          'What needs to change:',
          '',
          ...comment.split(/\r?\n/).map((line) => `> ${line}`),
          '',
          'Change the update and submit it again here:',
          form,
          '',
          `You are receiving this because you lead this action in the ${where.partnership} action plan, or recorded its update.`,
        ].join('\n'),
      }),
    );
  }
  return ids;
}
