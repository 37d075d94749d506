/** The live plan's pages: the plan, an aim, the document view, search, organisations, about. */
import type { FastifyInstance } from 'fastify';
import { compareAimNumbers } from '../../domain/numbering.js';
import { canEditPlanStructure } from '../../domain/permissions.js';
import { parsePlanYear, planYearSlug, QUARTERS } from '../../domain/quarters.js';
import { STATUSES, STATUS_LABELS } from '../../domain/status.js';
import { NotFoundError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import {
  documentRows,
  organisationRoles,
  organisationsInPlan,
  parseDocumentFilters,
  updatableActionIds,
  type DocumentFilters,
} from '../../services/plan-document.js';
import { findAim, latestProgress, type AimNode, type PlanTree } from '../../services/plan-read.js';
import { madeFromKept } from '../../services/read-cache.js';
import { aimTabs } from '../aim-tabs.js';
import { partnershipContext } from '../context.js';
import { CSRF_HOLE, KeptHtml, textHelpers, type TextHelpers } from '../render.js';
import { openQuartersForUpdates } from './progress.js';
import { aimFunding } from './funding.js';
import { priorityTrendSections } from './police-trends.js';

type PlanParams = { slug: string; year: string };

/** The address of a plan's pages, from anything naming its partnership and year (a tree, a dashboard). */
export function planPath(of: { partnership: { slug: string }; plan: { year: string } }): string {
  return `/p/${of.partnership.slug}/plans/${planYearSlug(of.plan.year)}`;
}

/** Loads the plan a page is about, checking the reader may see it; shared by the plan's pages. */
export async function loadPlanPage(
  services: Services,
  request: Parameters<typeof partnershipContext>[1],
  params: PlanParams,
  /**
   * stamp: a read stamp for a form's POST that reads the plan before it writes (its pages' GETs
   * have request.readStamp already; services/read-cache.ts).
   */
  options: { includeArchived?: boolean; stamp?: string | undefined } = {},
) {
  const year = parsePlanYear(params.year);
  if (!year) throw new NotFoundError(`The plan ${params.year}`);
  const stamp = options.stamp ?? request.readStamp;
  const context = await partnershipContext(services, request, params.slug, stamp);
  const opened = await services.plans.openPlan(context.actor, context.partnership, year, {
    includeArchived: options.includeArchived,
    stamp,
  });
  const base = planPath(opened.tree);
  const fmt = textHelpers(opened.glossary);
  const canEdit = canEditPlanStructure(context.member, context.partnership.id);
  return {
    ...context,
    ...opened,
    base,
    fmt,
    canEdit,
    /** What every page of the plan passes to its template. */
    common: {
      partnership: context.partnership,
      member: context.member,
      plan: opened.tree.plan,
      years: opened.years,
      base,
      fmt,
      canEdit,
    },
  };
}

/**
 * The plan page's sections, each aim with its latest progress: made once for each plan tree read
 * (a tree kept under a read stamp is one frozen object until something is written).
 */
const sectionsWithLatest = madeFromKept((tree: PlanTree) =>
  tree.sections.map((section) => ({
    ...section,
    aims: section.aims.map((aim) => ({ ...aim, ...latestProgress(aim.actions) })),
  })),
);

/** The document page's filters, each with its choices and the one chosen. */
function filterOptions(tree: PlanTree, filters: DocumentFilters) {
  const organisations = organisationsInPlan(tree);
  const selected = (value: unknown, current: unknown) => String(value) === String(current ?? '');
  const option = (value: string | number, text: string, current: unknown) => ({
    value: String(value),
    text,
    selected: selected(value, current),
  });
  return {
    section: [
      option('', 'All sections', filters.section),
      ...tree.sections.map((s) => option(s.number, `${s.number}. ${s.title}`, filters.section)),
    ],
    priority: [
      option('', 'All priorities', filters.priority),
      ...tree.priorities.map((p) => option(p.id, p.title, filters.priority)),
    ],
    lead: [
      option('', 'Any lead organisation', filters.lead),
      ...organisations.leads.map((o) => option(o.id, o.name, filters.lead)),
    ],
    partner: [
      option('', 'Any partner organisation', filters.partner),
      ...organisations.partners.map((o) => option(o.id, o.name, filters.partner)),
    ],
    status: [
      option('', 'Any status', filters.status),
      ...STATUSES.map((s) => option(s, STATUS_LABELS[s], filters.status)),
      option('none', 'No status given', filters.status),
    ],
    quarter: [
      option('', 'All quarters', filters.quarter),
      ...QUARTERS.map((q) => option(q, `Q${q}`, filters.quarter)),
    ],
  };
}

/**
 * How many filters of one plan read keep their part of the page: a filter is whatever an address
 * asks for, so they are bounded (each up to the whole plan's table, about 70 KB for SoSafe's).
 */
const DOCUMENT_FILTERS_KEPT = 20;

/**
 * How many variants of aims one plan read keeps: each aim for each kind of reader (who may edit the
 * plan; the actions an organisation's officers may update), up to 20 KB each: a few kinds for each
 * of SoSafe's 21 aims.
 */
const AIM_VARIANTS_KEPT = 200;

export function registerPlanRoutes(app: FastifyInstance, services: Services): void {
  const priorityTrendSection = priorityTrendSections(app);
  /**
   * The document page's filters and the whole plan's table for them
   * (views/plan/document-body.njk), a kept part of the page (render.ts KeptHtml): made once for
   * each plan tree read (one frozen object under a read stamp) and filter, with the text helpers
   * of the glossary read under the same stamp. Its select boxes and table were most of the page's
   * time.
   */
  const documentBody = madeFromKept(async (tree: PlanTree, variant: string, fmt: TextHelpers) => {
    const filters = JSON.parse(variant) as DocumentFilters;
    const rows = documentRows(tree, filters);
    const html = await app.view('plan/document-body.njk', {
      rows,
      actionCount: rows.filter((r) => r.action).length,
      filterOptions: filterOptions(tree, filters),
      filtered: Object.keys(filters).length > 0,
      plan: tree.plan,
      base: planPath(tree),
      fmt,
    });
    return new KeptHtml(html);
  }, DOCUMENT_FILTERS_KEPT);
  /**
   * The plan page's sections with their aims' latest status and progress
   * (views/plan/plan-sections.njk), a kept part of the page (render.ts KeptHtml): made once for
   * each plan tree read and whether the reader may edit the plan ('edit' or 'read'), the forms'
   * CSRF token left as a hole each answer fills.
   */
  const planSections = madeFromKept(async (tree: PlanTree, variant: string, fmt: TextHelpers) => {
    const html = await app.view('plan/plan-sections.njk', {
      sections: sectionsWithLatest(tree),
      canEdit: variant === 'edit',
      base: planPath(tree),
      fmt,
      csrfToken: CSRF_HOLE,
    });
    return new KeptHtml(html);
  });

  /**
   * An aim's actions with their progress (views/plan/aim-actions.njk), a kept part of the page
   * (render.ts KeptHtml): made once for each plan tree read, aim and what the reader may change
   * (the variant: the aim's number, whether they may edit the plan, the actions they may update),
   * the forms' CSRF token left as a hole each answer fills. Their summary lists were most of the
   * page's time.
   */
  const aimActions = madeFromKept(async (tree: PlanTree, variant: string, aim: AimNode, fmt: TextHelpers) => {
    const [, canEdit, updatable] = JSON.parse(variant) as [string, boolean, number[]];
    const actions = aim.actions.map((action, index) => ({
      ...action,
      index: index + 1,
      canUpdate: updatable.includes(action.id),
      quarters: QUARTERS.map((quarter) => ({
        quarter,
        update: action.progress.find((p) => p.quarter === quarter),
      })),
      undated: action.progress.filter((p) => p.quarter === null),
      ...latestProgress([action]),
    }));
    const html = await app.view('plan/aim-actions.njk', {
      actions,
      canEdit,
      base: planPath(tree),
      fmt,
      csrfToken: CSRF_HOLE,
    });
    return new KeptHtml(html);
  }, AIM_VARIANTS_KEPT);

  app.get<{ Params: { slug: string } }>('/p/:slug', async (request, reply) => {
    const { actor, partnership, member } = await partnershipContext(services, request, request.params.slug);
    const year = await services.plans.currentPlanYear(actor, partnership);
    if (!year) {
      // A new partnership: nothing to show until its first plan is imported.
      return reply.page('plan/no-plan.njk', { title: 'No plan yet', partnership, member });
    }
    return reply.redirect(`/p/${partnership.slug}/plans/${planYearSlug(year)}`);
  });

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const sections = sectionsWithLatest(page.tree);
    return reply.page('plan/plan.njk', {
      ...page.common,
      title: `${page.tree.plan.title}`,
      nav: 'plan',
      sections,
      planSections: await planSections(page.tree, page.canEdit ? 'edit' : 'read', page.fmt),
      updateQuarters: await openQuartersForUpdates(services, page, request.readStamp),
    });
  });

  app.get<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/aims/:number',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const { section, aim } = findAim(page.tree, request.params.number);
      const updatable = updatableActionIds(page.tree, page.member, aim);
      const priorities = page.tree.priorities.filter((p) => aim.priorityIds.includes(p.id));
      const variant = JSON.stringify([aim.number, page.canEdit, updatable]);
      return reply.page('plan/aim.njk', {
        ...page.common,
        title: `${aim.number} ${aim.title}`,
        nav: 'plan',
        section,
        aim,
        hasActions: aim.actions.length > 0,
        aimActions: await aimActions(page.tree, variant, aim, page.fmt),
        priorities,
        ...(await aimTabs(services, page.actor, aim.id, 'actions', request.readStamp)),
        aimFunding: await aimFunding(services, page.actor, aim, page.base, request.readStamp),
        priorityTrend: await priorityTrendSection(
          services,
          page.actor,
          page.member,
          page.partnership,
          priorities.map((p) => p.id),
          {
            heading: 'Crime trends for the priorities of this aim',
            idPrefix: 'aim-trend',
            stamp: request.readStamp,
          },
        ),
      });
    },
  );

  app.get<{ Params: PlanParams; Querystring: Record<string, string> }>(
    '/p/:slug/plans/:year/document',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const filters = parseDocumentFilters(request.query);
      const body = await documentBody(page.tree, JSON.stringify(filters), page.fmt);
      return reply.page('plan/document.njk', {
        ...page.common,
        title: `${page.tree.plan.title}: the whole plan`,
        nav: 'document',
        documentBody: body,
      });
    },
  );

  app.get<{ Params: PlanParams; Querystring: { q?: string } }>(
    '/p/:slug/plans/:year/search',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const q = typeof request.query.q === 'string' ? request.query.q.trim().slice(0, 200) : '';
      const results = q ? await services.plans.searchPlan(page.actor, page.tree.plan, q) : [];
      return reply.page('plan/search.njk', {
        ...page.common,
        title: q ? `Search results for “${q}”` : 'Search the plan',
        nav: 'search',
        q,
        results,
      });
    },
  );

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/organisations', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const organisations = [
      ...new Map(
        page.tree.sections
          .flatMap((s) => s.aims)
          .flatMap((a) => a.actions)
          .flatMap((a) => [...a.leads, ...a.partners])
          .map((p) => [
            p.organisationId,
            { id: p.organisationId, name: p.organisation, fullName: p.fullName },
          ]),
      ).values(),
    ]
      .map((o) => {
        const roles = organisationRoles(page.tree, o.id);
        return { ...o, leads: roles.leads.length, partners: roles.partners.length };
      })
      .sort((a, b) => a.name.localeCompare(b.name, 'en-GB'));
    return reply.page('plan/organisations.njk', {
      ...page.common,
      title: 'Organisations',
      nav: 'organisations',
      organisations,
    });
  });

  app.get<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/organisations/:id',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const id = Number(request.params.id);
      const roles = organisationRoles(page.tree, id);
      const party = [...roles.leads, ...roles.partners][0];
      if (!party) throw new NotFoundError('The organisation');
      const organisation = [...party.action.leads, ...party.action.partners].find(
        (p) => p.organisationId === id,
      )!;
      const byAim = (list: typeof roles.leads) =>
        [...new Map(list.map((r) => [r.aim.id, r.aim])).values()]
          .sort((a, b) => compareAimNumbers(a.number, b.number))
          .map((aim) => ({ aim, entries: list.filter((r) => r.aim.id === aim.id) }));
      return reply.page('plan/organisation.njk', {
        ...page.common,
        title: organisation.organisation,
        nav: 'organisations',
        organisation,
        leads: byAim(roles.leads),
        partners: byAim(roles.partners),
      });
    },
  );

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/about', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const aimsById = new Map(page.tree.sections.flatMap((s) => s.aims).map((a) => [a.id, a]));
    const priorities = page.tree.priorities.map((p) => ({
      ...p,
      aims: p.aimIds
        .map((id) => aimsById.get(id))
        .filter((a) => a !== undefined)
        .sort((a, b) => compareAimNumbers(a.number, b.number)),
    }));
    return reply.page('plan/about.njk', {
      ...page.common,
      title: `About the ${page.tree.plan.title.replace(/^Action plan/, 'action plan')}`,
      nav: 'about',
      tree: page.tree,
      priorities,
      principles: page.principles,
      glossary: page.glossary,
    });
  });
}
