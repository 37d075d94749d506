/**
 * The partnership's public page: the aims the coordinator has published, for residents, with no
 * sign-in; and the coordinator's side of it: publishing aims, taking them off, and writing the
 * text residents read for a progress update.
 *
 * What residents read is built here, field by field, from what may go public: sections, aims,
 * each action's description and expected outcomes, its lead and partner organisations (never the
 * officers named for them), the status of submitted or accepted updates (never drafts, never
 * returned ones) and the coordinator's public text. Progress text as the lead wrote it, comments,
 * funding and resources are never read. Every text that goes public passes the redactor, which
 * replaces the name of each of the partnership's people (and of each account holding a role in
 * it) with their organisation: the plan's own words can name officers too.
 */
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { allQueries, type Db, type Tx } from '../db/client.js';
import * as t from '../db/schema.js';
import { compareAimNumbers } from '../domain/numbering.js';
import { canPublish } from '../domain/permissions.js';
import { isQuarter, parsePlanYear, type Quarter } from '../domain/quarters.js';
import type { Status } from '../domain/status.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, validate } from './errors.js';
import { listGlossary } from './partnership-read.js';
import { getPartnershipBySlug, type PartnershipRow } from './plan-read.js';

// ——— Names never go public ———

/** A name to keep off the public page, and the words that stand in for it. */
export interface NameToHide {
  name: string;
  replacement: string;
}

