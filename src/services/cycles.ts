/**
 * The quarterly cycle. Open a quarter with a due date and ask every lead officer for their updates
 * by email; the coordinator's submission board; reminders at offsets from the due date (run by the
 * scheduler, once across all instances); close the quarter into a frozen snapshot for the board;
 * amendments made after closing.
 */
import { and, asc, desc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Db, type Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import {
  DEFAULT_REMINDER_OFFSETS,
  addDays,
  awaitsSubmission,
  dueReminderOffsets,
  isIsoDate,
  londonDate,
  offsetLabel,
  parseReminderOffsets,
  requestRecipients,
  submissionState,
  SUBMISSION_STATES,
  type CyclePhase,
  type RequestCandidate,
  type SubmissionState,
  type UpdateState,
} from '../domain/cycles.js';
import { describeParty } from '../domain/parties.js';
import { canRunQuarterlyCycle } from '../domain/permissions.js';
import {
  planYearDates,
  planYearSlug,
  quarterLabel,
  quarterMonths,
  type Quarter,
} from '../domain/quarters.js';
import type { Status } from '../domain/status.js';
import type { Links } from './accounts.js';
import { systemActor, type Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { cycleById, findCycle, selectCycles } from './cycle-read.js';
import { planChanges, type PlanChange } from './changes.js';
import {
  ConflictError,
  ForbiddenError,
  isUniqueViolation,
  NotFoundError,
  ValidationError,
  validate,
} from './errors.js';
import { cachedRead, type ReadStamp } from './read-cache.js';
import type { Mailer } from './mail.js';
import { loadPlanTree, type PartnershipRow, type PlanTree } from './plan-read.js';
import { activeRequestCandidates, type EmailRecipient } from './progress.js';
import { assertMayRead } from './plan-view.js';

export interface CycleDeps {
  db: Db;
  mailer: Mailer;
}

export interface CycleRow {
  id: number;
  partnershipId: number;
  planId: number;
  quarter: Quarter;
  /** YYYY-MM-DD */
  dueOn: string;
  reminderOffsets: number[];
  openedAt: Date;
  openedBy: string | null;
  closedAt: Date | null;
  closedBy: string | null;
  phase: CyclePhase;
  /** The board date the snapshot was taken for (closed cycles). */
  reportedOn: string | null;
  version: number;
}

export interface BoardRow {
  actionId: number;
  sectionNumber: number;
  aimNumber: string;
  aimTitle: string;
  /** 1-based place of the action in its aim. */
  actionIndex: number;
  description: string;
  /** "CCSU (Helen Whitehead)"; several leads joined with "; ". */
  leads: string;
  leadOrganisationIds: number[];
  /** The people the plan names as its leads (a reviewer does not review an action they lead). */
  leadPersonIds: number[];
  /** Names of the people asked for this action's update (empty: nobody could be asked). */
  recipients: string[];
  state: SubmissionState;
  progressId: number | null;
  status: Status | null;
  submittedAt: Date | null;
  late: boolean;
  requestedAt: Date | null;
  lastRemindedAt: Date | null;
  remindersSent: number;
}

export interface SubmissionBoard {
  cycle: CycleRow | undefined;
  rows: BoardRow[];
  /** Counts over all the plan's live actions (before the filter). */
  counts: Record<SubmissionState, number>;
  total: number;
  /** Lead organisations, for the filter. */
  organisations: { id: number; name: string }[];
}

export interface QuarterSnapshot {
  cycleId: number;
  quarter: Quarter;
  planYear: string;
  reportedOn: string;
  takenAt: Date;
  takenBy: string | null;
  /** The plan exactly as it stood at closing (dates revived). */
  tree: PlanTree;
  board: BoardRow[];
  /** The changes to the plan reported with this quarter (since the previous closed quarter). */
  changes: PlanChange[];
}

export interface Amendment {
  actionId: number;
  aimNumber: string;
  actionIndex: number;
  amendedAt: Date;
  by: string | null;
  before: { status: Status | null; text: string } | null;
  after: { status: Status | null; text: string };
}

/**
 * Held (for the length of one transaction) by the instance sending reminders, so that with several
 * app instances on one database only one works at a time. Any number: the same in every instance.
 */
export const REMINDER_LOCK = 7_245_002;

// ——— reading what a cycle needs ———

interface PlanInfo {
  id: number;
  partnershipId: number;
  year: string;
  startsOn: string;
  partnership: PartnershipRow;
}

async function planInfo(db: Db | Tx, planId: number): Promise<PlanInfo> {
  const [row] = await db
    .select({
      id: t.plans.id,
      partnershipId: t.plans.partnershipId,
      year: t.plans.year,
      startsOn: t.plans.startsOn,
      partnership: {
        id: t.partnerships.id,
        slug: t.partnerships.slug,
        name: t.partnerships.name,
        area: t.partnerships.area,
        principlesIntro: t.partnerships.principlesIntro,
      },
    })
    .from(t.plans)
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.plans.partnershipId))
    .where(eq(t.plans.id, planId));
  if (!row) throw new NotFoundError('The plan');
  return row;
}

/** A live action of a plan (live section, aim and action), in plan order, with who leads it. */
interface LiveAction {
  id: number;
  aimId: number;
  sectionNumber: number;
  aimNumber: string;
  aimTitle: string;
  /** 1-based place among the aim's live actions. */
  index: number;
  description: string;
  leads: { organisationId: number; organisation: string; officers: string[] }[];
  organisationIds: number[];
  personIds: number[];
}

