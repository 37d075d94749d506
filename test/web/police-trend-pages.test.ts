/**
 * The police.uk trend pages over HTTP with the demo (Hertfordshire, January 2022, SoSafe's area
 * Stevenage): the crime page's tables and charts, a table as CSV, a priority's trend on an aim's
 * page and on the dashboard, the links form's error summary and CSRF, the area page, and North
 * Herts, which has no area yet.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/actor.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const EVIDENCE = '/p/sosafe/evidence';
const PLAN = '/p/sosafe/plans/2024-25';
let t: TestApp;
let coordinator: Session;
let board: Session;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();

/** A table of the page by its test id: caption, and each row's cells as text. */
function table(html: string, id: string) {
  const match = new RegExp(`<table[^>]*data-testid="table-${id}"[^>]*>([\\s\\S]*?)</table>`).exec(html);
  if (!match) throw new Error(`No table ${id}`);
  const body = match[1]!;
  return {
    caption: textOf(/<caption[^>]*>([\s\S]*?)<\/caption>/.exec(body)![1]!),
    rows: [...body.matchAll(/<tr class="govuk-table__row[^"]*" data-testid[^>]*>([\s\S]*?)<\/tr>/g)].map(
      (r) => [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => textOf(c[1]!)),
    ),
  };
}

beforeAll(async () => {
  t = await createTestApp();
  coordinator = new Session(t.app);
  await coordinator.signIn(DEMO.coordinator);
  board = new Session(t.app);
  await board.signIn(DEMO.board);
});
afterAll(async () => {
  await t?.close();
});

describe('the crime page', () => {
  it('shows the board the area beside the force, with charts as labelled images and tables', async () => {
    const response = await board.get(`${EVIDENCE}/crime`);
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(textOf(html)).toContain('beside Hertfordshire Constabulary');
    expect(table(html, 'monthly-totals').rows).toEqual([['January 2022', '820', '8058', '10.2%']]);
    expect(table(html, 'crime-types').rows[0]).toEqual(['Anti-social behaviour', '173', '1702', '10.2%']);
    expect(table(html, 'priorities').rows.at(-1)).toEqual(['Fraud', 'None', '', '', '']);
    const hotspots = table(html, 'hotspots-3');
    expect(hotspots.caption).toBe('Hotspots: the area’s neighbourhoods with most crimes, January 2022');
    expect(hotspots.rows[0]).toEqual([
      'Stevenage 008D',
      'E01023758',
      '108',
      'Violence and sexual offences',
      '30',
    ]);
    expect(hotspots.rows.at(-1)?.[2]).toBe('121');
    expect(table(html, 'outcomes').rows[0]?.[0]).toBe('Unable to prosecute suspect');
    const charts = [
      ...html.matchAll(
        /<svg class="app-chart__svg[^"]*" role="img" aria-labelledby="([\w-]+)-title \1-desc"/g,
      ),
    ];
    expect(charts.map((m) => m[1])).toEqual(
      expect.arrayContaining(['chart-monthly-totals', 'chart-crime-types', 'chart-outcomes']),
    );
    // Six priorities have crime types linked, each with its chart; Fraud has none.
    expect(charts.filter((m) => m[1]!.startsWith('chart-priority-'))).toHaveLength(6);
    expect(html).toContain('suggested by the priorities’ titles');
    // The board reads: no link to change the area or import files.
    expect(html).not.toContain(`${EVIDENCE}/area"`);
  });

  it('offers each table as a CSV with the same figures', async () => {
    const html = (await board.get(`${EVIDENCE}/crime`)).body;
    for (const id of ['monthly-totals', 'hotspots-3', 'outcomes']) {
      const href = new RegExp(`href="([^"]+)" data-testid="csv-${id}"`).exec(html)?.[1];
      expect(href, id).toBe(`${EVIDENCE}/crime/${id}.csv`);
      const csv = await board.get(href!);
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe(
        `attachment; filename="sosafe-crime-2022-01-${id}.csv"`,
      );
      const [, ...records] = parse(csv.body, { bom: true }) as string[][];
      expect(records, id).toEqual(table(html, id).rows);
    }
    expect((await board.get(`${EVIDENCE}/crime/nothing.csv`)).statusCode).toBe(404);
  });

  it('tells North Herts’ coordinator there is no area yet, and where to set it', async () => {
    const nh = new Session(t.app);
    await nh.signIn('coordinator@north-herts.example');
    const html = (await nh.get('/p/north-herts/evidence/crime')).body;
    expect(html).toContain('data-testid="no-area"');
    expect(html).toContain('href="/p/north-herts/evidence/area"');
  });
});

