/**
 * The read-only JSON API under /api/v1, described by api-openapi.ts. Bearer tokens only: cookies
 * are ignored here, and with nothing but GET there is no form to forge. A token reads its own
 * partnership, with a board member's rights; drafts never appear (the plan tree leaves them out).
 * Answers are never cached; refusals are JSON `{ "error": "..." }`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  FUNDING_STATES,
  grandTotal,
  totalsBy,
  totalsByState,
  type FundingTotalsRow,
} from '../../domain/funding.js';
import { QUARTERS, parseQuarter, planYearSlug } from '../../domain/quarters.js';
import type { ApiCaller } from '../../services/api-tokens.js';
import { ForbiddenError, NotFoundError } from '../../services/errors.js';
import type { FundingLineView } from '../../services/funding.js';
import type { Services } from '../../services/index.js';
import { latestProgress, type ActionNode, type Party, type PlanTree } from '../../services/plan-read.js';
import { API_PREFIX, openApiDocument } from '../api-openapi.js';

declare module 'fastify' {
  interface FastifyRequest {
    apiCaller: ApiCaller | undefined;
  }
}

type SlugParams = { slug: string };
type PlanParams = { slug: string; year: string };
type QuarterParams = PlanParams & { q: string };

/** Per address: enough for a dashboard refreshing every few seconds, not for guessing tokens. */
const RATE_LIMIT = { rateLimit: { max: 120, timeWindow: '1 minute' } };

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function party(p: Party) {
  return { organisation: p.organisation, fullName: p.fullName, officers: p.officers };
}

function action(a: ActionNode) {
  return {
    id: a.id,
    position: a.position,
    description: a.description,
    resources: a.resources,
    expectedOutcomes: a.expectedOutcomes,
    leads: a.leads.map(party),
    partners: a.partners.map(party),
    progress: a.progress.map((p) => ({
      quarter: p.quarter,
      status: p.status,
      text: p.text,
      state: p.state,
      late: p.late,
      recordedAt: iso(p.recordedAt),
      submittedAt: iso(p.submittedAt),
      amendedAt: iso(p.amendedAt),
      evidenceUrl: p.evidenceUrl,
    })),
  };
}

/** A funding line as the API shows it: money in whole pence, and in pounds for a spreadsheet. */
export function fundingJson(line: FundingLineView) {
  return {
    id: line.id,
    section: line.sectionNumber,
    aim: line.aimNumber,
    action: line.actionIndex,
    forWholeAim: line.actionId === null,
    source: line.source,
    amountPence: line.amountPence,
    amountPounds: line.amountPence / 100,
    state: line.state,
    appliedOn: line.appliedOn,
    awardedOn: line.awardedOn,
    receivedOn: line.receivedOn,
    spentOn: line.spentOn,
    spentToDatePence: line.spentToDatePence,
    spentToDatePounds: line.spentToDatePence / 100,
    notes: line.notes,
    updatedAt: line.updatedAt.toISOString(),
  };
}

/** The plan as the API shows it: no ids of sections or aims (their numbers name them), no versions. */
export function planJson(tree: PlanTree, funding: readonly FundingLineView[] = []) {
  const priorityTitles = new Map(tree.priorities.map((p) => [p.id, p.title]));
  const aimNumbers = new Map(tree.sections.flatMap((s) => s.aims.map((a) => [a.id, a.number] as const)));
  return {
    partnership: { slug: tree.partnership.slug, name: tree.partnership.name },
    year: tree.plan.year,
    headlineAims: tree.headlineAims,
    priorities: tree.priorities.map((p) => ({
      title: p.title,
      description: p.description,
      addedOn: p.addedOn,
      aims: p.aimIds.flatMap((id) => aimNumbers.get(id) ?? []),
    })),
    sections: tree.sections.map((s) => ({
      number: s.number,
      title: s.title,
      aims: s.aims.map((aim) => ({
        number: aim.number,
        title: aim.title,
        addedOn: aim.addedOn,
        status: latestProgress(aim.actions).status,
        priorities: aim.priorityIds.flatMap((id) => priorityTitles.get(id) ?? []),
        actions: aim.actions.map(action),
        funding: funding.filter((l) => l.aimId === aim.id).map(fundingJson),
      })),
    })),
  };
}

function problem(reply: FastifyReply, status: number, error: string) {
  reply.code(status);
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="Partnership Plan"');
  return reply.send({ error });
}

