/**
 * The police.uk upload page: the real January 2022 Hertfordshire files uploaded as a browser sends
 * them (multipart, several at once), imported in the background and followed on the progress
 * page's JSON until they end; refusals (unknown headers, a bad row, no CSRF token, not the
 * coordinator) write nothing; the temporary files are always removed; a restart's clean-up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, policeOutcomes, policeStreetCrimes, policeUkImports } from '../../src/db/schema.js';
import { createTestApp, DEMO, Session, type TestApp } from '../support/app.js';

const DATA = fileURLToPath(new URL('../../src/demo/evidence/policeuk', import.meta.url));
const STREET = fs.readFileSync(path.join(DATA, '2022-01-hertfordshire-street.csv'));
const OUTCOMES = fs.readFileSync(path.join(DATA, '2022-01-hertfordshire-outcomes.csv'));
const dataLines = (file: Buffer) => file.toString('utf8').split('\n').slice(1).filter(Boolean).length;
const PAGE = '/p/sosafe/evidence/police-uk';
/** The street file's first rows: enough for what is refused before it is read. */
const SAMPLE = Buffer.from(STREET.toString('utf8').split('\n').slice(0, 21).join('\n'));

// Every temporary file of this test file goes here, so the test can see that none is left behind.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-police-upload-test-'));
const tmpdirBefore = process.env.TMPDIR;
process.env.TMPDIR = scratch;

