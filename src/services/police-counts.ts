/**
 * The monthly counts behind the trends, kept up to date by every police.uk import and by every
 * change of a partnership's area, so that a trend over years of a large force reads a few hundred
 * rows instead of millions (see src/db/schema.ts: police_crime_counts, police_force_counts,
 * police_outcome_counts, police_area_counts, police_area_lsoa_counts). Each function runs inside the
 * caller's transaction.
 */
import { sql } from 'drizzle-orm';
import { queryRows, type Tx } from '../db/client.js';
import type { NewForceMonth } from './police-months.js';

/** A partnership's area as SQL over a counts table `c` (codes or name prefixes in partnership_areas). */
const IN_AREA = sql`exists (
  select 1 from partnership_areas a
  where a.partnership_id = p.id
    and ((a.kind = 'code' and a.value = c.lsoa_code) or (a.kind = 'prefix' and starts_with(c.lsoa_name, a.value))))`;

/**
 * Counts one imported (force, month) of a kind again from its rows, the table an import has just
 * filled (police-months.ts), and the areas' counts for the month: how many rows it counted.
 */
export async function refreshMonthCounts(tx: Tx, written: NewForceMonth): Promise<number> {
  const { kind, force, month, table } = written;
  const [counts, type] =
    kind === 'street'
      ? [sql`police_crime_counts`, sql.raw('crime_type')]
      : [sql`police_outcome_counts`, sql.raw('outcome_type')];
  const total = kind === 'street' ? sql.raw('crimes') : sql.raw('outcomes');
  await tx.execute(sql`delete from ${counts} where force = ${force} and month = ${month}`);
  const [counted] = await queryRows<{ rows: number }>(
    tx,
    sql`with g as (
        select coalesce(lsoa_code, '') as lsoa_code, coalesce(max(lsoa_name), '') as lsoa_name, ${type},
          count(*) as n
        from ${sql.identifier(table)}
        group by coalesce(lsoa_code, ''), ${type}),
      written as (
        insert into ${counts} (force, month, lsoa_code, lsoa_name, ${type}, ${total})
        select ${force}::text, ${month}::text, lsoa_code, lsoa_name, ${type}, n from g)
      select coalesce(sum(n), 0)::int as rows from g`,
  );
  if (kind === 'street') {
    await tx.execute(sql`delete from police_force_counts where force = ${force} and month = ${month}`);
    await tx.execute(sql`
      insert into police_force_counts (force, month, crime_type, crimes)
      select force, month, crime_type, sum(crimes)::integer
      from police_crime_counts where force = ${force} and month = ${month}
      group by force, month, crime_type`);
    await refreshArea(tx, { month });
  }
  return Number(counted?.rows ?? 0);
}

/**
 * The areas' counts of one month (every partnership) or of one partnership (every month): first
 * per LSOA (police_area_lsoa_counts, the crime page's hotspots), then by crime type summed from
 * those (police_area_counts, the trends). What they replace is deleted first.
 */
async function refreshArea(tx: Tx, scope: { month: string } | { partnershipId: number }): Promise<void> {
  const [ofCounts, ofCrimes] =
    'month' in scope
      ? [sql`month = ${scope.month}`, sql`c.month = ${scope.month}`]
      : [sql`partnership_id = ${scope.partnershipId}`, sql`p.id = ${scope.partnershipId}`];
  await tx.execute(sql`delete from police_area_lsoa_counts where ${ofCounts}`);
  await tx.execute(sql`delete from police_area_counts where ${ofCounts}`);
  await tx.execute(sql`
    insert into police_area_lsoa_counts (partnership_id, month, lsoa_code, lsoa_name, crime_type, crimes)
    select p.id, c.month, c.lsoa_code, max(c.lsoa_name), c.crime_type, sum(c.crimes)::integer
    from partnerships p join police_crime_counts c on ${IN_AREA}
    where ${ofCrimes}
    group by p.id, c.month, c.lsoa_code, c.crime_type`);
  await tx.execute(sql`
    insert into police_area_counts (partnership_id, month, crime_type, crimes)
    select partnership_id, month, crime_type, sum(crimes)::integer
    from police_area_lsoa_counts
    where ${ofCounts}
    group by partnership_id, month, crime_type`);
}

/** One partnership's area counts for every month, after its area changed. */
export async function refreshAreaCounts(tx: Tx, partnershipId: number): Promise<void> {
  await refreshArea(tx, { partnershipId });
}
