/**
 * The real app over a fresh test database with the demo partnership loaded, driven with inject.
 * CSRF stays on: `session.post` fetches a form's token first, as a browser would.
 */
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { loadDemo } from '../../src/services/demo.js';
import { createServices, type Services } from '../../src/services/index.js';
import { buildApp, type AppOptions } from '../../src/web/app.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_PASSWORD = 'correct horse battery staple';

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

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  if (options.demo !== false) await loadDemo(database.db, TEST_PASSWORD);
  const sessionSecret = 'a test secret that is long enough to use, 48 chars';
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SESSION_SECRET: sessionSecret,
    ...options.env,
  });
  const services = createServices(database, {
    oidc: config.oidc && { ...config.oidc, publicUrl: config.publicUrl },
    mail: { smtpUrl: config.smtpUrl, from: config.mailFrom },
  });
  const app = await buildApp({
    config,
    services: options.services ? options.services(services) : services,
    sessionSecret,
    onRoute: options.onRoute,
  });
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

/** A browser-like session: keeps the cookie, reads CSRF tokens from the page it posts from. */
export class Session {
  cookie = '';
  /** `remoteAddress`: the client's address (rate limits count per address); inject's default otherwise. */
  constructor(
    private readonly app: FastifyInstance,
    private readonly options: { remoteAddress?: string } = {},
  ) {}

  private keep(headers: Record<string, unknown>): void {
    const set = headers['set-cookie'];
    const list = Array.isArray(set) ? set : set ? [String(set)] : [];
    for (const c of list) {
      const pair = String(c).split(';')[0]!;
      if (pair.startsWith('pp_session=')) this.cookie = pair;
    }
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

  async postRaw(url: string, fields: Record<string, string>) {
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