async function liveActions(db: Db | Tx, planId: number): Promise<LiveAction[]> {
  const rows = await db
    .select({
      id: t.actions.id,
      aimId: t.aims.id,
      sectionNumber: t.sections.number,
      aimNumber: t.aims.number,
      aimTitle: t.aims.title,
      description: t.actions.description,
    })
    .from(t.actions)
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .where(
      and(
        eq(t.aims.planId, planId),
        isNull(t.sections.archivedAt),
        isNull(t.aims.archivedAt),
        isNull(t.actions.archivedAt),
      ),
    )
    .orderBy(
      asc(t.sections.position),
      asc(t.sections.id),
      asc(t.aims.position),
      asc(t.aims.id),
      asc(t.actions.position),
      asc(t.actions.id),
    );
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  // One after the other: inside a transaction there is one connection, which takes one query at a time.
  const parties = await db
    .select({
      id: t.actionParties.id,
      actionId: t.actionParties.actionId,
      organisationId: t.actionParties.organisationId,
      organisation: t.organisations.name,
      officers: t.actionParties.officers,
    })
    .from(t.actionParties)
    .innerJoin(t.organisations, eq(t.organisations.id, t.actionParties.organisationId))
    .where(and(inArray(t.actionParties.actionId, ids), eq(t.actionParties.role, 'lead')))
    .orderBy(asc(t.actionParties.position), asc(t.actionParties.id));
  const people = await db
    .select({ actionId: t.actionParties.actionId, personId: t.actionPartyPeople.personId })
    .from(t.actionPartyPeople)
    .innerJoin(t.actionParties, eq(t.actionParties.id, t.actionPartyPeople.actionPartyId))
    .where(and(inArray(t.actionParties.actionId, ids), eq(t.actionParties.role, 'lead')));
  const indexInAim = new Map<number, number>();
  return rows.map((row) => {
    const index = (indexInAim.get(row.aimId) ?? 0) + 1;
    indexInAim.set(row.aimId, index);
    const leads = parties.filter((p) => p.actionId === row.id);
    return {
      ...row,
      index,
      leads: leads.map((p) => ({
        organisationId: p.organisationId,
        organisation: p.organisation,
        officers: p.officers,
      })),
      organisationIds: [...new Set(leads.map((p) => p.organisationId))],
      personIds: [...new Set(people.filter((p) => p.actionId === row.id).map((p) => p.personId))],
    };
  });
}

/** The partnership's members who can be asked: active membership of an active account. */
type ActiveMember = RequestCandidate & EmailRecipient;
const activeMembers = activeRequestCandidates;

/** The quarter's updates of these actions, drafts included. */
async function quarterUpdates(db: Db | Tx, actionIds: readonly number[], quarter: Quarter) {
  if (!actionIds.length) return new Map<number, typeof t.progressUpdates.$inferSelect>();
  const rows = await db
    .select()
    .from(t.progressUpdates)
    .where(and(inArray(t.progressUpdates.actionId, [...actionIds]), eq(t.progressUpdates.quarter, quarter)));
  return new Map(rows.map((r) => [r.actionId, r]));
}

// ——— permission ———

function assertMayRun(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canRunQuarterlyCycle(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can open, chase and close a quarter');
  }
}

// ——— words ———

/** "14 April 2025". */
export function formatDay(isoDate: string): string {
  return new Date(`${isoDate}T12:00:00Z`).toLocaleDateString('en-GB', {
    timeZone: 'Europe/London',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  });
}

function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function base(links: Links): string {
  return links.baseUrl.replace(/\/+$/, '');
}

/** The update form of one action for a quarter. */
export function updateFormLink(
  links: Links,
  plan: { slug: string; year: string },
  actionId: number,
  quarter: Quarter,
): string {
  return `${base(links)}/p/${plan.slug}/plans/${planYearSlug(plan.year)}/actions/${actionId}/progress?quarter=${quarter}`;
}

/** The one page where a lead officer updates all their actions for a quarter. */
export function quarterUpdatesLink(
  links: Links,
  plan: { slug: string; year: string },
  quarter: Quarter,
): string {
  return `${base(links)}/p/${plan.slug}/plans/${planYearSlug(plan.year)}/quarters/${quarter}/updates`;
}

/** The actions of one email, grouped by aim, each with the link to its form. */
function actionList(
  actions: readonly LiveAction[],
  links: Links,
  plan: { slug: string; year: string },
  quarter: Quarter,
): string[] {
  const lines: string[] = [];
  let aimId: number | undefined;
  for (const action of actions) {
    if (action.aimId !== aimId) {
      aimId = action.aimId;
      lines.push('', `Aim ${action.aimNumber}: ${action.aimTitle}`);
    }
    lines.push(
      `  Action ${action.index}: ${firstLine(action.description)}`,
      `  ${updateFormLink(links, plan, action.id, quarter)}`,
    );
  }
  return lines;
}

interface EmailContext {
  partnershipId: number;
  partnershipName: string;
  slug: string;
  year: string;
  quarter: Quarter;
  dueOn: string;
  reminderOffsets: readonly number[];
}

