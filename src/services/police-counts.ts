/**
 * The monthly counts behind the trends, kept up to date by every police.uk import and by every
 * change of a partnership's area, so that a trend over years of a large force reads a few hundred
 * rows instead of millions (see src/db/schema.ts: police_crime_counts, police_force_counts,
 * police_outcome_counts, police_area_counts). Each function runs inside the caller's transaction.
 */
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Tx } from '../db/client.js';
import type { PoliceUkKind } from '../documents/police-uk.js';

/** A partnership's area as SQL over a counts table `c` (codes or name prefixes in partnership_areas). */
const IN_AREA = sql`exists (
  select 1 from partnership_areas a
  where a.partnership_id = p.id
    and ((a.kind = 'code' and a.value = c.lsoa_code) or (a.kind = 'prefix' and starts_with(c.lsoa_name, a.value))))`;

/**
 * Counts one imported (force, month) of a kind again from its rows, and the areas' counts for the
 * month: the rows counted, and of them how many `badRow` (SQL over the police table's columns)
 * holds for. The import's fast path passes its checks as `badRow`, so that one scan of the month
 * both checks and counts it (and rolls the transaction back if any row is bad).
 */
export async function refreshMonthCounts(
  tx: Tx,
  kind: PoliceUkKind,
  force: string,
  month: string,
  badRow: SQL = sql`false`,
): Promise<{ rows: number; bad: number }> {
  const [rows, counts, type] =
    kind === 'street'
      ? [sql`police_street_crimes`, sql`police_crime_counts`, sql.raw('crime_type')]
      : [sql`police_outcomes`, sql`police_outcome_counts`, sql.raw('outcome_type')];
  const total = kind === 'street' ? sql.raw('crimes') : sql.raw('outcomes');
  await tx.execute(sql`delete from ${counts} where force = ${force} and month = ${month}`);
  const [counted] = await queryRows<{ rows: number; bad: number }>(
    tx,
    sql`with g as (
        select coalesce(lsoa_code, '') as lsoa_code, coalesce(max(lsoa_name), '') as lsoa_name, ${type},
          count(*) as n, count(*) filter (where ${badRow}) as bad
        from ${rows} where force = ${force} and month = ${month}
        group by coalesce(lsoa_code, ''), ${type}),
      written as (
        insert into ${counts} (force, month, lsoa_code, lsoa_name, ${type}, ${total})
        select ${force}::text, ${month}::text, lsoa_code, lsoa_name, ${type}, n from g)
      select coalesce(sum(n), 0)::int as rows, coalesce(sum(bad), 0)::int as bad from g`,
  );
  if (kind === 'street') {
    await tx.execute(sql`delete from police_force_counts where force = ${force} and month = ${month}`);
    await tx.execute(sql`
      insert into police_force_counts (force, month, crime_type, crimes)
      select force, month, crime_type, sum(crimes)::integer
      from police_crime_counts where force = ${force} and month = ${month}
      group by force, month, crime_type`);
    await refreshAreaMonth(tx, month);
  }
  return { rows: Number(counted?.rows ?? 0), bad: Number(counted?.bad ?? 0) };
}

/** Every partnership's area counts for one month, from the month's counts of every force. */
async function refreshAreaMonth(tx: Tx, month: string): Promise<void> {
  await tx.execute(sql`delete from police_area_counts where month = ${month}`);
  await tx.execute(sql`
    insert into police_area_counts (partnership_id, month, crime_type, crimes)
    select p.id, c.month, c.crime_type, sum(c.crimes)::integer
    from partnerships p join police_crime_counts c on ${IN_AREA}
    where c.month = ${month}
    group by p.id, c.month, c.crime_type`);
}

/** One partnership's area counts for every month, after its area changed. */
export async function refreshAreaCounts(tx: Tx, partnershipId: number): Promise<void> {
  await tx.execute(sql`delete from police_area_counts where partnership_id = ${partnershipId}`);
  await tx.execute(sql`
    insert into police_area_counts (partnership_id, month, crime_type, crimes)
    select p.id, c.month, c.crime_type, sum(c.crimes)::integer
    from partnerships p join police_crime_counts c on ${IN_AREA}
    where p.id = ${partnershipId}
    group by p.id, c.month, c.crime_type`);
}
