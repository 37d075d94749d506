/**
 * Benchmark of the police.uk trend queries (never run by `npm test`; issue 8): five years of a large
 * force, about five million crimes, read through the counts the import keeps.
 *
 *   node --import tsx bench/trend-queries.ts                                  # embedded PGlite
 *   bash scripts/with-postgres.sh node --import tsx bench/trend-queries.ts    # PostgreSQL (DATABASE_URL)
 *
 * Loads the demo (which imports Hertfordshire's real January 2022 files and sets SoSafe's area to
 * Stevenage), then makes the counts of a force ten times Hertfordshire's over the 60 months of
 * 2017–2021 from January 2022's real counts per neighbourhood and crime type: each neighbourhood ten
 * times (the first its own, so the area keeps its real LSOAs; the other nine copies outside the
 * area), each month's counts varied a little. The counts tables are filled as the import would fill
 * them; the street rows themselves are not made (the trends never read them: see
 * src/services/police-counts.ts). Then times the crime page's reads for 12 and 60 months and a
 * priority's trend (ROUNDS runs each, default 50) and prints one JSON line {"bench":"trend-queries", …}.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { openDatabase, queryRows } from '../src/db/client.js';
import { systemActor } from '../src/services/actor.js';
import { loadDemo } from '../src/services/demo.js';
import { getPartnershipBySlug } from '../src/services/plan-read.js';
import { refreshAreaCounts } from '../src/services/police-counts.js';
import { getCrimeTrends, getPriorityLinks, getPriorityTrends } from '../src/services/police-trends.js';
import { loadAverage, machine } from './support.js';

const ROUNDS = Number(process.env.ROUNDS ?? 50);
const loadBefore = loadAverage();
const COPIES = 10;

const database = await openDatabase(
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { inMemory: true },
);
await database.migrate();
const db = database.db;
await loadDemo(db, 'benchmark password 123');
const actor = systemActor('benchmark');
const partnership = await getPartnershipBySlug(db, 'sosafe');

const started = performance.now();
await db.transaction(async (tx) => {
  // Five years of months, each a copy of January 2022's counts, ten neighbourhoods for each real one.
  await tx.execute(sql`
    insert into police_crime_counts (force, month, lsoa_code, lsoa_name, crime_type, crimes)
    select c.force, to_char(date '2017-01-01' + (m || ' months')::interval, 'YYYY-MM'),
      case when k = 0 then c.lsoa_code else c.lsoa_code || '-' || k end,
      case when k = 0 then c.lsoa_name else 'Copy ' || k || ' of ' || c.lsoa_name end,
      c.crime_type, greatest(1, c.crimes * (90 + (m * 7 + k * 3) % 21) / 100)
    from police_crime_counts c, generate_series(0, 59) m, generate_series(0, ${COPIES - 1}) k
    where c.month = '2022-01' and (k = 0 or c.lsoa_code <> '')`);
  await tx.execute(sql`
    insert into police_force_counts (force, month, crime_type, crimes)
    select force, month, crime_type, sum(crimes)::integer from police_crime_counts
    where month < '2022-01' group by force, month, crime_type`);
  await refreshAreaCounts(tx, partnership.id);
});
const buildSeconds = (performance.now() - started) / 1000;
const [size] = await queryRows<{ rows: number; crimes: number }>(
  db,
  sql`select count(*)::int as rows, sum(crimes)::bigint as crimes from police_crime_counts where month < '2022-01'`,
);

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return {
    p50: Number(at(0.5).toFixed(1)),
    p95: Number(at(0.95).toFixed(1)),
    max: Number(sorted.at(-1)!.toFixed(1)),
  };
}

async function timed(work: () => Promise<unknown>) {
  await work(); // warm: the first read of a table
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  return stats(samples);
}

const links = await getPriorityLinks(db, actor, partnership);
const asb = links.priorities.find((p) => p.crimeTypes.length)!;
const result = {
  bench: 'trend-queries',
  machine: machine(),
  database: database.kind,
  countRows: size!.rows,
  crimes: Number(size!.crimes),
  months: 61,
  buildSeconds: Number(buildSeconds.toFixed(1)),
  crimePage12Months: await timed(() => getCrimeTrends(db, actor, partnership, { months: 12 })),
  crimePage60Months: await timed(() => getCrimeTrends(db, actor, partnership, { months: 60 })),
  priorityTrend: await timed(() => getPriorityTrends(db, actor, partnership, [asb.id])),
  rounds: ROUNDS,
  loadAverage: { before: loadBefore, after: loadAverage() },
};
await database.close();
console.log(JSON.stringify(result));
