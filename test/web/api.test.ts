/**
 * The read-only API over the demo plan: the coordinator's token pages (issue, shown once, revoke),
 * bearer authentication (missing, malformed, revoked, another partnership's, good), the plan, its
 * quarters and a closed quarter's snapshot, drafts kept out, and the OpenAPI document: it names
 * every /api/v1 route the app registers, and the real answers fit its schemas.
 */
import { and, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiTokens, auditEvents } from '../../src/db/schema.js';
import { systemActor } from '../../src/services/actor.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { findAim, type PlanTree } from '../../src/services/plan-read.js';
import { addUser } from '../../src/services/users.js';
import { openApiDocument, type JsonSchema } from '../../src/web/api-openapi.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';

let t: TestApp;
const registered: { method: string; url: string }[] = [];
const system = systemActor('api test');
const base = '/api/v1/partnerships/sosafe';
const plan = `${base}/plans/2024-25`;
let tree: PlanTree;
let sosafe: number;
let coordinator: Session;
let partner: Session;
/** A good token of the demo partnership, issued through the page. */
let token: string;
let theirToken: string;

const DRAFT_TEXT = 'Half-written draft that must never leave the lead officer’s form';

function api(url: string, bearer?: string, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'GET',
    url,
    headers: { ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }), ...headers },
  });
}

const textOf = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

beforeAll(async () => {
  t = await createTestApp({
    onRoute: (route) => {
      for (const method of [route.method].flat()) registered.push({ method, url: route.url });
    },
  });
  await t.app.ready();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  partner = new Session(t.app);
  await partner.signIn(DEMO.partner);
  tree = (await t.services.plans.openPlan(system, 'sosafe', '2024/25')).tree;
  sosafe = tree.partnership.id;
  await createPartnership(t.database.db, system, { slug: 'nherts', name: 'North Herts CSP' });
  await addUser(
    t.database.db,
    {
      email: 'coordinator@nherts.example',
      name: 'Nell',
      password: TEST_PASSWORD,
      partnership: 'nherts',
      role: 'coordinator',
    },
    system,
  );
  const nherts = await t.services.plans.getPartnershipBySlug('nherts');
  theirToken = (await t.services.apiTokens.issue(system, nherts.id, { name: 'Theirs' })).token;
});
afterAll(async () => {
  await t?.close();
});

describe('the coordinator’s API token pages', () => {
  it('are linked from the coordinator’s navigation, and refused to a partner', async () => {
    const page = await coordinator.get('/p/sosafe/people');
    expect(page.body).toContain('href="/p/sosafe/api-tokens"');
    const list = await coordinator.get('/p/sosafe/api-tokens');
    expect(list.statusCode).toBe(200);
    expect(textOf(list.body)).toContain('No tokens have been issued');
    expect((await partner.get('/p/sosafe/api-tokens')).statusCode).toBe(403);
    expect((await partner.get('/p/sosafe/plans/2024-25')).body).not.toContain('/api-tokens"');
  });

  it('refuse a token without a name with the error summary, keeping what was chosen', async () => {
    const response = await coordinator.post('/p/sosafe/api-tokens/new', { name: ' ', expiresInDays: '90' });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('href="#name"');
    expect(response.body).toMatch(/value="90" checked/);
  });

  it('show a new token once, with a warning to copy it now', async () => {
    const response = await coordinator.post('/p/sosafe/api-tokens/new', {
      name: 'County dashboard',
      expiresInDays: '',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    token = /data-testid="new-token"/.test(response.body)
      ? /id="token" type="text" value="(pp_[\w-]+)"/.exec(response.body)![1]!
      : '';
    expect(token).toMatch(/^pp_[\w-]{43}$/);
    expect(textOf(response.body)).toContain('Copy the token now. It will not be shown again');

    const list = await coordinator.get('/p/sosafe/api-tokens');
    expect(textOf(list.body)).toContain('County dashboard');
    expect(list.body).toContain(`${token.slice(0, 8)}…`);
    expect(list.body).not.toContain(token);
    const events = await t.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.kind, 'api_token.issued'), eq(auditEvents.partnershipId, sosafe)));
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it('revoke a token after a confirmation page; the token stops working at once', async () => {
    const { id, token: doomed } = await t.services.apiTokens.issue(system, sosafe, { name: 'To revoke' });
    expect((await api(base, doomed)).statusCode).toBe(200);
    const confirm = await coordinator.get(`/p/sosafe/api-tokens/${id}/revoke`);
    expect(confirm.statusCode).toBe(200);
    expect(textOf(confirm.body)).toContain('Revoke “To revoke”?');
    expect((await partner.get(`/p/sosafe/api-tokens/${id}/revoke`)).statusCode).toBe(403);
    const done = await coordinator.post(`/p/sosafe/api-tokens/${id}/revoke`, {});
    expect(done.statusCode).toBe(303);
    expect(textOf((await coordinator.get('/p/sosafe/api-tokens')).body)).toContain(
      'The API token “To revoke” has been revoked',
    );
    const [row] = await t.database.db.select().from(apiTokens).where(eq(apiTokens.id, id));
    expect(row!.revokedAt).toBeInstanceOf(Date);
    const refused = await api(base, doomed);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: expect.stringContaining('revoked') });
  });
});

