/**
 * The public page over HTTP: a signed-out resident reads what the coordinator published and
 * nothing else; publishing shows an aim and unpublishing hides it; no page a resident can reach
 * sets a cookie, and each may be cached for a minute, while a signed-in reader's copy never is;
 * and after "publish every aim", no page residents can reach carries the name of anyone in the
 * database (every person and every account, read from it, whichever partnership they are in).
 */
import { and, eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as t from '../../src/db/schema.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const PUBLIC = '/partnerships/sosafe';
const YEAR = `${PUBLIC}/2024-25`;
const MANAGE = '/p/sosafe/plans/2024-25/public';

let t0: TestApp;
let coordinator: Session;

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A signed-out visitor's request: no cookie sent, and none may come back. */
async function residentGet(url: string): Promise<LightMyRequestResponse> {
  return t0.app.inject({ method: 'GET', url });
}

function expectResidentHeaders(response: LightMyRequestResponse, url: string): void {
  expect(response.headers['set-cookie'], `${url} set a cookie`).toBeUndefined();
  expect(response.headers['cache-control'], url).toBe('public, max-age=60');
}

async function everyName(): Promise<string[]> {
  const people = await t0.database.db.select({ name: t.people.name }).from(t.people);
  const accounts = await t0.database.db.select({ name: t.users.name }).from(t.users);
  return [...new Set([...people, ...accounts].map((r) => r.name))];
}

async function aimVersion(number: string): Promise<string> {
  const [partnership] = await t0.database.db
    .select({ id: t.partnerships.id })
    .from(t.partnerships)
    .where(eq(t.partnerships.slug, 'sosafe'));
  const [aim] = await t0.database.db
    .select({ version: t.aims.version })
    .from(t.aims)
    .innerJoin(t.plans, eq(t.plans.id, t.aims.planId))
    .where(
      and(eq(t.aims.partnershipId, partnership!.id), eq(t.plans.year, '2024/25'), eq(t.aims.number, number)),
    );
  return String(aim!.version);
}

beforeAll(async () => {
  t0 = await createTestApp();
  // The demo's SoSafe plan comes published (test/demo); these tests start from nothing published.
  await t0.database.db.update(t.aims).set({ publishedAt: null, publishedBy: null });
  coordinator = new Session(t0.app);
  await coordinator.signIn(DEMO.coordinator);
});
afterAll(async () => {
  await t0?.close();
});

describe('before anything is published', () => {
  it('the partnership’s page says so, sets no cookie and may be cached', async () => {
    const response = await residentGet(PUBLIC);
    expect(response.statusCode).toBe(200);
    expectResidentHeaders(response, PUBLIC);
    expect(textOf(response.body)).toContain('Nothing has been published yet');
    // The residents' layout: a way in for staff, no navigation of the live plan, no sign-out.
    expect(response.body).toContain('href="/sign-in"');
    expect(response.body).toContain('href="/accessibility"');
    expect(response.body).not.toContain('/p/sosafe/plans');
    expect(response.body).not.toContain('Sign out');
  });

  it('the plan year and its aims are not there', async () => {
    for (const url of [YEAR, `${YEAR}/aims/1.1`]) {
      const response = await residentGet(url);
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['set-cookie'], url).toBeUndefined();
    }
    expect((await residentGet('/partnerships/nowhere')).statusCode).toBe(404);
  });
});

