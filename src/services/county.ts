/**
 * The county view: the partnerships a person holds roles in, side by side. Only those: the person's
 * memberships are the only way in, so nobody sees a partnership they have no role in.
 */
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import * as t from '../db/schema.js';
import { SUMMARY_COLUMNS, type SummaryColumn } from '../domain/board-report.js';
import { compareAimNumbers } from '../domain/numbering.js';
import { currentStatus, matchKey, sharedAcross, type CountedUpdate } from '../domain/county.js';
import type { Role } from '../domain/permissions.js';
import { planYearSlug } from '../domain/quarters.js';
import type { Status } from '../domain/status.js';

export interface CountyPartnership {
  slug: string;
  name: string;
  area: string | null;
  /** The person's role in it. */
  role: Role;
  /** The partnership's current plan (its latest year), or null when it has none yet. */
  plan: { year: string; title: string; path: string } | null;
  /** Live actions of the current plan by current status; `none`: no update, or no status given. */
  counts: Record<SummaryColumn, number>;
  actions: number;
}

export interface SharedPriority {
  /** The title as the first partnership words it. */
  title: string;
  partnerships: {
    slug: string;
    name: string;
    title: string;
    aims: { number: string; title: string; path: string }[];
  }[];
}

export interface SharedLead {
  /** The organisation as the first partnership names it. */
  name: string;
  fullName: string | null;
  /** The actions it leads in each partnership of the view (0 in some, more in at least two). */
  partnerships: { slug: string; name: string; actions: number }[];
}

export interface CountyView {
  partnerships: CountyPartnership[];
  sharedPriorities: SharedPriority[];
  sharedLeads: SharedLead[];
}

interface PlanFacts {
  partnership: CountyPartnership;
  priorities: { title: string; aims: { number: string; title: string; path: string }[] }[];
  leads: { name: string; fullName: string | null; actions: number }[];
}

/** The county view of the partnerships `userId` holds an active role in (none: an empty view). */
export async function countyView(db: Db, userId: number): Promise<CountyView> {
  const memberships = await db
    .select({
      id: t.partnerships.id,
      slug: t.partnerships.slug,
      name: t.partnerships.name,
      area: t.partnerships.area,
      role: t.memberships.role,
    })
    .from(t.memberships)
    .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
    .innerJoin(t.partnerships, eq(t.partnerships.id, t.memberships.partnershipId))
    .where(
      and(
        eq(t.memberships.userId, userId),
        isNull(t.memberships.deactivatedAt),
        isNull(t.users.deactivatedAt),
      ),
    )
    .orderBy(asc(t.partnerships.name));

  const facts: PlanFacts[] = [];
  for (const m of memberships) {
    facts.push(await planFacts(db, { ...m, role: m.role as Role }));
  }
  const slugs = facts.map((f) => f.partnership.slug);
  const bySlug = new Map(facts.map((f) => [f.partnership.slug, f.partnership]));

  const sharedPriorities = sharedAcross(
    slugs,
    facts.flatMap((f) =>
      f.priorities.map((p) => ({ partnership: f.partnership.slug, key: matchKey(p.title), item: p })),
    ),
  ).map(({ byPartnership }) => ({
    title: byPartnership[0]!.items[0]!.title,
    partnerships: byPartnership.map(({ partnership, items }) => ({
      slug: partnership,
      name: bySlug.get(partnership)!.name,
      title: items[0]!.title,
      // One plan may list the same priority twice (a title typed again mid-year): its aims once each.
      aims: [...new Map(items.flatMap((i) => i.aims).map((a) => [a.number, a])).values()],
    })),
  }));

  const sharedLeads = sharedAcross(
    slugs,
    facts.flatMap((f) =>
      f.leads.map((l) => ({ partnership: f.partnership.slug, key: matchKey(l.name), item: l })),
    ),
  ).map(({ byPartnership }) => {
    const first = byPartnership[0]!.items[0]!;
    return {
      name: first.name,
      fullName: byPartnership.flatMap((b) => b.items).find((i) => i.fullName)?.fullName ?? null,
      // Every partnership of the view, in its order, so the table's columns line up; 0 where it leads none.
      partnerships: facts.map(({ partnership }) => ({
        slug: partnership.slug,
        name: partnership.name,
        actions: (byPartnership.find((b) => b.partnership === partnership.slug)?.items ?? []).reduce(
          (n, i) => n + i.actions,
          0,
        ),
      })),
    };
  });

  return { partnerships: facts.map((f) => f.partnership), sharedPriorities, sharedLeads };
}

