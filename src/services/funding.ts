/**
 * Funding lines on aims and actions, and the PCC's half-year budget report. Every member of the
 * partnership reads them (the board and the PCC's office among them); the coordinator records
 * any line, and a lead officer the lines of the actions they lead. Each write checks permission,
 * validates, writes with a version check and appends its audit event, in one transaction; a line
 * is archived, never deleted.
 */
import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { londonDate } from '../domain/cycles.js';
import {
  buildPccReport,
  describeSteps,
  formatPence,
  FUNDING_STATE_LABELS,
  FUNDING_STATES,
  fundingProblems,
  isFundingState,
  parsePounds,
  type FundingFacts,
  type FundingLineForReport,
  type FundingState,
  type Half,
  type PccBudgetReport,
} from '../domain/funding.js';
import { canManageFunding, type ActionLeadership } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { cachedRead, type ReadStamp } from './read-cache.js';
import type { PlanFileFundingLine, PlanFilePlan } from '../domain/plan-file.js';
import { getPartnershipById, type PlanTree } from './plan-read.js';
import { actionsLeadership } from './progress.js';
import { assertMayRead as assertMayReadPlan } from './plan-view.js';

const AMOUNT_MESSAGE = 'Enter the amount in pounds, like 10,000 or 10000.50';
const SPENT_MESSAGE = 'Enter the spent to date in pounds, like 2,500, or leave it blank for none';

const blankDate = z.string().trim().max(20).default('');

/** The form as it is sent: strings, blank where nothing was typed. */
export const fundingFormSchema = z.object({
  actionId: z.string().trim().max(20).default(''),
  source: z
    .string({ error: 'Enter where the money comes from' })
    .trim()
    .min(1, 'Enter where the money comes from')
    .max(200, 'Source must be 200 characters or fewer'),
  amount: z
    .string({ error: AMOUNT_MESSAGE })
    .trim()
    .refine((v) => parsePounds(v) !== undefined, AMOUNT_MESSAGE),
  state: z.enum(FUNDING_STATES, { error: 'Choose how far the money has got' }),
  appliedOn: blankDate,
  awardedOn: blankDate,
  receivedOn: blankDate,
  spentOn: blankDate,
  spentToDate: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || parsePounds(v) !== undefined, SPENT_MESSAGE),
  notes: z.string().trim().max(5000, 'Notes must be 5,000 characters or fewer').default(''),
});
export type FundingForm = z.input<typeof fundingFormSchema>;

const versionSchema = z.coerce.number().int().positive();

interface CheckedForm {
  actionId: number | null;
  facts: FundingFacts;
}

/** Any form at all: strings, blank where nothing was sent, for checking the rules of what was typed. */
const looseFormSchema = z.object(
  Object.fromEntries(
    [
      'actionId',
      'source',
      'amount',
      'state',
      'appliedOn',
      'awardedOn',
      'receivedOn',
      'spentOn',
      'spentToDate',
      'notes',
    ].map((key) => [key, z.string().trim().catch('')]),
  ) as Record<keyof z.infer<typeof fundingFormSchema>, z.ZodCatch<z.ZodString>>,
);

function factsOfForm(form: z.infer<typeof looseFormSchema>, state: FundingState): FundingFacts {
  return {
    source: form.source,
    amountPence: parsePounds(form.amount) ?? 0,
    state,
    appliedOn: form.appliedOn || null,
    awardedOn: form.awardedOn || null,
    receivedOn: form.receivedOn || null,
    spentOn: form.spentOn || null,
    spentToDatePence: form.spentToDate === '' ? 0 : (parsePounds(form.spentToDate) ?? 0),
    notes: form.notes || null,
  };
}

/**
 * Checks the form: its shape with zod, and the rules of a funding line (dates, spent to date), so
 * that every problem is named at once, one a field.
 */
