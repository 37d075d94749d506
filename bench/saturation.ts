/**
 * The floor under the load benchmark's tail: a bare Node HTTP server (no framework, no template, no
 * database) that spends a fixed time on the CPU for each request and answers with a body of a
 * fixed size held ready as bytes (a table's rows), under the same load as bench/load.ts (autocannon,
 * BENCH_CONNECTIONS, default 50; BENCH_SECONDS each, default 20).
 *
 *   node --import tsx bench/saturation.ts
 *   BENCH_SATURATION_MS=1,4,11 node --import tsx bench/saturation.ts   # the times to try (ms), 100 KB
 *   BENCH_SATURATION_KB=25,100,250,366 node --import tsx bench/saturation.ts   # the sizes, no CPU
 *   BENCH_SATURATION_FILE=dashboard.html node --import tsx bench/saturation.ts   # also a page's own bytes
 *
 * It shows what a request's cost alone does to p99 and time-outs (no answer in 10 s) once the one
 * thread is busy all the time: 1 ms a request is about the plan page, 11 ms about a progress save on
 * the embedded database; and what the bytes of an answer alone do, with autocannon reading them on
 * the same machine: 366 KB was the dashboard before its tables and charts were made lighter (267 KB
 * since; BENCH_SATURATION_FILE measures a page as it is). Prints a table, then one JSON line
 * {"bench":"saturation", …}.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import autocannon from 'autocannon';
import { machine } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const list = (value: string) => value.split(',').filter(Boolean).map(Number);
/** A page's size for the CPU series: the plan page is about 55 KB, an aim's 30 KB. */
const BODY_KB = 100;
const SERIES = [
  ...list(process.env.BENCH_SATURATION_MS ?? '1,4,11').map((costMs) => ({ costMs, kb: BODY_KB })),
  ...list(process.env.BENCH_SATURATION_KB ?? '25,100,250,366').map((kb) => ({ costMs: 0, kb })),
  ...(process.env.BENCH_SATURATION_FILE
    ? [{ costMs: 0, kb: 0, file: process.env.BENCH_SATURATION_FILE }]
    : []),
] as { costMs: number; kb: number; file?: string }[];

/**
 * The body: rows of a GOV.UK table, as a page's tables are, with one curly apostrophe in front (as
 * every page has: the footer's "partnership’s"). The content matters: autocannon joins each body
 * into a string, and one character beyond ASCII makes that decoding slower for the whole body (on
 * the same two cores as the server: 366 KB of x's 1,927 req/s, p99 55 ms; the same with one ’
 * 1,491, 65 ms; the dashboard's own bytes 1,078–1,114, 90–94 ms).
 */
const ROW = `    <tr class="govuk-table__row">
      <th scope="row" class="govuk-table__header">Stevenage Borough Council</th>
      <td class="govuk-table__cell govuk-table__cell--numeric">3</td>
    </tr>
`;

const SERVER = `
const http = require('node:http');
const cost = Number(process.env.COST_MS);
const row = Buffer.from(process.env.ROW);
const body = process.env.BODY_FILE
  ? require('node:fs').readFileSync(process.env.BODY_FILE)
  : Buffer.alloc(Number(process.env.BODY_BYTES), row);
if (!process.env.BODY_FILE) Buffer.from('’').copy(body);
http.createServer((request, response) => {
  const until = performance.now() + cost;
  while (performance.now() < until);
  response.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length });
  response.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  server.close();
  return port;
}

const rows: {
  costMs: number;
  kb: number;
  file?: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  timeouts: number;
}[] = [];
for (const { costMs, file, ...series } of SERIES) {
  const kb = file ? Math.round(fs.statSync(file).size / 1000) : series.kb;
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', SERVER], {
    env: {
      ...process.env,
      PORT: String(port),
      COST_MS: String(costMs),
      BODY_BYTES: String(kb * 1000),
      BODY_FILE: file ?? '',
      ROW,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout, 'data');
  try {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections: CONNECTIONS,
      duration: SECONDS,
    });
    rows.push({
      costMs,
      kb,
      ...(file ? { file } : {}),
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      timeouts: result.timeouts,
    });
    process.stderr.write(`${costMs} ms, ${kb} KB: ${JSON.stringify(rows.at(-1))}\n`);
  } finally {
    child.kill();
  }
}

console.log(machine());
console.log(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s each; a bare Node server`);
console.log('');
console.log('| CPU per request | body | req/s | p50 | p99 | max | time-outs |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(
    `| ${r.costMs} ms | ${r.kb} KB${r.file ? ` (${r.file})` : ''} | ${r.rps} | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.timeouts} |`,
  );
}
console.log(
  JSON.stringify({
    bench: 'saturation',
    machine: machine(),
    connections: CONNECTIONS,
    seconds: SECONDS,
    rows,
  }),
);