/** Stands in for a person whose organisation is not known. */
export const AN_OFFICER = 'an officer';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A word of a name as a pattern: any apostrophe or hyphen the way it is typed. */
function wordPattern(word: string): string {
  return escapeRegExp(word).replace(/['’]/g, "['’]").replace(/\\?-/g, '[-‐‑]');
}

/**
 * The ways a text may write a name: in full ("Helen Whitehead", any case, any spacing) and by
 * initial ("H. Whitehead", "H Whitehead").
 */
function namePatterns(name: string): RegExp[] {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const edge = (inner: string) => new RegExp(`(?<![\\p{L}\\p{N}])${inner}(?![\\p{L}\\p{N}])`, 'giu');
  const patterns = [edge(words.map(wordPattern).join('\\s+'))];
  const first = words[0]!;
  const last = words.at(-1)!;
  if (words.length > 1) {
    patterns.push(edge(`${escapeRegExp(first.charAt(0))}\\.?\\s*${wordPattern(last)}`));
  }
  return patterns;
}

/**
 * A function that replaces every name given with its stand-in. Longer names go first, so that
 * "Madeline Heredia" is not half-replaced as someone else's shorter name.
 */
export function makeRedactor(names: readonly NameToHide[]): (text: string) => string {
  const rules = [...names]
    .filter((n) => n.name.trim() !== '')
    .sort((a, b) => b.name.length - a.name.length)
    .flatMap((n) => namePatterns(n.name).map((pattern) => ({ pattern, replacement: n.replacement })));
  return (text: string) =>
    rules.reduce((out, rule) => out.replace(rule.pattern, () => rule.replacement), text);
}

/**
 * Every name the partnership's public texts must not carry: its people (the officers its plans
 * name), standing in their organisation (their own, or the one they are named for most often in
 * the plan); and the accounts holding a role in it, standing in the organisation of their role.
 */
export async function namesToHide(db: Db | Tx, partnershipId: number): Promise<NameToHide[]> {
  const [people, namedFor, accounts, organisations] = await allQueries(db, [
    db
      .select({ id: t.people.id, name: t.people.name, organisationId: t.people.organisationId })
      .from(t.people)
      .where(eq(t.people.partnershipId, partnershipId)),
    db
      .select({
        personId: t.actionPartyPeople.personId,
        organisationId: t.actionParties.organisationId,
        times: sql<number>`count(*)::int`,
      })
      .from(t.actionPartyPeople)
      .innerJoin(t.actionParties, eq(t.actionParties.id, t.actionPartyPeople.actionPartyId))
      .where(eq(t.actionPartyPeople.partnershipId, partnershipId))
      .groupBy(t.actionPartyPeople.personId, t.actionParties.organisationId),
    db
      .select({
        name: t.users.name,
        organisationId: t.memberships.organisationId,
        personId: t.memberships.personId,
      })
      .from(t.memberships)
      .innerJoin(t.users, eq(t.users.id, t.memberships.userId))
      .where(eq(t.memberships.partnershipId, partnershipId)),
    db
      .select({ id: t.organisations.id, name: t.organisations.name })
      .from(t.organisations)
      .where(eq(t.organisations.partnershipId, partnershipId)),
  ]);
  const organisationName = new Map(organisations.map((o) => [o.id, o.name]));
  const mostNamedFor = new Map<number, { organisationId: number; times: number }>();
  for (const row of namedFor) {
    const best = mostNamedFor.get(row.personId);
    if (!best || row.times > best.times) mostNamedFor.set(row.personId, row);
  }
  const personOrganisation = (personId: number | null, own: number | null) =>
    own ?? (personId === null ? undefined : mostNamedFor.get(personId)?.organisationId);
  const stand = (organisationId: number | null | undefined) =>
    (organisationId == null ? undefined : organisationName.get(organisationId)) ?? AN_OFFICER;
  const ownOrganisation = new Map(people.map((p) => [p.id, p.organisationId]));
  return [
    ...people.map((p) => ({ name: p.name, replacement: stand(personOrganisation(p.id, p.organisationId)) })),
    ...accounts.map((a) => ({
      name: a.name,
      replacement: stand(
        a.organisationId ??
          personOrganisation(
            a.personId,
            a.personId === null ? null : (ownOrganisation.get(a.personId) ?? null),
          ),
      ),
    })),
  ];
}

async function redactorFor(db: Db | Tx, partnershipId: number) {
  return makeRedactor(await namesToHide(db, partnershipId));
}

// ——— What residents read ———

export interface PublicUpdate {
  quarter: Quarter | null;
  status: Status | null;
  /** The coordinator's text for residents; null: none, the status alone is shown. */
  text: string | null;
}

export interface PublicAction {
  position: number;
  description: string;
  expectedOutcomes: string[];
  leads: string[];
  partners: string[];
  /** Submitted and accepted updates, by quarter (progress without a quarter last). */
  updates: PublicUpdate[];
  latest: PublicUpdate | undefined;
}

export interface PublicAim {
  number: string;
  title: string;
  publishedAt: Date;
  /** The latest status given across the aim's actions. */
  status: Status | null;
  /** The latest quarter any of its actions reported on. */
  latestQuarter: Quarter | null;
  /** The public texts of that quarter's updates. */
  latestTexts: string[];
  actions: PublicAction[];
}

export interface PublicSection {
  number: number;
  title: string;
  aims: PublicAim[];
}

export interface PublicPartnership {
  slug: string;
  name: string;
  area: string | null;
}

export interface PublicPlan {
  partnership: PublicPartnership;
  year: string;
  title: string;
  startsOn: string;
  endsOn: string;
  sections: PublicSection[];
  lastPublishedAt: Date;
  /** The partnership's abbreviations, for readers to have them spelt out. */
  glossary: { term: string; meaning: string }[];
}

function publicPartnership(row: PartnershipRow, redact: (text: string) => string): PublicPartnership {
  return { slug: row.slug, name: redact(row.name), area: row.area === null ? null : redact(row.area) };
}

/** The partnership's public page: its plan years with at least one published aim, latest first. */
export async function getPublicPartnership(
  db: Db,
  slug: string,
): Promise<{
  partnership: PublicPartnership;
  plans: { year: string; title: string; aims: number; lastPublishedAt: Date }[];
}> {
  const partnership = await getPartnershipBySlug(db, slug);
  const redact = await redactorFor(db, partnership.id);
  const rows = await db
    .select({
      year: t.plans.year,
      title: t.plans.title,
      aims: sql<number>`count(*)::int`,
      lastPublishedAt: sql<string>`max(${t.aims.publishedAt})`,
    })
    .from(t.aims)
    .innerJoin(t.plans, eq(t.plans.id, t.aims.planId))
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .where(
      and(
        eq(t.plans.partnershipId, partnership.id),
        isNotNull(t.aims.publishedAt),
        isNull(t.aims.archivedAt),
        isNull(t.sections.archivedAt),
      ),
    )
    .groupBy(t.plans.year, t.plans.title)
    .orderBy(sql`${t.plans.year} desc`);
  return {
    partnership: publicPartnership(partnership, redact),
    plans: rows.map((r) => ({
      year: r.year,
      title: redact(r.title),
      aims: Number(r.aims),
      lastPublishedAt: new Date(r.lastPublishedAt),
    })),
  };
}

/**
 * The published aims of a plan year, in the plan's order, as residents read them. Not found when
 * the partnership, the plan or any published aim of it is missing: an unpublished plan is not
 * there for residents at all.
 */
export async function getPublicPlan(db: Db, slug: string, yearInput: string): Promise<PublicPlan> {
  const partnership = await getPartnershipBySlug(db, slug);
  const year = parsePlanYear(yearInput);
  if (!year) throw new NotFoundError(`The plan ${yearInput}`);
  const [plan] = await db
    .select()
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnership.id), eq(t.plans.year, year)));
  if (!plan) throw new NotFoundError(`The plan ${year}`);
  const aimRows = await db
    .select({
      id: t.aims.id,
      number: t.aims.number,
      title: t.aims.title,
      publishedAt: t.aims.publishedAt,
      sectionNumber: t.sections.number,
      sectionTitle: t.sections.title,
    })
    .from(t.aims)
    .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
    .where(
      and(
        eq(t.aims.planId, plan.id),
        isNotNull(t.aims.publishedAt),
        isNull(t.aims.archivedAt),
        isNull(t.sections.archivedAt),
      ),
    )
    .orderBy(asc(t.sections.position), asc(t.sections.id), asc(t.aims.position), asc(t.aims.id));
  if (aimRows.length === 0) throw new NotFoundError(`The plan ${year}`);

  const aimIds = aimRows.map((a) => a.id);
  const actions = await db
    .select({
      id: t.actions.id,
      aimId: t.actions.aimId,
      position: t.actions.position,
      description: t.actions.description,
      expectedOutcomes: t.actions.expectedOutcomes,
    })
    .from(t.actions)
    .where(and(inArray(t.actions.aimId, aimIds), isNull(t.actions.archivedAt)))
    .orderBy(asc(t.actions.position), asc(t.actions.id));
  const actionIds = actions.map((a) => a.id);
  const [parties, updates, redact, glossary] = await allQueries(db, [
    actionIds.length
      ? db
          // Organisations only: the officers named for them never leave the partnership.
          .select({
            actionId: t.actionParties.actionId,
            role: t.actionParties.role,
            organisation: t.organisations.name,
          })
          .from(t.actionParties)
          .innerJoin(t.organisations, eq(t.organisations.id, t.actionParties.organisationId))
          .where(inArray(t.actionParties.actionId, actionIds))
          .orderBy(asc(t.actionParties.position), asc(t.actionParties.id))
      : [],
    actionIds.length
      ? db
          // The status and the coordinator's public text; never the lead's own words.
          .select({
            id: t.progressUpdates.id,
            actionId: t.progressUpdates.actionId,
            quarter: t.progressUpdates.quarter,
            status: t.progressUpdates.status,
            publicText: t.progressUpdates.publicText,
          })
          .from(t.progressUpdates)
          .where(
            and(
              inArray(t.progressUpdates.actionId, actionIds),
              inArray(t.progressUpdates.state, ['submitted', 'accepted']),
            ),
          )
      : [],
    redactorFor(db, partnership.id),
    listGlossary(db, partnership.id),
  ]);

  const toUpdate = (u: (typeof updates)[number]): PublicUpdate => ({
    quarter: isQuarter(u.quarter) ? u.quarter : null,
    status: u.status,
    text: u.publicText === null || u.publicText.trim() === '' ? null : redact(u.publicText),
  });
  const byQuarter = (a: { quarter: number | null }, b: { quarter: number | null }) =>
    (a.quarter ?? 9) - (b.quarter ?? 9);

  const actionsOf = (aimId: number): PublicAction[] =>
    actions
      .filter((a) => a.aimId === aimId)
      .map((action, index) => {
        const own = updates.filter((u) => u.actionId === action.id).sort(byQuarter);
        const list = own.map(toUpdate);
        const dated = list.filter((u) => u.quarter !== null);
        return {
          position: index + 1,
          description: redact(action.description),
          expectedOutcomes: action.expectedOutcomes.map(redact),
          leads: parties
            .filter((p) => p.actionId === action.id && p.role === 'lead')
            .map((p) => redact(p.organisation)),
          partners: parties
            .filter((p) => p.actionId === action.id && p.role === 'partner')
            .map((p) => redact(p.organisation)),
          updates: list,
          latest: dated.at(-1) ?? list.at(-1),
        };
      });

  const sections: PublicSection[] = [];
  for (const row of aimRows) {
    let section = sections.at(-1);
    if (!section || section.number !== row.sectionNumber) {
      section = { number: row.sectionNumber, title: redact(row.sectionTitle), aims: [] };
      sections.push(section);
    }
    const aimActions = actionsOf(row.id);
    const dated = aimActions.flatMap((a) => a.updates).filter((u) => u.quarter !== null);
    const latestQuarter = dated.reduce<Quarter | null>(
      (q, u) => (u.quarter! > (q ?? 0) ? u.quarter : q),
      null,
    );
    const withStatus = [...dated].sort((a, b) => b.quarter! - a.quarter!).find((u) => u.status !== null);
    section.aims.push({
      number: row.number,
      title: redact(row.title),
      publishedAt: row.publishedAt!,
      status: withStatus?.status ?? null,
      latestQuarter,
      latestTexts: dated.filter((u) => u.quarter === latestQuarter && u.text !== null).map((u) => u.text!),
      actions: aimActions,
    });
  }
  return {
    partnership: publicPartnership(partnership, redact),
    year: plan.year,
    title: redact(plan.title),
    startsOn: plan.startsOn,
    endsOn: plan.endsOn,
    sections,
    lastPublishedAt: new Date(Math.max(...aimRows.map((a) => a.publishedAt!.getTime()))),
    glossary: glossary.map((g) => ({ term: g.term, meaning: redact(g.meaning) })),
  };
}

