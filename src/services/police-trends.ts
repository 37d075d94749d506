/**
 * police.uk trends for a partnership: its area's monthly counts by crime type beside its force's,
 * each priority's trend (the crime types linked to it), hotspots by LSOA and the outcome mix.
 * Reads only the counts tables (police_area_counts, police_area_lsoa_counts, police_force_counts,
 * police_crime_counts, police_outcome_counts, kept up to date at import by police-counts.ts), never
 * the rows, so a trend over five years of a large force stays a few indexed reads. Writes: the
 * crime type ↔ priority links, and the area (through setPartnershipArea). Every member reads; the
 * coordinator writes.
 */
import { and, asc, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { canManageEvidence, canReadEvidence } from '../domain/evidence.js';
import {
  compareCrimeTypes,
  DEFAULT_TREND_MONTHS,
  defaultLinks,
  isPoliceCrimeType,
  linksFingerprint,
  MAX_TREND_MONTHS,
  POLICE_CRIME_TYPES,
  suggestCrimeTypes,
  type CrimeTypeLink,
} from '../domain/police-trends.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { cachedRead, type ReadStamp } from './read-cache.js';
import { currentPlanYear, type PartnershipRow } from './plan-read.js';
import {
  describeArea,
  importPoliceUkFile,
  readArea,
  setPartnershipArea,
  type PoliceUkArea,
  type PoliceUkImportResult,
} from './police-uk.js';

// ——— Permission ———

function assertMayRead(actor: Actor, partnershipId: number): void {
  if (actor.system || canReadEvidence(actor.member, partnershipId)) return;
  throw new ForbiddenError('Only members of the partnership can see its evidence');
}

function assertMayManage(actor: Actor, partnership: PartnershipRow, what: string): void {
  if (actor.system || canManageEvidence(actor.member, partnership.id)) return;
  throw new ForbiddenError(`Only ${partnership.name}’s coordinator may ${what}`);
}

// ——— Reading the counts ———

export interface MonthCount {
  month: string;
  area: number;
  force: number;
}

export interface CrimeTypeTrend {
  crimeType: string;
  /** Over the months shown. */
  area: number;
  force: number;
  monthly: MonthCount[];
}

export interface PriorityTrend {
  priorityId: number;
  title: string;
  crimeTypes: string[];
  area: number;
  force: number;
  monthly: MonthCount[];
}

export interface Hotspot {
  lsoaCode: string;
  lsoaName: string;
  crimes: number;
  topCrimeType: string;
  topCrimes: number;
}

export interface Hotspots {
  months: string[];
  /** The LSOAs with most crimes, most first (at most HOTSPOT_ROWS). */
  rows: Hotspot[];
  /** LSOAs of the area with any crime in the months. */
  lsoas: number;
  /** The force's crimes in the months with no location: they cannot be placed in any area. */
  withoutLocation: number;
}

export interface OutcomeMix {
  months: string[];
  /** The months of `months` that have outcomes imported for the area. */
  monthsWithOutcomes: string[];
  rows: { outcomeType: string; outcomes: number }[];
  total: number;
}

export const HOTSPOT_ROWS = 10;

/** The months, area and force a partnership's trends are read over. */
interface Basis {
  area: PoliceUkArea;
  /** Ascending; the latest `wanted` months of the area's data (at least 12 read for hotspots). */
  allMonths: string[];
  force: string | null;
}

function inArea(area: PoliceUkArea, lsoaCode: AnyPgColumn, lsoaName: AnyPgColumn): SQL {
  const tests: SQL[] = area.prefixes.map((p) => sql`starts_with(${lsoaName}, ${p})`);
  if (area.codes.length) tests.push(inArray(lsoaCode, area.codes));
  return tests.length ? or(...tests)! : sql`false`;
}

/** The latest `n` months with counts in the area, ascending. */
async function areaMonths(db: Db, partnershipId: number, n: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ month: t.policeAreaCounts.month })
    .from(t.policeAreaCounts)
    .where(eq(t.policeAreaCounts.partnershipId, partnershipId))
    .orderBy(desc(t.policeAreaCounts.month))
    .limit(n);
  return rows.map((r) => r.month).reverse();
}

/** The force that reports most crimes in the area in its latest month. */
async function areaForce(db: Db, area: PoliceUkArea, month: string): Promise<string | null> {
  const c = t.policeCrimeCounts;
  const [row] = await db
    .select({ force: c.force })
    .from(c)
    .where(and(eq(c.month, month), inArea(area, c.lsoaCode, c.lsoaName)))
    .groupBy(c.force)
    .orderBy(desc(sql`sum(${c.crimes})`), asc(c.force))
    .limit(1);
  return row?.force ?? null;
}

