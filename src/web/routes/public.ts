/**
 * The public page of a partnership: the aims the coordinator has published, for residents, with no
 * sign-in; and the coordinator's pages that publish them and write what residents read.
 *
 * Residents' pages set no cookie (no session, no CSRF token: they carry no form) and may be kept
 * by a cache for a minute; a signed-in reader's copy is never cached, since the answer renews
 * their session cookie.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { planYearSlug } from '../../domain/quarters.js';
import { ConflictError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { SERVICE_NAME } from '../app.js';
import { formBody, formErrors } from '../forms.js';
import { sendView, textHelpers } from '../render.js';
import { loadPlanPage } from './plan.js';

type PlanParams = { slug: string; year: string };

export const PUBLIC_CACHE_CONTROL = 'public, max-age=60';
export const PRIVATE_CACHE_CONTROL = 'private, no-store';

/**
 * Renders a page anyone may read without touching the session: no CSRF token is made (that would
 * start a session and set a cookie). A signed-in reader gets the usual page and no caching.
 */
export async function residentPage(
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
): Promise<FastifyReply> {
  const { request } = reply;
  if (request.user) {
    reply.header('cache-control', PRIVATE_CACHE_CONTROL);
    return reply.page(template, data);
  }
  reply.header('cache-control', PUBLIC_CACHE_CONTROL);
  return sendView(reply, template, {
    serviceName: SERVICE_NAME,
    user: undefined,
    cspNonce: reply.cspNonce.script,
    currentPath: request.url,
    ...data,
  });
}

/**
 * A page residents asked for that is not there (never published, or never was): answered as the
 * app's 404 page, but without starting a session.
 */
async function forResidents(reply: FastifyReply, render: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await render();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    reply.code(404);
    return residentPage(reply, 'errors/not-found.njk', { title: 'Page not found', message: error.message });
  }
}