/** One published aim, with its section and plan; not found when it is not published. */
export async function getPublicAim(
  db: Db,
  slug: string,
  yearInput: string,
  number: string,
): Promise<{ plan: PublicPlan; section: PublicSection; aim: PublicAim }> {
  const plan = await getPublicPlan(db, slug, yearInput);
  for (const section of plan.sections) {
    const aim = section.aims.find((a) => a.number === number);
    if (aim) return { plan, section, aim };
  }
  throw new NotFoundError(`Aim ${number}`);
}

// ——— The coordinator's side ———

function requirePublisher(actor: Actor, partnershipId: number): void {
  if (actor.system) return;
  if (!canPublish(actor.member, partnershipId)) {
    throw new ForbiddenError('Only the partnership’s coordinator can publish the plan on its public page');
  }
}

async function planOf(db: Db | Tx, partnershipId: number, yearInput: string) {
  const year = parsePlanYear(yearInput);
  if (!year) throw new NotFoundError(`The plan ${yearInput}`);
  const [plan] = await db
    .select({
      id: t.plans.id,
      year: t.plans.year,
      title: t.plans.title,
      partnershipId: t.plans.partnershipId,
    })
    .from(t.plans)
    .where(and(eq(t.plans.partnershipId, partnershipId), eq(t.plans.year, year)));
  if (!plan) throw new NotFoundError(`The plan ${year}`);
  return plan;
}

