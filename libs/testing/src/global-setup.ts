import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEMPLATE_DB, databaseUrl } from './test-env';

/**
 * Builds the migrated template database every test file clones, with the built
 * `db:migrate` tool (npm test builds first). Runs once per Jest run.
 */
export default async function globalSetup(): Promise<void> {
  const c = new Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
  } finally {
    await c.end();
  }
  execFileSync(process.execPath, [join(__dirname, '..', '..', '..', 'dist', 'tools', 'db', 'migrate.js')], {
    env: { ...process.env, DATABASE_URL: databaseUrl(TEMPLATE_DB), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