async function readBasis(db: Db, partnershipId: number, wanted: number): Promise<Basis> {
  const area = await readArea(db, partnershipId);
  const allMonths = await areaMonths(db, partnershipId, Math.max(wanted, 12));
  const latest = allMonths.at(-1);
  const force = latest ? await areaForce(db, area, latest) : null;
  return { area, allMonths, force };
}

type Counts = Map<string, Map<string, number>>;

function add(counts: Counts, month: string, crimeType: string, n: number): void {
  let byType = counts.get(month);
  if (!byType) counts.set(month, (byType = new Map()));
  byType.set(crimeType, (byType.get(crimeType) ?? 0) + n);
}

/** The area's and the force's counts by month and crime type over the months. */
async function monthlyCounts(
  db: Db,
  partnershipId: number,
  force: string | null,
  months: readonly string[],
): Promise<{ area: Counts; force: Counts }> {
  const area: Counts = new Map();
  const forceCounts: Counts = new Map();
  if (!months.length) return { area, force: forceCounts };
  const a = t.policeAreaCounts;
  const f = t.policeForceCounts;
  const [areaRows, forceRows] = await Promise.all([
    db
      .select({ month: a.month, crimeType: a.crimeType, crimes: a.crimes })
      .from(a)
      .where(and(eq(a.partnershipId, partnershipId), inArray(a.month, [...months]))),
    force
      ? db
          .select({ month: f.month, crimeType: f.crimeType, crimes: f.crimes })
          .from(f)
          .where(and(eq(f.force, force), inArray(f.month, [...months])))
      : Promise.resolve([]),
  ]);
  for (const r of areaRows) add(area, r.month, r.crimeType, r.crimes);
  for (const r of forceRows) add(forceCounts, r.month, r.crimeType, Number(r.crimes));
  return { area, force: forceCounts };
}

function seriesOf(
  counts: { area: Counts; force: Counts },
  months: readonly string[],
  crimeTypes: readonly string[] | null,
): MonthCount[] {
  const sum = (byType: Map<string, number> | undefined) => {
    if (!byType) return 0;
    if (crimeTypes === null) return [...byType.values()].reduce((s, n) => s + n, 0);
    return crimeTypes.reduce((s, type) => s + (byType.get(type) ?? 0), 0);
  };
  return months.map((month) => ({
    month,
    area: sum(counts.area.get(month)),
    force: sum(counts.force.get(month)),
  }));
}

const total = (series: readonly MonthCount[], key: 'area' | 'force') =>
  series.reduce((s, m) => s + m[key], 0);

/**
 * The hotspots of the last 12 months and of the latest 3 (which are among them), from one read of
 * the area's counts by LSOA and one of the force's crimes without a location: each LSOA's crimes
 * in each period, summed as the database groups them.
 */
