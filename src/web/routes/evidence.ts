/**
 * The partnership's evidence for its strategic assessment: the hub page, and what every evidence
 * page shares (the partnership, who is acting, the plan year for the navigation).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canManageEvidence, canReadEvidence } from '../../domain/evidence.js';
import { planYearSlug } from '../../domain/quarters.js';
import { ForbiddenError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { partnershipContext } from '../context.js';

/**
 * What an evidence page needs: the context, and `common` for the template (partnership, member,
 * the current plan's `base` for the navigation, nav 'evidence', `evidence` the hub's address).
 * Refuses anyone who is not a member: the services check again before reading anything.
 */
export async function evidencePage(services: Services, request: FastifyRequest, slug: string) {
  const context = await partnershipContext(services, request, slug);
  if (!canReadEvidence(context.member, context.partnership.id)) {
    throw new ForbiddenError('Only members of the partnership can see its evidence');
  }
  const year = await services.plans.currentPlanYear(context.actor, context.partnership);
  const base = year ? `/p/${context.partnership.slug}/plans/${planYearSlug(year)}` : undefined;
  const evidence = `/p/${context.partnership.slug}/evidence`;
  return {
    ...context,
    base,
    evidence,
    canManage: canManageEvidence(context.member, context.partnership.id),
    common: {
      partnership: context.partnership,
      member: context.member,
      base,
      evidence,
      nav: 'evidence',
    },
  };
}

export function registerEvidenceRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { slug: string } }>('/p/:slug/evidence', async (request, reply) => {
    const page = await evidencePage(services, request, request.params.slug);
    return reply.page('evidence/hub.njk', {
      ...page.common,
      title: 'Evidence',
      canManage: page.canManage,
    });
  });
}
