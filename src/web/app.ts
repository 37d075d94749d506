/**
 * buildApp({ config, services }): the whole web application, with no I/O of its own beyond what
 * the services do. main.ts and the tests build the same app.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyMultipart, { type MultipartFile } from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import fastifyStatic from '@fastify/static';
import fastifyView from '@fastify/view';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import nunjucks from 'nunjucks';
import type { Config } from '../config.js';
import type { Services } from '../services/index.js';
import type { SignedInUser } from '../services/users.js';
import { takeSignedIn } from '../services/sessions.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../services/errors.js';
import {
  MAX_UPLOAD_BYTES,
  removeUploadedFiles,
  saveUploadToDisk,
  type UploadedDiskFile,
  type UploadedFile,
} from './forms.js';
import { configureNunjucks, govukDir, keptHeaders, sendView, viewsDir } from './render.js';
import { registerAccountRoutes } from './routes/accounts.js';
import { registerApiRoutes } from './routes/api.js';
import { registerApiTokenRoutes } from './routes/api-tokens.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerOidcRoutes } from './routes/oidc.js';
import { registerPlanRoutes } from './routes/plan.js';
import { registerProgressRoutes } from './routes/progress.js';
import { registerQuarterRoutes } from './routes/quarters.js';
import { registerEditRoutes } from './routes/edit.js';
import { registerHistoryRoutes } from './routes/history.js';
import { registerCommentRoutes } from './routes/comments.js';
import { registerChangesRoutes } from './routes/changes.js';
import { registerRollOverRoutes } from './routes/roll-over.js';
import { registerBoardReportRoutes } from './routes/board-report.js';
import { registerFundingRoutes } from './routes/funding.js';
import { registerPlanSheetRoutes } from './routes/plan-sheet.js';
import { registerWordImportRoutes } from './routes/word-import.js';
import { registerDashboardRoutes } from './routes/dashboard.js';
import { registerPublicRoutes } from './routes/public.js';
import { registerCountyRoutes } from './routes/county.js';
import { registerEvidenceRoutes } from './routes/evidence.js';
import { registerPoliceTrendRoutes } from './routes/police-trends.js';
import { registerPoliceUploadRoutes } from './routes/police-upload.js';
import { registerLocalIncidentRoutes } from './routes/local-incidents.js';
import { registerCaseReviewRoutes } from './routes/case-reviews.js';
import { registerSiteRoutes } from './routes/site.js';
import { addSecurityHeaders } from './security-headers.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: SignedInUser | undefined;
    /**
     * The database's state when a signed-in page request started (services/read-cache.ts): reads
     * given it may be served from the read cache. Undefined for forms' POSTs and signed-out requests.
     */
    readStamp: string | undefined;
    /**
     * The same for any signed-in request: a form's POST may give it to the reads it makes before
     * it writes (the progress update does), never to one after.
     */
    startStamp: string | undefined;
    /**
     * The membership stamp read as the request started (services/read-cache.ts): for the reads of
     * partnerships, memberships and users alone, where startStamp may serve (web/context.ts).
     */
    membershipStamp: string | undefined;
    /** On PostgreSQL, this process's count of its own writes when the request came (sessions.ts). */
    writeMark: number | undefined;
    /** Temporary files of an upload to disk, removed once the request is answered (forms.ts). */
    uploadTempFiles: Set<string> | undefined;
  }
  interface FastifyContextConfig {
    /** This route's uploads stream to temporary files instead of memory (forms.ts uploadedDiskFiles). */
    uploadToDisk?: boolean;
  }
  interface FastifyReply {
    /** Renders a page with what every page needs: the user, the CSRF token, the CSP nonce. */
    page(template: string, data?: Record<string, unknown>): Promise<FastifyReply>;
    /** A one-time message for the next page this browser is shown (GOV.UK notification banner). */
    flash(message: string | undefined): FastifyReply;
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    userId?: number;
  }
}

const assetsDir = fileURLToPath(new URL('./assets', import.meta.url));

export interface AppOptions {
  config: Config;
  services: Services;
  /** A session secret; main.ts passes the configured one or one kept in DATA_DIR. */
  sessionSecret: string;
  /** Sees every route as it is registered (the permission table's test lists them all). */
  onRoute?: (route: RouteOptions) => void;
}

