import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** Local defaults, overridable like the apps' own configuration. */
export const TEST_PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridline';
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Per checkout when several run their suites at once on one Postgres (a shared template would be dropped under the other). */
export const TEMPLATE_DB = process.env.GRIDLINE_TEST_TEMPLATE_DB ?? 'gridline_test_template';

export function databaseUrl(name: string): string {
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the migrated template (fast, isolated). */
export async function createTestDatabase(migrated = true): Promise<TestDatabase> {
  const name = `gl_t_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(migrated ? `CREATE DATABASE "${name}" TEMPLATE "${TEMPLATE_DB}"` : `CREATE DATABASE "${name}"`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

/** A database name that does not exist yet (for start-up paths that create it). */
export function freshDatabaseName(): TestDatabase {
  const name = `gl_t_${randomBytes(5).toString('hex')}`;
  return { name, url: databaseUrl(name), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined) };
}

/** A Redis namespace for one test file. */
export function redisPrefix(): string {
  return `gl_t_${randomBytes(5).toString('hex')}`;
}