export function registerPublicRoutes(app: FastifyInstance, services: Services): void {
  // ——— Residents: no sign-in ———

  app.get<{ Params: { slug: string } }>('/partnerships/:slug', async (request, reply) =>
    forResidents(reply, async () => {
      const { partnership, plans } = await services.publicPlan.partnership(request.params.slug);
      return residentPage(reply, 'public/partnership.njk', {
        title: 'Community safety action plan',
        partnership,
        plans: plans.map((p) => ({
          ...p,
          href: `/partnerships/${partnership.slug}/${planYearSlug(p.year)}`,
        })),
      });
    }),
  );

  app.get<{ Params: PlanParams }>('/partnerships/:slug/:year', async (request, reply) =>
    forResidents(reply, async () => {
      const plan = await services.publicPlan.plan(request.params.slug, request.params.year);
      return residentPage(reply, 'public/plan.njk', {
        title: plan.title,
        partnership: plan.partnership,
        plan,
        base: `/partnerships/${plan.partnership.slug}/${planYearSlug(plan.year)}`,
        fmt: textHelpers(plan.glossary),
      });
    }),
  );

  app.get<{ Params: PlanParams & { number: string } }>(
    '/partnerships/:slug/:year/aims/:number',
    async (request, reply) =>
      forResidents(reply, async () => {
        const { slug, year, number } = request.params;
        const { plan, section, aim } = await services.publicPlan.aim(slug, year, number);
        return residentPage(reply, 'public/aim.njk', {
          title: `${aim.number} ${aim.title}`,
          partnership: plan.partnership,
          plan,
          section,
          aim,
          base: `/partnerships/${plan.partnership.slug}/${planYearSlug(plan.year)}`,
          fmt: textHelpers(plan.glossary),
        });
      }),
  );

  // ——— The coordinator: publishing ———

  const overviewView = async (request: Parameters<typeof loadPlanPage>[1], params: PlanParams) => {
    const page = await loadPlanPage(services, request, params);
    const overview = await services.publicPlan.overview(page.actor, page.partnership.id, page.tree.plan.year);
    return {
      page,
      view: {
        ...page.common,
        title: 'Public page',
        nav: 'plan',
        overview,
        publicHref: `/partnerships/${page.partnership.slug}/${planYearSlug(page.tree.plan.year)}`,
      },
    };
  };

  app.get<{ Params: PlanParams }>('/p/:slug/plans/:year/public', async (request, reply) => {
    const { view } = await overviewView(request, request.params);
    reply.header('cache-control', PRIVATE_CACHE_CONTROL);
    return reply.page('public/manage.njk', view);
  });

  app.post<{ Params: PlanParams }>('/p/:slug/plans/:year/public/publish-all', async (request, reply) => {
    const page = await loadPlanPage(services, request, request.params);
    const numbers = await services.publicPlan.publishAll(
      page.actor,
      page.partnership.id,
      page.tree.plan.year,
    );
    reply.flash(
      numbers.length === 0
        ? 'Every aim was already published'
        : `Published ${numbers.length} ${numbers.length === 1 ? 'aim' : 'aims'} on the public page`,
    );
    return reply.redirect(`${page.base}/public`, 303);
  });

  for (const which of ['publish', 'unpublish'] as const) {
    app.post<{ Params: PlanParams & { number: string } }>(
      `/p/:slug/plans/:year/public/aims/:number/${which}`,
      async (request, reply) => {
        const page = await loadPlanPage(services, request, request.params);
        const { number } = request.params;
        const write = which === 'publish' ? services.publicPlan.publish : services.publicPlan.unpublish;
        try {
          await write(page.actor, page.partnership.id, page.tree.plan.year, number, formBody(request.body));
        } catch (error) {
          if (!(error instanceof ConflictError) && !(error instanceof ValidationError)) throw error;
          const { view } = await overviewView(request, request.params);
          reply.code(error instanceof ConflictError ? 409 : 400);
          reply.header('cache-control', PRIVATE_CACHE_CONTROL);
          return reply.page('public/manage.njk', {
            ...view,
            conflictAim: number,
            ...formErrors([
              {
                field: `aim-${number}`,
                message:
                  error instanceof ConflictError
                    ? `Aim ${number} was changed since you opened this page. Check it below, then ${which} it again`
                    : `Aim ${number} could not be changed: reload the page and try again`,
              },
            ]),
          });
        }
        reply.flash(
          which === 'publish'
            ? `Aim ${number} is published on the public page`
            : `Aim ${number} is no longer on the public page`,
        );
        return reply.redirect(`${page.base}/public#aim-${number}`, 303);
      },
    );
  }

  // ——— The coordinator: what residents read of an aim's updates ———

  const textsView = async (
    request: Parameters<typeof loadPlanPage>[1],
    params: PlanParams & { number: string },
  ) => {
    const page = await loadPlanPage(services, request, params);
    const forms = await services.publicPlan.textForms(
      page.actor,
      page.partnership.id,
      page.tree.plan.year,
      params.number,
    );
    return {
      page,
      forms,
      view: {
        ...page.common,
        title: `Aim ${forms.aim.number}: text for residents`,
        nav: 'plan',
        forms,
        publicHref: `/partnerships/${page.partnership.slug}/${planYearSlug(page.tree.plan.year)}/aims/${forms.aim.number}`,
      },
    };
  };

  app.get<{ Params: PlanParams & { number: string } }>(
    '/p/:slug/plans/:year/public/aims/:number',
    async (request, reply) => {
      const { view } = await textsView(request, request.params);
      reply.header('cache-control', PRIVATE_CACHE_CONTROL);
      return reply.page('public/aim-texts.njk', view);
    },
  );

  app.post<{ Params: PlanParams & { id: string } }>(
    '/p/:slug/plans/:year/public/updates/:id',
    async (request, reply) => {
      const page = await loadPlanPage(services, request, request.params);
      const id = Number(request.params.id);
      const body = formBody(request.body);
      const aimNumber = body.aim ?? '';
      try {
        const saved = await services.publicPlan.saveText(
          page.actor,
          Number.isSafeInteger(id) && id > 0 ? id : 0,
          body,
        );
        reply.flash(
          saved.publicText === null
            ? `The text for residents was cleared: the public page shows the status alone`
            : saved.redacted
              ? 'The text for residents is saved. Names in it were replaced by organisations'
              : 'The text for residents is saved',
        );
        return reply.redirect(`${page.base}/public/aims/${saved.aimNumber}#update-${id}`, 303);
      } catch (error) {
        if (!(error instanceof ConflictError) && !(error instanceof ValidationError)) throw error;
        const { view } = await textsView(request, { ...request.params, number: aimNumber });
        reply.code(error instanceof ConflictError ? 409 : 400);
        reply.header('cache-control', PRIVATE_CACHE_CONTROL);
        const problems =
          error instanceof ValidationError
            ? error.problems.map((p) => ({ field: `publicText-${id}`, message: p.message }))
            : [
                {
                  field: `publicText-${id}`,
                  message:
                    'Someone changed this update since you opened the page. Your text is kept below: check the update, then save again',
                },
              ];
        return reply.page('public/aim-texts.njk', {
          ...view,
          typed: { id, text: body.publicText ?? '' },
          ...formErrors(problems),
        });
      }
    },
  );
}
