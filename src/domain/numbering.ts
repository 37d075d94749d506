/**
 * Aim numbers are "<section>.<n>" as the plan writes them: "1.1", "4.0", "5.7".
 * Sorting is numeric within a section, so "5.10" follows "5.9".
 */
const AIM_NUMBER = /^(\d{1,2})\.(\d{1,2})$/;

export function isAimNumber(value: string): boolean {
  return AIM_NUMBER.test(value);
}

export function aimNumberParts(value: string): [number, number] | undefined {
  const match = AIM_NUMBER.exec(value);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** The section an aim number belongs to: "4.2" → 4. */
export function sectionOfAimNumber(value: string): number | undefined {
  return aimNumberParts(value)?.[0];
}

export function compareAimNumbers(a: string, b: string): number {
  const pa = aimNumberParts(a) ?? [Infinity, Infinity];
  const pb = aimNumberParts(b) ?? [Infinity, Infinity];
  return pa[0] - pb[0] || pa[1] - pb[1];
}

/** The next free number in a section: after 5.7 comes 5.8; an empty section 3 starts at 3.1. */
export function nextAimNumber(section: number, existing: readonly string[]): string {
  let highest = 0;
  for (const number of existing) {
    const parts = aimNumberParts(number);
    if (parts && parts[0] === section) highest = Math.max(highest, parts[1]);
  }
  return `${section}.${highest + 1}`;
}

/** "August 2024": made once (toLocaleDateString would build a new formatter on every call). */
const MONTH_YEAR = new Intl.DateTimeFormat('en-GB', {
  month: 'long',
  year: 'numeric',
  timeZone: 'Europe/London',
});

/** "Added August 2024" for an aim added part-way through the plan year. */
export function addedLabel(addedOn: string | null | undefined): string | undefined {
  if (!addedOn) return undefined;
  const date = new Date(`${addedOn.slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return undefined;
  return `Added ${MONTH_YEAR.format(date)}`;
}
