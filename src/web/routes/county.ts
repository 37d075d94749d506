/**
 * The county view: the partnerships a person holds roles in, side by side.
 * Thin: the county service reads only the signed-in person's own partnerships.
 */
import type { FastifyInstance } from 'fastify';
import { SUMMARY_COLUMNS } from '../../domain/board-report.js';
import { ROLE_LABELS } from '../../domain/permissions.js';
import { SUMMARY_LABELS } from '../../documents/board-report-words.js';
import { ForbiddenError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';

export function registerCountyRoutes(app: FastifyInstance, services: Services): void {
  app.get('/county', async (request, reply) => {
    if (!request.user) throw new ForbiddenError('Sign in to see the county view');
    const view = await services.county.view(request.user.id);
    return reply.page('county/county.njk', {
      title: 'County view',
      ...view,
      columns: SUMMARY_COLUMNS.map((key) => ({ key, label: SUMMARY_LABELS[key] })),
      roleLabels: ROLE_LABELS,
    });
  });
}
