/**
 * The security headers of every response (helmet), with a fresh nonce for the page's scripts in
 * its Content-Security-Policy, which the templates put on their inline script (reply.cspNonce).
 *
 * helmet's middleware is built once, here, with the nonce as a function of the response: the
 * Fastify plugin for helmet built it anew for every request (its options parsed each time, about a
 * twentieth of a page's time under load). Styles come only from the site itself: no page has an
 * inline style, so there is no style nonce.
 */
import crypto from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

declare module 'fastify' {
  interface FastifyReply {
    /** This response's nonce for scripts (the CSP's script-src names it). */
    cspNonce: { script: string };
  }
}

/** The nonce of a response, where helmet's directive function finds it. */
const NONCE = Symbol('cspNonce');
type WithNonce = ServerResponse & { [NONCE]?: string };

export function addSecurityHeaders(app: FastifyInstance, { production }: { production: boolean }): void {
  const headers = helmet({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", (_request, response) => `'nonce-${(response as WithNonce)[NONCE]}'`],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: production ? [] : null,
      },
    },
    strictTransportSecurity: production,
  });
  app.decorateReply('cspNonce', null as unknown as { script: string });
  app.addHook('onRequest', (request, reply, done) => {
    const script = crypto.randomBytes(16).toString('base64url');
    reply.cspNonce = { script };
    (reply.raw as WithNonce)[NONCE] = script;
    headers(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
}