export interface PublishingAim {
  id: number;
  number: string;
  title: string;
  version: number;
  publishedAt: Date | null;
  publishedBy: string | null;
  /** Submitted and accepted updates of its live actions, and how many have a public text. */
  updates: number;
  publicTexts: number;
}

export interface PublishingOverview {
  plan: { id: number; year: string; title: string };
  sections: { number: number; title: string; aims: PublishingAim[] }[];
  published: number;
  total: number;
}

/** The coordinator's list of the plan's live aims, each published or not. */
export async function publishingOverview(
  db: Db,
  actor: Actor,
  partnershipId: number,
  yearInput: string,
): Promise<PublishingOverview> {
  requirePublisher(actor, partnershipId);
  const plan = await planOf(db, partnershipId, yearInput);
  const [rows, counts] = await allQueries(db, [
    db
      .select({
        id: t.aims.id,
        number: t.aims.number,
        title: t.aims.title,
        version: t.aims.version,
        publishedAt: t.aims.publishedAt,
        publishedBy: t.users.name,
        sectionNumber: t.sections.number,
        sectionTitle: t.sections.title,
      })
      .from(t.aims)
      .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
      .leftJoin(t.users, eq(t.users.id, t.aims.publishedBy))
      .where(and(eq(t.aims.planId, plan.id), isNull(t.aims.archivedAt), isNull(t.sections.archivedAt)))
      .orderBy(asc(t.sections.position), asc(t.sections.id), asc(t.aims.position), asc(t.aims.id)),
    db
      .select({
        aimId: t.actions.aimId,
        updates: sql<number>`count(*)::int`,
        publicTexts: sql<number>`count(${t.progressUpdates.publicText})::int`,
      })
      .from(t.progressUpdates)
      .innerJoin(t.actions, eq(t.actions.id, t.progressUpdates.actionId))
      .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
      .where(
        and(
          eq(t.aims.planId, plan.id),
          isNull(t.actions.archivedAt),
          inArray(t.progressUpdates.state, ['submitted', 'accepted']),
        ),
      )
      .groupBy(t.actions.aimId),
  ]);
  const countOf = new Map(counts.map((c) => [c.aimId, c]));
  const sections: PublishingOverview['sections'] = [];
  for (const row of rows) {
    let section = sections.at(-1);
    if (!section || section.number !== row.sectionNumber) {
      section = { number: row.sectionNumber, title: row.sectionTitle, aims: [] };
      sections.push(section);
    }
    section.aims.push({
      id: row.id,
      number: row.number,
      title: row.title,
      version: row.version,
      publishedAt: row.publishedAt,
      publishedBy: row.publishedBy,
      updates: Number(countOf.get(row.id)?.updates ?? 0),
      publicTexts: Number(countOf.get(row.id)?.publicTexts ?? 0),
    });
  }
  return {
    plan: { id: plan.id, year: plan.year, title: plan.title },
    sections,
    published: rows.filter((r) => r.publishedAt !== null).length,
    total: rows.length,
  };
}