async function hotspotsOf(
  db: Db,
  partnershipId: number,
  basis: Basis,
  periods: { recent: readonly string[]; year: readonly string[] },
): Promise<{ recent: Hotspots; year: Hotspots }> {
  const c = t.policeCrimeCounts;
  const a = t.policeAreaLsoaCounts;
  const { recent, year } = periods;
  const inRecent = (month: AnyPgColumn) => (recent.length ? inArray(month, [...recent]) : sql`false`);
  // The two reads at once (getCrimeTrends reads on the pool, never in a transaction).
  const [rows, unlocated] = await Promise.all([
    year.length
      ? db
          .select({
            lsoaCode: a.lsoaCode,
            lsoaName: sql<string>`max(${a.lsoaName})`,
            crimeType: a.crimeType,
            year: sql<number>`sum(${a.crimes})::integer`,
            // null: no row of this LSOA and type in the recent months (0: rows of no crimes).
            recent: sql<number | null>`(sum(${a.crimes}) filter (where ${inRecent(a.month)}))::integer`,
          })
          .from(a)
          .where(and(eq(a.partnershipId, partnershipId), inArray(a.month, [...year])))
          .groupBy(a.lsoaCode, a.crimeType)
      : [],
    basis.force && year.length
      ? db
          .select({
            year: sql<number>`coalesce(sum(${c.crimes}), 0)::integer`,
            recent: sql<number>`coalesce(sum(${c.crimes}) filter (where ${inRecent(c.month)}), 0)::integer`,
          })
          .from(c)
          .where(and(eq(c.force, basis.force), inArray(c.month, [...year]), eq(c.lsoaCode, '')))
      : [],
  ]);
  const withoutLocation = {
    year: Number(unlocated[0]?.year ?? 0),
    recent: Number(unlocated[0]?.recent ?? 0),
  };
  const rank = (months: readonly string[], key: 'year' | 'recent'): Hotspots => {
    const byLsoa = new Map<string, Hotspot>();
    for (const r of rows) {
      if (r[key] === null) continue;
      const n = Number(r[key]);
      const spot = byLsoa.get(r.lsoaCode) ?? {
        lsoaCode: r.lsoaCode,
        lsoaName: r.lsoaName,
        crimes: 0,
        topCrimeType: r.crimeType,
        topCrimes: 0,
      };
      spot.crimes += n;
      if (
        n > spot.topCrimes ||
        (n === spot.topCrimes && compareCrimeTypes(r.crimeType, spot.topCrimeType) < 0)
      ) {
        spot.topCrimeType = r.crimeType;
        spot.topCrimes = n;
      }
      byLsoa.set(r.lsoaCode, spot);
    }
    const ranked = [...byLsoa.values()].sort(
      (x, y) => y.crimes - x.crimes || x.lsoaName.localeCompare(y.lsoaName),
    );
    return {
      months: [...months],
      rows: ranked.slice(0, HOTSPOT_ROWS),
      lsoas: ranked.length,
      withoutLocation: withoutLocation[key],
    };
  };
  return { recent: rank(recent, 'recent'), year: rank(year, 'year') };
}

async function outcomeMix(db: Db, area: PoliceUkArea, months: readonly string[]): Promise<OutcomeMix> {
  const o = t.policeOutcomeCounts;
  const rows = months.length
    ? await db
        .select({
          month: o.month,
          outcomeType: o.outcomeType,
          outcomes: sql<number>`sum(${o.outcomes})::integer`,
        })
        .from(o)
        .where(and(inArray(o.month, [...months]), inArea(area, o.lsoaCode, o.lsoaName)))
        .groupBy(o.month, o.outcomeType)
    : [];
  const byType = new Map<string, number>();
  for (const r of rows) byType.set(r.outcomeType, (byType.get(r.outcomeType) ?? 0) + Number(r.outcomes));
  const list = [...byType.entries()]
    .map(([outcomeType, outcomes]) => ({ outcomeType, outcomes }))
    .sort((a, b) => b.outcomes - a.outcomes || a.outcomeType.localeCompare(b.outcomeType));
  const withOutcomes = new Set(rows.map((r) => r.month));
  return {
    months: [...months],
    monthsWithOutcomes: months.filter((m) => withOutcomes.has(m)),
    rows: list,
    total: list.reduce((s, r) => s + r.outcomes, 0),
  };
}

// ——— The links between crime types and priorities ———

interface PlanPriority {
  id: number;
  planId: number;
  title: string;
}

async function livePriorities(db: Db | Tx, planId: number): Promise<PlanPriority[]> {
  const p = t.priorities;
  return db
    .select({ id: p.id, planId: p.planId, title: p.title })
    .from(p)
    .where(and(eq(p.planId, planId), isNull(p.archivedAt)))
    .orderBy(asc(p.position), asc(p.id));
}

async function storedLinks(db: Db | Tx, priorityIds: readonly number[]): Promise<CrimeTypeLink[]> {
  if (!priorityIds.length) return [];
  const l = t.crimeTypePriorities;
  return db
    .select({ priorityId: l.priorityId, crimeType: l.crimeType })
    .from(l)
    .where(inArray(l.priorityId, [...priorityIds]));
}

/**
 * The links in force for a plan's priorities: the coordinator's once saved; until then the
 * links suggested by the priorities' titles (nothing is written for a mere read).
 */
async function effectiveLinks(
  db: Db | Tx,
  priorities: readonly PlanPriority[],
): Promise<{ links: CrimeTypeLink[]; saved: boolean }> {
  const stored = await storedLinks(
    db,
    priorities.map((p) => p.id),
  );
  return stored.length ? { links: stored, saved: true } : { links: defaultLinks(priorities), saved: false };
}

function typesOf(links: readonly CrimeTypeLink[], priorityId: number): string[] {
  return links
    .filter((l) => l.priorityId === priorityId)
    .map((l) => l.crimeType)
    .sort(compareCrimeTypes);
}