function checkForm(input: unknown, withVersion: true): CheckedForm & { version: number };
function checkForm(input: unknown, withVersion: false): CheckedForm;
function checkForm(input: unknown, withVersion: boolean): CheckedForm & { version?: number } {
  const schema = withVersion ? fundingFormSchema.extend({ version: versionSchema }) : fundingFormSchema;
  const parsed = schema.safeParse(input);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'form'), message: i.message }));
  const loose = looseFormSchema.parse(input ?? {});
  const actionId = loose.actionId === '' ? null : Number(loose.actionId);
  if (actionId !== null && !(Number.isSafeInteger(actionId) && actionId > 0)) {
    problems.push({ field: 'actionId', message: 'Choose what the money is for' });
  }
  const amountKnown = parsePounds(loose.amount) !== undefined;
  if (isFundingState(loose.state)) {
    for (const problem of fundingProblems(factsOfForm(loose, loose.state))) {
      // Spent to date is compared with the amount only when the amount could be read.
      if (problem.field === 'spentToDate' && !amountKnown) continue;
      problems.push(problem);
    }
  }
  const once = problems.filter((p, i) => problems.findIndex((q) => q.field === p.field) === i);
  if (once.length || !parsed.success) throw new ValidationError(once);
  const form = parsed.data as { state: FundingState; version?: number };
  return { actionId, facts: factsOfForm(loose, form.state), version: form.version };
}

// ——— Reading ———

export interface FundingLineView extends FundingFacts {
  id: number;
  partnershipId: number;
  planId: number;
  aimId: number;
  aimNumber: string;
  aimTitle: string;
  sectionNumber: number;
  sectionTitle: string;
  actionId: number | null;
  /** The action's place among the aim's live actions (1, 2, …); null for the aim as a whole or an archived action. */
  actionIndex: number | null;
  /** The first line of what the action will do. */
  actionSummary: string | null;
  version: number;
  updatedAt: Date;
  /** Whether the reader may change or archive it. */
  canManage: boolean;
}

type LineRow = typeof t.fundingLines.$inferSelect;

function assertMayRead(actor: Actor, partnershipId: number): void {
  assertMayReadPlan(actor, partnershipId, 'Funding');
}

function mayManage(actor: Actor, partnershipId: number, leadership: ActionLeadership | null): boolean {
  return actor.system || canManageFunding(actor.member, partnershipId, leadership);
}

/** The live actions of some aims, in order: their place, first line and leadership. */
async function actionsOfAims(db: Db | Tx, aimIds: readonly number[]) {
  if (!aimIds.length)
    return new Map<number, { aimId: number; index: number; summary: string; leadership: ActionLeadership }>();
  const rows = await db
    .select({ id: t.actions.id, aimId: t.actions.aimId, description: t.actions.description })
    .from(t.actions)
    .where(and(inArray(t.actions.aimId, [...new Set(aimIds)]), isNull(t.actions.archivedAt)))
    .orderBy(asc(t.actions.aimId), asc(t.actions.position), asc(t.actions.id));
  const leadership = await actionsLeadership(
    db,
    rows.map((r) => r.id),
  );
  const counts = new Map<number, number>();
  const out = new Map<
    number,
    { aimId: number; index: number; summary: string; leadership: ActionLeadership }
  >();
  for (const row of rows) {
    const index = (counts.get(row.aimId) ?? 0) + 1;
    counts.set(row.aimId, index);
    out.set(row.id, {
      aimId: row.aimId,
      index,
      summary: row.description.split('\n')[0] ?? '',
      leadership: leadership.get(row.id)!,
    });
  }
  return out;
}

async function readLines(
  db: Db | Tx,
  actor: Actor,
  where: ReturnType<typeof and>,
): Promise<FundingLineView[]> {
  return linesFor(actor, await readLineRows(db, where));
}