function requestEmail(
  ctx: EmailContext,
  member: ActiveMember,
  actions: readonly LiveAction[],
  links: Links,
): { to: string; subject: string; body: string } {
  const q = quarterLabel(ctx.quarter);
  const due = formatDay(ctx.dueOn);
  const plan = { slug: ctx.slug, year: ctx.year };
  const reminders = ctx.reminderOffsets.length
    ? [
        '',
        `Reminders go to anyone who has not submitted: ${joinWords(ctx.reminderOffsets.map(offsetLabel))}.`,
      ]
    : [];
  return {
    to: member.email,
    subject: `${ctx.partnershipName}: please send your ${q} ${ctx.year} progress updates by ${due}`,
    body: [
      `Hello ${member.name},`,
      '',
      `${ctx.partnershipName} has opened ${q} ${ctx.year} (${quarterMonths(ctx.quarter)}) for progress updates.`,
      `Please send an update on ${actions.length === 1 ? 'the action' : `each of the ${actions.length} actions`} you lead by ${due}: its status and the progress made.`,
      ...actionList(actions, links, plan, ctx.quarter),
      '',
      'Or update them all on one page:',
      quarterUpdatesLink(links, plan, ctx.quarter),
      '',
      'You can save a draft and submit it later. If you are not signed in, the link asks you to sign in first.',
      ...reminders,
      '',
      `${ctx.partnershipName} action plan`,
    ].join('\n'),
  };
}

function reminderEmail(
  ctx: EmailContext,
  offsetDays: number,
  member: ActiveMember,
  actions: readonly LiveAction[],
  links: Links,
): { to: string; subject: string; body: string } {
  const q = quarterLabel(ctx.quarter);
  const due = formatDay(ctx.dueOn);
  const plan = { slug: ctx.slug, year: ctx.year };
  const subject =
    offsetDays > 0
      ? `${ctx.partnershipName}: reminder — your ${q} ${ctx.year} progress updates were due ${due}`
      : offsetDays === 0
        ? `${ctx.partnershipName}: reminder — your ${q} ${ctx.year} progress updates are due today, ${due}`
        : `${ctx.partnershipName}: reminder — your ${q} ${ctx.year} progress updates are due by ${due}`;
  const count = actions.length === 1 ? 'this action' : `these ${actions.length} actions`;
  const lead =
    offsetDays > 0
      ? `The ${q} ${ctx.year} progress updates were due on ${due}. We have not yet had an update on ${count} you lead:`
      : `The ${q} ${ctx.year} progress updates are due by ${due}. We have not yet had an update on ${count} you lead:`;
  return {
    to: member.email,
    subject,
    body: [
      `Hello ${member.name},`,
      '',
      lead,
      ...actionList(actions, links, plan, ctx.quarter),
      '',
      'Or update them all on one page:',
      quarterUpdatesLink(links, plan, ctx.quarter),
      '',
      'A draft is not sent to the partnership until you submit it. If you have already submitted, thank you: you can ignore this email.',
      '',
      `${ctx.partnershipName} action plan`,
    ].join('\n'),
  };
}

// ——— asking for updates ———

/**
 * Asks for the updates of these actions: a cycle_requests row for each action with someone to ask
 * (an action asked already is left alone), and one email per person listing their newly asked
 * actions. Returns the email ids for delivery after the commit.
 */
async function askForUpdates(
  tx: Tx,
  deps: CycleDeps,
  ctx: EmailContext & { cycleId: number },
  actions: readonly LiveAction[],
  links: Links,
  now: Date,
): Promise<{ requested: number; notRequested: number; emailIds: number[] }> {
  const members = await activeMembers(tx, ctx.partnershipId);
  const recipients = new Map<number, number[]>();
  for (const action of actions) {
    const ids = requestRecipients(action, members);
    if (ids.length) recipients.set(action.id, ids);
  }
  const toAsk = actions.filter((a) => recipients.has(a.id));
  const inserted = toAsk.length
    ? await tx
        .insert(t.cycleRequests)
        .values(
          toAsk.map((a) => ({
            partnershipId: ctx.partnershipId,
            cycleId: ctx.cycleId,
            actionId: a.id,
            requestedAt: now,
          })),
        )
        .onConflictDoNothing({ target: [t.cycleRequests.cycleId, t.cycleRequests.actionId] })
        .returning({ actionId: t.cycleRequests.actionId })
    : [];
  const asked = new Set(inserted.map((r) => r.actionId));
  const emailIds: number[] = [];
  for (const member of members) {
    const theirs = actions.filter((a) => asked.has(a.id) && recipients.get(a.id)?.includes(member.userId));
    if (!theirs.length) continue;
    emailIds.push(
      await deps.mailer.record(tx, {
        partnershipId: ctx.partnershipId,
        ...requestEmail(ctx, member, theirs, links),
      }),
    );
  }
  return { requested: asked.size, notRequested: actions.length - toAsk.length, emailIds };
}

// ——— the service ———

/** The plan's cycles, Q1 to Q4 where opened. Members of the partnership. */
export async function listCycles(
  db: Db,
  actor: Actor,
  planId: number,
  stamp?: ReadStamp,
): Promise<CycleRow[]> {
  const plan = await cachedRead(db, stamp, `plan-info:${planId}`, () => planInfo(db, planId));
  assertMayRead(actor, plan.partnershipId);
  return cachedRead(db, stamp, `cycles:${planId}`, () =>
    selectCycles(db, and(eq(t.quarterCycles.planId, planId))),
  );
}

export async function getCycle(
  db: Db,
  actor: Actor,
  planId: number,
  quarter: Quarter,
): Promise<CycleRow | undefined> {
  const plan = await planInfo(db, planId);
  assertMayRead(actor, plan.partnershipId);
  return findCycle(db, planId, quarter);
}

