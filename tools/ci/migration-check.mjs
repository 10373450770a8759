#!/usr/bin/env node
// Fails when the entities and the committed migrations disagree: migrates a scratch database,
// then asks TypeORM whether a new migration would contain anything.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridline');
const name = `gl_migcheck_${randomBytes(4).toString('hex')}`;
const url = new URL(base);
url.pathname = `/${name}`;
const admin = new URL(base);
admin.pathname = '/postgres';

const env = { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: 'silent' };
let code = 0;
try {
  execFileSync(process.execPath, ['dist/tools/db/migrate.js'], { env, stdio: 'inherit' });
  execFileSync(
    process.execPath,
    ['node_modules/typeorm/cli.js', 'migration:generate', '--check', '-d', 'dist/libs/db/src/typeorm-cli.data-source.js', 'libs/db/src/migrations/Drift'],
    { env, stdio: 'inherit' },
  );
  process.stdout.write('migrations match the entities\n');
} catch {
  process.stderr.write('the entities differ from the migrations: run `npm run db:generate -- libs/db/src/migrations/NAME` and commit it\n');
  code = 1;
} finally {
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
}
process.exit(code);
