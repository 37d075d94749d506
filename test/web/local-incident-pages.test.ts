/**
 * The fly-tipping and graffiti pages over HTTP with the demo loaded: the page and its CSVs for the
 * board; the coordinator's council CSV through upload, mapping (its error summary naming the line,
 * what was typed kept), preview and confirm; the settings form (several neighbours, a stale
 * version) and DEFRA's upload. Every form is posted with its CSRF token, and refused without it.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const INCIDENTS = '/p/sosafe/evidence/incidents';
const fixture = (name: string) =>
  fs.readFileSync(fileURLToPath(new URL(`../fixtures/council/${name}`, import.meta.url)));

let t: TestApp;
let coordinator: Session;
let board: Session;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

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

describe('the page, for the board', () => {
  it('shows DEFRA’s figures for Stevenage beside its neighbours, with a chart, and no upload', async () => {
    const page = await board.get(INCIDENTS);
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('No fly-tipping or graffiti counts are held yet.');
    expect(text).toMatch(
      /Stevenage \(district\) 2,403 3,692 \(\+54% on the year before \) .* 3,223 \(\+2% on the year before \)/,
    );
    expect(page.body).toContain('data-testid="chart-defra-incidents"');
    expect(page.body).toMatch(
      /<svg class="app-chart__svg" role="img" aria-labelledby="chart-defra-incidents-title/,
    );
    // Per 1,000 people from 2019-20, when DEFRA first gives a population: 3,223 / 89,320 in 2021-22.
    expect(text).toContain('Stevenage (district) 20.4 ');
    expect(text).toContain('36.1');
    expect(page.body).not.toContain(`${INCIDENTS}/upload`);
    expect((await board.get(`${INCIDENTS}/upload`)).statusCode).toBe(403);
  });

  it('downloads each table as CSV', async () => {
    const csv = await board.get(`${INCIDENTS}/defra-incidents.csv`);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const stevenage = csv.body.split('\n').find((l) => l.startsWith('Stevenage (district)'))!;
    expect(stevenage.split(',').slice(0, 3)).toEqual(['Stevenage (district)', 'E07000243', '2403']);
    expect(stevenage.split(',').at(-2)).toBe('3223');
    expect((await board.get(`${INCIDENTS}/per-person.csv`)).statusCode).toBe(404);
  });
});

describe('a council CSV, by the coordinator', () => {
  let mappingUrl = '';

  it('asks for a file, then shows its columns', async () => {
    const missing = await coordinator.upload(`${INCIDENTS}/upload`, {}, {});
    expect(missing.statusCode).toBe(400);
    expect(textOf(missing.body)).toContain('There is a problem Select the council’s CSV file');

    const uploaded = await coordinator.upload(
      `${INCIDENTS}/upload`,
      {},
      { file: { filename: 'street-scene-reports.csv', content: fixture('street-scene-reports.csv') } },
    );
    expect(uploaded.statusCode).toBe(303);
    mappingUrl = uploaded.headers.location as string;
    expect(mappingUrl).toMatch(new RegExp(`^${INCIDENTS}/uploads/\\d+$`));
    const form = await coordinator.get(mappingUrl);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<option value="Date Received" selected>Date Received</option>');
    expect(textOf(form.body)).toContain('Fly tipping · Graffiti - offensive · Abandoned vehicle');
  });

  it('refuses a form without its CSRF token', async () => {
    const response = await coordinator.postRaw(mappingUrl, { dateColumn: 'Date Received' });
    expect(response.statusCode).toBe(403);
  });

  it('names the row that cannot be read, keeping what was typed', async () => {
    const fields = {
      dateColumn: 'Date Received',
      kindColumn: 'Category',
      flyTippingValues: 'Fly tipping',
      graffitiValues: 'Graffiti - offensive',
      countColumn: '',
    };
    const refused = await coordinator.post(mappingUrl, fields);
    expect(refused.statusCode).toBe(400);
    const text = textOf(refused.body);
    expect(text).toContain('There is a problem Line 10, column “Date Received”: the date is empty');
    expect(text).toContain('1 row cannot be read with this mapping: nothing was imported');
    expect(refused.body).toMatch(/<textarea[^>]*name="graffitiValues"[^>]*>Graffiti - offensive<\/textarea>/);

    const blank = await coordinator.post(mappingUrl, { ...fields, dateColumn: '' });
    expect(blank.statusCode).toBe(400);
    expect(textOf(blank.body)).toContain('Select the column that gives the date of each row');

    const mapped = await coordinator.post(mappingUrl, { ...fields, skipUnreadable: 'yes' });
    expect(mapped.statusCode).toBe(303);
    expect(mapped.headers.location).toBe(`${mappingUrl}/preview`);
  });

  it('previews, then imports, the counts', async () => {
    const preview = await coordinator.get(`${mappingUrl}/preview`);
    expect(preview.statusCode).toBe(200);
    const text = textOf(preview.body);
    expect(text).toContain('May 2024 2 1 June 2024 1 1 July 2024 0 0 August 2024 1 1 Total 4 3');
    expect(text).toContain('Abandoned vehicle 1 5');
    expect(text).toContain('10 Date Received the date is empty');

    const done = await coordinator.post(`${mappingUrl}/preview`, {});
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(INCIDENTS);
    const page = await coordinator.get(INCIDENTS);
    const after = textOf(page.body);
    expect(after).toContain(
      'Imported fly-tipping and graffiti counts for 4 months from street-scene-reports.csv',
    );
    expect(after).toContain('May 2024 2 1 June 2024 1 1 July 2024 0 0 August 2024 1 1');
    expect(page.body).toContain('data-testid="chart-monthly"');
    const csv = await board.get(`${INCIDENTS}/monthly.csv`);
    expect(
      csv.body
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\n'),
    ).toEqual(['Month,Fly-tipping,Graffiti', '2024-05,2,1', '2024-06,1,1', '2024-07,0,0', '2024-08,1,1']);
  });
});

describe('the settings', () => {
  async function postSettings(session: Session, fields: [string, string][]) {
    const page = await session.get(`${INCIDENTS}/settings`);
    const body = new URLSearchParams([['_csrf', csrfOf(page.body)], ...fields]);
    return t.app.inject({
      method: 'POST',
      url: `${INCIDENTS}/settings`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session.cookie },
      payload: body.toString(),
    });
  }

  it('saves the district and several neighbours, and refuses a stale form', async () => {
    const page = await coordinator.get(`${INCIDENTS}/settings`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<option value="E07000243" selected>Stevenage (E07000243)</option>');
    const version = /name="version" value="(\d+)"/.exec(page.body)![1]!;

    const saved = await postSettings(coordinator, [
      ['version', version],
      ['districtCode', 'E07000243'],
      ['neighbourCodes', 'E07000099'],
      ['neighbourCodes', 'E07000241'],
    ]);
    expect(saved.statusCode).toBe(303);
    const shown = textOf((await board.get(INCIDENTS)).body);
    expect(shown).toMatch(/Stevenage \(district\) 2,403 .* North Hertfordshire 561 .* Welwyn Hatfield 2,529/);
    expect(shown).not.toContain('Watford');

    const stale = await postSettings(coordinator, [
      ['version', version],
      ['districtCode', 'E07000099'],
    ]);
    expect(stale.statusCode).toBe(409);
    expect(textOf(stale.body)).toContain('Someone else changed this');

    const none = await postSettings(coordinator, [['districtCode', '']]);
    expect(none.statusCode).toBe(400);
    expect(textOf(none.body)).toContain('There is a problem Select the partnership’s district');
  });

  it('imports a DEFRA file, and names the line of a bad one', async () => {
    const header = 'Year,ONS Code,LA Name,Region,Total Incidents\n';
    const bad = await coordinator.upload(
      `${INCIDENTS}/settings`,
      {},
      {
        defraFile: {
          filename: 'bad.csv',
          content: Buffer.from(`${header}2021-22,E07000243,Stevenage ,Eastern,x\n`),
        },
      },
      `${INCIDENTS}/settings/defra`,
    );
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain(
      'bad.csv: line 2, column “Total Incidents”: “x” is not a number of incidents',
    );

    const good = await coordinator.upload(
      `${INCIDENTS}/settings`,
      {},
      {
        defraFile: {
          filename: 'stevenage.csv',
          content: Buffer.from(`${header}2022-23,E07000243,Stevenage ,Eastern,"3,001"\n`),
        },
      },
      `${INCIDENTS}/settings/defra`,
    );
    expect(good.statusCode).toBe(303);
    const page = textOf((await coordinator.get(`${INCIDENTS}/settings`)).body);
    expect(page).toContain(
      'Imported DEFRA’s fly-tipping incidents from stevenage.csv: 1 authority, 2022/23 to 2022/23',
    );
    const shown = textOf((await board.get(INCIDENTS)).body);
    expect(shown).toMatch(
      /Stevenage \(district\) 2,403 .* 3,223 \(\+2% on the year before \) 3,001 \(−7% on the year before \)/,
    );
  });
});