export const SERVICE_NAME = 'Partnership Plan';
const SESSION_COOKIE = 'pp_session';
/** The cookie of a session that has just written, and how long its reads are made afresh (see below). */
const FRESH_COOKIE = 'pp_wrote';
const FRESH_READS_MS = 30_000;
/**
 * The one-time message for the next page, in a cookie of its own rather than the session: a form's
 * save then writes nothing to the session, nor does the page that shows the message (two writes of
 * the session's row for each save, before). Signed with the session's secret, so that only this
 * service can put words in its banner; at most FLASH_MAX_CHARACTERS (a file's name in a message is
 * the longest part); kept FLASH_MAX_AGE_S if no page shows it.
 */
const FLASH_COOKIE = 'pp_flash';
const FLASH_MAX_CHARACTERS = 600;
const FLASH_MAX_AGE_S = 600;
/** Set and cleared with the same attributes (a browser replaces a cookie only with its like). */
const FLASH_COOKIE_OPTIONS = { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto' } as const;

/** "/invitations/abc…" → "/invitations/[token]"; the same for password reset links. */
export function redactTokens(url: string): string {
  return url.replace(/^\/(invitations|reset-password)\/[^/?#]+/, '/$1/[token]');
}

/** The message reply.flash left for this page, if any (one whose signature fails is ignored); gone once read. */
function takeFlash(request: FastifyRequest, reply: FastifyReply): string | undefined {
  const signed = request.cookies[FLASH_COOKIE];
  if (signed === undefined) return undefined;
  reply.clearCookie(FLASH_COOKIE, FLASH_COOKIE_OPTIONS);
  const unsigned = request.unsignCookie(signed);
  return unsigned.valid && unsigned.value ? Buffer.from(unsigned.value, 'base64url').toString() : undefined;
}

/**
 * One log line a request, once it is answered, instead of Fastify's two ("incoming request" and
 * "request completed"): its method, address (tokens cut out), host, client, status and time taken,
 * under its reqId (docs/operations.md, Logs).
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    } else {
      reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    }
  }
}

export async function buildApp({
  config,
  services,
  sessionSecret,
  onRoute,
}: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            redact: ['req.headers.cookie', 'req.headers.authorization'],
            serializers: {
              // Invitation and password-reset links carry a secret token: never write it to the logs.
              req: (req: { method: string; url: string; hostname?: string; ip?: string }) => ({
                method: req.method,
                url: redactTokens(req.url),
                host: req.hostname,
                remoteAddress: req.ip,
              }),
            },
          },
    genReqId: () => crypto.randomUUID(),
    logController: new OneLinePerRequest(),
    bodyLimit: 256 * 1024,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
  });
  if (onRoute) app.addHook('onRoute', onRoute);

  addSecurityHeaders(app, { production: config.production });
  await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
  // File uploads (a spreadsheet or a Word plan to import): read whole into the body beside the
  // form's other fields, so the CSRF token is checked as on any form. See uploadedFile (forms.ts).
  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 },
    async onFile(this: FastifyRequest, part: MultipartFile) {
      if (this.routeOptions.config.uploadToDisk) {
        (part as unknown as { value: UploadedDiskFile }).value = await saveUploadToDisk(this, part);
        return;
      }
      const upload: UploadedFile = {
        filename: part.filename,
        mimetype: part.mimetype,
        data: await part.toBuffer(),
      };
      (part as unknown as { value: UploadedFile }).value = upload;
    },
  });
  // The secret signs the flash cookie (reply.flash); the session plugin signs its own cookie.
  await app.register(fastifyCookie, { secret: sessionSecret });
  // Several instances on PostgreSQL: a session that has just written is read afresh on whichever
  // instance its next requests reach, for FRESH_READS_MS (services/sessions.ts readAfresh). The
  // mark is a cookie the response of any request that wrote sets; it says only "read afresh until".
  const sessionStore = services.sessionStore;
  if (sessionStore.shared) {
    app.addHook('onRequest', async (request) => {
      request.writeMark = sessionStore.writeMark();
      const until = Number(request.cookies[FRESH_COOKIE]);
      const signed = request.cookies[SESSION_COOKIE];
      if (!signed || !(until > Date.now())) return;
      const dot = signed.lastIndexOf('.');
      if (dot > 0)
        sessionStore.readAfresh(signed.slice(0, dot), Math.min(until, Date.now() + FRESH_READS_MS));
    });
  }
  await app.register(fastifySession, {
    secret: sessionSecret,
    store: services.sessionStore,
    cookieName: SESSION_COOKIE,
    saveUninitialized: false,
    rolling: true,
    // Rolling: each request moves the expiry on, so a session ends after this long without use.
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: 'auto',
      path: '/',
      maxAge: config.sessionIdleMinutes * 60_000,
    },
  });
  if (sessionStore.shared) {
    // After the session's own save (its hook was added with it): did this request write anything?
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.writeMark !== undefined && sessionStore.writeMark() !== request.writeMark) {
        reply.setCookie(FRESH_COOKIE, String(Date.now() + FRESH_READS_MS), {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure: 'auto',
          maxAge: FRESH_READS_MS / 1000,
        });
      }
      return payload;
    });
  }
  await app.register(fastifyCsrf, { sessionPlugin: '@fastify/session' });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyStatic, {
    root: path.join(govukDir, 'govuk', 'assets'),
    prefix: '/assets/',
    maxAge: config.production ? '1d' : 0,
  });
  await app.register(fastifyStatic, {
    root: [path.join(govukDir, 'govuk'), assetsDir],
    prefix: '/public/',
    decorateReply: false,
    allowedPath: (pathName) =>
      /^\/(govuk-frontend\.min\.(css|js)|app\.(css|js)|police-upload\.js)$/.test(pathName),
    maxAge: config.production ? '1d' : 0,
  });
  // Templates are compiled once and kept, in every environment: compiling the GOV.UK macros again
  // for each page was a fifth of the test suites' time. `npm run dev` restarts on a template's change.
  await app.register(fastifyView, {
    engine: { nunjucks },
    templates: [viewsDir, govukDir],
    options: { onConfigure: configureNunjucks },
  });

  app.decorateRequest('user', undefined);
  app.decorateRequest('readStamp', undefined);
  app.decorateRequest('startStamp', undefined);
  app.decorateRequest('membershipStamp', undefined);
  app.decorateRequest('uploadTempFiles', undefined);
  app.decorateRequest('writeMark', undefined);
  // An upload to disk's temporary files go once the request is answered (a refused CSRF token, an
  // error, a page re-shown), or abandoned; a route that keeps them takes them over first.
  app.addHook('onSend', async (request, _reply, payload) => {
    await removeUploadedFiles(request);
    return payload;
  });
  app.addHook('onRequestAbort', async (request) => removeUploadedFiles(request));
  // A police.uk import left 'running' by a process that has gone (a restart) is marked failed;
  // on stopping, the imports this process runs stop (nothing of them written).
  const startedAt = new Date();
  app.addHook('onReady', async () => {
    await services.policeUpload.failInterrupted(startedAt);
  });
  app.addHook('onClose', async () => services.policeUpload.stopAll());
  app.decorateReply('flash', function flash(this: FastifyReply, message: string | undefined) {
    if (!message) return this;
    const text =
      message.length > FLASH_MAX_CHARACTERS ? `${message.slice(0, FLASH_MAX_CHARACTERS - 1)}…` : message;
    return this.setCookie(FLASH_COOKIE, Buffer.from(text).toString('base64url'), {
      ...FLASH_COOKIE_OPTIONS,
      signed: true,
      maxAge: FLASH_MAX_AGE_S,
    });
  });
  // The page header, made once for each user, partnership and navigation item shown and kept.
  const header = keptHeaders((template, data) => app.view(template, data));
  app.decorateReply(
    'page',
    async function page(this: FastifyReply, template: string, data: Record<string, unknown> = {}) {
      const request = this.request;
      const flash = takeFlash(request, this);
      const pageData: Record<string, unknown> = {
        serviceName: SERVICE_NAME,
        user: request.user,
        csrfToken: await this.generateCsrf(),
        cspNonce: this.cspNonce.script,
        currentPath: request.url,
        flash,
        ...data,
      };
      pageData.headerHtml = await header(pageData);
      return sendView(this, template, pageData);
    },
  );

  // Who is signed in: the session names the account; a deactivated account ends the session.
  // The same query reads the request's stamp for the read cache: pages (GET) use it; a request
  // that writes does not, so what it reads after its own write is never an older copy.
  // The session's read brought both (services/sessions.ts); a session made or changed since in
  // this request (signing in) has them read now.
  app.addHook('preHandler', async (request) => {
    const read = request.session ? takeSignedIn(request.session) : undefined;
    const userId = request.session?.userId;
    if (userId === undefined) return;
    const { user, stamp, membershipStamp } =
      read && read.userId === userId ? read : await services.users.getSignedIn(userId);
    request.user = user;
    request.startStamp = stamp;
    request.membershipStamp = membershipStamp;
    if (request.method === 'GET' || request.method === 'HEAD') request.readStamp = stamp;
    if (!request.user) {
      await request.session.regenerate();
    }
  });

  // Every state-changing request carries the form's CSRF token.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return done();
    app.csrfProtection(request, reply, done);
  });

  registerHealthRoutes(app, services);
  registerAuthRoutes(app, services);
  registerOidcRoutes(app, services);
  registerPlanRoutes(app, services);
  registerProgressRoutes(app, services);
  registerEditRoutes(app, services);
  registerHistoryRoutes(app, services);
  registerCommentRoutes(app, services);
  registerChangesRoutes(app, services);
  registerRollOverRoutes(app, services);
  registerAccountRoutes(app, services, config);
  registerQuarterRoutes(app, services, config);
  registerApiTokenRoutes(app, services);
  registerBoardReportRoutes(app, services);
  registerFundingRoutes(app, services);
  registerPlanSheetRoutes(app, services);
  registerWordImportRoutes(app, services);
  registerDashboardRoutes(app, services);
  registerPublicRoutes(app, services);
  registerCountyRoutes(app, services);
  registerEvidenceRoutes(app, services);
  registerPoliceTrendRoutes(app, services);
  registerPoliceUploadRoutes(app, services);
  registerLocalIncidentRoutes(app, services);
  registerCaseReviewRoutes(app, services);
  registerSiteRoutes(app);

  app.setNotFoundHandler(async (request, reply) => {
    reply.code(404);
    return reply.page('errors/not-found.njk', { title: 'Page not found' });
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (error instanceof NotFoundError) {
      reply.code(404);
      return reply.page('errors/not-found.njk', { title: 'Page not found', message: error.message });
    }
    if (error instanceof ForbiddenError) {
      if (!request.user && request.method === 'GET') {
        return reply.redirect(`/sign-in?returnTo=${encodeURIComponent(request.url)}`);
      }
      reply.code(403);
      return reply.page('errors/forbidden.njk', { title: 'You cannot do that', message: error.message });
    }
    if (error.code?.startsWith('FST_CSRF')) {
      reply.code(403);
      return reply.page('errors/forbidden.njk', {
        title: 'This form has expired',
        message:
          'The form was open too long or was sent from somewhere else. Go back, reload the page and try again.',
      });
    }
    if (error instanceof ValidationError || error instanceof ConflictError) {
      // Routes handle these on their forms; one reaching here is a request no form of ours sends.
      reply.code(400);
      return reply.page('errors/bad-request.njk', { title: 'There is a problem', message: error.message });
    }
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(status);
    if (status === 429) {
      return reply.page('errors/bad-request.njk', {
        title: 'Too many attempts',
        message: 'You have tried too many times. Wait a few minutes, then try again.',
      });
    }
    if (status === 413) {
      return reply.page('errors/bad-request.njk', {
        title: 'Too much data',
        message: 'What you sent is too large.',
      });
    }
    if (status < 500) {
      return reply.page('errors/bad-request.njk', { title: 'There is a problem', message: error.message });
    }
    return reply.page('errors/server-error.njk', {
      title: 'Sorry, there is a problem with the service',
      message: config.production ? undefined : error.message,
    });
  });

  // Last: awaiting a plugin settles the routes registered so far, so the handlers above must be set first.
  await registerApiRoutes(app, services);

  return app;
}

export type { FastifyInstance, FastifyRequest, FastifyReply };