const DUE_ON_MESSAGE = 'Enter the due date, for example 14 4 2025';
const OFFSETS_MESSAGE = 'Enter reminder days as whole numbers from -60 to 60, separated by commas';

const openSchema = z.object({
  quarter: z.coerce
    .number({ error: 'Select the quarter' })
    .int('Select the quarter')
    .refine((q) => q >= 1 && q <= 4, 'Select the quarter'),
  dueOn: z.string({ error: DUE_ON_MESSAGE }).trim().refine(isIsoDate, DUE_ON_MESSAGE),
  reminderOffsets: z
    .preprocess(
      (v) => (Array.isArray(v) ? v.join(', ') : v == null ? '' : v),
      z.string({ error: OFFSETS_MESSAGE }).trim(),
    )
    .transform((text, ctx) => {
      if (!text) return [...DEFAULT_REMINDER_OFFSETS];
      const offsets = parseReminderOffsets(text);
      if (!offsets) {
        ctx.addIssue({ code: 'custom', message: OFFSETS_MESSAGE });
        return z.NEVER;
      }
      return offsets;
    }),
});

/** First and last day of a quarter of a plan year. */
function quarterDates(year: string, quarter: Quarter): { startsOn: string; endsOn: string } {
  const { startsOn } = planYearDates(year);
  const first = new Date(`${startsOn}T00:00:00Z`);
  first.setUTCMonth(first.getUTCMonth() + (quarter - 1) * 3);
  const next = new Date(first);
  next.setUTCMonth(next.getUTCMonth() + 3);
  return { startsOn: first.toISOString().slice(0, 10), endsOn: addDays(next.toISOString().slice(0, 10), -1) };
}

/**
 * A due date may fall in the quarter or after it, up to a year after the quarter ends or after
 * today, whichever is later (a late-running round is fine; a mistyped year is not).
 */
const DUE_WITHIN_DAYS = 366;

/**
 * Opens a quarter (coordinator). input: { quarter, dueOn: 'YYYY-MM-DD', reminderOffsets?: '-7, 1, 7' }.
 * ValidationError fields: quarter (also when it was opened already), dueOn, reminderOffsets.
 * Emails each person asked once, listing their actions with a link to each update form.
 * `now` is when it was opened (tests drive the clock).
 */
export async function openQuarter(
  deps: CycleDeps,
  actor: Actor,
  planId: number,
  input: Record<string, unknown>,
  links: Links,
  now: Date = new Date(),
): Promise<{ cycle: CycleRow; requested: number; notRequested: number; emails: number }> {
  const plan = await planInfo(deps.db, planId);
  assertMayRun(actor, plan.partnershipId);
  const form = validate(openSchema, input);
  const quarter = form.quarter as Quarter;
  const q = quarterLabel(quarter);
  const { startsOn, endsOn } = quarterDates(plan.year, quarter);
  if (form.dueOn < startsOn) {
    throw new ValidationError([
      {
        field: 'dueOn',
        message: `The due date must be on or after ${formatDay(startsOn)}, when ${q} starts`,
      },
    ]);
  }
  const today = londonDate(now);
  const latest = addDays(endsOn > today ? endsOn : today, DUE_WITHIN_DAYS);
  if (form.dueOn > latest) {
    throw new ValidationError([
      { field: 'dueOn', message: `The due date must be on or before ${formatDay(latest)}` },
    ]);
  }
  const alreadyOpened = () =>
    new ValidationError([{ field: 'quarter', message: `${q} has already been opened` }]);

  const outcome = await deps.db
    .transaction(async (tx) => {
      const [existing] = await tx
        .select({ id: t.quarterCycles.id })
        .from(t.quarterCycles)
        .where(and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)));
      if (existing) throw alreadyOpened();
      const [row] = await tx
        .insert(t.quarterCycles)
        .values({
          partnershipId: plan.partnershipId,
          planId,
          quarter,
          dueOn: form.dueOn,
          reminderOffsets: form.reminderOffsets,
          openedAt: now,
          openedBy: actor.userId,
        })
        .returning({ id: t.quarterCycles.id });
      const cycleId = row!.id;
      const actions = await liveActions(tx, planId);
      const asked = await askForUpdates(
        tx,
        deps,
        {
          cycleId,
          partnershipId: plan.partnershipId,
          partnershipName: plan.partnership.name,
          slug: plan.partnership.slug,
          year: plan.year,
          quarter,
          dueOn: form.dueOn,
          reminderOffsets: form.reminderOffsets,
        },
        actions,
        links,
        now,
      );
      await recordAudit(tx, actor, {
        partnershipId: plan.partnershipId,
        kind: 'cycle.opened',
        entity: 'quarter_cycle',
        entityId: cycleId,
        summary: `Opened ${q} ${plan.year} for progress updates, due ${formatDay(form.dueOn)}`,
        after: {
          planId,
          quarter,
          dueOn: form.dueOn,
          reminderOffsets: form.reminderOffsets,
          requested: asked.requested,
          notRequested: asked.notRequested,
          emails: asked.emailIds.length,
        },
      });
      return { cycle: await cycleById(tx, cycleId), ...asked };
    })
    .catch((error: unknown) => {
      // Two coordinators opening the same quarter at once: the unique index refuses the second.
      if (isUniqueViolation(error)) throw alreadyOpened();
      throw error;
    });
  await deps.mailer.deliver(deps.db, outcome.emailIds);
  return {
    cycle: outcome.cycle,
    requested: outcome.requested,
    notRequested: outcome.notRequested,
    emails: outcome.emailIds.length,
  };
}

