/**
 * Plan years run 1 April to 31 March and are written "2024/25".
 * Quarters: Q1 Apr–Jun, Q2 Jul–Sep, Q3 Oct–Dec, Q4 Jan–Mar.
 */
export const QUARTERS = [1, 2, 3, 4] as const;

/** The months' names, January first. */
export const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;
export type Quarter = (typeof QUARTERS)[number];

const QUARTER_MONTHS: Record<Quarter, string> = {
  1: 'April to June',
  2: 'July to September',
  3: 'October to December',
  4: 'January to March',
};

const PLAN_YEAR = /^(\d{4})\/(\d{2})$/;

export function isQuarter(value: unknown): value is Quarter {
  return value === 1 || value === 2 || value === 3 || value === 4;
}

/** "Q3", "q3" or "3" → 3; anything else → undefined. */
export function parseQuarter(value: string): Quarter | undefined {
  const match = /^\s*q?([1-4])\s*$/i.exec(value);
  const n = match ? Number(match[1]) : NaN;
  return isQuarter(n) ? n : undefined;
}

export function quarterLabel(quarter: Quarter): string {
  return `Q${quarter}`;
}

export function quarterMonths(quarter: Quarter): string {
  return QUARTER_MONTHS[quarter];
}

export function isPlanYear(value: string): boolean {
  const match = PLAN_YEAR.exec(value);
  if (!match) return false;
  const start = Number(match[1]);
  return (start + 1) % 100 === Number(match[2]);
}

/** "2024/25" → "2024-25", the form used in URLs. */
export function planYearSlug(year: string): string {
  return year.replace('/', '-');
}

/** "2024-25" or "2024/25" → "2024/25"; undefined when it is not a plan year. */
export function parsePlanYear(value: string): string | undefined {
  const year = value.trim().replace('-', '/');
  return isPlanYear(year) ? year : undefined;
}

/** The plan year after this one: "2024/25" → "2025/26". */
export function nextPlanYear(year: string): string {
  const start = Number(year.slice(0, 4)) + 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}

/** First and last day of a plan year, as ISO dates. */
export function planYearDates(year: string): { startsOn: string; endsOn: string } {
  const start = Number(year.slice(0, 4));
  return { startsOn: `${start}-04-01`, endsOn: `${start + 1}-03-31` };
}

/** The quarter of a plan year that a date falls in, or undefined when outside the year. */
export function quarterOfDate(year: string, date: Date): Quarter | undefined {
  const start = Number(year.slice(0, 4));
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth(); // 0 = January
  if (y === start && m >= 3) return (Math.floor((m - 3) / 3) + 1) as Quarter;
  if (y === start + 1 && m <= 2) return 4;
  return undefined;
}

/** The plan year a date falls in: 2025-02-10 → "2024/25". */
export function planYearOfDate(date: Date): string {
  const y = date.getUTCFullYear();
  const start = date.getUTCMonth() >= 3 ? y : y - 1;
  return `${start}/${String((start + 1) % 100).padStart(2, '0')}`;
}
