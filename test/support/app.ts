/**
 * The real app over a fresh test database with the demo partnership loaded, driven with inject.
 * CSRF stays on: `session.post` fetches a form's token first, as a browser would.
 */
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { createServices, type Services } from '../../src/services/index.js';
import { buildApp, type AppOptions } from '../../src/web/app.js';
import type { Database } from '../../src/db/client.js';
import { createTestDatabase, openSecondConnection, type TestDatabase } from './database.js';

import { TEST_PASSWORD } from './password.js';

export { TEST_PASSWORD };

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  services: Services;
  close(): Promise<void>;
}

export interface TestAppOptions {
  demo?: boolean;
  /** More environment for the config, e.g. { NODE_ENV: 'production', TRUST_PROXY: 'true' }. */
  env?: Record<string, string>;
  /** Swaps services the app is given (a deliberately failing one, say); the database is untouched. */
  services?: (services: Services) => Services;
  onRoute?: AppOptions['onRoute'];
}

/** Every test app signs its session cookies with this, so a second instance reads the first's. */
const SESSION_SECRET = 'a test secret that is long enough to use, 48 chars';

/** The app and its services over a database, configured as the tests configure it. */
async function buildOver(database: Database, options: TestAppOptions) {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SESSION_SECRET,
    ...options.env,
  });
  const services = createServices(database, {
    oidc: config.oidc && { ...config.oidc, publicUrl: config.publicUrl },
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom },
  });
  const app = await buildApp({
    config,
    services: options.services ? options.services(services) : services,
    sessionSecret: SESSION_SECRET,
    onRoute: options.onRoute,
  });
  return { app, services };
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase({ demo: options.demo !== false });
  const { app, services } = await buildOver(database, options);
  return {
    app,
    database,
    services,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

export interface SecondTestApp {
  app: FastifyInstance;
  /** Its own connection to the first app's database (on PGlite, the same handle). */
  database: Database;
  services: Services;
  /** Closes this instance and its connection; the database stays for the first app to drop. */
  close(): Promise<void>;
}

/**
 * A second app instance over the database of `first`, as a second server behind a load balancer
 * would be: its own services, mailer and connection pool (on PostgreSQL), the same session secret.
 * Nothing is loaded into the database again. Close it before the first app drops the database.
 */
export async function createSecondTestApp(
  first: TestApp,
  options: Omit<TestAppOptions, 'demo'> = {},
): Promise<SecondTestApp> {
  const database = await openSecondConnection(first.database);
  const { app, services } = await buildOver(database, options);
  return {
    app,
    database,
    services,
    async close() {
      await app.close();
      await database.close();
    },
  };
}

/** A file for a multipart form. */
export interface UploadFile {
  filename: string;
  content: Buffer | Uint8Array;
  contentType?: string;
}

/** A browser-like session: keeps the cookies, reads CSRF tokens from the page it posts from. */
export class Session {
  /** The browser's cookies (a Cookie header), shared with the sessions `on` makes for other app instances. */
  private readonly jar: { cookie: string };
  private readonly options: { remoteAddress?: string };

  /** `remoteAddress`: the client's address (rate limits count per address); inject's default otherwise. */
  constructor(
    private readonly app: FastifyInstance,
    { jar, ...options }: { remoteAddress?: string; jar?: { cookie: string } } = {},
  ) {
    this.jar = jar ?? { cookie: '' };
    this.options = options;
  }

  get cookie(): string {
    return this.jar.cookie;
  }

  set cookie(value: string) {
    this.jar.cookie = value;
  }

  /**
   * The same browser, with the same cookie, sending its requests to another app instance (as a
   * load balancer would): a sign-in or sign-out through either is seen by both.
   */
  on(app: FastifyInstance): Session {
    return new Session(app, { ...this.options, jar: this.jar });
  }

  /** Keeps the cookies a response sets, as a browser does: each by name; one expired is dropped. */
  private keep(headers: Record<string, unknown>): void {
    const set = headers['set-cookie'];
    const list = Array.isArray(set) ? set : set ? [String(set)] : [];
    if (!list.length) return;
    const kept = new Map(
      this.cookie
        .split('; ')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair] as const),
    );
    for (const c of list) {
      const [pair, ...attributes] = String(c).split(';');
      const name = pair!.slice(0, pair!.indexOf('='));
      const expired = attributes.some((a) => {
        const [key, value = ''] = a.trim().split('=');
        return (
          (key!.toLowerCase() === 'max-age' && Number(value) <= 0) ||
          (key!.toLowerCase() === 'expires' && Date.parse(value) <= Date.now())
        );
      });
      if (expired) kept.delete(name);
      else kept.set(name, pair!);
    }
    this.cookie = [...kept.values()].join('; ');
  }

  /** The session's id, as the session cookie carries it (signed). */
  get sid(): string {
    const value = /(?:^|; )pp_session=([^;]+)/.exec(this.cookie)?.[1];
    if (!value) throw new Error('No session cookie');
    return decodeURIComponent(value).split('.')[0]!;
  }

  async get(url: string) {
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: this.cookie ? { cookie: this.cookie } : {},
      ...this.options,
    });
    this.keep(response.headers);
    return response;
  }

  /** Loads `formUrl`, takes its CSRF token, and posts `fields` to `action` (default: the same URL). */
  async post(formUrl: string, fields: Record<string, string>, action = formUrl.split('?')[0]!) {
    const page = await this.get(formUrl);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`No CSRF token on ${formUrl} (status ${page.statusCode})`);
    return this.postRaw(action, { _csrf: token, ...fields });
  }

  /** Posts `fields` as a form (repeated names as pairs, as checkboxes send them), no token added. */
  async postRaw(url: string, fields: Record<string, string> | [string, string][]) {
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      payload: new URLSearchParams(fields).toString(),
      ...this.options,
    });
    this.keep(response.headers);
    return response;
  }

  /**
   * Loads `formUrl`, takes its CSRF token, and posts `fields` and `files` to `action` as a
   * multipart form, as a browser sends a form with a file input.
   */
  async upload(
    formUrl: string,
    fields: Record<string, string>,
    files: Record<string, UploadFile>,
    action = formUrl.split('?')[0]!,
  ) {
    const page = await this.get(formUrl);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`No CSRF token on ${formUrl} (status ${page.statusCode})`);
    return this.postMultipart(action, { _csrf: token, ...fields }, files);
  }

  /** A multipart form, built by the platform's FormData as a browser would. */
  async postMultipart(url: string, fields: Record<string, string>, files: Record<string, UploadFile>) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    for (const [name, file] of Object.entries(files)) {
      const type = file.contentType ?? 'application/octet-stream';
      form.append(name, new Blob([new Uint8Array(file.content)], { type }), file.filename);
    }
    const encoded = new Response(form);
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': encoded.headers.get('content-type')!,
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      payload: Buffer.from(await encoded.arrayBuffer()),
      ...this.options,
    });
    this.keep(response.headers);
    return response;
  }

  async signIn(email: string, password = TEST_PASSWORD) {
    const response = await this.post('/sign-in', { email, password });
    if (response.statusCode !== 302) throw new Error(`Sign-in as ${email} failed: ${response.statusCode}`);
    return response;
  }
}

export const DEMO = {
  coordinator: 'coordinator@sosafe.example',
  lead: 'helen.whitehead@sosafe.example',
  partner: 'partner@sosafe.example',
  board: 'board@sosafe.example',
};
