/**
 * police.uk trends: the crime types police.uk publishes, the links suggested from a plan's
 * priorities' titles (Anti-social behaviour → "All ASB", …), and the months a trend covers. Pure.
 */
import { MONTH_NAMES } from './quarters.js';

/** The 14 crime types of police.uk's street-level files, in police.uk's own order. */
export const POLICE_CRIME_TYPES = [
  'Anti-social behaviour',
  'Bicycle theft',
  'Burglary',
  'Criminal damage and arson',
  'Drugs',
  'Other theft',
  'Possession of weapons',
  'Public order',
  'Robbery',
  'Shoplifting',
  'Theft from the person',
  'Vehicle crime',
  'Violence and sexual offences',
  'Other crime',
] as const;
export type PoliceCrimeType = (typeof POLICE_CRIME_TYPES)[number];

export function isPoliceCrimeType(value: string): value is PoliceCrimeType {
  return (POLICE_CRIME_TYPES as readonly string[]).includes(value);
}

/** Sorts crime types into police.uk's order; a type police.uk may add later goes last, by name. */
export function compareCrimeTypes(a: string, b: string): number {
  const i = (POLICE_CRIME_TYPES as readonly string[]).indexOf(a);
  const j = (POLICE_CRIME_TYPES as readonly string[]).indexOf(b);
  if (i !== -1 && j !== -1) return i - j;
  if (i !== -1) return -1;
  if (j !== -1) return 1;
  return a.localeCompare(b);
}

/**
 * Words in a priority's title and the crime types they bring in. A title may match several rules
 * ("Drugs … and knife crime" brings in Drugs and Possession of weapons). Fraud, cyber crime and
 * modern slavery match nothing: police.uk does not publish them as street-level crime types.
 */
export const LINK_RULES: readonly { words: RegExp; why: string; crimeTypes: readonly PoliceCrimeType[] }[] = [
  { words: /\basb\b|anti-?\s?social/i, why: 'ASB, anti-social', crimeTypes: ['Anti-social behaviour'] },
  {
    words: /violen|\bvawg\b|domestic abuse|sexual|\brape\b|stalking|harass/i,
    why: 'violence, VAWG, domestic abuse, sexual offences, rape, stalking, harassment',
    crimeTypes: ['Violence and sexual offences'],
  },
  {
    words: /drug|cuckoo|county lines/i,
    why: 'drugs, cuckooing, county lines',
    crimeTypes: ['Drugs'],
  },
  {
    words: /knife|knives|weapon|firearm|\bguns?\b/i,
    why: 'knife crime, weapons, firearms',
    crimeTypes: ['Possession of weapons'],
  },
  { words: /robber|mugging/i, why: 'robbery', crimeTypes: ['Robbery'] },
  { words: /burglar/i, why: 'burglary', crimeTypes: ['Burglary'] },
  { words: /shoplift|retail crime/i, why: 'shoplifting, retail crime', crimeTypes: ['Shoplifting'] },
  {
    words: /criminal damage|graffiti|arson|vandal/i,
    why: 'criminal damage, graffiti, arson, vandalism',
    crimeTypes: ['Criminal damage and arson'],
  },
  { words: /public order|disorder/i, why: 'public order, disorder', crimeTypes: ['Public order'] },
  { words: /vehicle|car crime|motor/i, why: 'vehicle crime', crimeTypes: ['Vehicle crime'] },
  { words: /bicycle|\bbikes?\b|cycle theft/i, why: 'bicycle theft', crimeTypes: ['Bicycle theft'] },
  {
    words: /theft from the person|pickpocket|snatch/i,
    why: 'theft from the person',
    crimeTypes: ['Theft from the person'],
  },
  {
    words: /acquisitive/i,
    why: 'acquisitive crime',
    crimeTypes: [
      'Burglary',
      'Robbery',
      'Vehicle crime',
      'Shoplifting',
      'Bicycle theft',
      'Theft from the person',
      'Other theft',
    ],
  },
];

/** The crime types a priority's title suggests, in police.uk's order; none when no rule matches. */
export function suggestCrimeTypes(title: string): PoliceCrimeType[] {
  const found = new Set<PoliceCrimeType>();
  for (const rule of LINK_RULES) {
    if (rule.words.test(title)) for (const type of rule.crimeTypes) found.add(type);
  }
  return POLICE_CRIME_TYPES.filter((t) => found.has(t));
}

export interface CrimeTypeLink {
  priorityId: number;
  crimeType: string;
}

/** The suggested links of a plan's priorities, made from their titles. */
export function defaultLinks(priorities: readonly { id: number; title: string }[]): CrimeTypeLink[] {
  return priorities.flatMap((p) =>
    suggestCrimeTypes(p.title).map((crimeType) => ({ priorityId: p.id, crimeType })),
  );
}

/**
 * A short fingerprint of a set of links, carried by the links form: a save is refused when the
 * links changed since the form was shown (the links have no version of their own).
 */
export function linksFingerprint(links: readonly CrimeTypeLink[]): string {
  const text = links
    .map((l) => `${l.priorityId}\u0000${l.crimeType}`)
    .sort()
    .join('\u0001');
  // FNV-1a, 32 bits: enough to tell "changed" from "the same"; not a security measure.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${links.length}-${hash.toString(16)}`;
}

/** The lengths of trend the months chooser offers; the default is 12. */
export const TREND_MONTH_CHOICES = [3, 6, 12, 24, 36, 60] as const;
export const DEFAULT_TREND_MONTHS = 12;
export const MAX_TREND_MONTHS = 60;

/** ?months=24: a whole number from 1 to 60; anything else (or nothing) is the default. */
export function parseTrendMonths(value: unknown): number {
  if (typeof value !== 'string' || !/^\d{1,3}$/.test(value)) return DEFAULT_TREND_MONTHS;
  const n = Number(value);
  return n >= 1 && n <= MAX_TREND_MONTHS ? n : DEFAULT_TREND_MONTHS;
}

/** '2022-01' → 'January 2022'; `short`: 'Jan 2022'. */
export function monthLabel(month: string, short = false): string {
  const [year, m] = month.split('-');
  const name = MONTH_NAMES[Number(m) - 1] ?? m ?? '';
  return `${short ? name.slice(0, 3) : name} ${year ?? ''}`.trim();
}

/** 'January 2022' or 'February 2021 to January 2022': the months a figure covers. */
export function monthRange(months: readonly string[]): string {
  if (!months.length) return 'no months';
  const first = months[0]!;
  const last = months.at(-1)!;
  return first === last ? monthLabel(first) : `${monthLabel(first)} to ${monthLabel(last)}`;
}

/** The area's share of the force's count, '10.2%'; a dash when the force has none. */
export function shareOf(area: number, force: number): string {
  if (force <= 0) return '–';
  return `${((100 * area) / force).toFixed(1)}%`;
}