async function planFacts(
  db: Db,
  m: { id: number; slug: string; name: string; area: string | null; role: Role },
): Promise<PlanFacts> {
  const counts = Object.fromEntries(SUMMARY_COLUMNS.map((c) => [c, 0])) as Record<SummaryColumn, number>;
  const [plan] = await db
    .select({ id: t.plans.id, year: t.plans.year, title: t.plans.title })
    .from(t.plans)
    .where(eq(t.plans.partnershipId, m.id))
    .orderBy(desc(t.plans.year))
    .limit(1);
  const partnership: CountyPartnership = {
    slug: m.slug,
    name: m.name,
    area: m.area,
    role: m.role,
    plan: plan
      ? { year: plan.year, title: plan.title, path: `/p/${m.slug}/plans/${planYearSlug(plan.year)}` }
      : null,
    counts,
    actions: 0,
  };
  if (!plan) return { partnership, priorities: [], leads: [] };

  const liveAims = and(eq(t.aims.planId, plan.id), isNull(t.aims.archivedAt), isNull(t.sections.archivedAt));
  const actions = await db
    .select({ id: t.actions.id })
    .from(t.actions)
    .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .where(and(liveAims, isNull(t.actions.archivedAt)));
  const actionIds = actions.map((a) => a.id);

  const updates = actionIds.length
    ? await db
        .select({
          id: t.progressUpdates.id,
          actionId: t.progressUpdates.actionId,
          quarter: t.progressUpdates.quarter,
          recordedAt: t.progressUpdates.recordedAt,
          status: t.progressUpdates.status,
        })
        .from(t.progressUpdates)
        .where(
          and(
            inArray(t.progressUpdates.actionId, actionIds),
            inArray(t.progressUpdates.state, ['submitted', 'accepted']),
          ),
        )
    : [];
  const byAction = new Map<number, CountedUpdate[]>();
  for (const u of updates) {
    const list = byAction.get(u.actionId) ?? [];
    list.push({ ...u, status: u.status as Status | null });
    byAction.set(u.actionId, list);
  }
  for (const id of actionIds) counts[currentStatus(byAction.get(id) ?? []) ?? 'none']++;
  partnership.actions = actionIds.length;

  const priorityRows = await db
    .select({
      id: t.priorities.id,
      title: t.priorities.title,
      position: t.priorities.position,
      aimNumber: t.aims.number,
      aimTitle: t.aims.title,
    })
    .from(t.priorities)
    .leftJoin(t.priorityAims, eq(t.priorityAims.priorityId, t.priorities.id))
    .leftJoin(t.aims, and(eq(t.aims.id, t.priorityAims.aimId), isNull(t.aims.archivedAt)))
    .where(and(eq(t.priorities.planId, plan.id), isNull(t.priorities.archivedAt)))
    .orderBy(asc(t.priorities.position));
  const priorities = new Map<number, PlanFacts['priorities'][number]>();
  for (const row of priorityRows) {
    let p = priorities.get(row.id);
    if (!p) priorities.set(row.id, (p = { title: row.title, aims: [] }));
    if (row.aimNumber !== null && row.aimTitle !== null) {
      p.aims.push({
        number: row.aimNumber,
        title: row.aimTitle,
        path: `${partnership.plan!.path}/aims/${row.aimNumber}`,
      });
    }
  }
  for (const p of priorities.values()) p.aims.sort((a, b) => compareAimNumbers(a.number, b.number));

  const leadRows = actionIds.length
    ? await db
        .selectDistinct({
          organisationId: t.organisations.id,
          name: t.organisations.name,
          fullName: t.organisations.fullName,
          actionId: t.actionParties.actionId,
        })
        .from(t.actionParties)
        .innerJoin(t.organisations, eq(t.organisations.id, t.actionParties.organisationId))
        .where(and(inArray(t.actionParties.actionId, actionIds), eq(t.actionParties.role, 'lead')))
    : [];
  const leads = new Map<number, PlanFacts['leads'][number]>();
  for (const row of leadRows) {
    const lead = leads.get(row.organisationId);
    if (lead) lead.actions++;
    else leads.set(row.organisationId, { name: row.name, fullName: row.fullName, actions: 1 });
  }

  return {
    partnership,
    priorities: [...priorities.values()],
    leads: [...leads.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}
