/** Recording progress on an action for a quarter: the lead officer's form. */
import type { FastifyInstance } from 'fastify';
import { parseQuarter, quarterOfDate, QUARTERS, type Quarter } from '../../domain/quarters.js';
import { STATUSES, STATUS_LABELS } from '../../domain/status.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { findAction, type PlanTree } from '../../services/plan-read.js';
import { formBody, formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type Params = { slug: string; year: string; id: string };

/** The quarter a new update is most likely for: today's quarter of the plan year, clamped to it. */
function defaultQuarter(tree: PlanTree, now = new Date()): Quarter {
  const inYear = quarterOfDate(tree.plan.year, now);
  if (inYear) return inYear;
  return now.toISOString().slice(0, 10) < tree.plan.startsOn ? 1 : 4;
}

export function registerProgressRoutes(app: FastifyInstance, services: Services): void {
  async function load(request: Parameters<typeof loadPlanPage>[1], params: Params) {
    const page = await loadPlanPage(services, request, params);
    const found = findAction(page.tree, Number(params.id));
    if (!(await services.progress.mayUpdate(page.actor, found.action.id))) {
      throw new ForbiddenError(
        'Only the action’s lead officers and the coordinator can record its progress.',
      );
    }
    return { page, ...found };
  }

  function formView(
    ctx: Awaited<ReturnType<typeof load>>,
    quarter: Quarter,
    values: { text?: string; status?: string; version?: number | string },
    extra: object = {},
  ) {
    const existing = ctx.action.progress.find((p) => p.quarter === quarter);
    const previous = [...ctx.action.progress]
      .reverse()
      .find((p) => p.quarter !== null && p.quarter < quarter);
    return {
      ...ctx.page.common,
      title: `${existing ? 'Change' : 'Add'} the Q${quarter} progress update`,
      nav: 'plan',
      section: ctx.section,
      aim: ctx.aim,
      action: ctx.action,
      actionIndex: ctx.index,
      quarter,
      existing,
      previous,
      values,
      quarterItems: QUARTERS.map((q) => ({
        value: String(q),
        text: `Q${q}`,
        checked: q === quarter,
        hint: {
          text: ctx.action.progress.some((p) => p.quarter === q)
            ? 'Has an update: you will change it'
            : 'No update yet',
        },
      })),
      statusItems: STATUSES.map((s) => ({ value: s, text: STATUS_LABELS[s], checked: values.status === s })),
      ...extra,
    };
  }

  app.get<{ Params: Params; Querystring: { quarter?: string } }>(
    '/p/:slug/plans/:year/actions/:id/progress',
    async (request, reply) => {
      const ctx = await load(request, request.params);
      const quarter = parseQuarter(request.query.quarter ?? '') ?? defaultQuarter(ctx.page.tree);
      const existing = ctx.action.progress.find((p) => p.quarter === quarter);
      return reply.page(
        'progress/form.njk',
        formView(ctx, quarter, {
          text: existing?.text ?? '',
          status: existing?.status ?? undefined,
          version: existing?.version,
        }),
      );
    },
  );

  app.post<{ Params: Params }>('/p/:slug/plans/:year/actions/:id/progress', async (request, reply) => {
    const ctx = await load(request, request.params);
    const body = formBody(request.body);
    const quarter = parseQuarter(body.quarter ?? '');
    const values = { text: body.text ?? '', status: body.status, version: body.version };
    try {
      await services.progress.save(ctx.page.actor, ctx.action.id, {
        quarter: body.quarter,
        status: body.status,
        text: body.text,
        version: body.version || undefined,
      });
    } catch (error) {
      const shownQuarter = quarter ?? defaultQuarter(ctx.page.tree);
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page(
          'progress/form.njk',
          formView(ctx, shownQuarter, values, formErrors(error.problems)),
        );
      }
      if (error instanceof ConflictError) {
        const current = error.current as {
          text: string;
          status: string | null;
          version: number;
          recordedAt: Date | null;
        };
        reply.code(409);
        return reply.page(
          'progress/form.njk',
          formView(ctx, shownQuarter, { ...values, version: current.version }, { conflict: { current } }),
        );
      }
      throw error;
    }
    request.session.flash = `The Q${quarter} progress update for aim ${ctx.aim.number} has been saved`;
    return reply.redirect(`${ctx.page.base}/aims/${ctx.aim.number}#action-${ctx.index}`, 303);
  });
}
