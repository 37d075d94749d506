/**
 * The partnership dashboard for a quarter: statuses, submission progress, coverage matrices; SVG charts with their tables and CSV.
 * Thin: the dashboard service checks that the reader may read the plan and counts; the charts and
 * tables are written out by documents/charts.ts and documents/dashboard-tables.ts.
 */
import { countOf } from '../../domain/text.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { statusChartSvg, submissionChartSvg, type StatusChartRow } from '../../documents/charts.js';
import { dashboardTables, isDashboardTableId, tableCsv } from '../../documents/dashboard-tables.js';
import { SUMMARY_LABELS } from '../../documents/board-report-words.js';
import { SUBMISSION_STATES, SUBMISSION_STATE_LABELS } from '../../domain/cycles.js';
import { FEW_LIVE_ACTIONS, STATUS_COLUMNS, type Dashboard } from '../../domain/dashboard.js';
import { planYearSlug, quarterLabel, quarterMonths, QUARTERS, type Quarter } from '../../domain/quarters.js';
import { NotFoundError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { madeFromKept } from '../../services/read-cache.js';
import { KeptHtml } from '../render.js';
import { loadPlanPage, planPath } from './plan.js';
import { priorityTrendSections } from './police-trends.js';

type DashboardParams = { slug: string; year: string };
type DashboardQuery = { quarter?: string | string[] };

const PHASE_WORDS = { open: 'open for updates', closed: 'closed', not_opened: 'not opened' } as const;

/** The figures of a status chart in words: what a screen reader reads in place of the picture. */
function describeStatuses(rows: readonly StatusChartRow[]): string {
  return rows
    .map((r) => {
      const parts = STATUS_COLUMNS.filter((c) => r.counts[c] > 0).map(
        (c) => `${r.counts[c]} ${SUMMARY_LABELS[c].toLowerCase()}`,
      );
      return `${r.label}: ${parts.length ? parts.join(', ') : 'no actions'}`;
    })
    .join('; ');
}

async function charts(d: Dashboard) {
  const when = `${quarterLabel(d.quarter)} ${d.plan.year}`;
  const status = (id: string, what: string, rows: readonly StatusChartRow[]) =>
    rows.length
      ? statusChartSvg(rows, {
          id: `chart-${id}`,
          title: `${what}, ${when}: actions in each status`,
          description: describeStatuses(rows),
        })
      : Promise.resolve(null);
  const s = d.submissions;
  const [bySection, byPriority, byOrganisation, submissions] = await Promise.all([
    status('by-section', 'Statuses by section', d.bySection),
    status('by-priority', 'Statuses by priority', d.byPriority),
    status('by-organisation', 'Statuses by lead organisation', d.byOrganisation),
    s
      ? submissionChartSvg(s.counts, {
          id: 'chart-submissions',
          title: `Updates for ${quarterLabel(s.quarter)} ${d.plan.year} by where they stand`,
          description: SUBMISSION_STATES.map((st) => `${SUBMISSION_STATE_LABELS[st]}: ${s.counts[st]}`).join(
            '; ',
          ),
        })
      : Promise.resolve(null),
  ]);
  return {
    'by-section': bySection,
    'by-priority': byPriority,
    'by-organisation': byOrganisation,
    submissions,
  };
}

export function registerDashboardRoutes(app: FastifyInstance, services: Services): void {
  const priorityTrendSection = priorityTrendSections(app);
  /** ?quarter=3; absent: the service's default. Anything else is not a quarter. */
  function quarterOf(query: DashboardQuery): Quarter | undefined {
    const value = query.quarter;
    if (value === undefined || value === '') return undefined;
    const quarter =
      typeof value === 'string' && /^[1-4]$/.test(value) ? (Number(value) as Quarter) : undefined;
    if (!quarter) throw new NotFoundError(`Quarter ${String(value)}`);
    return quarter;
  }

  async function dashboardFor(
    request: FastifyRequest<{ Params: DashboardParams; Querystring: DashboardQuery }>,
  ) {
    // The plan's page first: a reader who may not read the plan is refused before any quarter is checked.
    const page = await loadPlanPage(services, request, request.params);
    const quarter = quarterOf(request.query);
    const dashboard = await services.dashboard.get(
      page.actor,
      page.partnership,
      page.tree.plan.year,
      quarter,
      request.readStamp,
    );
    return { page, dashboard };
  }

  /**
   * The charts and tables of a dashboard as HTML (views/dashboard/tables.njk), made once for each
   * dashboard read: a dashboard the service keeps for a read stamp (read-cache.ts) is one frozen
   * object, served to every reader of the plan until something is written, and everything in the
   * fragment comes from it (its links' plan address too). Its tables and charts were most of the
   * page's time; kept as bytes (render.ts KeptHtml), their 280 KB are not encoded again either.
   */
  const tablesHtml = madeFromKept(async (dashboard: Dashboard): Promise<KeptHtml> => {
    const tables = dashboardTables(dashboard);
    const svg = await charts(dashboard);
    const csvBase = `${planPath(dashboard)}/dashboard`;
    const quarterQuery = `?quarter=${dashboard.quarter}`;
    const html = await app.view('dashboard/tables.njk', {
      dashboard,
      quarterLabel: quarterLabel(dashboard.quarter),
      submissionsDue: dashboard.submissions?.dueOn ?? null,
      few: FEW_LIVE_ACTIONS,
      tables: Object.fromEntries(
        tables.map((t) => [
          t.id,
          {
            ...t,
            csvHref: `${csvBase}/${t.id}.csv${quarterQuery}`,
            svg: (svg as Record<string, string | null>)[t.id] ?? null,
          },
        ]),
      ),
    });
    return new KeptHtml(html);
  });

  /**
   * The form that chooses the quarter, made once for each dashboard read as the tables are: its
   * choices give each quarter's updates and phase from the dashboard's own figures.
   */
  const quarterFormHtml = madeFromKept(
    async (dashboard: Dashboard): Promise<KeptHtml> =>
      new KeptHtml(
        await app.view('dashboard/quarter-form.njk', {
          action: `${planPath(dashboard)}/dashboard`,
          quarterItems: QUARTERS.map((q) => {
            const info = dashboard.quarters.find((x) => x.quarter === q);
            return {
              value: String(q),
              text: `${quarterLabel(q)} (${quarterMonths(q)}): ${countOf(info?.updates ?? 0, 'update')}, ${PHASE_WORDS[info?.phase ?? 'not_opened']}`,
              selected: q === dashboard.quarter,
            };
          }),
        }),
      ),
  );

  app.get<{ Params: DashboardParams; Querystring: DashboardQuery }>(
    '/p/:slug/plans/:year/dashboard',
    async (request, reply) => {
      const { page, dashboard } = await dashboardFor(request);
      return reply.page('dashboard/dashboard.njk', {
        ...page.common,
        nav: 'dashboard',
        title: `Dashboard: ${quarterLabel(dashboard.quarter)} ${dashboard.plan.year}`,
        dashboard,
        quarterLabel: quarterLabel(dashboard.quarter),
        quarterMonths: quarterMonths(dashboard.quarter),
        previousLabel: dashboard.previousQuarter ? quarterLabel(dashboard.previousQuarter) : null,
        quarterFormHtml: await quarterFormHtml(dashboard),
        tablesHtml: await tablesHtml(dashboard),
        priorityTrend: await priorityTrendSection(
          services,
          page.actor,
          page.member,
          page.partnership,
          page.tree.priorities.map((p) => p.id),
          { heading: 'Crime trends by priority', idPrefix: 'dashboard-trend', stamp: request.readStamp },
        ),
      });
    },
  );

  app.get<{ Params: DashboardParams & { table: string }; Querystring: DashboardQuery }>(
    '/p/:slug/plans/:year/dashboard/:table.csv',
    async (request, reply) => {
      const { dashboard } = await dashboardFor(request);
      const table = dashboardTables(dashboard).find((t) => t.id === request.params.table);
      if (!isDashboardTableId(request.params.table) || !table) {
        throw new NotFoundError(`The dashboard table "${request.params.table}"`);
      }
      const slug = dashboard.partnership.slug.replace(/[^\w-]/g, '');
      const fileName = `${slug}-${planYearSlug(dashboard.plan.year)}-${quarterLabel(dashboard.quarter)}-${table.id}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName}"`)
        .header('cache-control', 'no-store')
        .send(tableCsv(table));
    },
  );
}
