import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { GeneratedKeypair, generateKeypair } from '@gridline/auth';
import { DIST, ManagedProcess, freePort } from './processes';
import { TEST_REDIS_URL, TestDatabase, freshDatabaseName, redisPrefix } from './test-env';

export interface ApiProcess {
  api: ManagedProcess;
  base: string;
  host: string;
  root: GeneratedKeypair;
  masterKey: string;
  db: TestDatabase;
  stop(): Promise<void>;
}

/** The built api alone, with a bootstrap keypair from the environment, ready to serve. */
export async function startApiProcess(env: Record<string, string> = {}): Promise<ApiProcess> {
  const db = freshDatabaseName();
  const port = await freePort();
  const root = generateKeypair();
  const masterKey = randomBytes(32).toString('hex');
  const api = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    GRIDLINE_REDIS_PREFIX: redisPrefix(),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    GRIDLINE_MASTER_KEY: masterKey,
    GRIDLINE_BOOTSTRAP_ACCESS_KEY: root.accessKey,
    GRIDLINE_BOOTSTRAP_SECRET_KEY: root.secretKey,
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await api.stop();
    await db.drop();
  };
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
      if (i > 600 || api.child.exitCode !== null) throw new Error(`the api did not start:\n${api.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { api, base, host: `127.0.0.1:${port}`, root, masterKey, db, stop };
}