export async function registerApiRoutes(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(
    async (api) => {
      api.decorateRequest('apiCaller', undefined);

      api.addHook('onSend', async (_request, reply) => {
        reply.header('cache-control', 'no-store');
      });

      // Bearer tokens only.
      api.addHook('preHandler', async (request, reply) => {
        // An unknown address is a plain 404, token or not; the document holds no data.
        if (request.is404 || request.routeOptions.url === `${API_PREFIX}/openapi.json`) return;
        const header = request.headers.authorization;
        if (!header) return problem(reply, 401, 'Send an API token: Authorization: Bearer <token>');
        const match = /^Bearer +(\S+)$/i.exec(header);
        const caller = match ? await services.apiTokens.authenticate(match[1]!) : undefined;
        if (!caller)
          return problem(reply, 401, 'The API token is not valid, has been revoked or has expired');
        const { slug } = request.params as Partial<SlugParams>;
        if (slug !== caller.partnership.slug) {
          return problem(reply, 403, 'This API token is for another partnership');
        }
        request.apiCaller = caller;
      });

      api.setNotFoundHandler(async (_request, reply) => problem(reply, 404, 'Not found'));

      api.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
        if (error instanceof NotFoundError) return problem(reply, 404, error.message);
        if (error instanceof ForbiddenError) return problem(reply, 403, error.message);
        const status =
          error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
        if (status === 429) return problem(reply, 429, 'Too many requests: wait a minute, then try again');
        if (status >= 500) {
          request.log.error({ err: error }, 'API request failed');
          return problem(reply, status, 'Sorry, there is a problem with the service');
        }
        return problem(reply, status, error.message);
      });

      const caller = (request: FastifyRequest): ApiCaller => request.apiCaller!;

      api.get('/openapi.json', { config: RATE_LIMIT }, async () => openApiDocument);

      api.get<{ Params: SlugParams }>('/partnerships/:slug', { config: RATE_LIMIT }, async (request) => {
        const { partnership, actor } = caller(request);
        const latest = await services.plans.currentPlanYear(actor, partnership);
        const years = latest ? (await services.plans.openPlan(actor, partnership, latest)).years : [];
        return {
          slug: partnership.slug,
          name: partnership.name,
          area: partnership.area,
          plans: years.map((year) => ({
            year,
            url: `${API_PREFIX}/partnerships/${partnership.slug}/plans/${planYearSlug(year)}`,
          })),
        };
      });

      const openPlan = async (request: FastifyRequest<{ Params: PlanParams }>) => {
        const { partnership, actor } = caller(request);
        const { tree } = await services.plans.openPlan(actor, partnership, request.params.year);
        return { tree, actor };
      };

      api.get<{ Params: PlanParams }>(
        '/partnerships/:slug/plans/:year',
        { config: RATE_LIMIT },
        async (request) => {
          const { tree, actor } = await openPlan(request);
          return planJson(tree, (await services.funding.listForPlan(actor, tree.plan.id)).lines);
        },
      );

      api.get<{ Params: PlanParams }>(
        '/partnerships/:slug/plans/:year/funding',
        { config: RATE_LIMIT },
        async (request) => {
          const { tree, actor } = await openPlan(request);
          const { lines } = await services.funding.listForPlan(actor, tree.plan.id);
          const row = (r: FundingTotalsRow) => ({
            label: r.label,
            lines: r.lines,
            totalPence: r.totalPence,
            spentToDatePence: r.spentToDatePence,
          });
          return {
            year: tree.plan.year,
            lines: lines.map(fundingJson),
            totals: {
              all: row(grandTotal(lines)),
              byState: FUNDING_STATES.map((state, i) => ({ state, ...row(totalsByState(lines)[i]!) })),
              bySource: totalsBy(lines, (l) => [l.source]).map(row),
            },
          };
        },
      );

      api.get<{ Params: PlanParams }>(
        '/partnerships/:slug/plans/:year/quarters',
        { config: RATE_LIMIT },
        async (request) => {
          const { tree, actor } = await openPlan(request);
          const cycles = await services.cycles.list(actor, tree.plan.id);
          const quarters = await Promise.all(
            QUARTERS.map(async (quarter) => {
              const cycle = cycles.find((c) => c.quarter === quarter);
              const board = await services.cycles.board(actor, tree.plan.id, quarter);
              return {
                quarter,
                phase: cycle?.phase ?? 'not_opened',
                dueOn: cycle?.dueOn ?? null,
                openedAt: iso(cycle?.openedAt ?? null),
                closedAt: iso(cycle?.closedAt ?? null),
                reportedOn: cycle?.reportedOn ?? null,
                counts: board.counts,
                total: board.total,
              };
            }),
          );
          return { year: tree.plan.year, quarters };
        },
      );

      api.get<{ Params: QuarterParams }>(
        '/partnerships/:slug/plans/:year/quarters/:q/snapshot',
        { config: RATE_LIMIT },
        async (request) => {
          const quarter = parseQuarter(request.params.q);
          if (!quarter) throw new NotFoundError(`Quarter ${request.params.q}`);
          const { tree, actor } = await openPlan(request);
          const snapshot = await services.cycles.snapshot(actor, tree.plan.id, quarter);
          if (!snapshot)
            throw new NotFoundError(`The board snapshot of Q${quarter} (the quarter is not closed)`);
          return {
            quarter: snapshot.quarter,
            planYear: snapshot.planYear,
            reportedOn: snapshot.reportedOn,
            takenAt: snapshot.takenAt.toISOString(),
            takenBy: snapshot.takenBy,
            tree: snapshot.tree,
            board: snapshot.board,
            changes: snapshot.changes,
          };
        },
      );
    },
    { prefix: API_PREFIX },
  );
}
