/**
 * The dashboard over HTTP: the page (charts as labelled SVG images, GOV.UK tables with captions
 * and headers), the quarter chosen with a plain GET form, every table's CSV holding the page's
 * figures, text from the plan escaped in the charts and tables, the open quarter's progress, and
 * who may see it: the board may; someone of another partnership may not; signed out, sign in.
 */
import zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.js';
import { systemActor } from '../../src/services/actor.js';
import { createPartnership } from '../../src/services/partnerships.js';
import { addUser } from '../../src/services/users.js';
import { createTestApp, DEMO, Session, TEST_PASSWORD, type TestApp } from '../support/app.js';

const system = systemActor('dashboard pages test');
const base = '/p/sosafe/plans/2024-25';
const SCRIPT = '<script>alert("x")</script>';

let t: TestApp;
let board: Session;
let outsider: Session;

const textOf = (html: string) =>
  html
    .replace(/<span aria-hidden="true">[^<]*<\/span>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .replace(/ \)/g, ')')
    .trim();

/** A table of the page by its id: its caption and its rows' cells as text (row header first). */
function table(html: string, id: string) {
  const match = new RegExp(`<table[^>]*data-testid="table-${id}"[^>]*>([\\s\\S]*?)</table>`).exec(html);
  if (!match) throw new Error(`No table ${id}`);
  const body = match[1]!;
  const caption = textOf(/<caption[^>]*>([\s\S]*?)<\/caption>/.exec(body)?.[1] ?? '');
  const rows = [
    ...body.matchAll(/<tr class="govuk-table__row[^"]*" data-testid="[^"]+-row">([\s\S]*?)<\/tr>/g),
  ].map((row) => [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) => textOf(cell[1]!)));
  const headings = [
    ...(/<thead[\s\S]*?<\/thead>/.exec(body)?.[0] ?? '').matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g),
  ].map((h) => textOf(h[1]!));
  return { caption, headings, rows };
}

function csvLinks(html: string): Map<string, string> {
  return new Map(
    [...html.matchAll(/href="([^"]+\/dashboard\/([a-z-]+)\.csv\?quarter=\d)" data-testid="csv-/g)].map(
      (m) => [m[2]!, m[1]!.replace(/&amp;/g, '&')],
    ),
  );
}

beforeAll(async () => {
  t = await createTestApp();
  board = new Session(t.app);
  await board.signIn(DEMO.board);
  await createPartnership(t.database.db, system, { slug: 'elsewhere', name: 'Elsewhere CSP' });
  await addUser(
    t.database.db,
    {
      email: 'olly@elsewhere.example',
      name: 'Olly Outsider',
      password: TEST_PASSWORD,
      partnership: 'elsewhere',
      role: 'coordinator',
    },
    system,
  );
  outsider = new Session(t.app);
  await outsider.signIn('olly@elsewhere.example');
});
afterAll(async () => {
  await t?.close();
});

describe('the dashboard page', () => {
  it('shows the board the latest quarter with charts as labelled images and tables beside them', async () => {
    const response = await board.get(`${base}/dashboard`);
    expect(response.statusCode).toBe(200);
    const html = response.body;
    expect(textOf(/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)![1]!)).toBe('Dashboard: Q4 2024/25');
    expect(html).toMatch(/<a[^>]*href="\/p\/sosafe\/plans\/2024-25\/dashboard"[^>]*aria-current="page"/);
    const svgs = [
      ...html.matchAll(/<svg class="app-chart__svg" role="img" aria-labelledby="([\w-]+)-title \1-desc"/g),
    ];
    expect(svgs.map((m) => m[1])).toEqual(['chart-by-section', 'chart-by-priority', 'chart-by-organisation']);
    expect(html).toContain(
      '<title id="chart-by-section-title">Statuses by section, Q4 2024/25: actions in each status</title>',
    );
    expect(html).not.toMatch(/<svg[^>]*\sstyle=/);
    const bySection = table(html, 'by-section');
    expect(bySection.caption).toBe('Statuses by section, Q4 2024/25');
    expect(bySection.headings).toEqual([
      'Section',
      'Not started',
      'On track',
      'At risk',
      'Off track',
      'Complete',
      'No update or no status',
      'Total',
    ]);
    expect(bySection.rows.at(-1)?.[0]).toBe('All actions');
    // No quarter is open in the demo.
    expect(html).toContain('data-testid="no-open-quarter"');
  });

  it('shows the quarter chosen in the GET form, with the change since the quarter before', async () => {
    const response = await board.get(`${base}/dashboard?quarter=3`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<form method="get" action="/p/sosafe/plans/2024-25/dashboard"');
    expect(response.body).toMatch(
      /<option value="3" selected>Q3 \(October to December\): 15 updates, not opened<\/option>/,
    );
    const bySection = table(response.body, 'by-section');
    expect(bySection.caption).toBe('Statuses by section, Q3 2024/25');
    expect(bySection.rows[0]?.[1]).toBe('0 (0 change since Q2)');
    expect((await board.get(`${base}/dashboard?quarter=5`)).statusCode).toBe(404);
    expect((await board.get(`${base}/dashboard/nothing.csv`)).statusCode).toBe(404);
  });

  it('offers every table as a CSV with the same figures', async () => {
    const response = await board.get(`${base}/dashboard?quarter=3`);
    const links = csvLinks(response.body);
    expect([...links.keys()]).toEqual([
      'by-section',
      'by-priority',
      'by-organisation',
      'no-update',
      'priority-coverage',
      'organisation-aims',
    ]);
    for (const [id, href] of links) {
      const csv = await board.get(href);
      expect(csv.statusCode, id).toBe(200);
      expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(csv.headers['content-disposition']).toBe(`attachment; filename="sosafe-2024-25-Q3-${id}.csv"`);
      const [header, ...records] = parse(csv.body, { bom: true }) as string[][];
      const shown = table(response.body, id);
      expect(records.length, id).toBe(shown.rows.length);
      expect(records.length, id).toBeGreaterThan(0);
      const hasChange = header!.some((h) => h.endsWith('change since Q2'));
      records.forEach((record, i) => {
        const expected = hasChange
          ? [
              record[0],
              ...Array.from(
                { length: 6 },
                (_, j) =>
                  `${record[1 + 2 * j]} (${record[2 + 2 * j]!.replace('-', '\u2212')} change since Q2)`,
              ),
              record[13],
            ]
          : record;
        expect(shown.rows[i], `${id} row ${i}`).toEqual(expected);
      });
    }
  });

  it('marks a priority with no live actions in words and lists aims with no update for two quarters', async () => {
    const html = (await board.get(`${base}/dashboard?quarter=3`)).body;
    const coverage = table(html, 'priority-coverage');
    expect(coverage.headings.slice(0, 2)).toEqual(['Priority', 'Aim 1.1']);
    for (const row of coverage.rows) {
      const live = Number(row.at(-2));
      expect(row.at(-1)).toBe(live === 0 ? 'No live actions' : live <= 2 ? 'Few live actions' : 'Covered');
    }
    expect(table(html, 'no-update').caption).toBe('Aims with no update in Q2 or Q3');
  });
});

