/**
 * Single sign-on (OpenID Connect): the button on the sign-in page leads to GET /sign-in/sso, which
 * sends the person to their organisation's provider; the provider sends them back to the callback.
 * Both routes always exist, and answer 404 when single sign-on is not configured.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import {
  SSO_CALLBACK_PATH,
  SsoResponseError,
  SsoUnavailableError,
  type PendingSignIn,
  type SsoOutcome,
} from '../../services/oidc.js';
import { safeReturnTo } from '../forms.js';

declare module '@fastify/session' {
  interface FastifySessionObject {
    /** Between the redirect to the provider and its callback; used once. */
    sso?: PendingSignIn & { returnTo?: string | undefined; startedAt: number };
  }
}

/** A sign-in left at the provider longer than this is started again. */
const PENDING_MAX_AGE_MS = 15 * 60_000;

const RATE_LIMIT = { rateLimit: { max: 60, timeWindow: '1 minute' } };

function problem(
  reply: FastifyReply,
  status: number,
  page: { title: string; message: string; restart?: boolean; returnTo?: string | undefined },
) {
  reply.code(status);
  return reply.page('sign-in-sso-problem.njk', page);
}

function unavailable(reply: FastifyReply) {
  return problem(reply, 503, {
    title: 'Single sign-on is not working at the moment',
    message:
      'Partnership Plan could not reach your organisation’s sign-in service. Try again in a few minutes, or sign in with your email address and password.',
  });
}

function refused(reply: FastifyReply, outcome: Extract<SsoOutcome, { kind: 'refused' }>) {
  switch (outcome.reason) {
    case 'no-account':
      return problem(reply, 403, {
        title: 'There is no account for you in Partnership Plan',
        message: `There is no account for ${outcome.email} in Partnership Plan. Ask your partnership’s coordinator to invite you.`,
      });
    case 'other-identity':
      return problem(reply, 403, {
        title: 'This account is linked to someone else’s sign-in',
        message: `The account for ${outcome.email} in Partnership Plan was first used with a different account at your organisation’s sign-in service, so it cannot be used with this one. Sign in with the account you used before, or ask your partnership’s coordinator for help.`,
      });
    case 'no-email':
      return problem(reply, 403, {
        title: 'Your email address was not shared',
        message:
          'Your organisation’s sign-in service did not tell Partnership Plan your email address, so it cannot tell which account is yours. Ask your IT team to include the email claim in the sign-in, or sign in with your email address and password.',
      });
  }
}

/** The address the request came to; the callback URL is built from it when PUBLIC_URL is not set. */
function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function registerOidcRoutes(app: FastifyInstance, services: Services): void {
  const sso = services.oidc;

  app.get<{ Querystring: { returnTo?: string } }>(
    '/sign-in/sso',
    { config: RATE_LIMIT },
    async (request, reply) => {
      if (!sso) throw new NotFoundError('Single sign-on');
      const returnTo = safeReturnTo(request.query.returnTo);
      if (request.user) return reply.redirect(returnTo ?? '/');
      let started: Awaited<ReturnType<typeof sso.start>>;
      try {
        started = await sso.start(requestOrigin(request));
      } catch (error) {
        if (!(error instanceof SsoUnavailableError)) throw error;
        request.log.warn({ err: error }, 'single sign-on provider unavailable');
        return unavailable(reply);
      }
      request.session.sso = { ...started.pending, returnTo, startedAt: Date.now() };
      return reply.redirect(started.url);
    },
  );

  app.get(SSO_CALLBACK_PATH, { config: RATE_LIMIT }, async (request, reply) => {
    if (!sso) throw new NotFoundError('Single sign-on');
    const pending = request.session.sso;
    // Used once, whatever happens next.
    request.session.sso = undefined;
    if (!pending || Date.now() - pending.startedAt > PENDING_MAX_AGE_MS) {
      return problem(reply, 400, {
        title: 'Your sign-in could not be completed',
        message:
          'This can happen when the sign-in took too long, was started in another browser or tab, or the page was reloaded. Start again.',
        restart: true,
        returnTo: pending?.returnTo,
      });
    }
    const at = request.url.indexOf('?');
    let outcome: SsoOutcome;
    try {
      outcome = await sso.finish(pending, at === -1 ? '' : request.url.slice(at));
    } catch (error) {
      if (error instanceof SsoUnavailableError) {
        request.log.warn({ err: error }, 'single sign-on provider unavailable');
        return unavailable(reply);
      }
      if (!(error instanceof SsoResponseError)) throw error;
      request.log.warn({ err: error }, 'single sign-on response refused');
      return problem(reply, 400, {
        title: 'Your sign-in could not be completed',
        message:
          error.providerError === 'access_denied'
            ? 'The sign-in was cancelled at your organisation’s sign-in service. Start again if you meant to sign in.'
            : 'Your organisation’s sign-in service sent an answer that Partnership Plan could not accept. Start again.',
        restart: true,
        returnTo: pending.returnTo,
      });
    }
    if (outcome.kind === 'refused') {
      request.log.info({ reason: outcome.reason }, 'single sign-on refused');
      return refused(reply, outcome);
    }
    await request.session.regenerate();
    request.session.userId = outcome.user.id;
    return reply.redirect(pending.returnTo ?? '/');
  });
}
