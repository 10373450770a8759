import { Client } from 'pg';

/** Creates the database named in `url` when it does not exist yet (connecting to `postgres`). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error('DATABASE_URL must name a database of letters, digits, _ or -');
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (e) {
      // Another process (a second replica, the scheduler) created it between our check and
      // our create: Postgres says so as duplicate_database or, in a tighter race, as a unique
      // violation on pg_database.
      const code = (e as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw e;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
