/**
 * Evidence: police.uk trends for a partnership's area (GET /p/:slug/evidence/crime, each table as
 * CSV), the crime type ↔ priority links (…/crime/priorities) and the area itself (…/evidence/area).
 * Thin: the policeTrends service checks who may read and write; the charts and tables are written
 * by documents/trend-charts.ts and documents/trend-tables.ts. Also the priorities' trends shown on
 * an aim's page and on the dashboard (priorityTrendSections).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { barChartSvg, trendChartSvg } from '../../documents/trend-charts.js';
import { monthlyTable, trendTableCsv, trendTables, type TrendTable } from '../../documents/trend-tables.js';
import { canReadEvidence } from '../../domain/evidence.js';
import type { Member } from '../../domain/permissions.js';
import {
  monthLabel,
  monthRange,
  parseTrendMonths,
  shareOf,
  TREND_MONTH_CHOICES,
} from '../../domain/police-trends.js';
import type { Actor } from '../../services/actor.js';
import { ConflictError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import type { PartnershipRow } from '../../services/plan-read.js';
import type { CrimeTrends, MonthCount, PriorityTrend, PriorityTrends } from '../../services/police-trends.js';
import { madeFromKept } from '../../services/read-cache.js';
import { formBody, formErrors } from '../forms.js';
import { KeptHtml } from '../render.js';
import { evidencePage } from './evidence.js';

type Params = { slug: string };
type Query = { months?: string | string[] };

const monthsOf = (query: Query) =>
  parseTrendMonths(Array.isArray(query.months) ? query.months[0] : query.months);

/** The figures of a trend in words: what a screen reader reads in place of the picture. */
function describeTrend(series: readonly MonthCount[], force: string): string {
  return series
    .map((m) => `${monthLabel(m.month)}: area ${m.area}, ${force} ${m.force} (${shareOf(m.area, m.force)})`)
    .join('; ');
}

async function pageCharts(trends: CrimeTrends) {
  if (!trends.months.length || !trends.force) return null;
  const force = trends.force;
  const period = monthRange(trends.months);
  const [totals, types, outcomes, priorities] = await Promise.all([
    trendChartSvg(
      trends.totals,
      {
        id: 'chart-monthly-totals',
        title: `All crimes by month in the area and in ${force}, ${period}`,
        description: describeTrend(trends.totals, force),
      },
      { forceName: force },
    ),
    barChartSvg(
      trends.byType.map((t) => ({ label: t.crimeType, n: t.area })),
      {
        id: 'chart-crime-types',
        title: `Crimes in the area by type, ${period}`,
        description: trends.byType.map((t) => `${t.crimeType}: ${t.area}`).join('; '),
      },
    ),
    trends.outcomes.rows.length
      ? barChartSvg(
          trends.outcomes.rows.map((r) => ({ label: r.outcomeType, n: r.outcomes })),
          {
            id: 'chart-outcomes',
            title: `Outcomes recorded in the area, ${monthRange(trends.outcomes.monthsWithOutcomes)}`,
            description: trends.outcomes.rows.map((r) => `${r.outcomeType}: ${r.outcomes}`).join('; '),
          },
          { colour: '#505a5f', width: 300 },
        )
      : Promise.resolve(null),
    Promise.all(trends.priorities.map((p) => priorityChart(p, force, `chart-priority-${p.priorityId}`))),
  ]);
  return {
    'monthly-totals': totals,
    'crime-types': types,
    outcomes,
    ...Object.fromEntries(trends.priorities.map((p, i) => [`priority-${p.priorityId}`, priorities[i]])),
  } as Record<string, string | null>;
}

function priorityChart(p: PriorityTrend, force: string, id: string, small = false) {
  if (!p.crimeTypes.length) return Promise.resolve(null);
  return trendChartSvg(
    p.monthly,
    {
      id,
      title: `${p.title}: crimes of its linked types (${p.crimeTypes.join(', ')}) by month, area and force`,
      description: describeTrend(p.monthly, force),
    },
    { forceName: force, ...(small ? { width: 200, height: 110 } : {}) },
  );
}