export interface PublicTextUpdate {
  id: number;
  quarter: Quarter | null;
  status: Status | null;
  state: 'submitted' | 'accepted';
  /** The lead's own words: for the coordinator only. */
  text: string;
  publicText: string | null;
  /** The lead's words with every name replaced: what the form offers when there is no public text yet. */
  suggestion: string;
  version: number;
}

export interface PublicTextForms {
  plan: { id: number; year: string; title: string };
  aim: { id: number; number: string; title: string; version: number; publishedAt: Date | null };
  actions: { id: number; position: number; description: string; updates: PublicTextUpdate[] }[];
}

/** An aim's submitted and accepted updates, latest first, each with its public text or a suggestion. */
export async function publicTextForms(
  db: Db,
  actor: Actor,
  partnershipId: number,
  yearInput: string,
  number: string,
): Promise<PublicTextForms> {
  requirePublisher(actor, partnershipId);
  const plan = await planOf(db, partnershipId, yearInput);
  const [aim] = await db
    .select({
      id: t.aims.id,
      number: t.aims.number,
      title: t.aims.title,
      version: t.aims.version,
      publishedAt: t.aims.publishedAt,
    })
    .from(t.aims)
    .where(and(eq(t.aims.planId, plan.id), eq(t.aims.number, number), isNull(t.aims.archivedAt)));
  if (!aim) throw new NotFoundError(`Aim ${number}`);
  const actions = await db
    .select({ id: t.actions.id, description: t.actions.description })
    .from(t.actions)
    .where(and(eq(t.actions.aimId, aim.id), isNull(t.actions.archivedAt)))
    .orderBy(asc(t.actions.position), asc(t.actions.id));
  const [updates, redact] = await allQueries(db, [
    actions.length
      ? db
          .select({
            id: t.progressUpdates.id,
            actionId: t.progressUpdates.actionId,
            quarter: t.progressUpdates.quarter,
            status: t.progressUpdates.status,
            state: t.progressUpdates.state,
            text: t.progressUpdates.text,
            publicText: t.progressUpdates.publicText,
            version: t.progressUpdates.version,
          })
          .from(t.progressUpdates)
          .where(
            and(
              inArray(
                t.progressUpdates.actionId,
                actions.map((a) => a.id),
              ),
              inArray(t.progressUpdates.state, ['submitted', 'accepted']),
            ),
          )
      : [],
    redactorFor(db, partnershipId),
  ]);
  return {
    plan: { id: plan.id, year: plan.year, title: plan.title },
    aim,
    actions: actions.map((action, index) => ({
      id: action.id,
      position: index + 1,
      description: action.description,
      updates: updates
        .filter((u) => u.actionId === action.id)
        .sort((a, b) => (b.quarter ?? 0) - (a.quarter ?? 0) || b.id - a.id)
        .map((u) => ({
          id: u.id,
          quarter: isQuarter(u.quarter) ? u.quarter : null,
          status: u.status,
          state: u.state as PublicTextUpdate['state'],
          text: u.text,
          publicText: u.publicText,
          suggestion: redact(u.text),
          version: u.version,
        })),
    })),
  };
}

