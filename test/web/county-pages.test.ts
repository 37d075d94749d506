/**
 * The county view over HTTP: the inspector with roles in SoSafe and North Herts sees both side by
 * side (statuses in a captioned table, the shared priorities and lead organisations), is sent there
 * from the start page and the header; someone in one partnership sees it alone with a note; signed
 * out, you are asked to sign in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const INSPECTOR = 'inspector@herts-police.example';
let t: TestApp;
let inspector: Session;

const textOf = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

/** The HTML of the element with this data-testid, up to its closing tag of the same name. */
function part(html: string, testid: string, tag = 'table'): string {
  const start = html.indexOf(`data-testid="${testid}"`);
  if (start < 0) throw new Error(`no ${testid}`);
  const open = html.lastIndexOf(`<${tag}`, start);
  return html.slice(open, html.indexOf(`</${tag}>`, start) + tag.length + 3);
}

beforeAll(async () => {
  t = await createTestApp();
  inspector = new Session(t.app);
  await inspector.signIn(INSPECTOR);
});
afterAll(async () => {
  await t?.close();
});

describe('the county view for a person in two partnerships', () => {
  it('the start page lists both partnerships and links the county view; so does the header', async () => {
    const start = await inspector.get('/');
    expect(start.statusCode).toBe(200);
    const text = textOf(start.body);
    expect(text).toContain('North Herts Community Safety Partnership (lead officer)');
    expect(text).toContain('SoSafe Stevenage (partner)');
    expect(start.body).toContain('href="/county" data-testid="county-view"');
    expect(start.body).toContain('data-testid="county-view-link"');
    const plan = await inspector.get('/p/sosafe/plans/2024-25');
    expect(plan.body).toContain('href="/county" data-testid="county-view-link"');
  });

  it('shows both partnerships’ statuses side by side in a table with a caption and headers', async () => {
    const page = await inspector.get('/county');
    expect(page.statusCode).toBe(200);
    const table = part(page.body, 'county-statuses');
    expect(table).toContain('<caption');
    expect(textOf(table)).toContain(
      'Partnership Your role Plan Not started On track At risk Off track Complete No update or no status All actions',
    );
    const northHerts = textOf(part(page.body, 'county-row-north-herts', 'tr'));
    // The illustrative plan's latest statuses: 3 on track, 3 at risk, 1 off track, 2 complete.
    expect(northHerts).toBe(
      'North Herts Community Safety Partnership (North Hertfordshire) Lead officer 2024/25 0 3 3 1 2 0 9',
    );
    const sosafe = textOf(part(page.body, 'county-row-sosafe', 'tr'));
    expect(sosafe).toBe('SoSafe Stevenage (Stevenage) Partner 2024/25 0 0 0 0 0 34 34');
    expect(table).toContain('href="/p/north-herts/plans/2024-25"');
    expect(page.body).not.toContain('data-testid="county-single"');
  });

  it('lists shared priorities with each partnership’s aims, and organisations that lead in both', async () => {
    const page = await inspector.get('/county');
    const text = textOf(page.body);
    expect(text).toContain('Priorities shared across partnerships');
    expect(page.body.match(/data-testid="shared-priority"/g)).toHaveLength(5);
    const asb = textOf(page.body.slice(page.body.indexOf('>All ASB</caption>') - 200));
    expect(asb).toMatch(
      /^.*All ASB Partnership Aims that address it North Herts Community Safety Partnership 1\.1 Reduce anti-social behaviour/,
    );
    expect(page.body).toContain('href="/p/sosafe/plans/2024-25/aims/5.7"');
    const leads = textOf(part(page.body, 'shared-leads'));
    expect(leads).toContain('Organisation North Herts Community Safety Partnership SoSafe Stevenage');
    expect(leads).toContain('Police (Hertfordshire Constabulary)');
    expect(leads).not.toContain('SBC');
    expect(leads).not.toContain('NHC');
  });
});

describe('the county view for a person in one partnership', () => {
  it('shows it alone with a note, and no header link', async () => {
    const coordinator = new Session(t.app);
    await coordinator.signIn(DEMO.coordinator);
    const page = await coordinator.get('/county');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="county-single"');
    expect(page.body).toContain('data-testid="county-row-sosafe"');
    expect(page.body).not.toContain('county-row-north-herts');
    expect(page.body).not.toContain('Priorities shared across partnerships');
    expect(page.body).not.toContain('data-testid="county-view-link"');
  });

  it('signed out, asks you to sign in and comes back', async () => {
    const response = await new Session(t.app).get('/county');
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/sign-in?returnTo=%2Fcounty');
  });
});
