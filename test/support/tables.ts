/**
 * Every table of the schema, less some, and all their rows in primary-key order: for the backup
 * tests, which compare a database before a backup with one it was restored into.
 */
import { asc, is } from 'drizzle-orm';
import { getTableConfig, PgTable, type PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../../src/db/client.js';
import * as schema from '../../src/db/schema.js';

export interface SchemaTable {
  name: string;
  table: PgTable;
  key: PgColumn[];
}

export function schemaTables(excluding: Iterable<string>): SchemaTable[] {
  const left = new Set(excluding);
  return Object.values(schema as Record<string, unknown>)
    .filter((value): value is PgTable => is(value, PgTable))
    .map((table) => {
      const config = getTableConfig(table);
      const key: PgColumn[] = [
        ...config.columns.filter((c) => c.primary),
        ...(config.primaryKeys[0]?.columns ?? []),
      ];
      return { name: config.name, table, key };
    })
    .filter(({ name }) => !left.has(name));
}

export async function readAllTables(db: Db, tables: SchemaTable[]): Promise<Record<string, unknown[]>> {
  const all: Record<string, unknown[]> = {};
  for (const { name, table, key } of tables) {
    all[name] = await db
      .select()
      .from(table)
      .orderBy(...key.map((c) => asc(c)));
  }
  return all;
}
