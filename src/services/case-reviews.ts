/**
 * ASB case reviews (the Community Trigger): the register of applications, their reviews,
 * recommendations and outcomes; the partnership's threshold and retention settings; the four
 * statutory annual figures (register years and published history); and the redaction of personal
 * details once the retention period has passed. See docs/evidence-case-reviews.md.
 *
 * Personal details (the applicant's name, contact, contact preference and vulnerability, and what
 * the complaints were about) leave this file only for readers canReadPersonalDetails allows: the
 * coordinator and the case's officer. Everyone else in the partnership gets the annual figures.
 * The audit trail is read by people who may not see them, so no audit event carries them.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { and, asc, desc, eq, inArray, isNull, like, sql } from 'drizzle-orm';
import { z } from 'zod';
import { queryRows, type Db, type Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { readPublishedFiguresCsv } from '../documents/case-review-csv.js';
import {
  annualFigures,
  APPLICANT_RESPONSES,
  canManageCaseReviews,
  canReadCaseReview,
  canReadCaseReviewFigures,
  canReadPersonalDetails,
  canUpdateCaseReview,
  CONTACT_PREFERENCES,
  decideThreshold,
  DEFAULT_RETENTION_YEARS,
  DEFAULT_THRESHOLD,
  describeDecision,
  describeRule,
  isIsoDay,
  mayBeCaseOfficer,
  redactionDueOn,
  TENURES,
  type AnnualFigures,
  type ApplicantResponse,
  type CaseReviewAccess,
  type ContactPreference,
  type PublishedFigures,
  type Tenure,
  type ThresholdRule,
} from '../domain/case-reviews.js';
import { londonDate } from '../domain/cycles.js';
import type { Role } from '../domain/permissions.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import {
  ConflictError,
  ForbiddenError,
  isUniqueViolation,
  NotFoundError,
  ValidationError,
} from './errors.js';
import { getPartnershipBySlug } from './plan-read.js';

const ENTITY = 'case_review';

// ——— Who may ———

function assertMember(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canReadCaseReviewFigures(actor.member, partnershipId)) {
    throw new ForbiddenError('Only members of the partnership can see its case reviews');
  }
}

function assertManager(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canManageCaseReviews(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the coordinator can take and change case review applications');
  }
}

const mayRead = (actor: Actor, review: CaseReviewAccess) =>
  actor.system || canReadCaseReview(actor.member, review);
const mayReadPersonal = (actor: Actor, review: CaseReviewAccess) =>
  actor.system || canReadPersonalDetails(actor.member, review);
const mayUpdate = (actor: Actor, review: CaseReviewAccess) =>
  actor.system || canUpdateCaseReview(actor.member, review);
const mayManage = (actor: Actor, partnershipId: number) =>
  actor.system || canManageCaseReviews(actor.member, partnershipId);

// ——— Form pieces ———

function wholeNumber(min: number, max: number, message: string) {
  return z
    .string({ error: message })
    .trim()
    .refine((v) => /^\d{1,4}$/.test(v) && Number(v) >= min && Number(v) <= max, message)
    .transform(Number);
}

const text = (max: number, tooLong: string) => z.string().trim().max(max, tooLong).default('');
const versionSchema = z.coerce.number().int().min(0);

/** A day typed in three boxes and joined by the page: blank, or it must be real. */
function day(what: string, required: boolean) {
  return z
    .string()
    .trim()
    .default('')
    .refine((v) => !required || v !== '', `Enter ${what}`)
    .refine((v) => v === '' || isIsoDay(v), `${capitalise(what)} must be a real date`);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function problemsOf(error: z.ZodError): { field: string; message: string }[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || 'form', message: i.message }));
}

function once(problems: { field: string; message: string }[]) {
  return problems.filter((p, i) => problems.findIndex((q) => q.field === p.field) === i);
}

// ——— Settings ———

export interface CaseReviewSettings {
  triggerComplaints: number;
  triggerMonths: number;
  retentionYears: number;
  /** The settings row's version; 0 while the partnership has none (the defaults apply). */
  version: number;
}

async function readSettings(db: Db | Tx, partnershipId: number): Promise<CaseReviewSettings> {
  const [row] = await db
    .select({
      triggerComplaints: t.evidenceSettings.triggerComplaints,
      triggerMonths: t.evidenceSettings.triggerMonths,
      retentionYears: t.evidenceSettings.retentionYears,
      version: t.evidenceSettings.version,
    })
    .from(t.evidenceSettings)
    .where(eq(t.evidenceSettings.partnershipId, partnershipId));
  return (
    row ?? {
      triggerComplaints: DEFAULT_THRESHOLD.complaints,
      triggerMonths: DEFAULT_THRESHOLD.months,
      retentionYears: DEFAULT_RETENTION_YEARS,
      version: 0,
    }
  );
}

const ruleOf = (s: CaseReviewSettings): ThresholdRule => ({
  complaints: s.triggerComplaints,
  months: s.triggerMonths,
});

export async function getCaseReviewSettings(
  db: Db,
  actor: Actor,
  partnershipId: number,
): Promise<CaseReviewSettings> {
  assertMember(actor, partnershipId);
  return readSettings(db, partnershipId);
}

export const settingsFormSchema = z.object({
  triggerComplaints: wholeNumber(1, 50, 'Enter the number of complaints, a whole number from 1 to 50'),
  triggerMonths: wholeNumber(1, 36, 'Enter the number of months, a whole number from 1 to 36'),
  retentionYears: wholeNumber(1, 100, 'Enter the number of years, a whole number from 1 to 100'),
  version: versionSchema,
});

/**
 * The threshold (N complaints within M months) and the retention period. Only these columns of
 * the evidence settings are written: the district, neighbours and mapping are another page's.
 * A new threshold decides new applications (and changed ones); decisions made stay as made.
 */