function closedError(cycle: { quarter: number }, year: string): ValidationError {
  return new ValidationError([
    {
      field: 'quarter',
      message: `${quarterLabel(cycle.quarter as Quarter)} ${year} has been closed`,
    },
  ]);
}

/** Asks for the actions of an open cycle not asked yet (new actions, new accounts). Coordinator. */
export async function requestOutstanding(
  deps: CycleDeps,
  actor: Actor,
  cycleId: number,
  links: Links,
  now: Date = new Date(),
): Promise<{ requested: number; emails: number }> {
  const found = await cycleById(deps.db, cycleId);
  const plan = await planInfo(deps.db, found.planId);
  assertMayRun(actor, plan.partnershipId);
  const outcome = await deps.db.transaction(async (tx) => {
    // One at a time per cycle, and never after it closed.
    const [cycle] = await tx
      .select()
      .from(t.quarterCycles)
      .where(eq(t.quarterCycles.id, cycleId))
      .for('update');
    if (!cycle) throw new NotFoundError('The quarter');
    if (cycle.closedAt) throw closedError(cycle, plan.year);
    const quarter = cycle.quarter as Quarter;
    const askedAlready = await tx
      .select({ actionId: t.cycleRequests.actionId })
      .from(t.cycleRequests)
      .where(eq(t.cycleRequests.cycleId, cycleId));
    const done = new Set(askedAlready.map((r) => r.actionId));
    const actions = (await liveActions(tx, cycle.planId)).filter((a) => !done.has(a.id));
    const asked = await askForUpdates(
      tx,
      deps,
      {
        cycleId,
        partnershipId: plan.partnershipId,
        partnershipName: plan.partnership.name,
        slug: plan.partnership.slug,
        year: plan.year,
        quarter,
        dueOn: cycle.dueOn,
        reminderOffsets: cycle.reminderOffsets,
      },
      actions,
      links,
      now,
    );
    await recordAudit(tx, actor, {
      partnershipId: plan.partnershipId,
      kind: 'cycle.requested',
      entity: 'quarter_cycle',
      entityId: cycleId,
      summary: `Asked for ${asked.requested} more ${quarterLabel(quarter)} ${plan.year} update${asked.requested === 1 ? '' : 's'}`,
      after: { requested: asked.requested, notRequested: asked.notRequested, emails: asked.emailIds.length },
    });
    return asked;
  });
  await deps.mailer.deliver(deps.db, outcome.emailIds);
  return { requested: outcome.requested, emails: outcome.emailIds.length };
}

function emptyCounts(): Record<SubmissionState, number> {
  return Object.fromEntries(SUBMISSION_STATES.map((s) => [s, 0])) as Record<SubmissionState, number>;
}

/** Every live action's row of the board, in plan order. */
async function boardRows(
  db: Db | Tx,
  plan: PlanInfo,
  quarter: Quarter,
  cycle: CycleRow | undefined,
): Promise<BoardRow[]> {
  // Sequential: `db` may be a transaction (closing), whose one connection takes one query at a time.
  const actions = await liveActions(db, plan.id);
  const members = await activeMembers(db, plan.partnershipId);
  const updates = await quarterUpdates(
    db,
    actions.map((a) => a.id),
    quarter,
  );
  const requests = cycle
    ? await db.select().from(t.cycleRequests).where(eq(t.cycleRequests.cycleId, cycle.id))
    : [];
  const requestByAction = new Map(requests.map((r) => [r.actionId, r]));
  const names = new Map(members.map((m) => [m.userId, m.name]));
  return actions.map((action) => {
    const request = requestByAction.get(action.id);
    const update = updates.get(action.id);
    return {
      actionId: action.id,
      sectionNumber: action.sectionNumber,
      aimNumber: action.aimNumber,
      aimTitle: action.aimTitle,
      actionIndex: action.index,
      description: action.description,
      leads: action.leads.map(describeParty).join('; '),
      leadOrganisationIds: action.organisationIds,
      leadPersonIds: action.personIds,
      recipients: requestRecipients(action, members).map((id) => names.get(id) ?? ''),
      state: submissionState(request !== undefined, update && { state: update.state as UpdateState }),
      progressId: update?.id ?? null,
      status: update?.status ?? null,
      submittedAt: update?.submittedAt ?? null,
      late: update?.late ?? false,
      requestedAt: request?.requestedAt ?? null,
      lastRemindedAt: request?.lastRemindedAt ?? null,
      remindersSent: request?.remindersSent ?? 0,
    };
  });
}

export async function submissionBoard(
  db: Db,
  actor: Actor,
  planId: number,
  quarter: Quarter,
  filter: { organisationId?: number | undefined; state?: SubmissionState | undefined } = {},
): Promise<SubmissionBoard> {
  const plan = await planInfo(db, planId);
  assertMayRead(actor, plan.partnershipId);
  const [cycle] = await selectCycles(
    db,
    and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)),
  );
  const all = await boardRows(db, plan, quarter, cycle);
  const counts = emptyCounts();
  for (const row of all) counts[row.state] += 1;
  const organisations = await organisationNames(
    db,
    all.flatMap((r) => r.leadOrganisationIds),
  );
  const rows = all.filter(
    (row) =>
      (filter.organisationId === undefined || row.leadOrganisationIds.includes(filter.organisationId)) &&
      (filter.state === undefined || row.state === filter.state),
  );
  return {
    cycle,
    rows,
    counts,
    total: all.length,
    organisations: [...organisations]
      .map(([id, name]) => ({ id, name }))
      .sort((a, b) => a.name.localeCompare(b.name, 'en-GB')),
  };
}

