/** Progress statuses, in the order a reader expects them. Shown as text, never colour alone. */
export const STATUSES = ['not_started', 'on_track', 'at_risk', 'off_track', 'complete'] as const;
export type Status = (typeof STATUSES)[number];

export const STATUS_LABELS: Record<Status, string> = {
  not_started: 'Not started',
  on_track: 'On track',
  at_risk: 'At risk',
  off_track: 'Off track',
  complete: 'Complete',
};

/** GOV.UK tag colour modifiers; the label text always carries the meaning. */
export const STATUS_TAG_CLASSES: Record<Status, string> = {
  not_started: 'govuk-tag--grey',
  on_track: 'govuk-tag--green',
  at_risk: 'govuk-tag--yellow',
  off_track: 'govuk-tag--red',
  complete: 'govuk-tag--blue',
};

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

/** Accepts the code ("on_track") or the label ("On track"), as people type them in files. */
export function parseStatus(value: string): Status | undefined {
  const key = value
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return isStatus(key) ? key : undefined;
}
