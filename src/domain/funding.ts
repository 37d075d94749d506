/**
 * Funding lines: money for an aim or one of its actions, from a source (the PCC's Community Safety
 * Fund, the Serious Violence Fund, a charitable foundation), through its steps: applied for,
 * awarded, received, spent. Money is integer pence everywhere; pounds are only read and written
 * here. The PCC's half-year budget report (H1 April–September, H2 October–March) is modelled
 * here too, so the documents that write it need nothing from the services.
 */
import { isIsoDate } from './cycles.js';
import { planYearDates, MONTH_NAMES } from './quarters.js';

export const FUNDING_STATES = ['applied', 'awarded', 'received', 'spent'] as const;
export type FundingState = (typeof FUNDING_STATES)[number];

export const FUNDING_STATE_LABELS: Record<FundingState, string> = {
  applied: 'Applied for',
  awarded: 'Awarded',
  received: 'Received',
  spent: 'Spent',
};

/** The date field that records each step. */
export const STEP_DATE_FIELDS = {
  applied: 'appliedOn',
  awarded: 'awardedOn',
  received: 'receivedOn',
  spent: 'spentOn',
} as const satisfies Record<FundingState, string>;
export type StepDateField = (typeof STEP_DATE_FIELDS)[FundingState];

/** "Date applied for", as forms and error messages name each date. */
export const STEP_DATE_LABELS: Record<FundingState, string> = {
  applied: 'Date applied for',
  awarded: 'Date awarded',
  received: 'Date received',
  spent: 'Date spent',
};

export function isFundingState(value: unknown): value is FundingState {
  return typeof value === 'string' && (FUNDING_STATES as readonly string[]).includes(value);
}

export function stepIndex(state: FundingState): number {
  return FUNDING_STATES.indexOf(state);
}

// ——— Money ———

/** The largest amount a line may hold: £10 billion, far above any grant, well inside a safe integer. */
export const MAX_PENCE = 1_000_000_000_000;

const POUNDS = /^£?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/;

/**
 * "£10,000", "10000", "10,000.5" or "£1,234.56" → pence (1000000, 1000000, 1000050, 123456);
 * anything else (a minus sign, letters, three decimal places, misplaced commas) → undefined.
 */
export function parsePounds(text: string): number | undefined {
  const match = POUNDS.exec(text.trim());
  if (!match) return undefined;
  const pounds = Number(match[1]!.replace(/,/g, ''));
  const pence = Number((match[2] ?? '').padEnd(2, '0'));
  const total = pounds * 100 + pence;
  return Number.isSafeInteger(total) && total <= MAX_PENCE ? total : undefined;
}

/** 1000000 → "£10,000.00"; negative amounts (a difference) → "-£10.00". */
export function formatPence(pence: number): string {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(Math.round(pence));
  const pounds = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}£${pounds}.${String(abs % 100).padStart(2, '0')}`;
}

/** Pence as a form shows them: 1000050 → "10000.50", 1000000 → "10000". */
export function penceToPoundsText(pence: number): string {
  const whole = Math.floor(pence / 100);
  const rest = pence % 100;
  return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(2, '0')}`;
}

/** Pence as pounds for a spreadsheet cell (a number with a £ format). */
export function penceToPounds(pence: number): number {
  return pence / 100;
}

/** "2024-06-30" → "30 June 2024". */
export function formatDay(iso: string): string {
  const [y, m, d] = iso.split('-');
  return `${Number(d)} ${MONTH_NAMES[Number(m) - 1] ?? ''} ${y}`;
}

// ——— A line and its rules ———

export interface FundingDates {
  appliedOn: string | null;
  awardedOn: string | null;
  receivedOn: string | null;
  spentOn: string | null;
}

export interface FundingFacts extends FundingDates {
  source: string;
  amountPence: number;
  state: FundingState;
  spentToDatePence: number;
  notes: string | null;
}

export interface FundingProblem {
  field: 'source' | 'amount' | 'state' | StepDateField | 'spentToDate' | 'notes';
  message: string;
}