async function organisationNames(db: Db | Tx, ids: readonly number[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await db
    .select({ id: t.organisations.id, name: t.organisations.name })
    .from(t.organisations)
    .where(inArray(t.organisations.id, unique));
  return new Map(rows.map((r) => [r.id, r.name]));
}

const closeSchema = z.object({
  reportedOn: z
    .string({ error: 'Enter the date of the board meeting' })
    .trim()
    .refine(isIsoDate, 'Enter the date of the board meeting'),
  version: z.coerce.number({ error: 'The form is out of date: reload the page' }).int().positive(),
});

/** What a snapshot row holds, as stored (dates as ISO strings once read back). */
interface SnapshotContent {
  quarter: Quarter;
  planYear: string;
  tree: PlanTree;
  board: BoardRow[];
  changes: PlanChange[];
}

/**
 * Closes the cycle and freezes its snapshot (coordinator). input: { reportedOn: 'YYYY-MM-DD', version }.
 * ValidationError reportedOn for a bad date or a quarter closed already; ConflictError for a stale version.
 */
export async function closeQuarter(
  db: Db,
  actor: Actor,
  cycleId: number,
  input: Record<string, unknown>,
  now: Date = new Date(),
): Promise<CycleRow> {
  const found = await cycleById(db, cycleId);
  const plan = await planInfo(db, found.planId);
  assertMayRun(actor, plan.partnershipId);
  const form = validate(closeSchema, input);
  const q = quarterLabel(found.quarter);
  const { startsOn } = quarterDates(plan.year, found.quarter);
  if (form.reportedOn < startsOn) {
    throw new ValidationError([
      {
        field: 'reportedOn',
        message: `The board meeting must be on or after ${formatDay(startsOn)}, when ${q} starts`,
      },
    ]);
  }
  return db.transaction(async (tx) => {
    const [cycle] = await tx
      .select()
      .from(t.quarterCycles)
      .where(eq(t.quarterCycles.id, cycleId))
      .for('update');
    if (!cycle) throw new NotFoundError('The quarter');
    const current = await cycleById(tx, cycleId);
    if (cycle.closedAt) {
      throw new ValidationError([
        { field: 'reportedOn', message: `${q} ${plan.year} has already been closed` },
      ]);
    }
    if (form.version !== cycle.version) throw new ConflictError(current);

    const [previous] = await tx
      .select({ closedAt: t.quarterCycles.closedAt })
      .from(t.quarterCycles)
      .where(
        and(
          eq(t.quarterCycles.planId, cycle.planId),
          isNotNull(t.quarterCycles.closedAt),
          ne(t.quarterCycles.id, cycleId),
        ),
      )
      .orderBy(desc(t.quarterCycles.closedAt))
      .limit(1);
    const since = previous?.closedAt ?? undefined;
    const from = since ? londonDate(since) : plan.startsOn;
    const tree = await loadPlanTree(tx, plan.partnership, plan.year);
    const board = await boardRows(tx, plan, found.quarter, current);
    // Since the previous report: on the day it closed, only what came after it (as the changes
    // page groups them by the moment each quarter closed).
    const changes = (await planChanges(tx, actor, plan.id, { from, to: londonDate(now) })).filter(
      (c) => !since || (c.at ? c.at.getTime() > since.getTime() : c.on > from),
    );
    const content: SnapshotContent = { quarter: found.quarter, planYear: plan.year, tree, board, changes };
    await tx.insert(t.quarterSnapshots).values({
      partnershipId: plan.partnershipId,
      cycleId,
      reportedOn: form.reportedOn,
      takenAt: now,
      takenBy: actor.userId,
      content,
    });
    const [closed] = await tx
      .update(t.quarterCycles)
      .set({ closedAt: now, closedBy: actor.userId, version: cycle.version + 1, updatedAt: new Date() })
      .where(and(eq(t.quarterCycles.id, cycleId), eq(t.quarterCycles.version, cycle.version)))
      .returning({ id: t.quarterCycles.id });
    if (!closed) throw new ConflictError(current);
    const counts = emptyCounts();
    for (const row of board) counts[row.state] += 1;
    await recordAudit(tx, actor, {
      partnershipId: plan.partnershipId,
      kind: 'cycle.closed',
      entity: 'quarter_cycle',
      entityId: cycleId,
      summary: `Closed ${q} ${plan.year}, as reported to the board on ${formatDay(form.reportedOn)}`,
      after: { reportedOn: form.reportedOn, counts, changes: changes.length },
    });
    return cycleById(tx, cycleId);
  });
}

// ——— the snapshot ———

function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(value as string);
}

function reviveTree(tree: PlanTree): PlanTree {
  return {
    ...tree,
    plan: { ...tree.plan, createdAt: toDate(tree.plan.createdAt)!, updatedAt: toDate(tree.plan.updatedAt)! },
    sections: tree.sections.map((section) => ({
      ...section,
      archivedAt: toDate(section.archivedAt),
      aims: section.aims.map((aim) => ({
        ...aim,
        archivedAt: toDate(aim.archivedAt),
        actions: aim.actions.map((action) => ({
          ...action,
          archivedAt: toDate(action.archivedAt),
          progress: action.progress.map((p) => ({
            ...p,
            recordedAt: toDate(p.recordedAt),
            submittedAt: toDate(p.submittedAt),
            amendedAt: toDate(p.amendedAt),
          })),
        })),
      })),
    })),
  };
}

