/**
 * ASB case reviews (the Community Trigger, Anti-social Behaviour, Crime and Policing Act 2014
 * s.104): the threshold test, financial years, the four statutory annual figures, when personal
 * details are redacted, and who may see and change what. Dates are ISO days, 'YYYY-MM-DD'.
 */
import { isMember, type Member } from './permissions.js';

export const TENURES = [
  'council',
  'housing_association',
  'private_rented',
  'owner',
  'other',
  'not_known',
] as const;
export type Tenure = (typeof TENURES)[number];
export const TENURE_LABELS: Record<Tenure, string> = {
  council: 'Council tenant',
  housing_association: 'Housing association tenant',
  private_rented: 'Private rented',
  owner: 'Owner occupier',
  other: 'Other',
  not_known: 'Not known',
};

export const CONTACT_PREFERENCES = ['phone', 'email', 'letter', 'in_person'] as const;
export type ContactPreference = (typeof CONTACT_PREFERENCES)[number];
export const CONTACT_PREFERENCE_LABELS: Record<ContactPreference, string> = {
  phone: 'Phone',
  email: 'Email',
  letter: 'Letter',
  in_person: 'In person',
};

export const APPLICANT_RESPONSES = ['satisfied', 'escalated'] as const;
export type ApplicantResponse = (typeof APPLICANT_RESPONSES)[number];
export const APPLICANT_RESPONSE_LABELS: Record<ApplicantResponse, string> = {
  satisfied: 'Satisfied',
  escalated: 'Escalated to the Police and Crime Commissioner',
};

/** The partnership's threshold: this many qualifying complaints within this many months. */
export interface ThresholdRule {
  complaints: number;
  months: number;
}
export const DEFAULT_THRESHOLD: ThresholdRule = { complaints: 3, months: 6 };
export const DEFAULT_RETENTION_YEARS = 6;