/**
 * What is wrong with a line, field by field (empty when nothing is):
 * - the date of the step the line is in must be given (a line received has its date received);
 *   the dates of the steps before it may be left blank when nobody knows them (a grant that
 *   arrived without an application on record), and a step it has not reached has no date;
 * - the dates it has run in order: applied, awarded, received, spent;
 * - spent to date is no more than the amount, unless the notes say why.
 */
export function fundingProblems(line: FundingFacts): FundingProblem[] {
  const problems: FundingProblem[] = [];
  if (!line.source.trim()) problems.push({ field: 'source', message: 'Enter where the money comes from' });
  const amountValid =
    Number.isSafeInteger(line.amountPence) && line.amountPence >= 0 && line.amountPence <= MAX_PENCE;
  if (!amountValid) {
    problems.push({ field: 'amount', message: 'Enter the amount in pounds, like 10,000 or 10000.50' });
  }
  const reached = stepIndex(line.state);
  let previous: { state: FundingState; on: string } | undefined;
  FUNDING_STATES.forEach((step, i) => {
    const field = STEP_DATE_FIELDS[step];
    const on = line[field];
    if (on !== null && !isIsoDate(on)) {
      problems.push({ field, message: `${STEP_DATE_LABELS[step]} must be a real date` });
      return;
    }
    if (i === reached && on === null) {
      problems.push({
        field,
        message: `Enter the ${STEP_DATE_LABELS[step].toLowerCase()}: the line is ${FUNDING_STATE_LABELS[step].toLowerCase()}`,
      });
    }
    if (i > reached && on !== null) {
      problems.push({
        field,
        message: `${STEP_DATE_LABELS[step]} must be blank while the line is ${FUNDING_STATE_LABELS[line.state].toLowerCase()}, or choose ${FUNDING_STATE_LABELS[step].toLowerCase()} as its state`,
      });
    }
    if (on !== null && i <= reached) {
      if (previous && on < previous.on) {
        problems.push({
          field,
          message: `${STEP_DATE_LABELS[step]} must be the same as or after the ${STEP_DATE_LABELS[previous.state].toLowerCase()}`,
        });
      }
      previous = { state: step, on };
    }
  });
  if (!Number.isSafeInteger(line.spentToDatePence) || line.spentToDatePence < 0) {
    problems.push({ field: 'spentToDate', message: 'Enter the spent to date in pounds, like 2,500 or 0' });
  } else if (amountValid && line.spentToDatePence > line.amountPence && !(line.notes ?? '').trim()) {
    problems.push({
      field: 'spentToDate',
      message: 'Spent to date must not be more than the amount, unless the notes say why',
    });
  }
  return problems;
}

/**
 * The step a line had reached on a day, from its step dates: the latest step dated on or before
 * it (a step with no date counts once a later step is dated). Null when, on that day, it had not
 * yet reached any step the dates show.
 */
export function stateAsAt(line: FundingDates & { state: FundingState }, day: string): FundingState | null {
  let reached: FundingState | null = null;
  for (const step of FUNDING_STATES.slice(0, stepIndex(line.state) + 1)) {
    const on = line[STEP_DATE_FIELDS[step]];
    if (on !== null && on <= day) reached = step;
  }
  return reached;
}

/** The dated steps of a line, in order, up to the step it is in. */
export function datedSteps(
  line: FundingDates & { state: FundingState },
): { state: FundingState; on: string }[] {
  return FUNDING_STATES.slice(0, stepIndex(line.state) + 1).flatMap((state) => {
    const on = line[STEP_DATE_FIELDS[state]];
    return on === null ? [] : [{ state, on }];
  });
}

/** "Applied for 1 April 2024 · Received 30 June 2024". */
export function describeSteps(line: FundingDates & { state: FundingState }): string {
  return datedSteps(line)
    .map((s) => `${FUNDING_STATE_LABELS[s.state]} ${formatDay(s.on)}`)
    .join(' · ');
}

