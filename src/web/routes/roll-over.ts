/**
 * Roll-over: the coordinator starts next year's plan from this one, choosing the aims that carry
 * over. The service checks the permission again and writes everything in one transaction.
 */
import type { FastifyInstance } from 'fastify';
import { planYearSlug } from '../../domain/quarters.js';
import { ForbiddenError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { allAims } from '../../services/plan-read.js';
import { formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };

/** Checkboxes arrive as nothing, one value or several. */
function checkedValues(body: unknown, name: string): string[] {
  const value = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return [value ?? []].flat().filter((v): v is string => typeof v === 'string');
}

export function registerRollOverRoutes(app: FastifyInstance, services: Services): void {
  const rollOverPage = async (request: Parameters<typeof loadPlanPage>[1], params: PlanParams) => {
    const page = await loadPlanPage(services, request, params);
    if (!page.canEdit) {
      throw new ForbiddenError('Only the partnership’s coordinator can start next year’s plan.');
    }
    const target = await services.rollOver.target(page.actor, page.partnership.id, page.tree.plan.year);
    const view = {
      ...page.common,
      title: `Start the ${target.year} plan`,
      target,
      targetHref: `/p/${page.partnership.slug}/plans/${planYearSlug(target.year)}`,
      sections: page.tree.sections.filter((s) => s.aims.length > 0),
    };
    return { page, target, view };
  };

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/roll-over', async (request, reply) => {
    const { page, view } = await rollOverPage(request, request.params);
    return reply.page('roll-over/roll-over.njk', {
      ...view,
      values: { aims: allAims(page.tree).map((a) => String(a.id)) },
    });
  });

  app.post<{ Params: PlanParams }>('/p/:slug/plans/:year/roll-over', async (request, reply) => {
    const { page, target, view } = await rollOverPage(request, request.params);
    const aims = checkedValues(request.body, 'aims');
    let created;
    try {
      created = await services.rollOver.create(page.actor, page.partnership.id, page.tree.plan.year, {
        aimIds: aims,
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page('roll-over/roll-over.njk', {
          ...view,
          values: { aims },
          ...formErrors(error.problems),
        });
      }
      throw error;
    }
    reply.flash(
      `The ${target.year} plan has been started with ${created.aims} ` +
        `${created.aims === 1 ? 'aim' : 'aims'} carried over from ${page.tree.plan.year}`,
    );
    return reply.redirect(view.targetHref, 303);
  });
}