/** The live lines that match, with their aims, sections and actions: the same for every reader. */
async function readLineRows(db: Db | Tx, where: ReturnType<typeof and>) {
  const rows = await db
    .select({
      line: t.fundingLines,
      aimNumber: t.aims.number,
      aimTitle: t.aims.title,
      aimPosition: t.aims.position,
      sectionNumber: t.sections.number,
      sectionTitle: t.sections.title,
      sectionPosition: t.sections.position,
    })
    .from(t.fundingLines)
    .innerJoin(t.aims, eq(t.aims.id, t.fundingLines.aimId))
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .where(and(isNull(t.fundingLines.archivedAt), isNull(t.aims.archivedAt), where))
    .orderBy(asc(t.sections.position), asc(t.aims.position), asc(t.fundingLines.id));
  const actions = await actionsOfAims(
    db,
    rows.map((r) => r.line.aimId),
  );
  return { rows, actions };
}

/** The lines as a reader sees them: whether they may manage each. */
function linesFor(
  actor: Actor,
  { rows, actions }: Awaited<ReturnType<typeof readLineRows>>,
): FundingLineView[] {
  return rows.map((r) => {
    const action = r.line.actionId === null ? undefined : actions.get(r.line.actionId);
    return {
      ...factsOf(r.line),
      id: r.line.id,
      partnershipId: r.line.partnershipId,
      planId: r.line.planId,
      aimId: r.line.aimId,
      aimNumber: r.aimNumber,
      aimTitle: r.aimTitle,
      sectionNumber: r.sectionNumber,
      sectionTitle: r.sectionTitle,
      actionId: r.line.actionId,
      actionIndex: action?.index ?? null,
      actionSummary: action?.summary ?? null,
      version: r.line.version,
      updatedAt: r.line.updatedAt,
      canManage: mayManage(
        actor,
        r.line.partnershipId,
        r.line.actionId === null ? null : (action?.leadership ?? null),
      ),
    };
  });
}

function factsOf(row: LineRow): FundingFacts {
  return {
    source: row.source,
    amountPence: row.amountPence,
    state: row.state,
    appliedOn: row.appliedOn,
    awardedOn: row.awardedOn,
    receivedOn: row.receivedOn,
    spentOn: row.spentOn,
    spentToDatePence: row.spentToDatePence,
    notes: row.notes,
  };
}

async function planRow(db: Db | Tx, planId: number) {
  const [plan] = await db.select().from(t.plans).where(eq(t.plans.id, planId));
  if (!plan) throw new NotFoundError('The plan');
  return plan;
}

export interface FundingFilters {
  state?: string | undefined;
  source?: string | undefined;
}

/**
 * The plan's live lines (on live aims), in the plan's order, filtered by state and source; and
 * every source the plan's lines name, for the filter's choices.
 */
export async function listPlanFunding(
  db: Db,
  actor: Actor,
  planId: number,
  filters: FundingFilters = {},
): Promise<{
  lines: FundingLineView[];
  sources: string[];
  filters: { state?: FundingState; source?: string };
}> {
  const plan = await planRow(db, planId);
  assertMayRead(actor, plan.partnershipId);
  const all = await readLines(db, actor, and(eq(t.fundingLines.planId, planId)));
  const sources = [...new Set(all.map((l) => l.source))].sort((a, b) => a.localeCompare(b, 'en-GB'));
  const state = isFundingState(filters.state) ? filters.state : undefined;
  const source = filters.source && sources.includes(filters.source) ? filters.source : undefined;
  const lines = all.filter((l) => (!state || l.state === state) && (!source || l.source === source));
  return { lines, sources, filters: { ...(state ? { state } : {}), ...(source ? { source } : {}) } };
}

/** An aim's live lines. */
export async function listAimFunding(
  db: Db,
  actor: Actor,
  aimId: number,
  stamp?: ReadStamp,
): Promise<FundingLineView[]> {
  const aim = await aimFacts(db, aimId, stamp);
  if (!aim) throw new NotFoundError('The aim');
  assertMayRead(actor, aim.partnershipId);
  return linesFor(
    actor,
    await cachedRead(db, stamp, `funding-lines:aim:${aimId}`, () =>
      readLineRows(db, and(eq(t.fundingLines.aimId, aimId))),
    ),
  );
}