// ——— Halves of the plan year ———

export const HALVES = ['H1', 'H2'] as const;
export type Half = (typeof HALVES)[number];

/** "H1", "h2" → the half; anything else → undefined. */
export function parseHalf(value: string): Half | undefined {
  const upper = value.trim().toUpperCase();
  return (HALVES as readonly string[]).includes(upper) ? (upper as Half) : undefined;
}

export function halfMonths(half: Half): string {
  return half === 'H1' ? 'April to September' : 'October to March';
}

/** H1 runs 1 April to 30 September, H2 1 October to 31 March. */
export function halfDates(year: string, half: Half): { startsOn: string; endsOn: string } {
  const { startsOn, endsOn } = planYearDates(year);
  const start = startsOn.slice(0, 4);
  return half === 'H1' ? { startsOn, endsOn: `${start}-09-30` } : { startsOn: `${start}-10-01`, endsOn };
}

// ——— Totals ———

export interface FundingTotalsRow {
  label: string;
  lines: number;
  /** The amounts of the lines in each state. */
  byState: Record<FundingState, number>;
  totalPence: number;
  spentToDatePence: number;
}

interface Countable {
  amountPence: number;
  spentToDatePence: number;
  state: FundingState;
}

function emptyRow(label: string): FundingTotalsRow {
  return {
    label,
    lines: 0,
    byState: { applied: 0, awarded: 0, received: 0, spent: 0 },
    totalPence: 0,
    spentToDatePence: 0,
  };
}

function addTo(row: FundingTotalsRow, line: Countable): void {
  row.lines += 1;
  row.byState[line.state] += line.amountPence;
  row.totalPence += line.amountPence;
  row.spentToDatePence += line.spentToDatePence;
}

/** One row for all the lines. */
export function grandTotal(lines: readonly Countable[], label = 'Total'): FundingTotalsRow {
  const row = emptyRow(label);
  for (const line of lines) addTo(row, line);
  return row;
}

/**
 * Rows by a grouping, in the order `order` gives (groups not in it follow, alphabetically). A line
 * in several groups (an aim addressing several priorities) is counted in each.
 */
export function totalsBy<T extends Countable>(
  lines: readonly T[],
  groups: (line: T) => readonly string[],
  order: readonly string[] = [],
): FundingTotalsRow[] {
  const rows = new Map<string, FundingTotalsRow>();
  for (const line of lines) {
    for (const group of new Set(groups(line))) {
      let row = rows.get(group);
      if (!row) rows.set(group, (row = emptyRow(group)));
      addTo(row, line);
    }
  }
  const rank = (label: string) => {
    const i = order.indexOf(label);
    return i < 0 ? order.length : i;
  };
  return [...rows.values()].sort(
    (a, b) => rank(a.label) - rank(b.label) || a.label.localeCompare(b.label, 'en-GB'),
  );
}

/** One row a state, every state listed (a state with no lines shows £0.00). */
export function totalsByState(lines: readonly Countable[]): FundingTotalsRow[] {
  return FUNDING_STATES.map((state) =>
    grandTotal(
      lines.filter((l) => l.state === state),
      FUNDING_STATE_LABELS[state],
    ),
  );
}

// ——— The PCC's half-year budget report ———

export const NO_PRIORITY = 'No priority named';

/** A funding line as the report shows it: its state as at the half's end. */
export interface PccReportLine extends FundingDates {
  id: number;
  sectionNumber: number;
  sectionTitle: string;
  aimNumber: string;
  aimTitle: string;
  /** "Action 2: Work with partners…", or null for a line for the aim as a whole. */
  actionLabel: string | null;
  /** The plan's priorities the aim addresses (an aim may address several). */
  priorities: string[];
  source: string;
  amountPence: number;
  spentToDatePence: number;
  /** The step reached by the half's last day. */
  state: FundingState;
  /** The step the line is in now, which may be later than the half. */
  currentState: FundingState;
  /** Its steps dated within the half. */
  stepsInHalf: { state: FundingState; on: string }[];
  notes: string | null;
}