export async function saveCaseReviewSettings(
  db: Db,
  actor: Actor,
  partnershipId: number,
  input: unknown,
): Promise<CaseReviewSettings> {
  assertManager(actor, partnershipId);
  const parsed = settingsFormSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(once(problemsOf(parsed.error)));
  const form = parsed.data;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from evidence_settings where partnership_id = ${partnershipId} for update`);
    const before = await readSettings(tx, partnershipId);
    if (before.version !== form.version) throw new ConflictError(before);
    const values = {
      triggerComplaints: form.triggerComplaints,
      triggerMonths: form.triggerMonths,
      retentionYears: form.retentionYears,
    };
    await tx
      .insert(t.evidenceSettings)
      .values({ partnershipId, ...values })
      .onConflictDoUpdate({
        target: t.evidenceSettings.partnershipId,
        set: { ...values, version: sql`${t.evidenceSettings.version} + 1`, updatedAt: new Date() },
      });
    const after = await readSettings(tx, partnershipId);
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.settings_changed',
      entity: 'evidence_settings',
      entityId: partnershipId,
      summary: `Community Trigger settings: threshold ${describeRule(ruleOf(after))}; personal details kept ${after.retentionYears} years`,
      before: { ...ruleOf(before), retentionYears: before.retentionYears },
      after: { ...ruleOf(after), retentionYears: after.retentionYears },
    });
    return after;
  });
}

// ——— The annual figures ———

async function publishedFigures(db: Db | Tx, partnershipId: number): Promise<PublishedFigures[]> {
  return db
    .select({
      year: t.caseReviewPublishedFigures.year,
      applicationsReceived: t.caseReviewPublishedFigures.applicationsReceived,
      thresholdNotMet: t.caseReviewPublishedFigures.thresholdNotMet,
      reviewsCarriedOut: t.caseReviewPublishedFigures.reviewsCarriedOut,
      reviewsWithRecommendations: t.caseReviewPublishedFigures.reviewsWithRecommendations,
      sourceUrl: t.caseReviewPublishedFigures.sourceUrl,
    })
    .from(t.caseReviewPublishedFigures)
    .where(eq(t.caseReviewPublishedFigures.partnershipId, partnershipId))
    .orderBy(asc(t.caseReviewPublishedFigures.year));
}

/** The figures of the register and the published history; nothing personal is read. */
async function figuresOf(db: Db | Tx, partnershipId: number): Promise<AnnualFigures[]> {
  const rows = await queryRows<{
    received_on: string;
    threshold_met: boolean;
    review_on: string | null;
    recommendations: number;
  }>(
    db,
    sql`select c.received_on::text as received_on, c.threshold_met, c.review_on::text as review_on,
          (select count(*)::int from case_review_recommendations r
            where r.case_review_id = c.id and r.archived_at is null) as recommendations
        from case_reviews c
        where c.partnership_id = ${partnershipId} and c.archived_at is null`,
  );
  return annualFigures(
    rows.map((r) => ({
      receivedOn: r.received_on,
      thresholdMet: r.threshold_met,
      reviewOn: r.review_on,
      recommendations: Number(r.recommendations),
    })),
    await publishedFigures(db, partnershipId),
  );
}

export async function caseReviewFigures(db: Db, actor: Actor, partnershipId: number) {
  assertMember(actor, partnershipId);
  return figuresOf(db, partnershipId);
}

/** The public page's figures: anyone may read them, signed in or not. */
export async function publicCaseReviewFigures(db: Db, slug: string) {
  const partnership = await getPartnershipBySlug(db, slug);
  return {
    partnership: { slug: partnership.slug, name: partnership.name, area: partnership.area },
    figures: await figuresOf(db, partnership.id),
  };
}

/**
 * Replaces a partnership's published history with the figures of a council's CSV (see
 * readPublishedFiguresCsv): the years before it kept its register here.
 */
export async function importPublishedCaseReviewFigures(
  db: Db,
  actor: Actor,
  slug: string,
  csvText: string,
): Promise<{ years: string[] }> {
  const figures = readPublishedFiguresCsv(csvText);
  const partnership = await getPartnershipBySlug(db, slug);
  assertManager(actor, partnership.id);
  return db.transaction(async (tx) => {
    await tx
      .delete(t.caseReviewPublishedFigures)
      .where(eq(t.caseReviewPublishedFigures.partnershipId, partnership.id));
    if (figures.length) {
      await tx
        .insert(t.caseReviewPublishedFigures)
        .values(figures.map((f) => ({ partnershipId: partnership.id, ...f })));
    }
    const years = figures.map((f) => f.year);
    await recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'case_review.published_figures_imported',
      entity: 'case_review_published_figures',
      entityId: partnership.id,
      summary: `Published Community Trigger figures imported: ${years.length ? `${years[0]} to ${years.at(-1)}` : 'none'}`,
      after: { years },
      viaImport: true,
    });
    return { years };
  });
}

export const NORTH_HERTS_TRIGGER_FILE = fileURLToPath(
  new URL('../demo/evidence/north_herts_community_trigger.csv', import.meta.url),
);

/** The demo: North Herts's published figures, 2015/16 to 2021/22, as its history. */
export async function loadDemoCaseReviewFigures(db: Db, actor: Actor) {
  return importPublishedCaseReviewFigures(
    db,
    actor,
    'north-herts',
    fs.readFileSync(NORTH_HERTS_TRIGGER_FILE, 'utf8'),
  );
}

// ——— Reading the register ———

type CaseRow = typeof t.caseReviews.$inferSelect;

export interface CaseReviewListRow {
  id: number;
  reference: string;
  receivedOn: string;
  tenure: Tenure;
  thresholdMet: boolean;
  reviewOn: string | null;
  closedOn: string | null;
  applicantResponse: ApplicantResponse | null;
  caseOfficerName: string | null;
  /** Null when redacted. Only ever in a list for a reader who may see it. */
  applicantName: string | null;
  redacted: boolean;
  openRecommendations: number;
}

/**
 * The register: the cases the reader may see (the coordinator, all; a case officer, theirs;
 * anyone else, none), and the annual figures every member sees.
 */
export async function caseReviewRegister(db: Db, actor: Actor, partnershipId: number) {
  assertMember(actor, partnershipId);
  const everything = mayManage(actor, partnershipId);
  const rows = await db
    .select({ review: t.caseReviews, officer: t.users.name })
    .from(t.caseReviews)
    .leftJoin(t.users, eq(t.users.id, t.caseReviews.caseOfficerUserId))
    .where(
      and(
        eq(t.caseReviews.partnershipId, partnershipId),
        isNull(t.caseReviews.archivedAt),
        everything ? undefined : eq(t.caseReviews.caseOfficerUserId, actor.userId ?? -1),
      ),
    )
    .orderBy(desc(t.caseReviews.receivedOn), desc(t.caseReviews.id));
  const readable = rows.filter((r) => mayRead(actor, r.review));
  const open = await openRecommendationCounts(
    db,
    readable.map((r) => r.review.id),
  );
  const cases: CaseReviewListRow[] = readable.map(({ review, officer }) => ({
    id: review.id,
    reference: review.reference,
    receivedOn: review.receivedOn,
    tenure: review.tenure as Tenure,
    thresholdMet: review.thresholdMet,
    reviewOn: review.reviewOn,
    closedOn: review.closedOn,
    applicantResponse: review.applicantResponse as ApplicantResponse | null,
    caseOfficerName: officer,
    applicantName: mayReadPersonal(actor, review) ? review.applicantName : null,
    redacted: review.redactedAt !== null,
    openRecommendations: open.get(review.id) ?? 0,
  }));
  return {
    cases,
    figures: await figuresOf(db, partnershipId),
    settings: await readSettings(db, partnershipId),
    canManage: everything,
  };
}

async function openRecommendationCounts(db: Db | Tx, ids: readonly number[]) {
  if (!ids.length) return new Map<number, number>();
  const rows = await db
    .select({ id: t.caseReviewRecommendations.caseReviewId, n: sql<number>`count(*)::int` })
    .from(t.caseReviewRecommendations)
    .where(
      and(
        inArray(t.caseReviewRecommendations.caseReviewId, [...ids]),
        isNull(t.caseReviewRecommendations.archivedAt),
        isNull(t.caseReviewRecommendations.doneOn),
      ),
    )
    .groupBy(t.caseReviewRecommendations.caseReviewId);
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

export interface CaseReviewView {
  id: number;
  partnershipId: number;
  reference: string;
  receivedOn: string;
  /** Null when redacted. */
  applicant: {
    name: string | null;
    contact: string | null;
    contactPreference: ContactPreference | null;
    vulnerability: string | null;
  } | null;
  tenure: Tenure;
  caseOfficerUserId: number | null;
  caseOfficerName: string | null;
  thresholdMet: boolean;
  /** The rule it was decided with, and why: "3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024". */
  threshold: { rule: ThresholdRule; reason: string };
  reviewOn: string | null;
  panel: string | null;
  outcome: string | null;
  applicantResponse: ApplicantResponse | null;
  closedOn: string | null;
  redactedAt: Date | null;
  redactionDueOn: string;
  version: number;
  complaints: { id: number; complainedOn: string; agency: string; summary: string | null }[];
  recommendations: {
    id: number;
    text: string;
    owner: string;
    dueOn: string | null;
    doneOn: string | null;
    version: number;
  }[];
  canManage: boolean;
  canUpdate: boolean;
}

async function caseRow(db: Db | Tx, partnershipId: number, id: number, lock = false): Promise<CaseRow> {
  const query = db
    .select()
    .from(t.caseReviews)
    .where(
      and(
        eq(t.caseReviews.id, id),
        eq(t.caseReviews.partnershipId, partnershipId),
        isNull(t.caseReviews.archivedAt),
      ),
    );
  const [row] = lock ? await query.for('update') : await query;
  if (!row) throw new NotFoundError('The case review');
  return row;
}

export async function getCaseReview(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
): Promise<CaseReviewView> {
  assertMember(actor, partnershipId);
  const review = await caseRow(db, partnershipId, id);
  if (!mayRead(actor, review)) {
    throw new ForbiddenError('Only the coordinator and the case officer can see a case review');
  }
  const personal = mayReadPersonal(actor, review);
  const [officer] = review.caseOfficerUserId
    ? await db.select({ name: t.users.name }).from(t.users).where(eq(t.users.id, review.caseOfficerUserId))
    : [];
  const complaints = await db
    .select({
      id: t.caseReviewComplaints.id,
      complainedOn: t.caseReviewComplaints.complainedOn,
      agency: t.caseReviewComplaints.agency,
      summary: t.caseReviewComplaints.summary,
    })
    .from(t.caseReviewComplaints)
    .where(and(eq(t.caseReviewComplaints.caseReviewId, id), isNull(t.caseReviewComplaints.archivedAt)))
    .orderBy(asc(t.caseReviewComplaints.complainedOn), asc(t.caseReviewComplaints.id));
  const recommendations = await db
    .select({
      id: t.caseReviewRecommendations.id,
      text: t.caseReviewRecommendations.text,
      owner: t.caseReviewRecommendations.owner,
      dueOn: t.caseReviewRecommendations.dueOn,
      doneOn: t.caseReviewRecommendations.doneOn,
      version: t.caseReviewRecommendations.version,
    })
    .from(t.caseReviewRecommendations)
    .where(
      and(eq(t.caseReviewRecommendations.caseReviewId, id), isNull(t.caseReviewRecommendations.archivedAt)),
    )
    .orderBy(asc(t.caseReviewRecommendations.id));
  const settings = await readSettings(db, partnershipId);
  const rule: ThresholdRule = { complaints: review.thresholdComplaints, months: review.thresholdMonths };
  const decision = decideThreshold(
    complaints.map((c) => c.complainedOn),
    review.receivedOn,
    rule,
  );
  const redacted = review.redactedAt !== null;
  return {
    id: review.id,
    partnershipId: review.partnershipId,
    reference: review.reference,
    receivedOn: review.receivedOn,
    applicant:
      personal && !redacted
        ? {
            name: review.applicantName,
            contact: review.applicantContact,
            contactPreference: review.contactPreference as ContactPreference | null,
            vulnerability: review.vulnerability,
          }
        : null,
    tenure: review.tenure as Tenure,
    caseOfficerUserId: review.caseOfficerUserId,
    caseOfficerName: officer?.name ?? null,
    thresholdMet: review.thresholdMet,
    threshold: {
      rule,
      // The decision stands as made; the reason is given from the complaints and its rule.
      reason:
        decision.met === review.thresholdMet
          ? describeDecision(decision)
          : `${review.thresholdMet ? 'Met' : 'Not met'} (${describeRule(rule)})`,
    },
    reviewOn: review.reviewOn,
    panel: review.panel,
    outcome: review.outcome,
    applicantResponse: review.applicantResponse as ApplicantResponse | null,
    closedOn: review.closedOn,
    redactedAt: review.redactedAt,
    redactionDueOn: redactionDueOn(review, settings.retentionYears),
    version: review.version,
    complaints: complaints.map((c) => ({ ...c, summary: personal ? c.summary : null })),
    recommendations,
    canManage: mayManage(actor, partnershipId) && !redacted,
    canUpdate: mayUpdate(actor, review),
  };
}

/** The members who may be named case officer: every active member but the board. */
export async function caseOfficerChoices(db: Db | Tx, actor: Actor, partnershipId: number) {
  assertManager(actor, partnershipId);
  return officersOf(db, partnershipId);
}

async function officersOf(db: Db | Tx, partnershipId: number) {
  const rows = await db
    .select({ userId: t.users.id, name: t.users.name, role: t.memberships.role })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .where(
      and(
        eq(t.memberships.partnershipId, partnershipId),
        isNull(t.memberships.deactivatedAt),
        isNull(t.users.deactivatedAt),
      ),
    )
    .orderBy(asc(t.users.name));
  return rows.filter((r) => mayBeCaseOfficer(r.role as Role));
}

// ——— The application ———

const complaintSchema = z.object({
  complainedOn: day('the date of the complaint', true),
  agency: z
    .string({ error: 'Enter who the complaint was made to' })
    .trim()
    .min(1, 'Enter who the complaint was made to')
    .max(200, 'Who it was made to must be 200 characters or fewer'),
  summary: text(2000, 'What it was about must be 2,000 characters or fewer'),
});

export const applicationFormSchema = z.object({
  receivedOn: day('the date the application was received', true),
  applicantName: z
    .string({ error: 'Enter the applicant’s name' })
    .trim()
    .min(1, 'Enter the applicant’s name')
    .max(200, 'The name must be 200 characters or fewer'),
  applicantContact: text(500, 'Contact details must be 500 characters or fewer'),
  contactPreference: z
    .union([z.literal(''), z.enum(CONTACT_PREFERENCES)], {
      error: 'Choose how the applicant prefers to be contacted',
    })
    .default(''),
  vulnerability: text(2000, 'Vulnerability must be 2,000 characters or fewer'),
  tenure: z.enum(TENURES, { error: 'Choose the applicant’s tenure' }),
  caseOfficerUserId: z
    .string()
    .trim()
    .default('')
    .refine((v) => v === '' || /^\d{1,9}$/.test(v), 'Choose the case officer'),
  complaints: z.array(complaintSchema).max(50, 'No more than 50 complaints').default([]),
});
export type ApplicationForm = z.input<typeof applicationFormSchema>;

interface CheckedApplication {
  receivedOn: string;
  applicantName: string;
  applicantContact: string | null;
  contactPreference: ContactPreference | null;
  vulnerability: string | null;
  tenure: Tenure;
  caseOfficerUserId: number | null;
  complaints: { complainedOn: string; agency: string; summary: string | null }[];
}

/** Every problem at once: the shape, dates in order, and a case officer who may be one. */
async function checkApplication(
  tx: Tx,
  partnershipId: number,
  input: unknown,
  today: string,
): Promise<CheckedApplication> {
  const parsed = applicationFormSchema.safeParse(input);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if (parsed.success) {
    const form = parsed.data;
    if (form.receivedOn > today) {
      problems.push({ field: 'receivedOn', message: 'The date received must be today or in the past' });
    }
    form.complaints.forEach((c, i) => {
      if (c.complainedOn > form.receivedOn) {
        problems.push({
          field: `complaints.${i}.complainedOn`,
          message: 'The date of a complaint must be on or before the date the application was received',
        });
      }
    });
    if (form.caseOfficerUserId !== '') {
      const officers = await officersOf(tx, partnershipId);
      if (!officers.some((o) => o.userId === Number(form.caseOfficerUserId))) {
        problems.push({ field: 'caseOfficerUserId', message: 'Choose a case officer from the list' });
      }
    }
  }
  if (problems.length || !parsed.success) throw new ValidationError(once(problems));
  const form = parsed.data;
  return {
    receivedOn: form.receivedOn,
    applicantName: form.applicantName,
    applicantContact: form.applicantContact || null,
    contactPreference: form.contactPreference || null,
    vulnerability: form.vulnerability || null,
    tenure: form.tenure,
    caseOfficerUserId: form.caseOfficerUserId === '' ? null : Number(form.caseOfficerUserId),
    complaints: form.complaints.map((c) => ({
      complainedOn: c.complainedOn,
      agency: c.agency,
      summary: c.summary || null,
    })),
  };
}

async function nextReference(tx: Tx, partnershipId: number, receivedOn: string): Promise<string> {
  const prefix = `CT-${receivedOn.slice(0, 4)}-`;
  const rows = await tx
    .select({ reference: t.caseReviews.reference })
    .from(t.caseReviews)
    .where(and(eq(t.caseReviews.partnershipId, partnershipId), like(t.caseReviews.reference, `${prefix}%`)));
  const last = Math.max(0, ...rows.map((r) => Number(r.reference.slice(prefix.length)) || 0));
  return `${prefix}${String(last + 1).padStart(3, '0')}`;
}

/** What an audit event may say of an application: nothing that identifies the applicant. */
function auditState(
  row: {
    reference: string;
    receivedOn: string;
    thresholdMet: boolean;
    caseOfficerUserId: number | null;
  },
  complaints: number,
  threshold?: ThresholdRule,
) {
  return {
    reference: row.reference,
    receivedOn: row.receivedOn,
    complaints,
    thresholdMet: row.thresholdMet,
    caseOfficerUserId: row.caseOfficerUserId,
    ...(threshold ? { threshold } : {}),
  };
}

/**
 * A new application: its reference (CT-<year received>-001, …), its complaints, and the threshold
 * decided with the partnership's settings now; the decision is kept as made.
 */
export async function createCaseReview(
  db: Db,
  actor: Actor,
  partnershipId: number,
  input: unknown,
  now = new Date(),
): Promise<{ id: number; reference: string; thresholdMet: boolean }> {
  assertManager(actor, partnershipId);
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(async (tx) => {
        const form = await checkApplication(tx, partnershipId, input, londonDate(now));
        const rule = ruleOf(await readSettings(tx, partnershipId));
        const decision = decideThreshold(
          form.complaints.map((c) => c.complainedOn),
          form.receivedOn,
          rule,
        );
        const reference = await nextReference(tx, partnershipId, form.receivedOn);
        const { complaints, ...fields } = form;
        const [row] = await tx
          .insert(t.caseReviews)
          .values({
            partnershipId,
            reference,
            ...fields,
            thresholdMet: decision.met,
            thresholdComplaints: rule.complaints,
            thresholdMonths: rule.months,
          })
          .returning();
        if (complaints.length) {
          await tx
            .insert(t.caseReviewComplaints)
            .values(complaints.map((c) => ({ partnershipId, caseReviewId: row!.id, ...c })));
        }
        await recordAudit(tx, actor, {
          partnershipId,
          kind: 'case_review.created',
          entity: ENTITY,
          entityId: row!.id,
          summary: `Case review application ${reference} received ${row!.receivedOn}: threshold ${
            decision.met ? 'met' : 'not met'
          } (${describeRule(rule)})`,
          after: auditState(row!, complaints.length, rule),
        });
        return { id: row!.id, reference, thresholdMet: decision.met };
      });
    } catch (error) {
      // Two applications taken at once may pick the same reference: the second tries the next.
      if (attempt < 3 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

/**
 * Changes an application (the coordinator). When its received date or complaints change, the
 * threshold is decided again with today's settings; otherwise the decision stands as made.
 * Complaints are the form's list: one taken off the form is archived (kept, no longer counted).
 */
export async function updateCaseReviewApplication(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
  input: unknown,
  now = new Date(),
): Promise<{ version: number; thresholdMet: boolean }> {
  assertManager(actor, partnershipId);
  const version = versionSchema.safeParse((input as { version?: unknown } | null)?.version);
  return db.transaction(async (tx) => {
    const before = await caseRow(tx, partnershipId, id, true);
    if (before.redactedAt) {
      throw new ForbiddenError(
        'Its personal details have been redacted: the application can no longer be changed',
      );
    }
    const form = await checkApplication(tx, partnershipId, input, londonDate(now));
    if (!version.success)
      throw new ValidationError([{ field: 'form', message: 'Reload the page and try again' }]);
    if (before.version !== version.data) throw new ConflictError(before);
    const oldComplaints = await tx
      .select()
      .from(t.caseReviewComplaints)
      .where(and(eq(t.caseReviewComplaints.caseReviewId, id), isNull(t.caseReviewComplaints.archivedAt)))
      .orderBy(asc(t.caseReviewComplaints.complainedOn), asc(t.caseReviewComplaints.id));
    const key = (c: { complainedOn: string; agency: string; summary: string | null }) =>
      JSON.stringify([c.complainedOn, c.agency, c.summary]);
    const complaintsChanged =
      JSON.stringify(oldComplaints.map(key).sort()) !== JSON.stringify(form.complaints.map(key).sort());
    const datesChanged =
      before.receivedOn !== form.receivedOn ||
      JSON.stringify(oldComplaints.map((c) => c.complainedOn).sort()) !==
        JSON.stringify(form.complaints.map((c) => c.complainedOn).sort());
    const rule = datesChanged ? ruleOf(await readSettings(tx, partnershipId)) : undefined;
    const thresholdMet = rule
      ? decideThreshold(
          form.complaints.map((c) => c.complainedOn),
          form.receivedOn,
          rule,
        ).met
      : before.thresholdMet;
    const { complaints, ...fields } = form;
    const [after] = await tx
      .update(t.caseReviews)
      .set({
        ...fields,
        thresholdMet,
        ...(rule ? { thresholdComplaints: rule.complaints, thresholdMonths: rule.months } : {}),
        version: before.version + 1,
        updatedAt: now,
      })
      .where(eq(t.caseReviews.id, id))
      .returning();
    if (complaintsChanged) {
      // The complaints as they were are archived, never deleted; the form's list is the live one.
      await tx
        .update(t.caseReviewComplaints)
        .set({ archivedAt: now })
        .where(and(eq(t.caseReviewComplaints.caseReviewId, id), isNull(t.caseReviewComplaints.archivedAt)));
      if (complaints.length) {
        await tx
          .insert(t.caseReviewComplaints)
          .values(complaints.map((c) => ({ partnershipId, caseReviewId: id, ...c })));
      }
    }
    const changed = [
      before.applicantName !== form.applicantName ||
      before.applicantContact !== form.applicantContact ||
      before.contactPreference !== form.contactPreference ||
      before.vulnerability !== form.vulnerability
        ? 'applicant details changed'
        : '',
      before.tenure !== form.tenure ? 'tenure changed' : '',
      before.receivedOn !== form.receivedOn ? 'date received changed' : '',
      complaintsChanged ? 'complaints changed' : '',
      before.caseOfficerUserId !== form.caseOfficerUserId ? 'case officer changed' : '',
    ].filter(Boolean);
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.application_changed',
      entity: ENTITY,
      entityId: id,
      summary: `Case review application ${before.reference}: ${changed.join(', ') || 'saved unchanged'}${
        rule ? `; threshold decided again: ${thresholdMet ? 'met' : 'not met'} (${describeRule(rule)})` : ''
      }`,
      before: auditState(before, oldComplaints.length),
      after: auditState(after!, complaints.length, rule),
    });
    return { version: after!.version, thresholdMet };
  });
}

/** Reads the case for a write by the coordinator or its officer, with the version check. */
async function caseForUpdate(
  tx: Tx,
  actor: Actor,
  partnershipId: number,
  id: number,
  version: unknown,
  checkVersion = true,
) {
  const row = await caseRow(tx, partnershipId, id, true);
  if (!mayUpdate(actor, row)) {
    throw new ForbiddenError('Only the coordinator and the case officer can update a case review');
  }
  if (!checkVersion) return row;
  const parsed = versionSchema.safeParse(version);
  if (!parsed.success)
    throw new ValidationError([{ field: 'form', message: 'Reload the page and try again' }]);
  if (row.version !== parsed.data) throw new ConflictError(row);
  return row;
}

function notFuture(value: string, today: string): boolean {
  return value === '' || value <= today;
}

export const reviewFormSchema = z.object({
  reviewOn: day('the date of the review', false),
  panel: text(2000, 'The panel must be 2,000 characters or fewer'),
  version: z.unknown(),
});

/** The review: the day it was held and the panel (members and agencies). Blank takes it off. */
export async function recordCaseReview(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
  input: unknown,
  now = new Date(),
): Promise<{ version: number }> {
  assertMember(actor, partnershipId);
  return db.transaction(async (tx) => {
    const before = await caseForUpdate(
      tx,
      actor,
      partnershipId,
      id,
      (input as { version?: unknown })?.version,
    );
    const parsed = reviewFormSchema.safeParse(input);
    const problems = parsed.success ? [] : problemsOf(parsed.error);
    if (parsed.success) {
      const { reviewOn, panel } = parsed.data;
      if (!notFuture(reviewOn, londonDate(now))) {
        problems.push({ field: 'reviewOn', message: 'The date of the review must be today or in the past' });
      } else if (reviewOn !== '' && reviewOn < before.receivedOn) {
        problems.push({
          field: 'reviewOn',
          message: 'The date of the review must be on or after the date the application was received',
        });
      }
      if (reviewOn === '' && panel !== '') {
        problems.push({ field: 'reviewOn', message: 'Enter the date of the review' });
      }
    }
    if (problems.length || !parsed.success) throw new ValidationError(once(problems));
    const reviewOn = parsed.data.reviewOn || null;
    const [after] = await tx
      .update(t.caseReviews)
      .set({ reviewOn, panel: parsed.data.panel || null, version: before.version + 1, updatedAt: now })
      .where(eq(t.caseReviews.id, id))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.review_recorded',
      entity: ENTITY,
      entityId: id,
      summary: reviewOn
        ? `Case review ${before.reference}: review held ${reviewOn}`
        : `Case review ${before.reference}: review date taken off`,
      before: { reference: before.reference, reviewOn: before.reviewOn },
      after: { reference: before.reference, reviewOn: after!.reviewOn },
    });
    return { version: after!.version };
  });
}

export const outcomeFormSchema = z.object({
  outcome: text(5000, 'The outcome must be 5,000 characters or fewer'),
  applicantResponse: z
    .union([z.literal(''), z.enum(APPLICANT_RESPONSES)], {
      error: 'Choose whether the applicant was satisfied or escalated it',
    })
    .default(''),
  closedOn: day('the date the case was closed', false),
  version: z.unknown(),
});

/** The outcome, the applicant's response (satisfied, or escalated to the PCC) and the day it closed. */
export async function saveCaseReviewOutcome(
  db: Db,
  actor: Actor,
  partnershipId: number,
  id: number,
  input: unknown,
  now = new Date(),
): Promise<{ version: number }> {
  assertMember(actor, partnershipId);
  return db.transaction(async (tx) => {
    const before = await caseForUpdate(
      tx,
      actor,
      partnershipId,
      id,
      (input as { version?: unknown })?.version,
    );
    const parsed = outcomeFormSchema.safeParse(input);
    const problems = parsed.success ? [] : problemsOf(parsed.error);
    if (parsed.success) {
      const { closedOn } = parsed.data;
      if (!notFuture(closedOn, londonDate(now))) {
        problems.push({ field: 'closedOn', message: 'The date closed must be today or in the past' });
      } else if (closedOn !== '' && closedOn < before.receivedOn) {
        problems.push({
          field: 'closedOn',
          message: 'The date closed must be on or after the date the application was received',
        });
      }
    }
    if (problems.length || !parsed.success) throw new ValidationError(once(problems));
    const form = parsed.data;
    const [after] = await tx
      .update(t.caseReviews)
      .set({
        outcome: form.outcome || null,
        applicantResponse: form.applicantResponse || null,
        closedOn: form.closedOn || null,
        version: before.version + 1,
        updatedAt: now,
      })
      .where(eq(t.caseReviews.id, id))
      .returning();
    const state = (r: CaseRow) => ({
      reference: r.reference,
      outcomeRecorded: r.outcome !== null,
      applicantResponse: r.applicantResponse,
      closedOn: r.closedOn,
    });
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.outcome_recorded',
      entity: ENTITY,
      entityId: id,
      summary: `Case review ${before.reference}: outcome ${before.outcome === after!.outcome ? 'unchanged' : 'changed'}${
        after!.applicantResponse ? `, applicant ${after!.applicantResponse}` : ''
      }${after!.closedOn ? `, closed ${after!.closedOn}` : ''}`,
      before: state(before),
      after: state(after!),
    });
    return { version: after!.version };
  });
}

// ——— Recommendations ———

export const recommendationFormSchema = z.object({
  text: z
    .string({ error: 'Enter the recommendation' })
    .trim()
    .min(1, 'Enter the recommendation')
    .max(2000, 'The recommendation must be 2,000 characters or fewer'),
  owner: z
    .string({ error: 'Enter who owns it' })
    .trim()
    .min(1, 'Enter who owns it')
    .max(200, 'The owner must be 200 characters or fewer'),
  dueOn: day('the date it is due', false),
  doneOn: day('the date it was done', false),
});

type RecommendationRow = typeof t.caseReviewRecommendations.$inferSelect;

function checkRecommendation(input: unknown, today: string) {
  const parsed = recommendationFormSchema.safeParse(input);
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if (parsed.success && !notFuture(parsed.data.doneOn, today)) {
    problems.push({ field: 'doneOn', message: 'The date done must be today or in the past' });
  }
  if (problems.length || !parsed.success) throw new ValidationError(once(problems));
  const form = parsed.data;
  return { text: form.text, owner: form.owner, dueOn: form.dueOn || null, doneOn: form.doneOn || null };
}

const recommendationState = (r: RecommendationRow) => ({
  owner: r.owner,
  dueOn: r.dueOn,
  doneOn: r.doneOn,
  archived: r.archivedAt !== null,
});

/** A recommendation of the review (held first): its text, owner, due and done dates. */
export async function addRecommendation(
  db: Db,
  actor: Actor,
  partnershipId: number,
  caseId: number,
  input: unknown,
  now = new Date(),
): Promise<{ id: number; version: number }> {
  assertMember(actor, partnershipId);
  return db.transaction(async (tx) => {
    // Adding one changes nothing already there: no version to check.
    const review = await caseForUpdate(tx, actor, partnershipId, caseId, undefined, false);
    const form = checkRecommendation(input, londonDate(now));
    if (!review.reviewOn) {
      throw new ValidationError([{ field: 'text', message: 'Record the review before its recommendations' }]);
    }
    const [row] = await tx
      .insert(t.caseReviewRecommendations)
      .values({ partnershipId, caseReviewId: caseId, ...form })
      .returning();
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.recommendation_added',
      entity: ENTITY,
      entityId: caseId,
      summary: `Case review ${review.reference}: recommendation added for ${form.owner}${form.dueOn ? `, due ${form.dueOn}` : ''}`,
      after: { reference: review.reference, recommendationId: row!.id, ...recommendationState(row!) },
    });
    return { id: row!.id, version: row!.version };
  });
}

async function recommendationFor(
  tx: Tx,
  actor: Actor,
  partnershipId: number,
  caseId: number,
  recommendationId: number,
  version: unknown,
) {
  const review = await caseRow(tx, partnershipId, caseId);
  if (!mayUpdate(actor, review)) {
    throw new ForbiddenError('Only the coordinator and the case officer can change its recommendations');
  }
  const [row] = await tx
    .select()
    .from(t.caseReviewRecommendations)
    .where(
      and(
        eq(t.caseReviewRecommendations.id, recommendationId),
        eq(t.caseReviewRecommendations.caseReviewId, caseId),
        isNull(t.caseReviewRecommendations.archivedAt),
      ),
    )
    .for('update');
  if (!row) throw new NotFoundError('The recommendation');
  const parsed = versionSchema.safeParse(version);
  if (!parsed.success)
    throw new ValidationError([{ field: 'form', message: 'Reload the page and try again' }]);
  if (row.version !== parsed.data) throw new ConflictError(row);
  return { review, row };
}

/** The recommendation's reader view, for the edit and archive pages. */
export async function getRecommendation(
  db: Db,
  actor: Actor,
  partnershipId: number,
  caseId: number,
  recommendationId: number,
) {
  const review = await getCaseReview(db, actor, partnershipId, caseId);
  if (!review.canUpdate) {
    throw new ForbiddenError('Only the coordinator and the case officer can change its recommendations');
  }
  const recommendation = review.recommendations.find((r) => r.id === recommendationId);
  if (!recommendation) throw new NotFoundError('The recommendation');
  return { review, recommendation };
}

export async function updateRecommendation(
  db: Db,
  actor: Actor,
  partnershipId: number,
  caseId: number,
  recommendationId: number,
  input: unknown,
  now = new Date(),
): Promise<{ version: number }> {
  assertMember(actor, partnershipId);
  return db.transaction(async (tx) => {
    const { review, row } = await recommendationFor(
      tx,
      actor,
      partnershipId,
      caseId,
      recommendationId,
      (input as { version?: unknown })?.version,
    );
    const form = checkRecommendation(input, londonDate(now));
    const [after] = await tx
      .update(t.caseReviewRecommendations)
      .set({ ...form, version: row.version + 1 })
      .where(eq(t.caseReviewRecommendations.id, recommendationId))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.recommendation_changed',
      entity: ENTITY,
      entityId: caseId,
      summary: `Case review ${review.reference}: recommendation for ${after!.owner} changed${
        after!.doneOn && !row.doneOn ? `, done ${after!.doneOn}` : ''
      }`,
      before: { reference: review.reference, recommendationId, ...recommendationState(row) },
      after: { reference: review.reference, recommendationId, ...recommendationState(after!) },
    });
    return { version: after!.version };
  });
}

/** Archived, never deleted: it no longer counts, and the history keeps it. */
export async function archiveRecommendation(
  db: Db,
  actor: Actor,
  partnershipId: number,
  caseId: number,
  recommendationId: number,
  input: unknown,
  now = new Date(),
): Promise<void> {
  assertMember(actor, partnershipId);
  await db.transaction(async (tx) => {
    const { review, row } = await recommendationFor(
      tx,
      actor,
      partnershipId,
      caseId,
      recommendationId,
      (input as { version?: unknown })?.version,
    );
    const [after] = await tx
      .update(t.caseReviewRecommendations)
      .set({ archivedAt: now, version: row.version + 1 })
      .where(eq(t.caseReviewRecommendations.id, recommendationId))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId,
      kind: 'case_review.recommendation_archived',
      entity: ENTITY,
      entityId: caseId,
      summary: `Case review ${review.reference}: recommendation for ${row.owner} archived`,
      before: { reference: review.reference, recommendationId, ...recommendationState(row) },
      after: { reference: review.reference, recommendationId, ...recommendationState(after!) },
    });
  });
}

// ——— Redaction ———

export interface RedactionResult {
  /** The cases redacted (or, in a dry run, that would be): partnership, reference, due date. */
  cases: { partnershipId: number; reference: string; dueOn: string }[];
  dryRun: boolean;
}

/**
 * Redacts every case, in every partnership, past its retention date (redactionDueOn with the
 * partnership's retention years): the applicant's name, contact, contact preference and
 * vulnerability, and the complaints' summaries, become null and redacted_at is set. The counts
 * (dates, tenure, threshold, review, recommendations) stay. One transaction, one audit event a
 * case, naming only its reference. Safe to run on several instances at once: a row already
 * redacted is skipped.
 */
export async function redactDueCaseReviews(
  db: Db,
  actor: Actor,
  options: { now?: Date; dryRun?: boolean } = {},
): Promise<RedactionResult> {
  if (!actor.system)
    throw new ForbiddenError('Redaction runs on the server’s schedule or at the command line');
  const now = options.now ?? new Date();
  const today = londonDate(now);
  const dryRun = options.dryRun ?? false;
  return db.transaction(async (tx) => {
    const due = await queryRows<{ id: number; partnership_id: number; reference: string; due_on: string }>(
      tx,
      sql`select c.id, c.partnership_id, c.reference,
            (coalesce(c.closed_on, c.received_on)
              + make_interval(years => coalesce(s.retention_years, ${DEFAULT_RETENTION_YEARS})))::date::text as due_on
          from case_reviews c
          left join evidence_settings s on s.partnership_id = c.partnership_id
          where c.redacted_at is null
            and (coalesce(c.closed_on, c.received_on)
              + make_interval(years => coalesce(s.retention_years, ${DEFAULT_RETENTION_YEARS})))::date <= ${today}::date
          order by c.partnership_id, c.id
          ${dryRun ? sql`` : sql`for update of c skip locked`}`,
    );
    const cases = due.map((r) => ({
      partnershipId: r.partnership_id,
      reference: r.reference,
      dueOn: r.due_on,
    }));
    if (dryRun || !due.length) return { cases, dryRun };
    const ids = due.map((r) => r.id);
    await tx
      .update(t.caseReviews)
      .set({
        applicantName: null,
        applicantContact: null,
        contactPreference: null,
        vulnerability: null,
        redactedAt: now,
        version: sql`${t.caseReviews.version} + 1`,
        updatedAt: now,
      })
      .where(inArray(t.caseReviews.id, ids));
    await tx
      .update(t.caseReviewComplaints)
      .set({ summary: null })
      .where(inArray(t.caseReviewComplaints.caseReviewId, ids));
    for (const r of due) {
      await recordAudit(tx, actor, {
        partnershipId: r.partnership_id,
        kind: 'case_review.redacted',
        entity: ENTITY,
        entityId: r.id,
        summary: `Case review ${r.reference}: personal details redacted (retention period ended ${r.due_on})`,
        after: { reference: r.reference, redacted: true },
      });
    }
    return { cases, dryRun };
  });
}

/**
 * The scheduler's job: redaction at most once a day from this instance, whatever the scheduler's
 * interval (a run in between does nothing).
 */
export function dailyRedactionJob(db: Db, actor: Actor, clock: () => Date = () => new Date()) {
  let lastDay: string | undefined;
  return async (): Promise<{ redacted: number } | { skipped: true }> => {
    const now = clock();
    const today = londonDate(now);
    if (lastDay === today) return { skipped: true };
    const result = await redactDueCaseReviews(db, actor, { now });
    lastDay = today;
    return { redacted: result.cases.length };
  };
}