const versionSchema = z.object({
  version: z.coerce.number({ error: 'The form is missing its version' }).int().positive(),
});

async function lockAim(tx: Tx, partnershipId: number, yearInput: string, number: string) {
  const plan = await planOf(tx, partnershipId, yearInput);
  const [aim] = await tx
    .select()
    .from(t.aims)
    .where(and(eq(t.aims.planId, plan.id), eq(t.aims.number, number), isNull(t.aims.archivedAt)))
    .for('update');
  if (!aim) throw new NotFoundError(`Aim ${number}`);
  return { plan, aim };
}

/**
 * Publishes an aim, or takes it off the public page (coordinator). input: { version } of the aim
 * as the coordinator saw it: an aim changed since is refused, so nobody publishes words unseen.
 */
async function setPublished(
  db: Db,
  actor: Actor,
  partnershipId: number,
  year: string,
  number: string,
  input: unknown,
  publish: boolean,
  now: Date,
) {
  requirePublisher(actor, partnershipId);
  const { version } = validate(versionSchema, input);
  return db.transaction(async (tx) => {
    const { plan, aim } = await lockAim(tx, partnershipId, year, number);
    if (aim.version !== version) throw new ConflictError(aim);
    if ((aim.publishedAt !== null) === publish) return aim;
    const [updated] = await tx
      .update(t.aims)
      .set({
        publishedAt: publish ? now : null,
        publishedBy: publish ? actor.userId : null,
        version: aim.version + 1,
      })
      .where(and(eq(t.aims.id, aim.id), eq(t.aims.version, version)))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId,
      kind: publish ? 'aim.published' : 'aim.unpublished',
      entity: 'aim',
      entityId: aim.id,
      summary: publish
        ? `Published aim ${aim.number} on the public page`
        : `Took aim ${aim.number} off the public page`,
      before: { planId: plan.id, number: aim.number, publishedAt: aim.publishedAt },
      after: { planId: plan.id, number: aim.number, publishedAt: updated!.publishedAt },
    });
    return updated!;
  });
}

export function publishAim(
  db: Db,
  actor: Actor,
  partnershipId: number,
  year: string,
  number: string,
  input: unknown,
  now = new Date(),
) {
  return setPublished(db, actor, partnershipId, year, number, input, true, now);
}

export function unpublishAim(
  db: Db,
  actor: Actor,
  partnershipId: number,
  year: string,
  number: string,
  input: unknown,
  now = new Date(),
) {
  return setPublished(db, actor, partnershipId, year, number, input, false, now);
}

