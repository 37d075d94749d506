/**
 * The pages and documents through inject (never run by `npm test`): `npm run bench -- pages`, or
 * `node --import tsx bench/pages.ts`.
 * Builds the real app over an in-memory PGlite with the demo plan, signs in, and times the main
 * pages through fastify's inject (no network), then the import and export of the demo plan, and
 * the documents the app writes (board report, PCC budget report, the plan as a spreadsheet) and
 * reads (a spreadsheet or a Word plan, uploaded to its preview).
 * Prints a Markdown table for docs/benchmarks.md and, last, one JSON line {"bench":"pages", …}.
 * The pages under load over HTTP are bench/load.ts; the police.uk import and trends have
 * benchmarks of their own: bench/police-import.ts and bench/trend-queries.ts.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { plans } from '../src/db/schema.js';
import { systemActor } from '../src/services/actor.js';
import { DEMO_ACCOUNTS, loadDemo, readDemoFile } from '../src/services/demo.js';
import { createServices } from '../src/services/index.js';
import { exportPlanFile } from '../src/services/plan-export.js';
import { importPlanFile } from '../src/services/plan-import.js';
import { getPartnershipBySlug } from '../src/services/plan-read.js';
import { buildApp } from '../src/web/app.js';
import { loadAverage, machine, round1, signInByInject } from './support.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const PASSWORD = 'benchmark password 123';

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: at(0.5), p95: at(0.95), max: sorted.at(-1)! };
}

const ms = (n: number) => `${n.toFixed(1)} ms`;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

/** Each figure as a table row and as data for the JSON line. */
const loadBefore = loadAverage();
const rows: string[] = [];
const figures: { what: string; median: number; p95?: number; max?: number }[] = [];
const one = (what: string, t: number) => {
  rows.push(`| ${what} | ${ms(t)} | | |`);
  figures.push({ what, median: round1(t) });
};
const many = (what: string, s: { median: number; p95: number; max: number }) => {
  rows.push(`| ${what} | ${ms(s.median)} | ${ms(s.p95)} | ${ms(s.max)} |`);
  figures.push({ what, median: round1(s.median), p95: round1(s.p95), max: round1(s.max) });
};

const [openMs, database] = await time(async () => {
  const d = await openDatabase({ inMemory: true });
  await d.migrate();
  return d;
});
one('open an empty embedded database and migrate', openMs);

const [demoMs] = await time(() => loadDemo(database.db, PASSWORD));
one(`load the demo plan and its ${DEMO_ACCOUNTS.length} accounts (argon2id hashing included)`, demoMs);

const partnership = await getPartnershipBySlug(database.db, 'sosafe');
const exportSamples: number[] = [];
for (let i = 0; i < 50; i++)
  exportSamples.push((await time(() => exportPlanFile(database.db, partnership, '2024/25')))[0]);
const e = stats(exportSamples);
many('export the 2024/25 plan as a plan file (50 runs)', e);

const second = await openDatabase({ inMemory: true });
await second.migrate();
const file = readDemoFile();
const importSamples: number[] = [];
for (let i = 0; i < 10; i++) {
  importSamples.push((await time(() => importPlanFile(second.db, file, systemActor(), { dryRun: true })))[0]);
}
const im = stats(importSamples);
many('import the demo plan file, dry run: every row written then rolled back (10 runs)', im);
await second.close();

const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'b'.repeat(48), LOG_LEVEL: 'silent' });
const app = await buildApp({ config, services: createServices(database), sessionSecret: 'b'.repeat(48) });
const cookie = await signInByInject(app, 'coordinator@sosafe.example', PASSWORD);

const base = '/p/sosafe/plans/2024-25';
// The quarterly round: Q4 open (its requests written to the outbox), Q3 opened and closed, so the
// submission board and a frozen snapshot are measured beside the plan's pages.
const cycles = createServices(database).cycles;
const [plan] = await database.db.select({ id: plans.id }).from(plans).limit(1);
const planId = plan!.id;
const links = { baseUrl: 'http://localhost:3000' };
const [openQ4Ms] = await time(() =>
  cycles.open(systemActor(), planId, { quarter: 4, dueOn: '2025-04-14' }, links),
);
one('open Q4 for updates: 34 actions, requests written for the lead officers', openQ4Ms);
await cycles.open(systemActor(), planId, { quarter: 3, dueOn: '2025-01-14' }, links);
const q3 = (await cycles.get(systemActor(), planId, 3))!;
const [closeMs] = await time(() =>
  cycles.close(systemActor(), q3.id, { reportedOn: '2025-01-21', version: q3.version }),
);
one('close Q3: freeze the plan, the board and the changes into a snapshot', closeMs);
const reminderSamples: number[] = [];
for (let i = 0; i < 20; i++)
  reminderSamples.push((await time(() => cycles.sendDueReminders(new Date(), links)))[0]);