function reviveBoardRow(row: BoardRow): BoardRow {
  return {
    ...row,
    submittedAt: toDate(row.submittedAt),
    requestedAt: toDate(row.requestedAt),
    lastRemindedAt: toDate(row.lastRemindedAt),
  };
}

/** The snapshot of a closed quarter, exactly as frozen. Members. */
export async function getSnapshot(
  db: Db,
  actor: Actor,
  planId: number,
  quarter: Quarter,
): Promise<QuarterSnapshot | undefined> {
  const plan = await planInfo(db, planId);
  assertMayRead(actor, plan.partnershipId);
  const [row] = await db
    .select({
      cycleId: t.quarterSnapshots.cycleId,
      reportedOn: t.quarterSnapshots.reportedOn,
      takenAt: t.quarterSnapshots.takenAt,
      takenBy: t.users.name,
      content: t.quarterSnapshots.content,
    })
    .from(t.quarterSnapshots)
    .innerJoin(t.quarterCycles, eq(t.quarterCycles.id, t.quarterSnapshots.cycleId))
    .leftJoin(t.users, eq(t.users.id, t.quarterSnapshots.takenBy))
    .where(and(eq(t.quarterCycles.planId, planId), eq(t.quarterCycles.quarter, quarter)));
  if (!row) return undefined;
  const content = row.content as SnapshotContent;
  return {
    cycleId: row.cycleId,
    quarter,
    planYear: content.planYear,
    reportedOn: row.reportedOn,
    takenAt: row.takenAt,
    takenBy: row.takenBy,
    tree: reviveTree(content.tree),
    board: content.board.map(reviveBoardRow),
    changes: content.changes.map((c) => (c.at === undefined ? c : { ...c, at: toDate(c.at)! })),
  };
}

/** Updates of a closed quarter changed after closing, against what the snapshot holds. Members. */
export async function listAmendments(db: Db, actor: Actor, cycleId: number): Promise<Amendment[]> {
  const cycle = await cycleById(db, cycleId);
  assertMayRead(actor, cycle.partnershipId);
  if (cycle.phase !== 'closed') return [];
  const snapshot = await getSnapshot(db, actor, cycle.planId, cycle.quarter);
  if (!snapshot) return [];
  const amended = await db
    .select({
      actionId: t.progressUpdates.actionId,
      amendedAt: t.progressUpdates.amendedAt,
      status: t.progressUpdates.status,
      text: t.progressUpdates.text,
      by: t.users.name,
    })
    .from(t.progressUpdates)
    .innerJoin(t.actions, eq(t.actions.id, t.progressUpdates.actionId))
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .leftJoin(t.users, eq(t.users.id, t.progressUpdates.recordedBy))
    .where(
      and(
        eq(t.aims.planId, cycle.planId),
        eq(t.progressUpdates.quarter, cycle.quarter),
        isNotNull(t.progressUpdates.amendedAt),
        ne(t.progressUpdates.state, 'draft'),
      ),
    )
    .orderBy(asc(t.progressUpdates.amendedAt), asc(t.progressUpdates.id));
  if (!amended.length) return [];
  const shown = new Map(snapshot.board.map((r) => [r.actionId, r]));
  const before = new Map<number, { status: Status | null; text: string }>();
  for (const aim of snapshot.tree.sections.flatMap((s) => s.aims)) {
    for (const action of aim.actions) {
      const p = action.progress.find((x) => x.quarter === cycle.quarter);
      if (p) before.set(action.id, { status: p.status, text: p.text });
    }
  }
  // Actions added after closing are not in the snapshot: number them as the plan stands now.
  const missing = amended.some((a) => !shown.has(a.actionId));
  const live = missing ? new Map((await liveActions(db, cycle.planId)).map((a) => [a.id, a])) : new Map();
  return amended.map((a) => {
    const place = shown.get(a.actionId);
    const now = live.get(a.actionId) as LiveAction | undefined;
    return {
      actionId: a.actionId,
      aimNumber: place?.aimNumber ?? now?.aimNumber ?? '',
      actionIndex: place?.actionIndex ?? now?.index ?? 0,
      amendedAt: a.amendedAt!,
      by: a.by,
      before: before.get(a.actionId) ?? null,
      after: { status: a.status, text: a.text },
    };
  });
}

// ——— reminders ———

/**
 * The scheduler's job: sends every reminder round that is due, across all partnerships, to those
 * who have not submitted. Safe with several instances: one runs it at a time (advisory lock) and a
 * round is claimed by inserting its cycle_reminders row, so it never goes twice. Rounds missed
 * while no instance ran are recorded as passed over; only the latest due round is sent.
 */
