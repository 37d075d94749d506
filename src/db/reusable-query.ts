/**
 * Queries made once and run many times, for the statements of the busiest requests.
 *
 * Drizzle makes a query's SQL text afresh every time it runs (walking the builder, every column
 * and condition), and PostgreSQL parses and plans each text it is sent. Under fifty people saving
 * at once that was a fifth of the app's time and much of the server's (docs/benchmarks.md). A
 * reusable query is built once, with `sql.placeholder(name)` wherever a value changes from run to
 * run; each run fills in the values, runs the same text on the handle it is given (the pool, or a
 * transaction's own connection) and maps the rows as drizzle does. On PostgreSQL the text is a
 * named prepared statement, parsed once per connection and then only bound and run; PGlite (one
 * process, one connection) ignores the name.
 *
 * A value that is not a placeholder is fixed when the query is built, for every run: build one
 * query for each shape a caller needs.
 */
import { is, Param, Placeholder, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgSession } from 'drizzle-orm/pg-core';
import type { Db, Tx } from './client.js';

/** What `.prepare(name)` of a drizzle select, insert, update or delete gives. */
interface Prepared<R> {
  execute(values?: Record<string, unknown>): Promise<R>;
}

/** The parts of a drizzle prepared query this reuses (the same in the node-postgres and PGlite drivers). */
interface PreparedParts {
  getQuery(): { sql: string; params: unknown[] };
  fields?: unknown;
  joinsNotNullableMap?: Record<string, boolean>;
  customResultMapper?: unknown;
  _isResponseInArrayMode?: boolean;
}

interface Made {
  query: { sql: string; params: unknown[] };
  /** The values a column encodes (a placeholder in an insert's or update's values), by their key. */
  encoded: Map<string, { name: string; encode: (value: unknown) => unknown }>;
  fields: unknown;
  joinsNotNullableMap: Record<string, boolean> | undefined;
  customResultMapper: unknown;
  arrayMode: boolean;
}

/** The names given, so that no two queries share one (PostgreSQL would refuse the second text). */
const names = new Set<string>();

const dialect = new PgDialect();

function register(name: string): void {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`A reusable query's name must be snake_case: ${name}`);
  if (names.has(name)) throw new Error(`Two reusable queries are named ${name}`);
  names.add(name);
}

/**
 * A query's text and parameters, each placeholder a column encodes (a Date for a timestamp, an
 * object for jsonb) given a key of its own: drizzle's own filling of placeholders would encode a
 * null too (jsonb's `'null'`, or a timestamp's failure), where its every other path sends NULL.
 */
function madeFrom(query: { sql: string; params: unknown[] }, rest: Omit<Made, 'query' | 'encoded'>): Made {
  const encoded: Made['encoded'] = new Map();
  const params = query.params.map((param, index) => {
    if (!is(param, Param) || !is(param.value, Placeholder)) return param;
    const key = `${param.value.name} ${index}`;
    const { encoder } = param;
    encoded.set(key, { name: param.value.name, encode: (value) => encoder.mapToDriverValue(value) });
    return sql.placeholder(key);
  });
  return { ...rest, query: { sql: query.sql, params }, encoded };
}

async function run<R>(db: Db | Tx, name: string, made: Made, given: Record<string, unknown>): Promise<R> {
  let values = given;
  if (made.encoded.size) {
    values = { ...given };
    for (const [key, { name: field, encode }] of made.encoded) {
      if (!(field in given)) throw new Error(`No value for placeholder "${field}" was given`);
      const value = given[field];
      values[key] = value === null || value === undefined ? null : encode(value);
    }
  }
  const session = db._.session as unknown as PgSession;
  const prepared = session.prepareQuery(
    made.query,
    made.fields as never,
    name,
    made.arrayMode,
    made.customResultMapper as never,
  ) as unknown as Prepared<R> & PreparedParts;
  prepared.joinsNotNullableMap = made.joinsNotNullableMap;
  return prepared.execute(values);
}

/**
 * A drizzle query (select, insert, update or delete; `build` makes it on the handle it is given,
 * values that change as placeholders) built the first time it runs; the result is what the query
 * itself gives (rows mapped as drizzle maps them). A placeholder given no value fails the run.
 */
export function reusableQuery<R>(
  name: string,
  build: (db: Db | Tx) => { prepare(name: string): Prepared<R> },
): (db: Db | Tx, values: Record<string, unknown>) => Promise<R> {
  register(name);
  let made: Made | undefined;
  return (db, values) => {
    if (!made) {
      const parts = build(db).prepare(name) as unknown as PreparedParts;
      made = madeFrom(parts.getQuery(), {
        fields: parts.fields,
        joinsNotNullableMap: parts.joinsNotNullableMap,
        customResultMapper: parts.customResultMapper,
        arrayMode: parts._isResponseInArrayMode ?? true,
      });
    }
    return run<R>(db, name, made, values);
  };
}

/**
 * Raw SQL (values that change as placeholders), made into text once; each run gives its rows as
 * objects named by the SQL's own column names, as `queryRows` does.
 */
export function reusableSql<V extends Record<string, unknown>, Row>(
  name: string,
  query: SQL,
): (db: Db | Tx, values: V) => Promise<Row[]> {
  register(name);
  let made: Made | undefined;
  return async (db, values) => {
    made ??= madeFrom(dialect.sqlToQuery(query), {
      fields: undefined,
      joinsNotNullableMap: undefined,
      customResultMapper: undefined,
      arrayMode: false,
    });
    const result = await run<{ rows: Row[] }>(db, name, made, values);
    return result.rows;
  };
}

/**
 * `sql.placeholder(name)` where drizzle's types want a value or SQL (an update's `set`); it is a
 * placeholder all the same, encoded as its column encodes a value.
 */
export function placeholder(name: string): SQL {
  return sql.placeholder(name) as unknown as SQL;
}
