/**
 * Where a force's month of police.uk rows lives: a table of its own (migration 0014). Each police
 * table is partitioned by month, and each month by force; an import fills a new table for its
 * (force, month), counts it, and puts it in place of the one before in one transaction:
 *
 *   police_street_crimes                      partitioned by month
 *     police_street_crimes_2024_06            partitioned by force (a month partition)
 *       police_street_crimes_2024_06_<hash>   one force's month: the rows (a leaf)
 *
 * Why: the file's rows go straight into a table with no index and no other force's rows (COPY's own
 * speed, nearly), a month is replaced by dropping its table instead of deleting its rows, and every
 * reader (a force's month, or its counts) reads exactly the table it needs (partition pruning). A
 * leaf's CHECK constraint holds its force and month, so attaching it scans nothing.
 *
 * Imports take one transaction-level advisory lock (POLICE_IMPORT_LOCK), so two never change a
 * month's tables or counts at once (with several instances too). Readers are never blocked by an
 * import, except those of a month being replaced, for the moment between its old table being
 * dropped and the import's commit.
 */
import crypto from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type Tx } from '../db/client.js';
import type { PoliceUkKind } from '../documents/police-uk.js';

/** Held for the length of an import's transaction by the one importing. Any number: the same everywhere. */
export const POLICE_IMPORT_LOCK = 7_245_014;

const ROOT: Record<PoliceUkKind, string> = { street: 'police_street_crimes', outcomes: 'police_outcomes' };

/** Names as migration 0014 makes them: the month's digits, then the first 12 hex digits of md5(force). */
export function monthTableName(kind: PoliceUkKind, month: string): string {
  if (!/^[0-9]{4}-[0-9]{2}$/.test(month)) throw new Error(`not a police.uk month: ${month}`);
  return `${ROOT[kind]}_${month.replace('-', '_')}`;
}

export function forceMonthTableName(kind: PoliceUkKind, force: string, month: string): string {
  const hash = crypto.createHash('md5').update(force, 'utf8').digest('hex').slice(0, 12);
  return `${monthTableName(kind, month)}_${hash}`;
}

/** A force's month being written: the new table's name, to fill before `replaceForceMonth`. */
export interface NewForceMonth {
  kind: PoliceUkKind;
  force: string;
  month: string;
  /** The table the rows go into (not yet a partition: no reader sees it before the commit). */
  table: string;
}

/**
 * In the import's transaction, first: waits for any other import to finish, then makes an empty
 * table for the (force, month), shaped as its police table, whose CHECK constraint holds the force
 * and month; its `force` defaults to the force, for a COPY of a file's columns. `rowCheck` (SQL
 * over the table's columns, no parameters) is checked on every row as it is written too (the fast
 * path's checks of the file); a row failing either is refused with SQLSTATE 23514.
 */
export async function startForceMonth(
  tx: Tx,
  kind: PoliceUkKind,
  force: string,
  month: string,
  rowCheck?: SQL,
): Promise<NewForceMonth> {
  await tx.execute(sql`select pg_advisory_xact_lock(${POLICE_IMPORT_LOCK})`);
  const table = `${forceMonthTableName(kind, force, month)}_new`;
  const [forceValue, monthValue] = [sql.raw(textLiteral(force)), sql.raw(textLiteral(month))];
  await tx.execute(sql`create table ${sql.identifier(table)} (like ${sql.identifier(ROOT[kind])},
    constraint force_month check (force = ${forceValue} and month = ${monthValue})
    ${rowCheck ? sql`, constraint file_rows check (${rowCheck})` : sql``})`);
  // The force, which a file's rows do not carry as such, for a COPY that leaves it out.
  await tx.execute(sql`alter table ${sql.identifier(table)} alter column force set default ${forceValue}`);
  return { kind, force, month, table };
}

/** A text literal for DDL, which takes no parameters. */
export function textLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The filled table in place of the (force, month)'s rows before (dropped), in the import's
 * transaction: how many rows it replaced. Its month's partition is made the first time.
 */
export async function replaceForceMonth(tx: Tx, written: NewForceMonth): Promise<number> {
  const { kind, force, month, table } = written;
  const root = ROOT[kind];
  const monthTable = monthTableName(kind, month);
  const leaf = forceMonthTableName(kind, force, month);
  // The file's checks did their work as it was written; the rows now stand as any others.
  await tx.execute(sql`alter table ${sql.identifier(table)} drop constraint if exists file_rows`);
  const [before] = await queryRows<{ month: boolean; leaf: boolean }>(
    tx,
    sql`select to_regclass(${monthTable}) is not null as month, to_regclass(${leaf}) is not null as leaf`,
  );
  let replaced = 0;
  if (before?.leaf) {
    const [counted] = await queryRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from ${sql.identifier(leaf)}`,
    );
    replaced = Number(counted?.n ?? 0);
    await tx.execute(sql`drop table ${sql.identifier(leaf)}`);
  }
  if (!before?.month) {
    // Made alone and then attached: CREATE … PARTITION OF would lock the whole police table.
    await tx.execute(sql`create table ${sql.identifier(monthTable)} (like ${sql.identifier(root)})
      partition by list (force)`);
    await tx.execute(
      sql`alter table ${sql.identifier(root)} attach partition ${sql.identifier(monthTable)} for values in (${sql.raw(textLiteral(month))})`,
    );
  }
  await tx.execute(sql`alter table ${sql.identifier(table)} rename to ${sql.identifier(leaf)}`);
  await tx.execute(
    sql`alter table ${sql.identifier(monthTable)} attach partition ${sql.identifier(leaf)} for values in (${sql.raw(textLiteral(force))})`,
  );
  return replaced;
}
