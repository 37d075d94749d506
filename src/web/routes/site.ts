/**
 * The pages every service needs, linked from the footer. Residents reach them from the public
 * page too, so they are rendered as it is: no cookie for someone signed out.
 */
import type { FastifyInstance } from 'fastify';
import { residentPage } from './public.js';

export function registerSiteRoutes(app: FastifyInstance): void {
  app.get('/accessibility', async (_request, reply) =>
    residentPage(reply, 'site/accessibility.njk', { title: 'Accessibility statement' }),
  );
  app.get('/privacy', async (_request, reply) =>
    residentPage(reply, 'site/privacy.njk', { title: 'Privacy notice' }),
  );
  app.get('/contact', async (_request, reply) =>
    residentPage(reply, 'site/contact.njk', { title: 'Contact' }),
  );
}