async function currentPlan(db: Db, partnershipId: number) {
  const year = await currentPlanYear(db, partnershipId);
  if (!year) return null;
  const [plan] = await db
    .select({ id: t.plans.id, year: t.plans.year })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnershipId), eq(t.plans.year, year)));
  return plan ?? null;
}

export interface PriorityLinks {
  plan: { id: number; year: string } | null;
  /** False while the coordinator has not saved the links: the suggested ones are used. */
  saved: boolean;
  /** The links form's fingerprint of the links in force. */
  basis: string;
  priorities: { id: number; title: string; crimeTypes: string[]; suggested: string[] }[];
  crimeTypes: readonly string[];
  canManage: boolean;
}

/** The current plan's priorities and the crime types linked to each (members read). */
export async function getPriorityLinks(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
): Promise<PriorityLinks> {
  assertMayRead(actor, partnership.id);
  const plan = await currentPlan(db, partnership.id);
  const priorities = plan ? await livePriorities(db, plan.id) : [];
  const { links, saved } = await effectiveLinks(db, priorities);
  return {
    plan,
    saved,
    basis: linksFingerprint(links),
    priorities: priorities.map((p) => ({
      id: p.id,
      title: p.title,
      crimeTypes: typesOf(links, p.id),
      suggested: suggestCrimeTypes(p.title),
    })),
    crimeTypes: POLICE_CRIME_TYPES,
    canManage: actor.system || canManageEvidence(actor.member, partnership.id),
  };
}

/**
 * Replaces the current plan's links (coordinator), in one transaction with its audit event.
 * input: { basis: the form's fingerprint, links: { [priorityId]: crime types } } or
 * { basis, suggested: true } for the links suggested by the titles. A save with no link at all
 * is refused: with none saved the suggestions apply, so "none" could not be kept.
 */
export async function savePriorityLinks(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  input: { basis: string; links?: Record<string, readonly string[]>; suggested?: boolean },
): Promise<{ links: number }> {
  assertMayManage(actor, partnership, 'link crime types to its priorities');
  const plan = await currentPlan(db, partnership.id);
  if (!plan) throw new NotFoundError('A plan for this partnership');
  return db.transaction(async (tx) => {
    // Only `tx` in here (PGlite has one connection). The plan row is locked so two saves queue.
    await tx.select({ id: t.plans.id }).from(t.plans).where(eq(t.plans.id, plan.id)).for('update');
    const priorities = await livePriorities(tx, plan.id);
    const before = await effectiveLinks(tx, priorities);
    if (input.basis !== linksFingerprint(before.links)) {
      throw new ConflictError(before, 'Someone else changed the links since you opened the page');
    }
    let chosen: CrimeTypeLink[];
    if (input.suggested) {
      chosen = defaultLinks(priorities);
    } else {
      const ids = new Set(priorities.map((p) => p.id));
      chosen = [];
      const problems: { field: string; message: string }[] = [];
      for (const [key, types] of Object.entries(input.links ?? {})) {
        const priorityId = Number(key);
        if (!ids.has(priorityId)) {
          problems.push({ field: 'links', message: 'Choose crime types for the plan’s own priorities' });
          continue;
        }
        for (const crimeType of new Set(types)) {
          if (!isPoliceCrimeType(crimeType)) {
            problems.push({ field: `priority-${priorityId}`, message: 'Choose crime types from the list' });
          } else chosen.push({ priorityId, crimeType });
        }
      }
      if (!problems.length && !chosen.length) {
        problems.push({
          field: `priority-${priorities[0]?.id ?? 'links'}`,
          message: 'Link at least one crime type to a priority, or use the suggested links',
        });
      }
      if (problems.length) throw new ValidationError(problems);
    }
    const l = t.crimeTypePriorities;
    const priorityIds = priorities.map((p) => p.id);
    if (priorityIds.length) await tx.delete(l).where(inArray(l.priorityId, priorityIds));
    if (chosen.length) {
      await tx.insert(l).values(chosen.map((c) => ({ partnershipId: partnership.id, ...c })));
    }
    const describe = (links: readonly CrimeTypeLink[]) =>
      Object.fromEntries(priorities.map((p) => [p.title, typesOf(links, p.id)]));
    await recordAudit(tx, actor, {
      partnershipId: partnership.id,
      kind: 'police_trends.links_saved',
      entity: 'plan',
      entityId: plan.id,
      summary: input.suggested
        ? `Linked crime types to the ${plan.year} priorities as suggested by their titles (${chosen.length} links)`
        : `Changed the crime types linked to the ${plan.year} priorities (${chosen.length} links)`,
      before: { saved: before.saved, links: describe(before.links) },
      after: { links: describe(chosen) },
    });
    return { links: chosen.length };
  });
}

