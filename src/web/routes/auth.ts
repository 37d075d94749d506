import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { formBody, formErrors, safeReturnTo } from '../forms.js';

export function registerAuthRoutes(app: FastifyInstance, services: Services): void {
  app.get('/', async (request, reply) => {
    if (!request.user) return reply.redirect('/sign-in');
    const memberships = await services.users.listMemberships(request.user.id);
    if (memberships.length === 1) return reply.redirect(`/p/${memberships[0]!.slug}`);
    return reply.page('start.njk', { title: 'Your partnerships', memberships });
  });

  app.get<{ Querystring: { returnTo?: string } }>('/sign-in', async (request, reply) => {
    const returnTo = safeReturnTo(request.query.returnTo);
    if (request.user) return reply.redirect(returnTo ?? '/');
    return reply.page('sign-in.njk', { title: 'Sign in', returnTo, values: {} });
  });

  app.post(
    '/sign-in',
    { config: { rateLimit: { max: 10, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = formBody(request.body);
      const returnTo = safeReturnTo(body.returnTo);
      const problems: { field: string; message: string }[] = [];
      if (!body.email?.trim()) problems.push({ field: 'email', message: 'Enter your email address' });
      if (!body.password) problems.push({ field: 'password', message: 'Enter your password' });
      const user = problems.length
        ? undefined
        : await services.users.authenticate(body.email!, body.password!);
      if (!user) {
        if (!problems.length) {
          problems.push({ field: 'email', message: 'The email address or password is not right' });
        }
        reply.code(problems.length ? 400 : 401);
        return reply.page('sign-in.njk', {
          title: 'Sign in',
          returnTo,
          values: { email: body.email ?? '' },
          ...formErrors(problems),
        });
      }
      await request.session.regenerate();
      request.session.userId = user.id;
      await services.users.recordSignIn(user, 'signed-in');
      return reply.redirect(returnTo ?? '/');
    },
  );

  app.post('/sign-out', async (request, reply) => {
    if (request.user) await services.users.recordSignIn(request.user, 'signed-out');
    await request.session.destroy();
    return reply.redirect('/sign-in');
  });
}
