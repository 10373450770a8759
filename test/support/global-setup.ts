import { Client } from 'pg';
import { createDataSource } from '@gridline/db';
import { TEMPLATE_DB, databaseUrl } from './test-env';

/** Builds the migrated template database every test file clones. Runs once per Jest run. */
export default async function globalSetup(): Promise<void> {
  const c = new Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${TEMPLATE_DB}"`);
  } finally {
    await c.end();
  }
  const ds = createDataSource(databaseUrl(TEMPLATE_DB));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
}
