/**
 * A database of its own on a PostgreSQL server, for a test file, a command-line test or a cluster:
 * made (empty, or from a template database), and dropped (with any connections still open) by
 * `drop()`. Free of Vitest, so the benchmarks use it too.
 */
import crypto from 'node:crypto';
import pg from 'pg';

/** The server's URL with another database's name. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

export interface ServerDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createServerDatabase(
  serverUrl: string,
  { prefix, template }: { prefix: string; template?: string },
): Promise<ServerDatabase> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `create database ${name}${template ? ` template ${template}` : ''}`);
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}