const r = stats(reminderSamples);
many("the scheduler's reminder run, nothing due (20 runs)", r);

const pages: [string, string][] = [
  ['the plan', base],
  ['an aim (3.1, three actions)', `${base}/aims/3.1`],
  ['the whole plan, unfiltered (34 actions)', `${base}/document`],
  ['the whole plan, filtered by section and quarter', `${base}/document?section=2&quarter=3`],
  ['search "hate crime"', `${base}/search?q=hate+crime`],
  ['about the plan', `${base}/about`],
  ['the Q4 submission board (34 actions)', `${base}/quarters/4`],
  ['the Q3 snapshot, as reported to the board', `${base}/quarters/3/snapshot`],
  ['the changes of the year', `${base}/changes`],
  ['the dashboard, Q3 (four SVG charts, seven tables)', `${base}/dashboard?quarter=3`],
  ['/health', '/health'],
];
/** The documents: fewer rounds, as each is a whole file. */
const DOCUMENT_ROUNDS = Math.max(10, Math.round(ROUNDS / 4));
const documents: [string, string][] = [
  ['the Q3 board report page', `${base}/quarters/3/report`],
  ['the Q3 board report as DOCX (A4 landscape, 34 actions)', `${base}/quarters/3/report.docx`],
  ['the Q3 board report as PDF', `${base}/quarters/3/report.pdf`],
  ['the funding page', `${base}/funding`],
  ['the PCC budget report H1 as DOCX', `${base}/funding/pcc-report-H1.docx`],
  ['the PCC budget report H1 as XLSX', `${base}/funding/pcc-report-H1.xlsx`],
  ['the plan as XLSX (one sheet per section)', `${base}/spreadsheet.xlsx`],
  ['the plan as CSV', `${base}/spreadsheet.csv`],
];
/** Times `rounds` GETs of each page after `warmUp` untimed ones; every answer must be 200. */
async function timeGets(list: readonly (readonly [string, string])[], warmUp: number, rounds: number) {
  for (const [name, url] of list) {
    for (let i = 0; i < warmUp; i++) await app.inject({ url, headers: { cookie } });
    const samples: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const [t, response] = await time(() => app.inject({ url, headers: { cookie } }));
      if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}`);
      samples.push(t);
    }
    many(`GET ${name} (${rounds} requests)`, stats(samples));
  }
}
await timeGets(pages, 10, ROUNDS);
await timeGets(documents, 3, DOCUMENT_ROUNDS);

/** Uploads a file to a form as the coordinator and times the answer: the file read and previewed. */
async function timeUpload(name: string, formUrl: string, filename: string, content: Buffer) {
  const samples: number[] = [];
  for (let i = 0; i < DOCUMENT_ROUNDS + 3; i++) {
    const formPage = await app.inject({ url: formUrl, headers: { cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(formPage.body)![1]!;
    const form = new FormData();
    form.append('_csrf', csrf);
    form.append('file', new Blob([new Uint8Array(content)]), filename);
    const encoded = new Response(form);
    const payload = Buffer.from(await encoded.arrayBuffer());
    const headers = { cookie, 'content-type': encoded.headers.get('content-type')! };
    const [t, response] = await time(() => app.inject({ method: 'POST', url: formUrl, headers, payload }));
    if (response.statusCode !== 303 && response.statusCode !== 302) {
      throw new Error(`${formUrl} answered ${response.statusCode}`);
    }
    if (i >= 3) samples.push(t); // the first three warm up
  }
  const s = stats(samples);
  many(`POST ${name}, to its preview (${DOCUMENT_ROUNDS} uploads)`, s);
}
const exported = await app.inject({ url: `${base}/spreadsheet.xlsx`, headers: { cookie } });
await timeUpload('the plan as XLSX, unchanged', `${base}/spreadsheet`, 'plan.xlsx', exported.rawPayload);
await timeUpload(
  'a Word plan (the seed, 21 aims, made by LibreOffice)',
  '/p/sosafe/word-import',
  'plan.docx',
  fs.readFileSync(new URL('../test/fixtures/word/sosafe-2024-25-libreoffice.docx', import.meta.url)),
);
await app.close();
await database.close();

console.log(machine());
console.log(`load average before: ${loadBefore.join(', ')}; after: ${loadAverage().join(', ')}`);
console.log('');
console.log('| what | median | p95 | max |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(row);
console.log(
  JSON.stringify({
    bench: 'pages',
    machine: machine(),
    database: 'pglite',
    loadAverage: { before: loadBefore, after: loadAverage() },
    rounds: ROUNDS,
    figures,
  }),
);