describe('a priority’s trend on an aim’s page and the dashboard', () => {
  it('shows the trend of each of the aim’s priorities, and every priority’s on the dashboard', async () => {
    const { tree } = await t.services.plans.openPlan(systemActor(), 'sosafe', '2024/25');
    const asb = tree.priorities.find((p) => p.title === 'All ASB')!;
    const aim = tree.sections.flatMap((s) => s.aims).find((a) => a.priorityIds.includes(asb.id))!;
    const page = (await board.get(`${PLAN}/aims/${aim.number}`)).body;
    expect(page).toContain('data-testid="priority-trends"');
    expect(table(page, `aim-trend-${asb.id}`).rows).toEqual([['January 2022', '173', '1702', '10.2%']]);
    const dashboard = (await board.get(`${PLAN}/dashboard`)).body;
    expect(textOf(dashboard)).toContain('Crime trends by priority');
    expect(table(dashboard, `dashboard-trend-${asb.id}`).rows[0]?.[1]).toBe('173');
    expect(textOf(dashboard)).toContain('No police.uk crime types are linked to this priority.');
  });
});

describe('the links form', () => {
  it('is read by the board without a form', async () => {
    const html = (await board.get(`${EVIDENCE}/crime/priorities`)).body;
    expect(table(html, 'links').rows[0]).toEqual(['All ASB', 'Anti-social behaviour']);
    expect(html).not.toContain('data-testid="links-form"');
    const refused = await board.post(`${EVIDENCE}/crime/priorities`, { basis: '', use: 'suggested' });
    expect(refused.statusCode).toBe(403);
  });

  it('shows the error summary with what was chosen, refuses a post without its CSRF token, and saves', async () => {
    const url = `${EVIDENCE}/crime/priorities`;
    const form = (await coordinator.get(url)).body;
    const basis = /name="basis" value="([^"]+)"/.exec(form)![1]!;
    const ids = [...form.matchAll(/name="shown" value="(\d+)"/g)].map((m) => m[1]!);
    expect(ids).toHaveLength(7);
    const shown = ids.map((id): [string, string] => ['shown', id]);
    const send = (fields: [string, string][], token?: string) =>
      coordinator.postRaw(url, [
        ...(token ? [['_csrf', token] as [string, string]] : []),
        ['basis', basis],
        ...fields,
      ]);
    expect((await send(shown)).statusCode).toBe(403);
    const token = /name="_csrf" value="([^"]+)"/.exec(form)![1]!;

    const empty = await send(shown, token);
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('govuk-error-summary');
    expect(empty.body).toContain(`href="#priority-${ids[0]}">Link at least one crime type to a priority`);
    expect(empty.body).not.toMatch(/type="checkbox"[^>]*checked/);

    const chosen: [string, string][] = [
      ...shown,
      [`priority-${ids[0]}`, 'Anti-social behaviour'],
      [`priority-${ids[0]}`, 'Public order'],
    ];
    const saved = await send(chosen, token);
    expect(saved.statusCode).toBe(303);
    const after = (await coordinator.get(url)).body;
    expect(after).toContain('The crime types linked to the priorities have been saved');
    expect(table(after, 'links').rows[0]).toEqual(['All ASB', 'Anti-social behaviour, Public order']);
    expect(table(after, 'links').rows[1]).toEqual(['Serious violence', 'None']);

    // The same form again is stale: the links changed since it was shown.
    const stale = await send(chosen, token);
    expect(stale.statusCode).toBe(409);
    expect(stale.body).toContain('data-testid="conflict"');

    const back = await coordinator.post(url, {
      use: 'suggested',
      basis: /name="basis" value="([^"]+)"/.exec(after)![1]!,
    });
    expect(back.statusCode).toBe(303);
    expect(table((await coordinator.get(url)).body, 'links').rows[1]).toEqual([
      'Serious violence',
      'Violence and sexual offences',
    ]);
  });
});

describe('the area page', () => {
  it('is the coordinator’s: a wrong code is shown in the error summary with what was typed', async () => {
    expect((await board.get(`${EVIDENCE}/area`)).statusCode).toBe(403);
    const page = await coordinator.get(`${EVIDENCE}/area`);
    expect(page.statusCode).toBe(200);
    expect(textOf(page.body)).toContain('In January 2022, the latest month imported, it takes in 52 LSOAs');
    const wrong = await coordinator.post(`${EVIDENCE}/area`, { prefixes: 'Stevenage', codes: 'E01<b>' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.body).toContain('govuk-error-summary');
    expect(wrong.body).toContain('E01&lt;b&gt;');
    expect(wrong.body).not.toContain('E01<b>');
    const saved = await coordinator.post(`${EVIDENCE}/area`, { prefixes: 'Stevenage', codes: '' });
    expect(saved.statusCode).toBe(303);
  });
});