// ——— The trends ———

export interface CrimeTrends {
  partnership: PartnershipRow;
  area: PoliceUkArea;
  /** The area in words; empty while none is set. */
  areaDescription: string;
  force: string | null;
  /** The months shown, ascending; empty with no data for the area. */
  months: string[];
  requestedMonths: number;
  totals: MonthCount[];
  byType: CrimeTypeTrend[];
  priorities: PriorityTrend[];
  linksSaved: boolean;
  plan: { id: number; year: string } | null;
  hotspots: { recent: Hotspots; year: Hotspots };
  outcomes: OutcomeMix;
}

/** The trends page: the area's counts beside the force's over the last `months` months available. */
export async function getCrimeTrends(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  options: { months?: number } = {},
): Promise<CrimeTrends> {
  assertMayRead(actor, partnership.id);
  const requested = Math.min(
    MAX_TREND_MONTHS,
    Math.max(1, Math.trunc(options.months ?? DEFAULT_TREND_MONTHS)),
  );
  const basis = await readBasis(db, partnership.id, requested);
  const months = basis.allMonths.slice(-requested);
  const last12 = basis.allMonths.slice(-12);
  const plan = await currentPlan(db, partnership.id);
  const priorities = plan ? await livePriorities(db, plan.id) : [];
  const [counts, links, hotspots, outcomes] = await Promise.all([
    monthlyCounts(db, partnership.id, basis.force, months),
    effectiveLinks(db, priorities),
    // The latest 3 months are among the last 12.
    hotspotsOf(db, partnership.id, basis, { recent: basis.allMonths.slice(-3), year: last12 }),
    outcomeMix(db, basis.area, last12),
  ]);
  const types = new Set<string>(POLICE_CRIME_TYPES);
  for (const byType of [...counts.area.values(), ...counts.force.values()]) {
    for (const type of byType.keys()) types.add(type);
  }
  const byType = [...types].sort(compareCrimeTypes).map((crimeType) => {
    const monthly = seriesOf(counts, months, [crimeType]);
    return { crimeType, area: total(monthly, 'area'), force: total(monthly, 'force'), monthly };
  });
  const totals = seriesOf(counts, months, null);
  return {
    partnership,
    area: basis.area,
    areaDescription: describeArea(basis.area),
    force: basis.force,
    months,
    requestedMonths: requested,
    totals,
    byType,
    priorities: priorities.map((p) => priorityTrend(p, typesOf(links.links, p.id), counts, months)),
    linksSaved: links.saved,
    plan,
    hotspots,
    outcomes,
  };
}

function priorityTrend(
  p: { id: number; title: string },
  crimeTypes: string[],
  counts: { area: Counts; force: Counts },
  months: readonly string[],
): PriorityTrend {
  const monthly = seriesOf(counts, months, crimeTypes);
  return {
    priorityId: p.id,
    title: p.title,
    crimeTypes,
    area: total(monthly, 'area'),
    force: total(monthly, 'force'),
    monthly,
  };
}

export interface PriorityTrends {
  /** 'no-area': the partnership has no police.uk area; 'no-data': nothing imported for it. */
  state: 'ok' | 'no-area' | 'no-data';
  force: string | null;
  months: string[];
  trends: PriorityTrend[];
}

/**
 * The last 12 months' trend of some priorities (an aim's, or a plan's for the dashboard), each
 * the sum of its linked crime types in the area beside the force. Members read.
 */
export async function getPriorityTrends(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  priorityIds: readonly number[],
  /** The request's, to read through the read cache (read-cache.ts). */
  stamp?: ReadStamp,
): Promise<PriorityTrends> {
  assertMayRead(actor, partnership.id);
  return cachedRead(db, stamp, `priority-trends:${partnership.id}:${priorityIds.join(',')}`, () =>
    readPriorityTrends(db, partnership, priorityIds),
  );
}

