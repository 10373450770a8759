import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureDatabase } from './ensure-database';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridline';
const urlFor = (name: string) => {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
};

describe('ensureDatabase', () => {
  const name = `gl_t_ensure_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    const c = new Client({ connectionString: urlFor('postgres') });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
  });

  it('creates a missing database once, even when several processes start at the same moment', async () => {
    const created = await Promise.all(Array.from({ length: 6 }, () => ensureDatabase(urlFor(name))));
    expect(created.filter(Boolean).length).toBeLessThanOrEqual(1);
    const c = new Client({ connectionString: urlFor(name) });
    await c.connect();
    expect((await c.query('SELECT current_database() AS db')).rows[0].db).toBe(name);
    await c.end();
    await expect(ensureDatabase(urlFor(name))).resolves.toBe(false);
  });

  it('refuses a database name it would have to quote', async () => {
    await expect(ensureDatabase(urlFor('bad"name'))).rejects.toThrow(/letters, digits/);
  });
});