describe('text from the plan', () => {
  it('is escaped in the charts and the tables', async () => {
    const before = table((await board.get(`${base}/dashboard?quarter=4`)).body, 'no-update');
    const aimNumber = before.rows[0]![0]!;
    await t.database.db.execute(sql`update sections set title = ${`${SCRIPT} Section`} where number = 3`);
    await t.database.db.execute(sql`update aims set title = ${`${SCRIPT} Aim`} where number = ${aimNumber}`);
    const html = (await board.get(`${base}/dashboard?quarter=4`)).body;
    expect(html).not.toContain(SCRIPT);
    // The chart's label, escaped, on the first of its lines.
    expect(html).toMatch(/<text[^>]*>(?:<tspan[^>]*>)?3\. &lt;script&gt;alert/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Section');
    const noUpdate = table(html, 'no-update');
    expect(noUpdate.rows.find((r) => r[0] === aimNumber)?.[1]).toBe(`${SCRIPT} Aim`);
  });
});

describe('gzipped, as a browser takes it', () => {
  /** The page's text with what each answer makes afresh (the script nonce, CSRF tokens) blanked. */
  const steady = (html: string) =>
    html
      .replace(/nonce="[^"]+"/g, 'nonce=""')
      .replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value=""');
  const gzipped = async (url: string) => {
    const response = await t.app.inject({
      url,
      headers: { cookie: board.cookie, 'accept-encoding': 'gzip, deflate, br, zstd' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers.vary).toBe('Accept-Encoding');
    return { bytes: response.rawPayload.length, html: zlib.gunzipSync(response.rawPayload).toString('utf8') };
  };

  it('is the same page, a fraction of its size, and follows a change to the plan', async () => {
    const url = `${base}/dashboard?quarter=2`;
    const text = (await board.get(url)).body;
    const first = await gzipped(url);
    expect(steady(first.html)).toBe(steady(text));
    expect(first.bytes).toBeLessThan(Buffer.byteLength(text) / 8);
    expect(steady((await gzipped(url)).html)).toBe(steady(text));
    // The kept tables and charts are made again after a change, and their compressed copy with them.
    await t.database.db.execute(
      sql`update sections set title = 'Renamed for the gzip test' where number = 2`,
    );
    const after = await gzipped(url);
    expect(table(after.html, 'by-section').rows.map((r) => r[0])).toContain('2. Renamed for the gzip test');
    expect(steady(after.html)).toBe(steady((await board.get(url)).body));
  });
});

describe('a quarter open for updates', () => {
  it('shows its submission progress as a chart and a table', async () => {
    const [plan] = await queryRows<{ id: number }>(
      t.database.db,
      sql`select id from plans where year = '2024/25' limit 1`,
    );
    await t.services.cycles.open(
      system,
      plan!.id,
      { quarter: 4, dueOn: '2025-04-14' },
      { baseUrl: 'https://x.test' },
    );
    const html = (await board.get(`${base}/dashboard?quarter=3`)).body;
    expect(html).toContain('aria-labelledby="chart-submissions-title chart-submissions-desc"');
    const submissions = table(html, 'submissions');
    expect(submissions.caption).toBe('Updates for Q4 2024/25 (open) by where they stand');
    const total = submissions.rows.at(-1)!;
    expect(total[0]).toBe('All actions');
    const sum = submissions.rows.slice(0, -1).reduce((n, r) => n + Number(r[1]), 0);
    expect(Number(total[1])).toBe(sum);
    expect(Number(total[1])).toBe(Number(table(html, 'by-section').rows.at(-1)!.at(-1)));
  });
});

describe('who may see it', () => {
  it('refuses someone of another partnership and sends a signed-out reader to sign in', async () => {
    expect((await outsider.get(`${base}/dashboard`)).statusCode).toBe(403);
    expect((await outsider.get(`${base}/dashboard/by-section.csv`)).statusCode).toBe(403);
    const signedOut = await new Session(t.app).get(`${base}/dashboard`);
    expect(signedOut.statusCode).toBe(302);
    expect(signedOut.headers.location).toMatch(/^\/sign-in/);
  });
});