describe('bearer authentication', () => {
  const refusedWith = (response: LightMyRequestResponse, status: number) => {
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({ error: expect.any(String) });
  };

  it('refuses a request with no token, and ignores a signed-in browser’s cookie', async () => {
    const none = await api(base);
    refusedWith(none, 401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    refusedWith(await api(base, undefined, { cookie: coordinator.cookie }), 401);
  });

  it('refuses malformed and unknown tokens', async () => {
    for (const header of [
      'Basic abc',
      'Bearer',
      `Token ${token}`,
      'Bearer not-a-token',
      `Bearer pp_${'A'.repeat(43)}`,
    ]) {
      const response = await api(base, undefined, { authorization: header });
      refusedWith(response, 401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    }
  });

  it('refuses another partnership’s token, with 403', async () => {
    refusedWith(await api(base, theirToken), 403);
    refusedWith(await api(plan, theirToken), 403);
    refusedWith(await api('/api/v1/partnerships/nowhere', token), 403);
  });

  it('answers a good token, never cached, and notes its use', async () => {
    const response = await api(base, token);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({
      slug: 'sosafe',
      name: tree.partnership.name,
      area: tree.partnership.area,
      plans: [{ year: '2024/25', url: plan }],
    });
    const [row] = await t.database.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.prefix, token.slice(0, 8)));
    expect(row!.lastUsedAt).toBeInstanceOf(Date);
  });

  it('answers 404 in JSON for things that do not exist', async () => {
    for (const url of [
      `${base}/plans/1999-00`,
      `${base}/plans/nonsense`,
      `${plan}/quarters/5/snapshot`,
      '/api/v1/nothing',
    ]) {
      const response = await api(url, token);
      expect(response.statusCode, url).toBe(404);
      expect(response.json(), url).toEqual({ error: expect.any(String) });
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });
});

describe('the plan, its quarters and snapshots', () => {
  it('has the demo’s 21 aims and 34 actions, with leads, statuses and progress, and no drafts', async () => {
    const helensAction = findAim(tree, '3.1').aim.actions[0]!;
    const lead = await t.services.users.getMember(
      (await t.services.users.authenticate(DEMO.lead, TEST_PASSWORD))!.id,
      sosafe,
    );
    await t.services.progress.save(t.services.memberActor(lead!), helensAction.id, {
      quarter: 4,
      intent: 'draft',
      status: 'at_risk',
      text: DRAFT_TEXT,
    });
    const response = await api(plan, token);
    expect(response.statusCode).toBe(200);
    expect(response.body).not.toContain(DRAFT_TEXT);
    const body = response.json();
    const aims = body.sections.flatMap((s: { aims: unknown[] }) => s.aims);
    expect(aims).toHaveLength(21);
    expect(aims.flatMap((a: { actions: unknown[] }) => a.actions)).toHaveLength(34);
    const aim31 = aims.find((a: { number: string }) => a.number === '3.1');
    expect(aim31.actions[0].leads[0]).toMatchObject({ organisation: 'CCSU' });
    expect(aim31.actions[0].leads[0].officers).toContain('Helen Whitehead');
    expect(aim31.actions[0].progress.every((p: { quarter: number | null }) => p.quarter !== 4)).toBe(true);
    expect(body.year).toBe('2024/25');
  });

  it('lists the four quarters, and serves a closed quarter’s snapshot', async () => {
    expect((await api(`${plan}/quarters/1/snapshot`, token)).statusCode).toBe(404);
    await t.services.cycles.open(
      system,
      tree.plan.id,
      { quarter: 1, dueOn: '2024-07-14' },
      { baseUrl: 'http://localhost' },
    );
    let quarters = (await api(`${plan}/quarters`, token)).json();
    expect(quarters.quarters.map((q: { phase: string }) => q.phase)).toEqual([
      'open',
      'not_opened',
      'not_opened',
      'not_opened',
    ]);
    expect(quarters.quarters[0]).toMatchObject({
      quarter: 1,
      dueOn: '2024-07-14',
      reportedOn: null,
      total: 34,
    });

    const cycle = (await t.services.cycles.get(system, tree.plan.id, 1))!;
    await t.services.cycles.close(system, cycle.id, { reportedOn: '2024-07-21', version: cycle.version });
    quarters = (await api(`${plan}/quarters`, token)).json();
    expect(quarters.quarters[0]).toMatchObject({ phase: 'closed', reportedOn: '2024-07-21' });
    const counts = quarters.quarters[0].counts;
    expect(Object.values(counts).reduce((a: number, b) => a + Number(b), 0)).toBe(34);

    const snapshot = await api(`${plan}/quarters/1/snapshot`, token);
    expect(snapshot.statusCode).toBe(200);
    const body = snapshot.json();
    expect(body).toMatchObject({ quarter: 1, planYear: '2024/25', reportedOn: '2024-07-21' });
    expect(body.tree.sections.flatMap((s: { aims: unknown[] }) => s.aims)).toHaveLength(21);
    expect(snapshot.body).not.toContain(DRAFT_TEXT);
  });

  it('has the plan’s funding: on its aims, and flat with totals, for Power BI and Excel', async () => {
    const body = (await api(plan, token)).json();
    const aim22 = body.sections
      .flatMap((s: { aims: unknown[] }) => s.aims)
      .find((a: { number: string }) => a.number === '2.2');
    expect(aim22.funding).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: 'Letchworth Heritage Foundation',
          amountPence: 1_000_000,
          amountPounds: 10_000,
          state: 'received',
          receivedOn: '2024-06-30',
          aim: '2.2',
          action: 1,
          forWholeAim: false,
        }),
      ]),
    );
    const response = await api(`${plan}/funding`, token);
    expect(response.statusCode).toBe(200);
    const funding = response.json();
    expect(funding.year).toBe('2024/25');
    expect(funding.lines).toHaveLength(6);
    expect(funding.totals.all).toEqual({
      label: 'Total',
      lines: 6,
      totalPence: 1_000_000,
      spentToDatePence: 0,
    });
    expect(funding.totals.byState.map((r: { state: string; lines: number }) => [r.state, r.lines])).toEqual([
      ['applied', 1],
      ['awarded', 3],
      ['received', 1],
      ['spent', 1],
    ]);
    expect((await api(`${plan}/funding`)).statusCode).toBe(401);
    expect((await api(`${plan}/funding`, theirToken)).statusCode).toBe(403);
  });

  it('is rate limited per address, in JSON', async () => {
    let last: LightMyRequestResponse | undefined;
    for (let i = 0; i < 121; i++) {
      last = await t.app.inject({ method: 'GET', url: base, remoteAddress: '10.9.9.9' });
    }
    expect(last!.statusCode).toBe(429);
    expect(last!.json()).toEqual({ error: expect.any(String) });
    expect(last!.headers['cache-control']).toBe('no-store');
  });
});