/** An aim's partnership and whether it is archived; with a request's stamp, from the read cache. */
function aimFacts(db: Db, aimId: number, stamp: ReadStamp) {
  return cachedRead(db, stamp, `funding-aim:${aimId}`, async () => {
    const [aim] = await db
      .select({ partnershipId: t.aims.partnershipId, archivedAt: t.aims.archivedAt })
      .from(t.aims)
      .where(eq(t.aims.id, aimId));
    return aim;
  });
}

/** One live line. */
export async function getFundingLine(db: Db, actor: Actor, id: number): Promise<FundingLineView> {
  const [row] = await db
    .select({ partnershipId: t.fundingLines.partnershipId })
    .from(t.fundingLines)
    .where(eq(t.fundingLines.id, id));
  if (!row) throw new NotFoundError('The funding line');
  assertMayRead(actor, row.partnershipId);
  const [line] = await readLines(db, actor, and(eq(t.fundingLines.id, id)));
  if (!line) throw new NotFoundError('The funding line');
  return line;
}

export interface FundingTargets {
  /** May record a line for the aim as a whole. */
  aim: boolean;
  /** The live actions of the aim the actor may record lines on, in order. */
  actions: { id: number; index: number; summary: string }[];
}

/** What the actor may record funding for on this aim: the aim as a whole, and which actions. */
export async function fundingTargets(
  db: Db,
  actor: Actor,
  aimId: number,
  stamp?: ReadStamp,
): Promise<FundingTargets> {
  const aim = await aimFacts(db, aimId, stamp);
  if (!aim || aim.archivedAt) throw new NotFoundError('The aim');
  assertMayRead(actor, aim.partnershipId);
  const actions = await cachedRead(db, stamp, `funding-actions:${aimId}`, () => actionsOfAims(db, [aimId]));
  return {
    aim: mayManage(actor, aim.partnershipId, null),
    actions: [...actions.entries()]
      .filter(([, a]) => mayManage(actor, aim.partnershipId, a.leadership))
      .map(([id, a]) => ({ id, index: a.index, summary: a.summary })),
  };
}

// ——— Writing ———

const FORBIDDEN =
  'Only the coordinator, and the lead officers of an action for that action’s funding, can record funding';

/** The leadership of the line's action, checking the action is a live one of the aim. */
async function targetLeadership(
  tx: Tx,
  aimId: number,
  actionId: number | null,
): Promise<ActionLeadership | null> {
  if (actionId === null) return null;
  const action = (await actionsLeadership(tx, [actionId])).get(actionId);
  if (!action || action.aimId !== aimId) {
    throw new ValidationError([{ field: 'actionId', message: 'Choose what the money is for' }]);
  }
  return action;
}

function requireManager(actor: Actor, partnershipId: number, leadership: ActionLeadership | null): void {
  if (!mayManage(actor, partnershipId, leadership)) throw new ForbiddenError(FORBIDDEN);
}

/** The line as its audit event carries it: the values, and the same in words for the aim's History. */
function auditValues(aimId: number, actionId: number | null, facts: FundingFacts) {
  return {
    aimId,
    actionId,
    ...facts,
    amount: formatPence(facts.amountPence),
    fundingState: FUNDING_STATE_LABELS[facts.state],
    steps: describeSteps(facts),
    spentToDate: formatPence(facts.spentToDatePence),
  };
}