/** Each priority's chart and table. */
function trendItems(found: PriorityTrends, idPrefix: string) {
  return Promise.all(
    found.trends.map(async (p) => ({
      title: p.title,
      crimeTypes: p.crimeTypes,
      svg: found.force ? await priorityChart(p, found.force, `${idPrefix}-${p.priorityId}`, true) : null,
      table: p.crimeTypes.length
        ? withCsv(
            monthlyTable(
              `${idPrefix}-${p.priorityId}`,
              `${p.title}: crimes by month, area and force`,
              p.monthly,
            ),
            null,
          )
        : null,
    })),
  );
}

interface TrendSectionOptions {
  heading: string;
  idPrefix: string;
  stamp?: string | undefined;
}

/**
 * The trends of some priorities, for the aim's page (its priorities) and the dashboard (the
 * plan's), as a kept part of the page (views/evidence/priority-trend.njk; render.ts KeptHtml):
 * null for a reader who may not see the evidence, so their page is as it was. The section, with
 * each priority's chart and table, is made once for each priority trends read (kept under a read
 * stamp), heading and prefix of ids, not drawn and rendered again for every request.
 */
export function priorityTrendSections(app: FastifyInstance) {
  const sectionHtml = madeFromKept(async (found: PriorityTrends, variant: string) => {
    const { heading, idPrefix, evidence } = JSON.parse(variant) as {
      heading: string;
      idPrefix: string;
      evidence: string;
    };
    const priorityTrend = {
      heading,
      state: found.state,
      force: found.force,
      period: monthRange(found.months),
      items: await trendItems(found, idPrefix),
      crimeHref: `${evidence}/crime`,
      linksHref: `${evidence}/crime/priorities`,
    };
    return new KeptHtml(await app.view('evidence/priority-trend.njk', { priorityTrend }));
  });
  return async (
    services: Services,
    actor: Actor,
    member: Member | undefined,
    partnership: PartnershipRow,
    priorityIds: readonly number[],
    options: TrendSectionOptions,
  ): Promise<KeptHtml | null> => {
    if (!priorityIds.length) return null;
    if (!actor.system && !canReadEvidence(member, partnership.id)) return null;
    const found = await services.policeTrends.priorityTrends(actor, partnership, priorityIds, options.stamp);
    const evidence = `/p/${partnership.slug}/evidence`;
    return sectionHtml(
      found,
      JSON.stringify({ heading: options.heading, idPrefix: options.idPrefix, evidence }),
    );
  };
}

function withCsv(table: TrendTable, csvHref: string | null) {
  return { ...table, csvHref };
}

/** Checkboxes arrive as nothing, one value or a list of values. */
function listOf(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  return [value].flat().filter((v): v is string => typeof v === 'string');
}