export interface PccBudgetReport {
  partnership: { name: string; area: string | null };
  planYear: string;
  planTitle: string;
  half: Half;
  startsOn: string;
  endsOn: string;
  /** The London day the report was made. */
  preparedOn: string;
  lines: PccReportLine[];
  totals: {
    all: FundingTotalsRow;
    bySource: FundingTotalsRow[];
    byState: FundingTotalsRow[];
    byPriority: FundingTotalsRow[];
    bySection: FundingTotalsRow[];
  };
  /** Lines in the plan that had reached no step by the half's end, so are not in the report. */
  notYetStarted: number;
}

export const PRIORITY_NOTE =
  'An aim can address more than one priority: its lines are counted under each, so the priority rows may add up to more than the total. The total counts each line once.';

export const SPENT_NOTE = 'Spent to date is the figure recorded on each line when the report was prepared.';

/** A line of the plan, with where it sits, for the report to place in the half. */
export interface FundingLineForReport extends FundingFacts {
  id: number;
  sectionNumber: number;
  sectionTitle: string;
  aimNumber: string;
  aimTitle: string;
  actionLabel: string | null;
  priorities: string[];
}

/**
 * The report for one half: the plan's lines with the step each had reached by the half's last
 * day (lines that had reached none are left out), their steps dated within the half, and totals
 * by source, state, priority and section.
 */
export function buildPccReport(input: {
  partnership: PccBudgetReport['partnership'];
  planYear: string;
  planTitle: string;
  half: Half;
  preparedOn: string;
  lines: readonly FundingLineForReport[];
  /** Section labels ("2. Provide safe…") and priority titles in the plan's order. */
  sectionOrder: readonly string[];
  priorityOrder: readonly string[];
}): PccBudgetReport {
  const { startsOn, endsOn } = halfDates(input.planYear, input.half);
  const lines: PccReportLine[] = [];
  let notYetStarted = 0;
  for (const line of input.lines) {
    const state = stateAsAt(line, endsOn);
    if (state === null) {
      notYetStarted += 1;
      continue;
    }
    lines.push({
      id: line.id,
      sectionNumber: line.sectionNumber,
      sectionTitle: line.sectionTitle,
      aimNumber: line.aimNumber,
      aimTitle: line.aimTitle,
      actionLabel: line.actionLabel,
      priorities: line.priorities,
      source: line.source,
      amountPence: line.amountPence,
      spentToDatePence: line.spentToDatePence,
      state,
      currentState: line.state,
      appliedOn: line.appliedOn,
      awardedOn: line.awardedOn,
      receivedOn: line.receivedOn,
      spentOn: line.spentOn,
      stepsInHalf: datedSteps(line).filter((s) => s.on >= startsOn && s.on <= endsOn),
      notes: line.notes,
    });
  }
  const sectionLabel = (l: PccReportLine) => `${l.sectionNumber}. ${l.sectionTitle}`;
  return {
    partnership: input.partnership,
    planYear: input.planYear,
    planTitle: input.planTitle,
    half: input.half,
    startsOn,
    endsOn,
    preparedOn: input.preparedOn,
    lines,
    totals: {
      all: grandTotal(lines),
      bySource: totalsBy(lines, (l) => [l.source]),
      byState: totalsByState(lines),
      byPriority: totalsBy(lines, (l) => (l.priorities.length ? l.priorities : [NO_PRIORITY]), [
        ...input.priorityOrder,
        NO_PRIORITY,
      ]),
      bySection: totalsBy(lines, (l) => [sectionLabel(l)], input.sectionOrder),
    },
    notYetStarted,
  };
}

/** "sosafe-pcc-budget-report-2024-25-H1.docx" */
export function pccReportFilename(
  slug: string,
  year: string,
  half: Half,
  extension: 'docx' | 'xlsx',
): string {
  return `${slug}-pcc-budget-report-${year.replace('/', '-')}-${half}.${extension}`;
}
