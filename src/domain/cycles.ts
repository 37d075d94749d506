/**
 * The quarterly cycle's rules: a quarter is opened with a due date, lead officers are asked for
 * their updates, reminded at offsets from the due date until they submit, JAG reviews what they
 * submit, and the coordinator closes the quarter. Dates are calendar days in Europe/London.
 */

/** Days from the due date: a week before, the day after, a week after. */
export const DEFAULT_REMINDER_OFFSETS: readonly number[] = [-7, 1, 7];

/** Where an action stands in a cycle, as the coordinator's submission board shows it. */
export const SUBMISSION_STATES = [
  'not_requested',
  'requested',
  'draft',
  'submitted',
  'accepted',
  'returned',
] as const;
export type SubmissionState = (typeof SUBMISSION_STATES)[number];

export const SUBMISSION_STATE_LABELS: Record<SubmissionState, string> = {
  not_requested: 'Not requested',
  requested: 'Requested',
  draft: 'Draft',
  submitted: 'Submitted',
  accepted: 'Accepted',
  returned: 'Returned',
};

/** GOV.UK tag modifiers; the label carries the meaning. */
export const SUBMISSION_STATE_TAG_CLASSES: Record<SubmissionState, string> = {
  not_requested: 'govuk-tag--grey',
  requested: 'govuk-tag--light-blue',
  draft: 'govuk-tag--yellow',
  submitted: 'govuk-tag--blue',
  accepted: 'govuk-tag--green',
  returned: 'govuk-tag--red',
};

/** A progress update's own state (progress_updates.state). */
export type UpdateState = 'draft' | 'submitted' | 'accepted' | 'returned';

export function isSubmissionState(value: unknown): value is SubmissionState {
  return typeof value === 'string' && (SUBMISSION_STATES as readonly string[]).includes(value);
}

/** An action's state in a cycle: its update's state when it has one, else whether it was asked. */
export function submissionState(
  requested: boolean,
  update: { state: UpdateState } | undefined,
): SubmissionState {
  if (update) return update.state;
  return requested ? 'requested' : 'not_requested';
}

/** Still owed by its lead: nothing submitted yet, a draft, or an update sent back. */
export function awaitsSubmission(state: SubmissionState): boolean {
  return state === 'requested' || state === 'draft' || state === 'returned';
}

/** One formatter, made once: making one (as toLocaleDateString with options does) costs more than using it. */
const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' });

/** The calendar date in Europe/London, as YYYY-MM-DD. */
export function londonDate(at: Date): string {
  return LONDON_DAY.format(at);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  const match = ISO_DATE.exec(value);
  if (!match) return false;
  const d = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return d.toISOString().slice(0, 10) === value;
}

export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Submitted after the due date: any time from the day after it, in Europe/London. */
export function isLate(dueOn: string, at: Date): boolean {
  return londonDate(at) > dueOn;
}

/** The day a reminder at this offset goes. */
export function reminderDate(dueOn: string, offsetDays: number): string {
  return addDays(dueOn, offsetDays);
}

/** "7 days before the due date", "on the due date", "1 day after the due date". */
export function offsetLabel(offsetDays: number): string {
  if (offsetDays === 0) return 'on the due date';
  const n = Math.abs(offsetDays);
  return `${n} day${n === 1 ? '' : 's'} ${offsetDays < 0 ? 'before' : 'after'} the due date`;
}

/** Reminders go from this hour of their day (Europe/London), not in the small hours. */
export const REMINDER_HOUR = 8;

/** The hour of the day in Europe/London, 0–23. */
export function londonHour(at: Date): number {
  return Number(at.toLocaleString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', hourCycle: 'h23' }));
}

/**
 * The reminder rounds of a cycle that are due now and have not gone: their day has come (from
 * REMINDER_HOUR on that day), and it came after the day the quarter was opened (a quarter opened
 * three days before its due date gets no "7 days before" reminder on top of the request itself).
 * Oldest first.
 */
export function dueReminderOffsets(
  cycle: { dueOn: string; reminderOffsets: readonly number[]; openedAt: Date; closedAt: Date | null },
  alreadySent: readonly number[],
  now: Date,
): number[] {
  if (cycle.closedAt) return [];
  const today = londonDate(now);
  const startedToday = londonHour(now) >= REMINDER_HOUR;
  const opened = londonDate(cycle.openedAt);
  return [...new Set(cycle.reminderOffsets)]
    .filter((offset) => !alreadySent.includes(offset))
    .filter((offset) => {
      const day = reminderDate(cycle.dueOn, offset);
      return (day < today || (day === today && startedToday)) && day > opened;
    })
    .sort((a, b) => a - b);
}

/**
 * Reads reminder offsets typed as "-7, 1, 7" (days from the due date; negative is before).
 * Returns undefined when any part is not a whole number between -60 and 60.
 */
export function parseReminderOffsets(value: string): number[] | undefined {
  const parts = value
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const offsets: number[] = [];
  for (const part of parts) {
    if (!/^[+-]?\d{1,2}$/.test(part)) return undefined;
    const n = Number(part);
    if (n < -60 || n > 60) return undefined;
    offsets.push(n);
  }
  return [...new Set(offsets)].sort((a, b) => a - b);
}

export function formatReminderOffsets(offsets: readonly number[]): string {
  return offsets.join(', ');
}

/** A member who could be asked for an action's update. */
export interface RequestCandidate {
  userId: number;
  role: string;
  personId: number | null;
  organisationId: number | null;
}

/**
 * Who is asked for an action's update: the people the plan names as its leads who have an
 * account; when none of them has one, the lead officers of its lead organisations. Nobody, when
 * neither: the action stays "not requested" and the board says so.
 */
export function requestRecipients(
  leadership: { organisationIds: readonly number[]; personIds: readonly number[] },
  members: readonly RequestCandidate[],
): number[] {
  const named = members.filter(
    (m) =>
      (m.role === 'lead_officer' || m.role === 'coordinator') &&
      m.personId !== null &&
      leadership.personIds.includes(m.personId),
  );
  if (named.length) return [...new Set(named.map((m) => m.userId))];
  const byOrganisation = members.filter(
    (m) =>
      m.role === 'lead_officer' &&
      m.organisationId !== null &&
      leadership.organisationIds.includes(m.organisationId),
  );
  return [...new Set(byOrganisation.map((m) => m.userId))];
}

/** A quarter's cycle in words: not opened, open until its due date, or closed. */
export type CyclePhase = 'not_opened' | 'open' | 'closed';

export function cyclePhase(cycle: { closedAt: Date | null } | undefined): CyclePhase {
  if (!cycle) return 'not_opened';
  return cycle.closedAt ? 'closed' : 'open';
}
