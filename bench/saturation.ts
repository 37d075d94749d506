/**
 * The floor under the load benchmark's tail: a bare Node HTTP server (no framework, no template, no
 * database) that spends a fixed time on the CPU for each request, under the same load as
 * bench/load.ts (autocannon, BENCH_CONNECTIONS, default 50; BENCH_SECONDS each, default 20).
 *
 *   node --import tsx bench/saturation.ts
 *   BENCH_SATURATION_MS=1,4,11 node --import tsx bench/saturation.ts   # the times to try (ms)
 *
 * It shows what a request's cost alone does to p99 and time-outs (no answer in 10 s) once the one
 * thread is busy all the time: 1 ms a request is about the plan page, 11 ms about a progress save on
 * the embedded database. Prints a table, then one JSON line {"bench":"saturation", …}.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import autocannon from 'autocannon';
import { machine } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const COSTS = (process.env.BENCH_SATURATION_MS ?? '1,4,11').split(',').map(Number);
/** A page's size: the plan page is about 100 KB. */
const BODY_BYTES = 100_000;

const SERVER = `
const http = require('node:http');
const cost = Number(process.env.COST_MS);
const body = 'x'.repeat(${BODY_BYTES});
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

const rows: { costMs: number; rps: number; p50: number; p99: number; max: number; timeouts: number }[] = [];
for (const costMs of COSTS) {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', SERVER], {
    env: { ...process.env, PORT: String(port), COST_MS: String(costMs) },
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
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      max: result.latency.max,
      timeouts: result.timeouts,
    });
    process.stderr.write(`${costMs} ms: ${JSON.stringify(rows.at(-1))}\n`);
  } finally {
    child.kill();
  }
}

console.log(machine());
console.log(
  `autocannon: ${CONNECTIONS} connections, ${SECONDS} s each; a bare Node server, ${BODY_BYTES} bytes`,
);
console.log('');
console.log('| CPU per request | req/s | p50 | p99 | max | time-outs |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  console.log(`| ${r.costMs} ms | ${r.rps} | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.timeouts} |`);
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
