import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TemplateClone {
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of a test file's own, cloned from the migrated template the int suite's global
 * setup builds. Made here rather than with @gridline/testing's createTestDatabase: that lib's
 * harness imports this one, and a test importing it back makes an Nx project cycle. Same
 * variables and defaults as libs/testing/src/test-env.ts. For this lib's int tests only (not
 * exported).
 */
export async function cloneTemplate(): Promise<TemplateClone> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridline';
  const template = process.env.GRIDLINE_TEST_TEMPLATE_DB ?? 'gridline_test_template';
  const urlOf = (name: string) => Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: urlOf('postgres') });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  const name = `gl_t_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  return { url: urlOf(name), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