/** Publishes every live aim of the plan not yet published (coordinator); the numbers published. */
export async function publishAllAims(
  db: Db,
  actor: Actor,
  partnershipId: number,
  yearInput: string,
  now = new Date(),
): Promise<string[]> {
  requirePublisher(actor, partnershipId);
  return db.transaction(async (tx) => {
    const plan = await planOf(tx, partnershipId, yearInput);
    const live = await tx
      .select({ id: t.aims.id })
      .from(t.aims)
      .innerJoin(t.sections, eq(t.sections.id, t.aims.sectionId))
      .where(
        and(
          eq(t.aims.planId, plan.id),
          isNull(t.aims.archivedAt),
          isNull(t.sections.archivedAt),
          isNull(t.aims.publishedAt),
        ),
      );
    if (live.length === 0) return [];
    const published = await tx
      .update(t.aims)
      .set({ publishedAt: now, publishedBy: actor.userId, version: sql`${t.aims.version} + 1` })
      .where(
        and(
          inArray(
            t.aims.id,
            live.map((a) => a.id),
          ),
          isNull(t.aims.publishedAt),
        ),
      )
      .returning({ id: t.aims.id, number: t.aims.number });
    const numbers = published.map((a) => a.number).sort(compareAimNumbers);
    for (const aim of published) {
      await recordAudit(tx, actor, {
        partnershipId,
        kind: 'aim.published',
        entity: 'aim',
        entityId: aim.id,
        summary: `Published aim ${aim.number} on the public page (with every aim of the plan)`,
        before: { planId: plan.id, number: aim.number, publishedAt: null },
        after: { planId: plan.id, number: aim.number, publishedAt: now },
      });
    }
    return numbers;
  });
}

export const PUBLIC_TEXT_MAX_LENGTH = 5000;

export const publicTextSchema = z.object({
  publicText: z
    .string()
    .trim()
    .max(
      PUBLIC_TEXT_MAX_LENGTH,
      `The text for residents must be ${PUBLIC_TEXT_MAX_LENGTH} characters or fewer`,
    )
    .optional()
    .transform((v) => (v ? v : null)),
  version: versionSchema.shape.version,
});

export const NOT_PUBLIC_STATE_MESSAGE =
  'Only a submitted or accepted update is shown on the public page: wait until it is submitted again';

/**
 * Saves what residents read for a progress update (coordinator), with every name replaced by its
 * organisation; blank clears it, and the public page shows the status alone. input: { publicText,
 * version }. Returns the row and whether names were replaced.
 */
export async function savePublicText(
  db: Db,
  actor: Actor,
  updateId: number,
  input: unknown,
): Promise<{ id: number; aimNumber: string; publicText: string | null; version: number; redacted: boolean }> {
  const form = validate(publicTextSchema, input);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({
        update: t.progressUpdates,
        aimId: t.aims.id,
        aimNumber: t.aims.number,
        actionPosition: t.actions.position,
      })
      .from(t.progressUpdates)
      .innerJoin(t.actions, eq(t.actions.id, t.progressUpdates.actionId))
      .innerJoin(t.aims, eq(t.aims.id, t.actions.aimId))
      .where(eq(t.progressUpdates.id, updateId))
      .for('update', { of: t.progressUpdates });
    if (!row) throw new NotFoundError('The progress update');
    const update = row.update;
    requirePublisher(actor, update.partnershipId);
    if (update.version !== form.version) throw new ConflictError(update);
    if (update.state !== 'submitted' && update.state !== 'accepted') {
      throw new ValidationError([{ field: 'publicText', message: NOT_PUBLIC_STATE_MESSAGE }]);
    }
    const redact = await redactorFor(tx, update.partnershipId);
    const publicText = form.publicText === null ? null : redact(form.publicText);
    const [updated] = await tx
      .update(t.progressUpdates)
      .set({ publicText, version: update.version + 1, updatedAt: new Date() })
      .where(and(eq(t.progressUpdates.id, updateId), eq(t.progressUpdates.version, form.version)))
      .returning();
    await recordAudit(tx, actor, {
      partnershipId: update.partnershipId,
      kind: 'progress.public_text',
      entity: 'progress_update',
      entityId: updateId,
      summary:
        publicText === null
          ? `Cleared the public text of the ${update.quarter ? `Q${update.quarter} ` : ''}update of aim ${row.aimNumber}`
          : `Wrote the public text of the ${update.quarter ? `Q${update.quarter} ` : ''}update of aim ${row.aimNumber}`,
      before: {
        aimId: row.aimId,
        actionId: update.actionId,
        quarter: update.quarter,
        publicText: update.publicText,
      },
      after: { aimId: row.aimId, actionId: update.actionId, quarter: update.quarter, publicText },
    });
    return {
      id: updateId,
      aimNumber: row.aimNumber,
      publicText,
      version: updated!.version,
      redacted: publicText !== form.publicText,
    };
  });
}
