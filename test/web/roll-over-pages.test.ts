import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

let t: TestApp;
let coordinator: Session;
let partner: Session;
beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  partner = new Session(t.app);
  await partner.signIn(DEMO.partner);
});
afterAll(async () => {
  await t?.close();
});

const base = '/p/sosafe/plans/2024-25';
const form = `${base}/roll-over`;

/** The aim ids the form offers, by aim number. */
function offered(body: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of body.matchAll(/name="aims" type="checkbox" value="(\d+)"[^>]*>\s*<label[^>]*>([\d.]+) /g)) {
    map.set(m[2]!, m[1]!);
  }
  return map;
}

describe('the coordinator starts next year’s plan', () => {
  it('links to it from the plan page, for the coordinator only', async () => {
    expect((await coordinator.get(base)).body).toContain(`href="${form}"`);
    expect((await partner.get(base)).body).not.toContain(`href="${form}"`);
  });

  it('offers every live aim, grouped by section, all ticked', async () => {
    const page = await coordinator.get(form);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Create the 2025/26 plan');
    expect(page.body).toContain('data-testid="roll-over-section-3"');
    const aims = offered(page.body);
    expect(aims.size).toBe(21);
    expect(page.body.match(/name="aims" type="checkbox"[^>]* checked>/g)).toHaveLength(21);
  });

  it('shows the error summary when no aim is chosen', async () => {
    const response = await coordinator.post(form, {});
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    expect(response.body).toContain('href="#aims"');
    expect(response.body).toContain('Choose at least one aim to carry over');
    expect(response.body).toContain('id="aims"');
    expect(response.body).not.toMatch(/type="checkbox"[^>]* checked>/);
  });

  it('creates the plan, goes to it, and each carried aim links back to its earlier year, which links forward', async () => {
    const page = await coordinator.get(form);
    const aims = offered(page.body);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const ids = [...aims].filter(([n]) => n !== '3.1').map(([, id]) => id);
    const response = await coordinator.postRaw(form, [
      ['_csrf', token],
      ...ids.map((id): [string, string] => ['aims', id]),
    ]);
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe('/p/sosafe/plans/2025-26');

    const next = await coordinator.get('/p/sosafe/plans/2025-26');
    expect(next.body).toContain('The 2025/26 plan has been started with 20 aims carried over from 2024/25');
    expect(next.body).toContain('Action plan 2025/26');
    expect(next.body).not.toContain('data-testid="section-3"');
    expect(next.body).toContain(`href="${base}"`); // the other year

    // The latest year is the default.
    expect((await coordinator.get('/p/sosafe')).headers.location).toBe('/p/sosafe/plans/2025-26');

    const aim = await coordinator.get('/p/sosafe/plans/2025-26/aims/4.2');
    expect(aim.statusCode).toBe(200);
    const carried = /data-testid="carried-from">(.*?)<\/p>/s.exec(aim.body)?.[1] ?? '';
    expect(carried.replace(/<[^>]+>/g, '')).toBe('Carried over from 2024/25 (aim 4.2)');
    expect(carried).toContain(`href="${base}/aims/4.2"`);
    expect(aim.body).toContain('data-testid="action-4"'); // its four actions
    expect(aim.body).toContain('No update');
    expect(aim.body).not.toContain('class="app-timeline__entry"'); // no progress came over
    // The earlier aim keeps its progress, and links forward to where it went.
    const earlier = await coordinator.get(`${base}/aims/4.2`);
    expect(earlier.body).toContain('class="app-timeline__entry"');
    expect(earlier.body).not.toContain('data-testid="carried-from"');
    const carriedTo = /data-testid="carried-to">(.*?)<\/p>/s.exec(earlier.body)?.[1] ?? '';
    expect(carriedTo.replace(/<[^>]+>/g, '')).toBe('Carried over to 2025/26 (aim 4.2)');
    expect(carriedTo).toContain('href="/p/sosafe/plans/2025-26/aims/4.2"');
    // 3.1 was not carried over: it says nothing of the kind.
    expect((await coordinator.get(`${base}/aims/3.1`)).body).not.toContain('data-testid="carried-to"');
  });

  it('does not offer a second roll-over once next year’s plan exists', async () => {
    const page = await coordinator.get(form);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('The 2025/26 plan already exists');
    expect(page.body).not.toContain('Create the 2025/26 plan');
    const again = await coordinator.post(base, {}, form);
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('govuk-error-summary');
  });
});
