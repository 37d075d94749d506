/** The pages every service needs, linked from the footer. */
import type { FastifyInstance } from 'fastify';

export function registerSiteRoutes(app: FastifyInstance): void {
  app.get('/accessibility', async (_request, reply) =>
    reply.page('site/accessibility.njk', { title: 'Accessibility statement' }),
  );
  app.get('/privacy', async (_request, reply) => reply.page('site/privacy.njk', { title: 'Privacy notice' }));
  app.get('/contact', async (_request, reply) => reply.page('site/contact.njk', { title: 'Contact' }));
}
