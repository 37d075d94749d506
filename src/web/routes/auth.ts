import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { lockoutMessage } from '../../services/sign-in-throttle.js';
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
    return reply.page('sign-in.njk', {
      title: 'Sign in',
      returnTo,
      values: {},
      ssoLabel: services.oidc?.label,
    });
  });

  // Per address through the rate-limit plugin (generous: a whole council may share one address),
  // and per account through the lockout in the database (slows guessing one person's password from
  // many addresses, on every instance).
  app.post(
    '/sign-in',
    { config: { rateLimit: { max: 60, timeWindow: '1 minute' } } },
    async (request, reply) => {
      const body = formBody(request.body);
      const returnTo = safeReturnTo(body.returnTo);
      const again = (status: number, problems: { field: string; message: string }[]) => {
        reply.code(status);
        return reply.page('sign-in.njk', {
          title: 'Sign in',
          returnTo,
          values: { email: body.email ?? '' },
          ssoLabel: services.oidc?.label,
          ...formErrors(problems),
        });
      };
      const problems: { field: string; message: string }[] = [];
      if (!body.email?.trim()) problems.push({ field: 'email', message: 'Enter your email address' });
      if (!body.password) problems.push({ field: 'password', message: 'Enter your password' });
      if (problems.length) return again(400, problems);

      const email = body.email!;
      const lockedFor = await services.signInLockout.lockedForMinutes(email);
      if (lockedFor > 0) return again(429, [{ field: 'email', message: lockoutMessage(lockedFor) }]);
      const user = await services.users.authenticate(email, body.password!);
      if (!user) {
        await services.signInLockout.recordFailure(email, request.ip);
        // The same answer whether or not the address has an account.
        return again(401, [{ field: 'email', message: 'The email address or password is not right' }]);
      }
      await services.signInLockout.recordSuccess(email);
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
