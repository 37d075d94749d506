/**
 * API tokens: the coordinator's pages to issue and revoke the tokens the read-only API takes.
 * A new token is shown once, on the answer to the form; it is never kept in the session.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { planYearSlug } from '../../domain/quarters.js';
import { ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { partnershipContext } from '../context.js';
import { formBody, formErrors } from '../forms.js';

type Slug = { slug: string };
type SlugId = { slug: string; id: string };

const EXPIRY_LABELS: Record<string, string> = {
  '': 'Never (until it is revoked)',
  '30': 'In 30 days',
  '90': 'In 90 days',
  '365': 'In a year',
};

function id(value: string): number {
  return /^\d{1,9}$/.test(value) ? Number(value) : 0;
}

export function registerApiTokenRoutes(app: FastifyInstance, services: Services): void {
  const tokensPage = async (request: FastifyRequest, slug: string) => {
    const context = await partnershipContext(services, request, slug);
    const year = context.member
      ? await services.plans.currentPlanYear(context.actor, context.partnership)
      : undefined;
    const base = year ? `/p/${context.partnership.slug}/plans/${planYearSlug(year)}` : undefined;
    const tokens = `/p/${context.partnership.slug}/api-tokens`;
    return {
      ...context,
      tokens,
      common: { partnership: context.partnership, member: context.member, base, tokens, nav: 'api-tokens' },
    };
  };

  const issueForm = (
    reply: FastifyReply,
    page: Awaited<ReturnType<typeof tokensPage>>,
    values: Record<string, string>,
    extra: object = {},
  ) =>
    reply.page('api-tokens/new.njk', {
      ...page.common,
      title: 'Issue an API token',
      values,
      expiryChoices: Object.entries(EXPIRY_LABELS).map(([value, text]) => ({
        value,
        text,
        checked: (values.expiresInDays ?? '') === value,
      })),
      ...extra,
    });

  app.get<{ Params: Slug }>('/p/:slug/api-tokens', async (request, reply) => {
    const page = await tokensPage(request, request.params.slug);
    const list = await services.apiTokens.list(page.actor, page.partnership.id);
    const now = Date.now();
    return reply.page('api-tokens/list.njk', {
      ...page.common,
      title: 'API tokens',
      apiTokens: list.map((token) => ({
        ...token,
        expired: token.expiresAt !== null && token.expiresAt.getTime() <= now,
      })),
    });
  });

  app.get<{ Params: Slug }>('/p/:slug/api-tokens/new', async (request, reply) => {
    const page = await tokensPage(request, request.params.slug);
    // Only the coordinator gets the form; the list's read checks the permission.
    await services.apiTokens.list(page.actor, page.partnership.id);
    return issueForm(reply, page, {});
  });

  app.post<{ Params: Slug }>('/p/:slug/api-tokens/new', async (request, reply) => {
    const page = await tokensPage(request, request.params.slug);
    const values = formBody(request.body);
    try {
      const issued = await services.apiTokens.issue(page.actor, page.partnership.id, values);
      // The one time the token is shown: keep it out of every cache.
      reply.header('cache-control', 'no-store');
      return reply.page('api-tokens/issued.njk', {
        ...page.common,
        title: 'Your new API token',
        issued,
        apiUrl: `/api/v1/partnerships/${page.partnership.slug}`,
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      reply.code(400);
      return issueForm(reply, page, values, formErrors(error.problems));
    }
  });

  app.get<{ Params: SlugId }>('/p/:slug/api-tokens/:id/revoke', async (request, reply) => {
    const page = await tokensPage(request, request.params.slug);
    const token = await services.apiTokens.get(page.actor, page.partnership.id, id(request.params.id));
    return reply.page('api-tokens/revoke.njk', { ...page.common, title: `Revoke “${token.name}”?`, token });
  });

  app.post<{ Params: SlugId }>('/p/:slug/api-tokens/:id/revoke', async (request, reply) => {
    const page = await tokensPage(request, request.params.slug);
    try {
      const { name } = await services.apiTokens.revoke(
        page.actor,
        page.partnership.id,
        id(request.params.id),
      );
      reply.flash(`The API token “${name}” has been revoked: it no longer works`);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      reply.flash(error.problems[0]?.message);
    }
    return reply.redirect(page.tokens, 303);
  });
}
