#!/usr/bin/env node
/** `npm run db:migrate`: creates the database named by DATABASE_URL if needed and applies pending migrations. */
import { DatabaseConfig, describeStartupError, loadConfig } from '@gridline/common';
import { openDatabase } from '@gridline/db';

async function main(): Promise<void> {
  const { DATABASE_URL } = loadConfig(DatabaseConfig);
  try {
    const ds = await openDatabase({ url: DATABASE_URL, applicationName: 'gridline-migrate', migrate: true });
    const pending = await ds.showMigrations();
    await ds.destroy();
    process.stdout.write(`database ${new URL(DATABASE_URL).pathname.slice(1)} is up to date${pending ? ' (pending migrations remain!)' : ''}\n`);
    process.exitCode = pending ? 1 : 0;
  } catch (e) {
    process.stderr.write(`db:migrate: ${describeStartupError(e, { database: DATABASE_URL })}\n`);
    process.exitCode = 1;
  }
}

void main();
