/**
 * Comments on an aim: read and added by the partnership's coordinator, lead officers and
 * partners; archived (after confirming) by their author or the coordinator. The services check
 * who may, on every request; these pages only show the links to those who may.
 */
import type { FastifyInstance } from 'fastify';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { findAim } from '../../services/plan-read.js';
import { aimTabs } from '../aim-tabs.js';
import { formBody, formErrors } from '../forms.js';
import { loadPlanPage } from './plan.js';

type AimParams = { slug: string; year: string; number: string };

export function registerCommentRoutes(app: FastifyInstance, services: Services): void {
  async function commentsPage(request: Parameters<typeof loadPlanPage>[1], params: AimParams) {
    const page = await loadPlanPage(services, request, params);
    const { section, aim } = findAim(page.tree, params.number);
    // Checks the reader may see comments before anything else is shown.
    const comments = await services.comments.list(page.actor, aim.id);
    const tabs = await aimTabs(services, page.actor, aim.id, 'comments');
    return {
      page,
      aim,
      comments,
      view: {
        ...page.common,
        title: `Comments on aim ${aim.number}`,
        nav: 'plan',
        section,
        aim,
        comments,
        ...tabs,
      },
    };
  }

  app.get<{ Params: AimParams }>('/p/:slug/plans/:year/aims/:number/comments', async (request, reply) => {
    const { view } = await commentsPage(request, request.params);
    return reply.page('plan/aim-comments.njk', { ...view, values: {} });
  });

  app.post<{ Params: AimParams }>('/p/:slug/plans/:year/aims/:number/comments', async (request, reply) => {
    const { page, aim, view } = await commentsPage(request, request.params);
    const values = formBody(request.body);
    try {
      await services.comments.add(page.actor, aim.id, { text: values.text ?? '' });
    } catch (error) {
      if (error instanceof ValidationError) {
        reply.code(400);
        return reply.page('plan/aim-comments.njk', { ...view, values, ...formErrors(error.problems) });
      }
      throw error;
    }
    reply.flash(`Your comment on aim ${aim.number} has been added`);
    return reply.redirect(`${page.base}/aims/${aim.number}/comments#comments`, 303);
  });

  async function archivePage(
    request: Parameters<typeof loadPlanPage>[1],
    params: AimParams & { id: string },
  ) {
    const { page, aim, view } = await commentsPage(request, params);
    const id = Number(params.id);
    if (!Number.isInteger(id)) throw new NotFoundError('The comment');
    const comment = await services.comments.get(page.actor, id);
    if (comment.aimId !== aim.id) throw new NotFoundError('The comment');
    return {
      page,
      aim,
      comment,
      view: { ...view, title: `Archive a comment on aim ${aim.number}`, comment },
    };
  }

  app.get<{ Params: AimParams & { id: string } }>(
    '/p/:slug/plans/:year/aims/:number/comments/:id/archive',
    async (request, reply) => {
      const { comment, view } = await archivePage(request, request.params);
      if (!comment.canArchive) {
        throw new ForbiddenError('Only the comment’s author and the coordinator can archive it.');
      }
      return reply.page('plan/comment-archive.njk', view);
    },
  );

  app.post<{ Params: AimParams & { id: string } }>(
    '/p/:slug/plans/:year/aims/:number/comments/:id/archive',
    async (request, reply) => {
      const { page, aim, comment, view } = await archivePage(request, request.params);
      try {
        await services.comments.archive(page.actor, comment.id, Number(formBody(request.body).version));
      } catch (error) {
        if (error instanceof ConflictError) {
          reply.code(409);
          return reply.page('plan/comment-archive.njk', { ...view, conflict: true });
        }
        throw error;
      }
      reply.flash('The comment has been archived. It no longer shows here; the audit trail keeps it.');
      return reply.redirect(`${page.base}/aims/${aim.number}/comments`, 303);
    },
  );
}