let t: TestApp;
const s: Record<'coordinator' | 'lead' | 'partner', Session> = {} as never;
beforeAll(async () => {
  t = await createTestApp();
  for (const role of ['coordinator', 'lead', 'partner'] as const) {
    s[role] = new Session(t.app);
    await s[role].signIn(DEMO[role]);
  }
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(scratch, { recursive: true, force: true });
  // The test files of a worker share its process (vitest.config.ts, isolate off): put it back.
  if (tmpdirBefore === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmpdirBefore;
});

const leftovers = () => fs.readdirSync(scratch).filter((f) => /^pp-(upload|police-batches)-/.test(f));

async function rowCount(table: typeof policeStreetCrimes | typeof policeOutcomes | typeof policeUkImports) {
  const [row] = await t.database.db.select({ n: count() }).from(table);
  return Number(row?.n ?? 0);
}

/** The session's CSRF token, from a page it may see. */
async function csrf(session: Session, url = PAGE): Promise<string> {
  const page = await session.get(url);
  return /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
}

/** Files under the one field `files`, as a browser sends a file input with `multiple`. */
async function upload(session: Session, files: { name: string; content: Buffer }[], token?: string) {
  const form = new FormData();
  if (token !== undefined) form.append('_csrf', token);
  for (const file of files)
    form.append('files', new Blob([new Uint8Array(file.content)], { type: 'text/csv' }), file.name);
  const encoded = new Response(form);
  return t.app.inject({
    method: 'POST',
    url: PAGE,
    headers: { 'content-type': encoded.headers.get('content-type')!, cookie: session.cookie },
    payload: Buffer.from(await encoded.arrayBuffer()),
  });
}

interface ImportJson {
  state: string;
  rows: number;
  percent: number;
  status: string;
  error: string | null;
  result: { rows: number; kind: string; force: string; month: string; replaced: number } | null;
}

/** Asks the import's JSON, as the page's script does, until the import ends. */
async function untilEnded(url: string): Promise<ImportJson> {
  for (;;) {
    const response = await s.coordinator.get(`${url}.json`);
    expect(response.statusCode).toBe(200);
    const json = response.json<ImportJson>();
    if (json.state !== 'running') return json;
    expect(json.percent).toBeGreaterThanOrEqual(0);
    expect(json.percent).toBeLessThanOrEqual(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function text(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the upload page', () => {
  it('offers the coordinator a multipart form taking several files, and says how large', async () => {
    const page = await s.coordinator.get(PAGE);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(
      /<form method="post" action="\/p\/sosafe\/evidence\/police-uk" enctype="multipart\/form-data"/,
    );
    expect(page.body).toMatch(/<input[^>]+name="files"[^>]+multiple/);
    expect(text(page.body)).toContain('up to 200 MB each');
    expect(text(page.body)).toContain('No files have been uploaded here yet.');
  });

  it('refuses a lead officer and a partner: the page and the upload, nothing written', async () => {
    for (const role of ['lead', 'partner'] as const) {
      expect((await s[role].get(PAGE)).statusCode).toBe(403);
      const response = await upload(
        s[role],
        [{ name: 'street.csv', content: SAMPLE }],
        await csrf(s[role], '/p/sosafe/evidence'),
      );
      expect(response.statusCode).toBe(403);
      expect(text(response.body)).toContain('Only SoSafe Stevenage’s coordinator may import police.uk files');
    }
    expect(await rowCount(policeUkImports)).toBe(0);
    expect(leftovers()).toEqual([]);
  });
});

describe('uploading the real street file', () => {
  let importUrl: string;

  it('answers 303 to the import’s page, whose progress reaches done with every row', async () => {
    const response = await upload(
      s.coordinator,
      [{ name: '2022-01-hertfordshire-street.csv', content: STREET }],
      await csrf(s.coordinator),
    );
    expect(response.statusCode).toBe(303);
    importUrl = String(response.headers.location);
    expect(importUrl).toMatch(/^\/p\/sosafe\/evidence\/police-uk\/imports\/\d+$/);

    const json = await untilEnded(importUrl);
    expect(json).toMatchObject({ state: 'done', rows: dataLines(STREET), percent: 100, error: null });
    expect(json.result).toMatchObject({
      kind: 'street',
      force: 'Hertfordshire Constabulary',
      month: '2022-01',
      replaced: dataLines(STREET),
    });
    expect(await rowCount(policeStreetCrimes)).toBe(dataLines(STREET));
    expect(leftovers()).toEqual([]);
  });

  it('shows the result on the progress page and lists the import and the month on the upload page', async () => {
    const page = await s.coordinator.get(importUrl);
    expect(page.statusCode).toBe(200);
    const words = text(page.body);
    expect(words).toContain(`Imported ${dataLines(STREET).toLocaleString('en-GB')} rows.`);
    expect(words).toContain('Hertfordshire Constabulary, 2022-01');
    expect(page.body).not.toContain('police-upload.js'); // nothing left to follow
    expect(page.body).not.toContain('http-equiv="refresh"');

    const upload = text((await s.coordinator.get(PAGE)).body);
    expect(upload).toMatch(/2022-01-hertfordshire-street\.csv Imported 8,058 .* Casey/);
    // The demo holds the same month (street and outcomes): the import replaced its street rows.
    expect(upload).toContain('Hertfordshire Constabulary 2022-01 8,058 8,998');
  });
});

describe('refusals', () => {
  it('a file with unknown headers re-shows the form naming the file and the expected headers: nothing written', async () => {
    const renamed = Buffer.from(STREET.toString('utf8').replace('Crime type', 'Offence'));
    const before = { imports: await rowCount(policeUkImports), street: await rowCount(policeStreetCrimes) };
    const response = await upload(
      s.coordinator,
      [{ name: 'renamed.csv', content: renamed }],
      await csrf(s.coordinator),
    );
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('govuk-error-summary');
    const words = text(response.body);
    expect(words).toContain(
      'renamed.csv: line 1: the headers are not those of a police.uk street or outcomes file',
    );
    expect(words).toContain('A street file has: Crime ID,Month,Reported by,Falls within');
    expect(await rowCount(policeUkImports)).toBe(before.imports);
    expect(await rowCount(policeStreetCrimes)).toBe(before.street);
    expect(leftovers()).toEqual([]);
  });

  it('without its CSRF token an upload is refused, nothing recorded, its temporary file removed', async () => {
    const before = await rowCount(policeUkImports);
    for (const token of [undefined, 'not-a-token']) {
      const response = await upload(s.coordinator, [{ name: 'street.csv', content: SAMPLE }], token);
      expect(response.statusCode).toBe(403);
      expect(leftovers()).toEqual([]);
    }
    expect(await rowCount(policeUkImports)).toBe(before);
  });

  it('several files import one after another; one with a bad row fails naming its line, writing nothing', async () => {
    const lines = STREET.toString('utf8').split('\n');
    lines[4999] = lines[4999]!.replace(',2022-01,', ',Jan 2022,');
    const bad = Buffer.from(lines.join('\n'));
    const audits = await t.database.db.select({ n: count() }).from(auditEvents);
    const response = await upload(
      s.coordinator,
      [
        { name: '2022-01-hertfordshire-outcomes.csv', content: OUTCOMES },
        { name: 'corrupted-street.csv', content: bad },
      ],
      await csrf(s.coordinator),
    );
    expect(response.statusCode).toBe(303);
    expect(response.headers.location).toBe(PAGE);
    const ids = (await t.database.db.select({ id: policeUkImports.id }).from(policeUkImports))
      .map((r) => r.id)
      .sort((a, b) => a - b)
      .slice(-2);
    const outcomes = await untilEnded(`${PAGE}/imports/${ids[0]}`);
    const corrupted = await untilEnded(`${PAGE}/imports/${ids[1]}`);
    expect(outcomes).toMatchObject({ state: 'done', rows: dataLines(OUTCOMES) });
    expect(corrupted.state).toBe('failed');
    expect(corrupted.error).toBe('corrupted-street.csv: line 5000: "Month" must be YYYY-MM, not "Jan 2022".');
    expect(await rowCount(policeOutcomes)).toBe(dataLines(OUTCOMES));
    expect(await rowCount(policeStreetCrimes)).toBe(dataLines(STREET)); // the month imported before is untouched
    const page = text((await s.coordinator.get(`${PAGE}/imports/${ids[1]}`)).body);
    expect(page).toContain('The import failed. Nothing from this file was written.');
    expect(page).toContain('line 5000');
    const kinds = await t.database.db
      .select({ kind: auditEvents.kind })
      .from(auditEvents)
      .where(eq(auditEvents.entity, 'police_uk_import'));
    expect(kinds.map((k) => k.kind)).toContain('police_uk.import_failed');
    expect((await t.database.db.select({ n: count() }).from(auditEvents))[0]!.n).toBeGreaterThan(
      audits[0]!.n,
    );
    expect(leftovers()).toEqual([]);
  });

  it('another partnership’s import is not found', async () => {
    const other = new Session(t.app);
    await other.signIn('coordinator@north-herts.example');
    const [row] = await t.database.db.select({ id: policeUkImports.id }).from(policeUkImports).limit(1);
    expect((await other.get(`/p/north-herts/evidence/police-uk/imports/${row!.id}`)).statusCode).toBe(404);
    expect((await other.get(`/p/north-herts/evidence/police-uk/imports/${row!.id}.json`)).statusCode).toBe(
      404,
    );
  });
});

describe('after a restart', () => {
  it('an import left running by a process that has gone is marked failed, saying to upload it again', async () => {
    const [coordinator] = await t.database.db
      .select({ id: policeUkImports.userId })
      .from(policeUkImports)
      .limit(1);
    const [partnership] = await t.database.db
      .select({ id: policeUkImports.partnershipId })
      .from(policeUkImports)
      .limit(1);
    const [left] = await t.database.db
      .insert(policeUkImports)
      .values({
        partnershipId: partnership!.id,
        userId: coordinator!.id,
        filename: 'left-running.csv',
        totalBytes: 100,
        startedAt: new Date(Date.now() - 60_000),
      })
      .returning({ id: policeUkImports.id });
    expect(await t.services.policeUpload.failInterrupted(new Date())).toBe(1);
    const json = (await s.coordinator.get(`${PAGE}/imports/${left!.id}.json`)).json<ImportJson>();
    expect(json).toMatchObject({
      state: 'failed',
      error: 'left-running.csv: the server restarted during the import; upload it again.',
    });
  });
});
