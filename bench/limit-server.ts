/**
 * The limit of this stack on this machine, for bench/load.ts: a bare Fastify app (no session, no
 * CSRF, no helmet, no logging, no database) with @fastify/view and the app's own Nunjucks set-up
 * (same template folders, filters and production caching) rendering the same templates with the
 * same context objects the real routes pass to reply.view, held in memory.
 *
 *   DATA_DIR=… | DATABASE_URL=…  LIMIT_PAGES='["/p/…", …]'  PORT=…  node --import tsx bench/limit-server.ts
 *
 * To capture the contexts it first builds the real app in this process over the benchmark's
 * database (before the app's own server opens it), signs in as the coordinator through inject and
 * requests each page once, with every route's handler wrapped to record what it renders, and the
 * app's own renders recorded too: the parts of a page the app renders once and keeps
 * (render.ts KeptHtml: the dashboard's tables, an aim's actions, …), each with its template and
 * context. Then the app and the database are closed and only the bare server runs:
 *  - GET <page>: the page rendered whole from its data, each kept part's template too, for every
 *    request: the limit of rendering the page;
 *  - GET /kept<page>: the page's template with each kept part's text held ready, as the app sends
 *    it: a bare route with nothing of the app's own per request (session, CSRF, sign-in, reads).
 * A POST to a progress form is parsed (form body) and answered with the same 303 redirect, without
 * saving anything.
 */
import crypto from 'node:crypto';
import fastifyFormbody from '@fastify/formbody';
import fastifyView from '@fastify/view';
import Fastify, { type FastifyReply, type RouteHandlerMethod } from 'fastify';
import nunjucks from 'nunjucks';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { createServices } from '../src/services/index.js';
import { buildApp } from '../src/web/app.js';
import {
  configureNunjucks,
  CSRF_HOLE,
  govukDir,
  KeptHtml,
  viewsDir,
  withKeptPartsInline,
} from '../src/web/render.js';
import { BENCH_PASSWORD, COORDINATOR, signInByInject } from './support.js';

interface Rendered {
  template: string;
  data: Record<string, unknown>;
}

interface Captured extends Rendered {
  /** The page's data with each kept part as its text (its forms' token the page's own). */
  inline: Record<string, unknown>;
  /** Each kept part of the page: its key in the page's data, its template and context. */
  parts: (Rendered & { key: string })[];
}

const pages = JSON.parse(process.env.LIMIT_PAGES ?? '[]') as string[];
const secret = crypto.randomBytes(36).toString('base64url');

/** Requests each page from the real app once and keeps what its route rendered. */
async function capture(): Promise<Map<string, Captured>> {
  const config = loadConfig({
    NODE_ENV: 'production',
    SESSION_SECRET: secret,
    LOG_LEVEL: 'silent',
    DATA_DIR: process.env.DATA_DIR,
    DATABASE_URL: process.env.DATABASE_URL,
  });
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const captured = new Map<string, Rendered>();
  const result = new Map<string, Captured>();
  try {
    const app = await buildApp({
      config,
      services: createServices(database),
      sessionSecret: secret,
      onRoute: (route) => {
        const handler = route.handler as RouteHandlerMethod;
        route.handler = function (request, reply) {
          const view = reply.view.bind(reply);
          const viewAsync = reply.viewAsync.bind(reply);
          const keep = (template: string, data: object) =>
            captured.set(request.url, { template, data: data as Record<string, unknown> });
          (reply as { view: FastifyReply['view'] }).view = ((template: string, data: object) => {
            keep(template, data);
            return view(template, data);
          }) as FastifyReply['view'];
          // A page with kept parts is rendered by viewAsync, then sent as bytes.
          (reply as { viewAsync: FastifyReply['viewAsync'] }).viewAsync = ((
            template: string,
            data: object,
          ) => {
            keep(template, data);
            return viewAsync(template, data);
          }) as FastifyReply['viewAsync'];
          return handler.call(this, request, reply);
        };
      },
    });
    // The app's own renders (its kept parts are made with app.view), by what they made.
    const appRenders = new Map<string, Rendered>();
    const appView = app.view.bind(app);
    app.view = (async (template: string, data: Record<string, unknown>) => {
      const html = await appView(template, data);
      appRenders.set(html, { template, data });
      return html;
    }) as typeof app.view;
    try {
      const cookie = await signInByInject(app, COORDINATOR, BENCH_PASSWORD);
      for (const url of pages) {
        const response = await app.inject({ url, headers: { cookie } });
        const page = captured.get(url);
        if (response.statusCode !== 200 || !page) {
          throw new Error(`${url} answered ${response.statusCode} in the capture`);
        }
        const parts = Object.entries(page.data)
          .filter((entry): entry is [string, KeptHtml] => entry[1] instanceof KeptHtml)
          .map(([key, part]) => {
            const rendered = appRenders.get(part.html(CSRF_HOLE));
            if (!rendered) throw new Error(`${url}: no render captured for its part ${key}`);
            return { key, ...rendered };
          });
        result.set(url, { ...page, inline: withKeptPartsInline(page.data), parts });
      }
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
  return result;
}

const captured = await capture();

const app = Fastify({ logger: false });
await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
await app.register(fastifyView, {
  engine: { nunjucks },
  templates: [viewsDir, govukDir],
  options: { onConfigure: configureNunjucks, noCache: false },
});
app.get('/ready', async () => ({ ok: true }));
app.get('/kept/*', async (request, reply) => {
  const page = captured.get(request.url.slice('/kept'.length));
  if (!page) return reply.code(404).send('not captured');
  return reply.view(page.template, page.inline);
});
app.get('/*', async (request, reply) => {
  const page = captured.get(request.url);
  if (!page) return reply.code(404).send('not captured');
  if (!page.parts.length) return reply.view(page.template, page.data);
  const csrfToken = page.data.csrfToken;
  const parts = await Promise.all(
    page.parts.map(async (part) => {
      const data = part.data.csrfToken === CSRF_HOLE ? { ...part.data, csrfToken } : part.data;
      return [part.key, new nunjucks.runtime.SafeString(await app.view(part.template, data))] as const;
    }),
  );
  return reply.view(page.template, { ...page.data, ...Object.fromEntries(parts) });
});
app.post<{ Params: { slug: string; year: string; id: string }; Body: Record<string, string> }>(
  '/p/:slug/plans/:year/actions/:id/progress',
  async (request, reply) => {
    const { slug, year } = request.params;
    if (!request.body.quarter) return reply.code(400).send('no quarter');
    return reply.redirect(`/p/${slug}/plans/${year}/aims/1.1#action-1`, 303);
  },
);
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