export async function sendDueReminders(
  deps: CycleDeps,
  now: Date,
  links: Links,
): Promise<{ ran: boolean; rounds: { cycleId: number; offsetDays: number; recipients: number }[] }> {
  const outcome = await deps.db.transaction(async (tx) => {
    const [lock] = await queryRows<{ locked: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${REMINDER_LOCK}) as locked`,
    );
    if (!lock?.locked) return { ran: false, rounds: [], emailIds: [] as number[] };
    const open = await tx
      .select({
        cycle: t.quarterCycles,
        year: t.plans.year,
        slug: t.partnerships.slug,
        partnershipName: t.partnerships.name,
      })
      .from(t.quarterCycles)
      .innerJoin(t.plans, eq(t.plans.id, t.quarterCycles.planId))
      .innerJoin(t.partnerships, eq(t.partnerships.id, t.quarterCycles.partnershipId))
      .where(isNull(t.quarterCycles.closedAt))
      .orderBy(asc(t.quarterCycles.id));
    const sent = open.length
      ? await tx
          .select({ cycleId: t.cycleReminders.cycleId, offsetDays: t.cycleReminders.offsetDays })
          .from(t.cycleReminders)
          .where(
            inArray(
              t.cycleReminders.cycleId,
              open.map((o) => o.cycle.id),
            ),
          )
      : [];
    const rounds: { cycleId: number; offsetDays: number; recipients: number }[] = [];
    const emailIds: number[] = [];
    for (const { cycle, year, slug, partnershipName } of open) {
      const due = dueReminderOffsets(
        cycle,
        sent.filter((s) => s.cycleId === cycle.id).map((s) => s.offsetDays),
        now,
      );
      const latest = due.at(-1);
      if (latest === undefined) continue;
      const claimed = await tx
        .insert(t.cycleReminders)
        .values(
          due.map((offsetDays) => ({
            partnershipId: cycle.partnershipId,
            cycleId: cycle.id,
            offsetDays,
            sentAt: now,
            recipients: 0,
          })),
        )
        .onConflictDoNothing()
        .returning({ offsetDays: t.cycleReminders.offsetDays });
      const mine = new Set(claimed.map((c) => c.offsetDays));
      const passedOver = due.filter((o) => o !== latest && mine.has(o));
      for (const offsetDays of passedOver) rounds.push({ cycleId: cycle.id, offsetDays, recipients: 0 });
      let recipients = 0;
      if (mine.has(latest)) {
        const ctx: EmailContext = {
          partnershipId: cycle.partnershipId,
          partnershipName,
          slug,
          year,
          quarter: cycle.quarter as Quarter,
          dueOn: cycle.dueOn,
          reminderOffsets: cycle.reminderOffsets,
        };
        const ids = await remind(tx, deps, ctx, cycle, latest, links, now);
        recipients = ids.length;
        emailIds.push(...ids);
        if (recipients) {
          await tx
            .update(t.cycleReminders)
            .set({ recipients })
            .where(and(eq(t.cycleReminders.cycleId, cycle.id), eq(t.cycleReminders.offsetDays, latest)));
        }
        rounds.push({ cycleId: cycle.id, offsetDays: latest, recipients });
      }
      if (!mine.size) continue;
      await recordAudit(tx, systemActor('scheduler'), {
        partnershipId: cycle.partnershipId,
        kind: 'cycle.reminded',
        entity: 'quarter_cycle',
        entityId: cycle.id,
        summary: mine.has(latest)
          ? `Reminded ${recipients} ${recipients === 1 ? 'person' : 'people'} about their ${quarterLabel(cycle.quarter as Quarter)} ${year} updates (${offsetLabel(latest)})`
          : `Passed over ${quarterLabel(cycle.quarter as Quarter)} ${year} reminders missed while the service was not running`,
        after: {
          offsetDays: mine.has(latest) ? latest : null,
          recipients,
          passedOver,
        },
      });
    }
    return { ran: true, rounds, emailIds };
  });
  await deps.mailer.deliver(deps.db, outcome.emailIds);
  return { ran: outcome.ran, rounds: outcome.rounds };
}

/** One reminder round of a cycle: an email to each person asked whose actions still await submission. */
async function remind(
  tx: Tx,
  deps: CycleDeps,
  ctx: EmailContext,
  cycle: typeof t.quarterCycles.$inferSelect,
  offsetDays: number,
  links: Links,
  now: Date,
): Promise<number[]> {
  const requests = await tx
    .select({ actionId: t.cycleRequests.actionId })
    .from(t.cycleRequests)
    .where(eq(t.cycleRequests.cycleId, cycle.id));
  if (!requests.length) return [];
  const requested = new Set(requests.map((r) => r.actionId));
  const actions = (await liveActions(tx, cycle.planId)).filter((a) => requested.has(a.id));
  const updates = await quarterUpdates(
    tx,
    actions.map((a) => a.id),
    ctx.quarter,
  );
  const owed = actions.filter((a) => {
    const update = updates.get(a.id);
    return awaitsSubmission(submissionState(true, update && { state: update.state as UpdateState }));
  });
  if (!owed.length) return [];
  const members = await activeMembers(tx, cycle.partnershipId);
  const recipients = new Map(owed.map((a) => [a.id, requestRecipients(a, members)]));
  const emailIds: number[] = [];
  const reminded = new Set<number>();
  for (const member of members) {
    const theirs = owed.filter((a) => recipients.get(a.id)?.includes(member.userId));
    if (!theirs.length) continue;
    for (const a of theirs) reminded.add(a.id);
    emailIds.push(
      await deps.mailer.record(tx, {
        partnershipId: cycle.partnershipId,
        ...reminderEmail(ctx, offsetDays, member, theirs, links),
      }),
    );
  }
  if (reminded.size) {
    await tx
      .update(t.cycleRequests)
      .set({ lastRemindedAt: now, remindersSent: sql`${t.cycleRequests.remindersSent} + 1` })
      .where(and(eq(t.cycleRequests.cycleId, cycle.id), inArray(t.cycleRequests.actionId, [...reminded])));
  }
  return emailIds;
}
