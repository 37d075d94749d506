/**
 * The monthly counts behind the trends, kept up to date by every police.uk import and by every
 * change of a partnership's area, so that a trend over years of a large force reads a few hundred
 * rows instead of millions (see src/db/schema.ts: police_crime_counts, police_force_counts,
 * police_outcome_counts, police_area_counts). Each function runs inside the caller's transaction.
 */
import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import type { PoliceUkKind } from '../documents/police-uk.js';

/** A partnership's area as SQL over a counts table `c` (codes or name prefixes in partnership_areas). */
const IN_AREA = sql`exists (
  select 1 from partnership_areas a
  where a.partnership_id = p.id
    and ((a.kind = 'code' and a.value = c.lsoa_code) or (a.kind = 'prefix' and starts_with(c.lsoa_name, a.value))))`;

/** Counts one imported (force, month) of a kind again from its rows, and the areas' counts for the month. */
export async function refreshMonthCounts(
  tx: Tx,
  kind: PoliceUkKind,
  force: string,
  month: string,
): Promise<void> {
  if (kind === 'street') {
    await tx.execute(sql`delete from police_crime_counts where force = ${force} and month = ${month}`);
    await tx.execute(sql`
      insert into police_crime_counts (force, month, lsoa_code, lsoa_name, crime_type, crimes)
      select force, month, coalesce(lsoa_code, ''), coalesce(max(lsoa_name), ''), crime_type, count(*)
      from police_street_crimes where force = ${force} and month = ${month}
      group by force, month, coalesce(lsoa_code, ''), crime_type`);
    await tx.execute(sql`delete from police_force_counts where force = ${force} and month = ${month}`);
    await tx.execute(sql`
      insert into police_force_counts (force, month, crime_type, crimes)
      select force, month, crime_type, sum(crimes)::integer
      from police_crime_counts where force = ${force} and month = ${month}
      group by force, month, crime_type`);
    await refreshAreaMonth(tx, month);
  } else {
    await tx.execute(sql`delete from police_outcome_counts where force = ${force} and month = ${month}`);
    await tx.execute(sql`
      insert into police_outcome_counts (force, month, lsoa_code, lsoa_name, outcome_type, outcomes)
      select force, month, coalesce(lsoa_code, ''), coalesce(max(lsoa_name), ''), outcome_type, count(*)
      from police_outcomes where force = ${force} and month = ${month}
      group by force, month, coalesce(lsoa_code, ''), outcome_type`);
  }
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