// ——— The OpenAPI document ———

/** The JSON Schema keywords api-openapi.ts uses, checked strictly: an unknown keyword fails. */
function check(schema: JsonSchema, value: unknown, where: string, problems: string[]): void {
  const known = new Set([
    'type',
    'description',
    'properties',
    'required',
    'additionalProperties',
    'items',
    'enum',
    'format',
    'minimum',
    'maximum',
    '$ref',
  ]);
  for (const key of Object.keys(schema))
    if (!known.has(key)) problems.push(`${where}: unknown keyword ${key}`);
  if (schema.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = openApiDocument.components.schemas[name];
    if (!target) problems.push(`${where}: no schema ${name}`);
    else check(target, value, where, problems);
  }
  const typeOf = (v: unknown) =>
    v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
  if (schema.type) {
    const types = [schema.type].flat();
    const actual = typeOf(value);
    if (!types.includes(actual as never) && !(actual === 'integer' && types.includes('number'))) {
      problems.push(`${where}: ${actual} is not ${types.join('|')}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(value as never))
    problems.push(`${where}: ${String(value)} not in enum`);
  if (typeof value === 'string' && schema.format === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    problems.push(`${where}: ${value} is not a date`);
  }
  if (typeof value === 'string' && schema.format === 'date-time' && Number.isNaN(Date.parse(value))) {
    problems.push(`${where}: ${value} is not a date-time`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${where}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${where}: above maximum`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => check(schema.items!, v, `${where}[${i}]`, problems));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) problems.push(`${where}: missing ${key}`);
    for (const [key, v] of Object.entries(record)) {
      const property = schema.properties?.[key];
      if (property) check(property, v, `${where}.${key}`, problems);
      else if (schema.additionalProperties === false) problems.push(`${where}: unexpected ${key}`);
    }
  }
}