// ——— Days ———

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar day written YYYY-MM-DD (not 2024-02-30). */
export function isIsoDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function parts(day: string): [number, number, number] {
  const m = ISO_DAY.exec(day);
  if (!m) throw new Error(`Not a day: ${day}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function iso(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The same day `months` months on; the month's last day when it has no such day (31 Aug + 6 → 28/29 Feb). */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = parts(day);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return iso(year, month, Math.min(d, daysInMonth(year, month)));
}

function previousDay(day: string): string {
  const [y, m, d] = parts(day);
  const date = new Date(Date.UTC(y, m - 1, d - 1));
  return iso(date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate());
}

/**
 * The last day of a period of `months` months starting on `start`, as periods of months are
 * reckoned in law: the day before the corresponding day (12 Jan + 6 months ends 11 Jul), or the
 * last day of the month when there is no corresponding day (31 Aug + 6 months ends 28/29 Feb).
 */
export function periodEnd(start: string, months: number): string {
  const [, , d] = parts(start);
  const same = addMonths(start, months);
  return parts(same)[2] === d ? previousDay(same) : same;
}

/** The financial year (1 April to 31 March) a day falls in: '2024/25'. */
export function financialYear(day: string): string {
  const [y, m] = parts(day);
  const start = m >= 4 ? y : y - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Days in short words, the year once per run of days in it: "12 Nov 2023, 2 Jan, 20 Feb 2024". */
export function formatDays(days: readonly string[]): string {
  return days
    .map((day, i) => {
      const [y, m, d] = parts(day);
      const next = days[i + 1];
      const lastOfYear = next === undefined || parts(next)[0] !== y;
      return `${d} ${MONTHS[m - 1]}${lastOfYear ? ` ${y}` : ''}`;
    })
    .join(', ');
}

// ——— The threshold ———

export interface ThresholdDecision {
  met: boolean;
  rule: ThresholdRule;
  /**
   * Met: the first `rule.complaints` complaints of the earliest period that holds enough. Not
   * met: the complaints of the period that holds the most (the earliest such), for the reason.
   */
  complaints: string[];
  /** Complaints dated after the application was received: not counted. */
  ignored: number;
}

/**
 * The threshold test: `rule.complaints` complaints within any period of `rule.months` months
 * (reckoned as periodEnd does), counting only complaints made on or before the day the
 * application was received.
 */
export function decideThreshold(
  complaintDays: readonly string[],
  receivedOn: string,
  rule: ThresholdRule,
): ThresholdDecision {
  const counted = complaintDays.filter((d) => d <= receivedOn).sort();
  const ignored = complaintDays.length - counted.length;
  let best: string[] = [];
  for (let i = 0; i < counted.length; i++) {
    const end = periodEnd(counted[i]!, rule.months);
    let j = i;
    while (j < counted.length && counted[j]! <= end) j++;
    const window = counted.slice(i, j);
    if (window.length >= rule.complaints) {
      return { met: true, rule, complaints: window.slice(0, rule.complaints), ignored };
    }
    if (window.length > best.length) best = window;
  }
  return { met: false, rule, complaints: best, ignored };
}

export function describeRule(rule: ThresholdRule): string {
  const complaints = `${rule.complaints} ${rule.complaints === 1 ? 'complaint' : 'complaints'}`;
  return `${complaints} within ${rule.months} ${rule.months === 1 ? 'month' : 'months'}`;
}

/** Why: "3 complaints within 6 months: 12 Jan, 2 Mar, 20 May 2024". */
export function describeDecision(decision: ThresholdDecision): string {
  const rule = describeRule(decision.rule);
  if (decision.met) return `${rule}: ${formatDays(decision.complaints)}`;
  const most = decision.complaints.length;
  const found =
    most === 0
      ? 'no complaint made on or before the day the application was received'
      : `at most ${most} ${most === 1 ? 'complaint' : 'complaints'} within any ${decision.rule.months} ${
          decision.rule.months === 1 ? 'month' : 'months'
        } (${formatDays(decision.complaints)})`;
  return `Not met: ${rule} needed, ${found}`;
}

// ——— The four annual figures ———

/** What the figures need of an application in the register. */
export interface FiguresRow {
  receivedOn: string;
  thresholdMet: boolean;
  reviewOn: string | null;
  /** Its live recommendations. */
  recommendations: number;
}

/** The four statutory figures of a financial year; null where a published figure was not published. */
export interface AnnualFigures {
  year: string;
  applicationsReceived: number;
  thresholdNotMet: number | null;
  reviewsCarriedOut: number | null;
  reviewsWithRecommendations: number | null;
  /** 'register': counted from the register here; 'published': a figure published before. */
  source: 'register' | 'published';
  /** A register year for which figures were published too: the register's are shown. */
  publishedToo: boolean;
  sourceUrl: string | null;
}

export interface PublishedFigures {
  year: string;
  applicationsReceived: number;
  thresholdNotMet: number | null;
  reviewsCarriedOut: number | null;
  reviewsWithRecommendations: number | null;
  sourceUrl: string | null;
}

/**
 * The figures by financial year, oldest first. Applications received and threshold not met count
 * applications by the year they were received; reviews carried out count reviews by the year the
 * review was held (its review date), whenever the application came; with recommendations, those
 * reviews with at least one live recommendation. A year with published figures and register rows
 * takes the register's.
 */
export function annualFigures(
  rows: readonly FiguresRow[],
  published: readonly PublishedFigures[] = [],
): AnnualFigures[] {
  const years = new Map<string, AnnualFigures>();
  const yearOf = (year: string) => {
    let figures = years.get(year);
    if (!figures) {
      figures = {
        year,
        applicationsReceived: 0,
        thresholdNotMet: 0,
        reviewsCarriedOut: 0,
        reviewsWithRecommendations: 0,
        source: 'register',
        publishedToo: false,
        sourceUrl: null,
      };
      years.set(year, figures);
    }
    return figures;
  };
  for (const row of rows) {
    const received = yearOf(financialYear(row.receivedOn));
    received.applicationsReceived++;
    if (!row.thresholdMet) received.thresholdNotMet!++;
    if (row.reviewOn) {
      const reviewed = yearOf(financialYear(row.reviewOn));
      reviewed.reviewsCarriedOut!++;
      if (row.recommendations > 0) reviewed.reviewsWithRecommendations!++;
    }
  }
  for (const p of published) {
    const counted = years.get(p.year);
    if (counted) {
      counted.publishedToo = true;
      counted.sourceUrl = p.sourceUrl;
      continue;
    }
    years.set(p.year, { ...p, source: 'published', publishedToo: false });
  }
  return [...years.values()].sort((a, b) => a.year.localeCompare(b.year));
}

// ——— Retention ———

/**
 * The day an application's personal details are redacted: `years` after it was closed, or, for
 * one never closed, after it was received, so that nothing is kept for ever because nobody closed
 * it. 29 February counts on to 28 February.
 */
export function redactionDueOn(row: { receivedOn: string; closedOn: string | null }, years: number): string {
  return addMonths(row.closedOn ?? row.receivedOn, years * 12);
}

export function isRedactionDue(
  row: { receivedOn: string; closedOn: string | null; redactedAt: Date | null },
  years: number,
  today: string,
): boolean {
  return row.redactedAt === null && redactionDueOn(row, years) <= today;
}

// ——— Who may ———

/** A case as permission needs it: its partnership and its case officer. */
export interface CaseReviewAccess {
  partnershipId: number;
  caseOfficerUserId: number | null;
}

const isCoordinator = (member: Member | undefined, partnershipId: number): member is Member =>
  isMember(member, partnershipId) && member.role === 'coordinator';

const isCaseOfficer = (member: Member | undefined, review: CaseReviewAccess): member is Member =>
  isMember(member, review.partnershipId) &&
  review.caseOfficerUserId !== null &&
  member.userId === review.caseOfficerUserId;

/**
 * A case in the register: the coordinator, every case; the member named its case officer, their
 * own. Everyone else in the partnership sees only the annual figures.
 */
export function canReadCaseReview(member: Member | undefined, review: CaseReviewAccess): boolean {
  return isCoordinator(member, review.partnershipId) || isCaseOfficer(member, review);
}

/** The applicant's name, contact, contact preference, vulnerability and the complaints' summaries. */
export function canReadPersonalDetails(member: Member | undefined, review: CaseReviewAccess): boolean {
  return canReadCaseReview(member, review);
}

/** The annual figures: every member (and, on the public page, everyone). */
export function canReadCaseReviewFigures(member: Member | undefined, partnershipId: number): boolean {
  return isMember(member, partnershipId);
}

/**
 * Taking applications, changing them (applicant, complaints, case officer: and so the threshold),
 * and the partnership's threshold and retention settings: the coordinator.
 */
export function canManageCaseReviews(member: Member | undefined, partnershipId: number): boolean {
  return isCoordinator(member, partnershipId);
}

/** The review, its recommendations and the outcome: the coordinator, or the case's officer. */
export function canUpdateCaseReview(member: Member | undefined, review: CaseReviewAccess): boolean {
  return canReadCaseReview(member, review);
}

/** Who may be named case officer: a member who is not on the board (which reads, not works cases). */
export function mayBeCaseOfficer(role: Member['role']): boolean {
  return role !== 'board_member';
}