export function registerPoliceTrendRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: Params; Querystring: Query }>('/p/:slug/evidence/crime', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const months = monthsOf(request.query);
    const trends = await services.policeTrends.trends(page.actor, page.partnership, { months });
    const svg = await pageCharts(trends);
    const csvBase = `${page.evidence}/crime`;
    const query = months === 12 ? '' : `?months=${months}`;
    const tables = Object.fromEntries(
      trendTables(trends).map((t) => [
        t.id,
        { ...withCsv(t, `${csvBase}/${t.id}.csv${query}`), svg: svg?.[t.id] ?? null },
      ]),
    );
    return reply.page('evidence/crime.njk', {
      ...page.common,
      title: 'Crime and anti-social behaviour',
      canManage: page.canManage,
      trends,
      tables,
      period: monthRange(trends.months),
      hasArea: trends.area.codes.length + trends.area.prefixes.length > 0,
      monthItems: TREND_MONTH_CHOICES.map((n) => ({
        value: String(n),
        text: `Last ${n} months`,
        selected: n === trends.requestedMonths,
      })),
      priorityTables: trends.priorities.map((p) => ({
        title: p.title,
        crimeTypes: p.crimeTypes,
        table: tables[`priority-${p.priorityId}`] ?? null,
      })),
    });
  });

  app.get<{ Params: Params & { table: string }; Querystring: Query }>(
    '/p/:slug/evidence/crime/:table.csv',
    async (request, reply) => {
      const page = await evidencePage(services, request, request.params.slug);
      const trends = await services.policeTrends.trends(page.actor, page.partnership, {
        months: monthsOf(request.query),
      });
      const table = trendTables(trends).find((t) => t.id === request.params.table);
      if (!table) throw new NotFoundError(`The table "${request.params.table}"`);
      const slug = page.partnership.slug.replace(/[^\w-]/g, '');
      const last = trends.months.at(-1) ?? 'none';
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${slug}-crime-${last}-${table.id}.csv"`)
        .header('cache-control', 'no-store')
        .send(trendTableCsv(table));
    },
  );

  // ——— The links between crime types and priorities ———

  async function linksPage(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
    form?: {
      chosen: Record<string, string[]>;
      problems?: readonly { field: string; message: string }[];
      conflict?: boolean;
    },
  ) {
    const page = await evidencePage(services, request, request.params.slug);
    const links = await services.policeTrends.links(page.actor, page.partnership);
    const errors = form?.problems?.length ? formErrors(form.problems) : undefined;
    return reply.page('evidence/crime-priorities.njk', {
      ...page.common,
      title: 'Crime types and the plan’s priorities',
      links,
      conflict: form?.conflict ?? false,
      ...(errors ? { errorList: errors.errorList, errors: errors.errors } : {}),
      priorities: links.priorities.map((p) => {
        const chosen = form?.chosen[String(p.id)] ?? p.crimeTypes;
        return {
          ...p,
          items: links.crimeTypes.map((type) => ({
            value: type,
            text: type,
            checked: chosen.includes(type),
          })),
        };
      }),
    });
  }

  app.get<{ Params: Params }>('/p/:slug/evidence/crime/priorities', (request, reply) =>
    linksPage(request, reply),
  );

  app.post<{ Params: Params }>('/p/:slug/evidence/crime/priorities', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const raw = (request.body ?? {}) as Record<string, unknown>;
    const body = formBody(raw);
    const chosen: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(raw)) {
      const match = /^priority-(\d+)$/.exec(key);
      if (match) chosen[match[1]!] = listOf(value);
    }
    // Every priority shown on the form counts, its boxes all cleared or not.
    for (const id of listOf(raw.shown)) chosen[id] ??= [];
    const suggested = body.use === 'suggested';
    try {
      await services.policeTrends.saveLinks(page.actor, page.partnership, {
        basis: body.basis ?? '',
        ...(suggested ? { suggested: true } : { links: chosen }),
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return linksPage(request, reply, { chosen, problems: error.problems });
      }
      if (error instanceof ConflictError) {
        reply.code(409);
        return linksPage(request, reply, { chosen, conflict: true });
      }
      throw error;
    }
    reply.flash(
      suggested
        ? 'The crime types suggested by the priorities’ titles are now linked to them'
        : 'The crime types linked to the priorities have been saved',
    );
    return reply.redirect(`${page.evidence}/crime/priorities`, 303);
  });

  // ——— The area ———

  async function areaPage(
    request: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
    form?: {
      values: { prefixes: string; codes: string };
      problems: readonly { field: string; message: string }[];
    },
  ) {
    const page = await evidencePage(services, request, request.params.slug);
    const area = await services.policeTrends.area(page.actor, page.partnership);
    const errors = form?.problems.length ? formErrors(form.problems) : undefined;
    return reply.page('evidence/crime-area.njk', {
      ...page.common,
      title: 'The partnership’s area for police.uk data',
      area,
      latestMonth: area.latestMonth ? monthLabel(area.latestMonth) : null,
      values: form?.values ?? {
        prefixes: area.area.prefixes.map((p) => p.trim()).join('\n'),
        codes: area.area.codes.join('\n'),
      },
      ...(errors ? { errorList: errors.errorList, errors: errors.errors } : {}),
    });
  }

  app.get<{ Params: Params }>('/p/:slug/evidence/area', (request, reply) => areaPage(request, reply));

  app.post<{ Params: Params }>('/p/:slug/evidence/area', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    const body = formBody(request.body);
    const values = { prefixes: body.prefixes ?? '', codes: body.codes ?? '' };
    try {
      await services.policeTrends.saveArea(page.actor, page.partnership, values);
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return areaPage(request, reply, { values, problems: error.problems });
      }
      throw error;
    }
    reply.flash('The area has been saved and its counts recounted');
    return reply.redirect(`${page.evidence}/area`, 303);
  });
}
