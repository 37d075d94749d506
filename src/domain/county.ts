/**
 * The county view's rules: what counts as the same priority or organisation in two partnerships,
 * which update gives an action its current status, and what is shared across partnerships.
 */
import type { Status } from './status.js';

/** Titles and names match across partnerships ignoring capitals and spacing: "All  asb" is "All ASB". */
export function matchKey(text: string): string {
  return text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

export interface CountedUpdate {
  id: number;
  /** 1–4, or null for progress the plan records without a quarter (older than any quarter's). */
  quarter: number | null;
  recordedAt: Date | null;
  status: Status | null;
}

/**
 * An action's current status: that of its latest update (the latest quarter, then the latest
 * recorded, then the latest written), or null when it has none or that update gives none.
 * The caller passes submitted and accepted updates only: a draft is nobody's word yet.
 */
export function currentStatus(updates: readonly CountedUpdate[]): Status | null {
  let latest: CountedUpdate | undefined;
  for (const u of updates) {
    if (!latest || compareUpdates(u, latest) > 0) latest = u;
  }
  return latest?.status ?? null;
}

function compareUpdates(a: CountedUpdate, b: CountedUpdate): number {
  return (
    (a.quarter ?? 0) - (b.quarter ?? 0) ||
    (a.recordedAt?.getTime() ?? -Infinity) - (b.recordedAt?.getTime() ?? -Infinity) ||
    a.id - b.id
  );
}

/** Something found in one partnership, under the key it is matched by. */
export interface Keyed<T> {
  partnership: string;
  key: string;
  item: T;
}

/**
 * The keys found in more than one partnership, each with its items grouped by partnership in the
 * order the partnerships were given; keys in the order they first appear.
 */
export function sharedAcross<T>(
  partnerships: readonly string[],
  items: readonly Keyed<T>[],
): { key: string; byPartnership: { partnership: string; items: T[] }[] }[] {
  const byKey = new Map<string, Map<string, T[]>>();
  for (const { partnership, key, item } of items) {
    let groups = byKey.get(key);
    if (!groups) byKey.set(key, (groups = new Map()));
    const list = groups.get(partnership);
    if (list) list.push(item);
    else groups.set(partnership, [item]);
  }
  return [...byKey.entries()]
    .filter(([, groups]) => groups.size > 1)
    .map(([key, groups]) => ({
      key,
      byPartnership: partnerships.flatMap((p) => {
        const found = groups.get(p);
        return found ? [{ partnership: p, items: found }] : [];
      }),
    }));
}