export async function createFundingLine(db: Db, actor: Actor, aimId: number, input: unknown) {
  const { actionId, facts } = checkForm(input, false);
  return db.transaction(async (tx) => {
    const [aim] = await tx.select().from(t.aims).where(eq(t.aims.id, aimId)).for('update');
    if (!aim || aim.archivedAt) throw new NotFoundError('The aim');
    assertMayRead(actor, aim.partnershipId);
    const leadership = await targetLeadership(tx, aimId, actionId);
    requireManager(actor, aim.partnershipId, leadership);
    const [row] = await tx
      .insert(t.fundingLines)
      .values({ partnershipId: aim.partnershipId, planId: aim.planId, aimId, actionId, ...facts })
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: aim.partnershipId,
      kind: 'funding.created',
      entity: 'funding_line',
      entityId: row!.id,
      summary: `Added funding of ${formatPence(facts.amountPence)} from ${facts.source} to aim ${aim.number}`,
      after: auditValues(aimId, actionId, facts),
    });
    return row!;
  });
}

async function lockLine(tx: Tx, id: number): Promise<LineRow> {
  const [row] = await tx.select().from(t.fundingLines).where(eq(t.fundingLines.id, id)).for('update');
  if (!row || row.archivedAt) throw new NotFoundError('The funding line');
  return row;
}

export async function updateFundingLine(db: Db, actor: Actor, id: number, input: unknown) {
  const { actionId, facts, version } = checkForm(input, true);
  return db.transaction(async (tx) => {
    const row = await lockLine(tx, id);
    assertMayRead(actor, row.partnershipId);
    requireManager(actor, row.partnershipId, await currentLeadership(tx, row));
    const leadership = await targetLeadership(tx, row.aimId, actionId);
    requireManager(actor, row.partnershipId, leadership);
    if (row.version !== version) throw new ConflictError(row);
    const [updated] = await tx
      .update(t.fundingLines)
      .set({ actionId, ...facts, version: row.version + 1, updatedAt: new Date() })
      .where(and(eq(t.fundingLines.id, id), eq(t.fundingLines.version, version)))
      .returning();
    const [aim] = await tx.select({ number: t.aims.number }).from(t.aims).where(eq(t.aims.id, row.aimId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'funding.updated',
      entity: 'funding_line',
      entityId: id,
      summary: `Changed funding from ${facts.source} on aim ${aim?.number ?? ''}`.trim(),
      before: auditValues(row.aimId, row.actionId, factsOf(row)),
      after: auditValues(row.aimId, actionId, facts),
    });
    return updated!;
  });
}

/** The leadership of a line's current action; an action since archived is the coordinator's to handle. */
async function currentLeadership(tx: Tx, row: LineRow): Promise<ActionLeadership | null> {
  if (row.actionId === null) return null;
  const action = (await actionsLeadership(tx, [row.actionId])).get(row.actionId);
  return action ?? null;
}

export async function archiveFundingLine(db: Db, actor: Actor, id: number, expectedVersion: number) {
  return db.transaction(async (tx) => {
    const row = await lockLine(tx, id);
    assertMayRead(actor, row.partnershipId);
    requireManager(actor, row.partnershipId, await currentLeadership(tx, row));
    if (row.version !== expectedVersion) throw new ConflictError(row);
    await tx
      .update(t.fundingLines)
      .set({ archivedAt: new Date(), version: row.version + 1, updatedAt: new Date() })
      .where(eq(t.fundingLines.id, id));
    const [aim] = await tx.select({ number: t.aims.number }).from(t.aims).where(eq(t.aims.id, row.aimId));
    await recordAudit(tx, actor, {
      partnershipId: row.partnershipId,
      kind: 'funding.archived',
      entity: 'funding_line',
      entityId: id,
      summary:
        `Archived funding of ${formatPence(row.amountPence)} from ${row.source} on aim ${aim?.number ?? ''}`.trim(),
      before: auditValues(row.aimId, row.actionId, factsOf(row)),
    });
  });
}

// ——— The PCC's half-year budget report ———