async function readPriorityTrends(
  db: Db,
  partnership: PartnershipRow,
  priorityIds: readonly number[],
): Promise<PriorityTrends> {
  const p = t.priorities;
  const wanted = priorityIds.length
    ? await db
        .select({ id: p.id, planId: p.planId, title: p.title })
        .from(p)
        .where(and(eq(p.partnershipId, partnership.id), inArray(p.id, [...priorityIds])))
        .orderBy(asc(p.position), asc(p.id))
    : [];
  const basis = await readBasis(db, partnership.id, DEFAULT_TREND_MONTHS);
  const hasArea = basis.area.codes.length + basis.area.prefixes.length > 0;
  const state = !hasArea ? 'no-area' : basis.allMonths.length ? 'ok' : 'no-data';
  const months = basis.allMonths.slice(-DEFAULT_TREND_MONTHS);
  if (state !== 'ok' || !wanted.length) return { state, force: basis.force, months, trends: [] };
  // Links are kept per plan: the suggestions apply to a plan whose links were never saved.
  const links: CrimeTypeLink[] = [];
  for (const planId of new Set(wanted.map((w) => w.planId))) {
    links.push(...(await effectiveLinks(db, await livePriorities(db, planId))).links);
  }
  const counts = await monthlyCounts(db, partnership.id, basis.force, months);
  return {
    state,
    force: basis.force,
    months,
    trends: wanted.map((w) => priorityTrend(w, typesOf(links, w.id), counts, months)),
  };
}

// ——— The area ———

export interface AreaPage {
  area: PoliceUkArea;
  description: string;
  /** LSOAs of the imported data the area takes in, in the latest month imported for any force. */
  lsoasMatched: number;
  latestMonth: string | null;
}

/** The partnership's area and what it matches in the data imported (coordinator). */
export async function getArea(db: Db, actor: Actor, partnership: PartnershipRow): Promise<AreaPage> {
  assertMayManage(actor, partnership, 'see and set its police.uk area');
  const area = await readArea(db, partnership.id);
  const c = t.policeCrimeCounts;
  const [latest] = await db.select({ month: c.month }).from(c).orderBy(desc(c.month)).limit(1);
  let lsoasMatched = 0;
  if (latest) {
    const [row] = await db
      .select({ n: sql<number>`count(distinct ${c.lsoaCode})::integer` })
      .from(c)
      .where(and(eq(c.month, latest.month), inArea(area, c.lsoaCode, c.lsoaName)));
    lsoasMatched = Number(row?.n ?? 0);
  }
  return { area, description: describeArea(area), lsoasMatched, latestMonth: latest?.month ?? null };
}

const LSOA_CODE = /^[EW]01\d{6}$/;

/**
 * Sets the area from the form (coordinator): district names, one a line, each matching the LSOAs
 * whose names begin with it and a space ("Stevenage" → "Stevenage 001A"), and LSOA codes.
 * setPartnershipArea writes it, recounts the area's counts and records the audit event.
 */
export async function saveArea(
  db: Db,
  actor: Actor,
  partnership: PartnershipRow,
  input: { prefixes: string; codes: string },
): Promise<PoliceUkArea> {
  assertMayManage(actor, partnership, 'set its police.uk area');
  const lines = (text: string) =>
    text
      .split(/[\r\n,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
  const names = lines(input.prefixes);
  const codes = lines(input.codes).map((c) => c.toUpperCase());
  const problems: { field: string; message: string }[] = [];
  const badCodes = codes.filter((c) => !LSOA_CODE.test(c));
  if (badCodes.length) {
    problems.push({
      field: 'codes',
      message: `Enter LSOA codes like E01023719: ${badCodes.slice(0, 5).join(', ')} ${badCodes.length === 1 ? 'is' : 'are'} not`,
    });
  }
  if (names.some((n) => n.length > 100)) {
    problems.push({ field: 'prefixes', message: 'A district name must be 100 characters or fewer' });
  }
  if (!problems.length && !names.length && !codes.length) {
    problems.push({ field: 'prefixes', message: 'Enter a district name or at least one LSOA code' });
  }
  if (problems.length) throw new ValidationError(problems);
  return setPartnershipArea(db, actor, partnership.slug, {
    codes,
    prefixes: names.map((n) => `${n} `),
  });
}

// ——— The demo ———

const DEMO_POLICE_UK = fileURLToPath(new URL('../demo/evidence/policeuk', import.meta.url));

/** The demo's police.uk data: Hertfordshire's January 2022 street and outcomes files. */
export async function loadDemoPoliceUk(db: Db, actor: Actor): Promise<PoliceUkImportResult[]> {
  const results: PoliceUkImportResult[] = [];
  for (const kind of ['street', 'outcomes']) {
    results.push(
      await importPoliceUkFile(db, path.join(DEMO_POLICE_UK, `2022-01-hertfordshire-${kind}.csv`), actor),
    );
  }
  return results;
}