function schemaOf(path: string, status: string): JsonSchema {
  const response = openApiDocument.paths[path]?.get.responses[status];
  return response!.content!['application/json'].schema;
}

describe('the OpenAPI document', () => {
  it('is served as OpenAPI 3.1, without a token, and says where funding is', async () => {
    const response = await api('/api/v1/openapi.json');
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    expect(document.info.description).toMatch(/Funding lines .* are on each aim of a plan/);
  });

  it('names every /api/v1 route the app registers, and no other', () => {
    const routes = registered
      .filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1'))
      .map((r) => r.url.replace(/:(\w+)/g, '{$1}'))
      .sort();
    expect(routes.length).toBe(6);
    expect(Object.keys(openApiDocument.paths).sort()).toEqual(routes);
    expect(
      registered.filter((r) => r.url.startsWith('/api/v1') && !['GET', 'HEAD'].includes(r.method)),
    ).toEqual([]);
  });

  it('describes what the app really answers for the demo plan', async () => {
    const cases: [string, string, string][] = [
      [base, '/api/v1/partnerships/{slug}', '200'],
      [plan, '/api/v1/partnerships/{slug}/plans/{year}', '200'],
      [`${plan}/quarters`, '/api/v1/partnerships/{slug}/plans/{year}/quarters', '200'],
      [
        `${plan}/quarters/1/snapshot`,
        '/api/v1/partnerships/{slug}/plans/{year}/quarters/{q}/snapshot',
        '200',
      ],
      [`${base}/plans/1999-00`, '/api/v1/partnerships/{slug}/plans/{year}', '404'],
      [`${plan}/funding`, '/api/v1/partnerships/{slug}/plans/{year}/funding', '200'],
    ];
    for (const [url, path, status] of cases) {
      const response = await api(url, token);
      expect(String(response.statusCode), url).toBe(status);
      const problems: string[] = [];
      check(schemaOf(path, status), response.json(), url, problems);
      expect(problems, url).toEqual([]);
    }
    const refused = await api(base);
    const problems: string[] = [];
    check(schemaOf('/api/v1/partnerships/{slug}', '401'), refused.json(), '401', problems);
    expect(problems).toEqual([]);
  });

  it('the checker above catches a wrong answer', () => {
    const problems: string[] = [];
    check(openApiDocument.components.schemas.Aim!, { number: 3.1, title: 'x', extra: true }, 'aim', problems);
    expect(problems).toEqual(
      expect.arrayContaining([
        'aim.number: number is not string',
        'aim: missing actions',
        'aim: unexpected extra',
      ]),
    );
  });
});