/** The report for one half of a plan year: what the DOCX and XLSX are written from. */
export async function pccBudgetReport(
  db: Db,
  actor: Actor,
  planId: number,
  half: Half,
  now = new Date(),
): Promise<PccBudgetReport> {
  const plan = await planRow(db, planId);
  assertMayRead(actor, plan.partnershipId);
  const [partnership, lines, sections, priorities] = await Promise.all([
    getPartnershipById(db, plan.partnershipId),
    readLines(db, actor, and(eq(t.fundingLines.planId, planId))),
    db
      .select({ number: t.sections.number, title: t.sections.title })
      .from(t.sections)
      .where(and(eq(t.sections.planId, planId), isNull(t.sections.archivedAt)))
      .orderBy(asc(t.sections.position), asc(t.sections.id)),
    db
      .select({ id: t.priorities.id, title: t.priorities.title })
      .from(t.priorities)
      .where(and(eq(t.priorities.planId, planId), isNull(t.priorities.archivedAt)))
      .orderBy(asc(t.priorities.position), asc(t.priorities.id)),
  ]);
  const links = priorities.length
    ? await db
        .select({ priorityId: t.priorityAims.priorityId, aimId: t.priorityAims.aimId })
        .from(t.priorityAims)
        .where(
          inArray(
            t.priorityAims.priorityId,
            priorities.map((p) => p.id),
          ),
        )
    : [];
  const prioritiesOf = (aimId: number) =>
    priorities
      .filter((p) => links.some((l) => l.aimId === aimId && l.priorityId === p.id))
      .map((p) => p.title);
  const forReport: FundingLineForReport[] = lines.map((l) => ({
    ...l,
    actionLabel:
      l.actionId === null
        ? null
        : l.actionIndex === null
          ? 'An archived action'
          : `Action ${l.actionIndex}: ${l.actionSummary ?? ''}`,
    priorities: prioritiesOf(l.aimId),
  }));
  return buildPccReport({
    partnership: { name: partnership.name, area: partnership.area },
    planYear: plan.year,
    planTitle: plan.title,
    half,
    preparedOn: londonDate(now),
    lines: forReport,
    sectionOrder: sections.map((s) => `${s.number}. ${s.title}`),
    priorityOrder: priorities.map((p) => p.title),
  });
}

// ——— The plan file ———

/**
 * Puts the plan's live funding lines into its plan file (docs/plan-file.md): on each aim for the
 * aim as a whole, on each action for its own. Dates and notes left blank are left out, as a person
 * writing the file would leave them out.
 */
export async function addFundingToFilePlan(
  db: Db | Tx,
  tree: PlanTree,
  filePlan: PlanFilePlan,
): Promise<PlanFilePlan> {
  const rows = await db
    .select()
    .from(t.fundingLines)
    .where(and(eq(t.fundingLines.planId, tree.plan.id), isNull(t.fundingLines.archivedAt)))
    .orderBy(asc(t.fundingLines.id));
  if (!rows.length) return filePlan;
  const toFile = (row: LineRow): PlanFileFundingLine => ({
    source: row.source,
    amountPence: row.amountPence,
    state: row.state,
    ...(row.appliedOn ? { appliedOn: row.appliedOn } : {}),
    ...(row.awardedOn ? { awardedOn: row.awardedOn } : {}),
    ...(row.receivedOn ? { receivedOn: row.receivedOn } : {}),
    ...(row.spentOn ? { spentOn: row.spentOn } : {}),
    spentToDatePence: row.spentToDatePence,
    ...(row.notes ? { notes: row.notes } : {}),
  });
  const linesOf = (aimId: number, actionId: number | null) =>
    rows.filter((r) => r.aimId === aimId && r.actionId === actionId).map(toFile);
  // The file's sections, aims and actions are the tree's, in the same order.
  return {
    ...filePlan,
    sections: filePlan.sections.map((section, s) => ({
      ...section,
      aims: section.aims.map((aim, a) => {
        const node = tree.sections[s]!.aims[a]!;
        const own = linesOf(node.id, null);
        return {
          ...aim,
          actions: aim.actions.map((action, c) => {
            const lines = linesOf(node.id, node.actions[c]!.id);
            return lines.length ? { ...action, funding: lines } : action;
          }),
          ...(own.length ? { funding: own } : {}),
        };
      }),
    })),
  };
}