describe('publishing aim by aim', () => {
  it('shows the coordinator the list with a form per aim, never cached', async () => {
    const response = await coordinator.get(MANAGE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.body).toContain(`action="${MANAGE}/aims/1.1/publish"`);
    expect(response.body).toContain(`action="${MANAGE}/publish-all"`);
    expect(textOf(response.body)).toContain('0 of');
    // The plan's page links to it for the coordinator only.
    expect((await coordinator.get('/p/sosafe/plans/2024-25')).body).toContain(`href="${MANAGE}"`);
    const lead = new Session(t0.app);
    await lead.signIn(DEMO.lead);
    expect((await lead.get('/p/sosafe/plans/2024-25')).body).not.toContain(`href="${MANAGE}"`);
    expect((await lead.get(MANAGE)).statusCode).toBe(403);
  });

  it('publishing an aim shows it to residents, with its organisations and not its officers', async () => {
    const response = await coordinator.post(
      MANAGE,
      { version: await aimVersion('2.1') },
      `${MANAGE}/aims/2.1/publish`,
    );
    expect(response.statusCode).toBe(303);
    expect((await coordinator.get(MANAGE)).body).toContain('Aim 2.1 is published on the public page');

    const year = await residentGet(YEAR);
    expect(year.statusCode).toBe(200);
    expectResidentHeaders(year, YEAR);
    expect(year.body).toContain(`href="${YEAR}/aims/2.1"`);
    expect(year.body).not.toContain(`href="${YEAR}/aims/2.2"`);

    const aim = await residentGet(`${YEAR}/aims/2.1`);
    expect(aim.statusCode).toBe(200);
    expectResidentHeaders(aim, `${YEAR}/aims/2.1`);
    // 2.1 is led by "SADA (Tania King)" in the plan: residents read the organisation alone.
    expect(textOf(aim.body)).toContain('SADA');
    expect(aim.body).not.toContain('Tania King');
    expect((await residentGet(`${YEAR}/aims/2.2`)).statusCode).toBe(404);
  });

  it('the coordinator’s text for an update is what residents read, never the lead’s words', async () => {
    const page = await coordinator.get(`${MANAGE}/aims/2.1`);
    expect(page.statusCode).toBe(200);
    const id = /action="[^"]*\/public\/updates\/(\d+)"/.exec(page.body)?.[1];
    expect(id).toBeDefined();
    const version = new RegExp(`id="update-${id}"[\\s\\S]*?name="version" value="(\\d+)"`).exec(
      page.body,
    )?.[1];
    const saved = await coordinator.post(
      `${MANAGE}/aims/2.1`,
      { publicText: 'Tania King ran <b>two</b> awareness sessions.', version: version!, aim: '2.1' },
      `${MANAGE}/updates/${id}`,
    );
    expect(saved.statusCode).toBe(303);
    expect(textOf((await coordinator.get(`${MANAGE}/aims/2.1`)).body)).toContain(
      'Names in it were replaced by organisations',
    );
    const aim = await residentGet(`${YEAR}/aims/2.1`);
    // Escaped as any text: what was typed as markup shows as typed.
    expect(textOf(aim.body)).toContain('SADA ran <b>two</b> awareness sessions.');
    expect(aim.body).toContain('&lt;b&gt;two&lt;/b&gt;');
    expect(aim.body).not.toContain('Tania King');

    // A stale version is refused, and what was typed is kept.
    const stale = await coordinator.post(
      `${MANAGE}/aims/2.1`,
      { publicText: 'Words typed late', version: version!, aim: '2.1' },
      `${MANAGE}/updates/${id}`,
    );
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('Words typed late');
    expect(textOf(stale.body)).toContain('Someone changed this update since you opened the page');
  });

  it('a signed-in member reading the public page gets a copy nobody caches', async () => {
    const response = await coordinator.get(`${YEAR}/aims/2.1`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('private, no-store');
  });

  it('unpublishing hides it again; a stale form is refused', async () => {
    const stale = await coordinator.post(MANAGE, { version: '1' }, `${MANAGE}/aims/2.1/unpublish`);
    expect(stale.statusCode).toBe(409);
    expect(textOf(stale.body)).toContain('Aim 2.1 was changed since you opened this page');
    expect((await residentGet(`${YEAR}/aims/2.1`)).statusCode).toBe(200);

    const response = await coordinator.post(
      MANAGE,
      { version: await aimVersion('2.1') },
      `${MANAGE}/aims/2.1/unpublish`,
    );
    expect(response.statusCode).toBe(303);
    expect((await residentGet(`${YEAR}/aims/2.1`)).statusCode).toBe(404);
    expect((await residentGet(YEAR)).statusCode).toBe(404);
  });
});

describe('after publishing every aim', () => {
  const pages = new Map<string, LightMyRequestResponse>();

  beforeAll(async () => {
    const response = await coordinator.post(MANAGE, {}, `${MANAGE}/publish-all`);
    expect(response.statusCode).toBe(303);
    // Every page a resident can reach from the partnership's page, and the footer's pages.
    const queue = [PUBLIC, '/accessibility', '/privacy', '/contact'];
    while (queue.length) {
      const url = queue.shift()!;
      if (pages.has(url)) continue;
      const page = await residentGet(url);
      pages.set(url, page);
      for (const [, href] of page.body.matchAll(/href="(\/partnerships\/[^"#]*)"/g)) queue.push(href!);
    }
  });

  it('every aim has its page, and every page sets no cookie and may be cached', async () => {
    const aims = [...pages.keys()].filter((url) => url.includes('/aims/'));
    expect(aims.length).toBeGreaterThan(20);
    for (const [url, response] of pages) {
      expect(response.statusCode, url).toBe(200);
      expectResidentHeaders(response, url);
    }
  });

  it('no page carries the name of anyone in the database', async () => {
    const names = await everyName();
    expect(names).toEqual(
      expect.arrayContaining(['Tania King', 'Sarah Pateman', 'Helen Whitehead', 'Casey Coordinator']),
    );
    const found = [...pages].flatMap(([url, response]) => {
      const text = textOf(response.body).toLowerCase();
      const html = response.body.toLowerCase();
      return names
        .filter((name) => text.includes(name.toLowerCase()) || html.includes(name.toLowerCase()))
        .map((name) => `${name} on ${url}`);
    });
    expect(found).toEqual([]);
  });

  it('residents read statuses and the plan’s words, never progress as the lead wrote it', async () => {
    const year = textOf(pages.get(YEAR)!.body);
    expect(year).toContain('Continue to promote the No More Youth service');
    // 1.1's Q3 progress as recorded: for members, not residents (no public text was written).
    expect(year).not.toContain('Promotion of NMSY at Jackmans community day in Letchworth');
    expect(year).toContain('No summary published for this quarter');
    const aim = textOf(pages.get(`${YEAR}/aims/1.1`)!.body);
    expect(aim).toContain('Led by NMS');
    expect(aim).not.toContain('Jackmans');
  });

  it('the accessibility statement is a real one, linked from the public footer', async () => {
    expect(pages.get(PUBLIC)!.body).toContain('href="/accessibility"');
    const statement = textOf(pages.get('/accessibility')!.body);
    for (const part of [
      'Compliance status',
      'partially compliant with the Web Content Accessibility Guidelines version 2.2 AA standard',
      'Non-accessible content',
      'Enforcement procedure',
      'Equality and Human Rights Commission (EHRC)',
      'Equality Advisory and Support Service (EASS)',
      'Preparation of this accessibility statement',
      'with JavaScript switched on and again with JavaScript switched off',
    ]) {
      expect(statement).toContain(part);
    }
  });
});
