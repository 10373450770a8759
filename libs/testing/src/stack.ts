import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { DIST, ManagedProcess, freePort } from './processes';
import { TEST_REDIS_URL, TestDatabase, freshDatabaseName, redisPrefix } from './test-env';

export interface StackOptions {
  modelName?: string;
  parallel?: number;
  seed?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
}

export interface RunningStack {
  url: string;
  accessKey: string;
  secretKey: string;
  modelName: string;
  modelPath: string;
  db: TestDatabase;
  prefix: string;
  api: ManagedProcess;
  scheduler: ManagedProcess;
  agent: ManagedProcess;
  /** Milliseconds from spawning the api to the agent's registration. */
  startupMs: number;
  stop(): Promise<void>;
}

/**
 * Starts the three built processes (dist/) as a user would: a database that does not exist
 * yet, a Redis namespace of its own, a random port, a tiny model written on the spot, and
 * the bootstrap keypair read from the api's first-start banner.
 */
export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'gl-stack-'));
  const modelName = options.modelName ?? 'tiny';
  const modelPath = join(dir, `${modelName}.gguf`);
  writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: options.seed ?? 42 })));
  const db = freshDatabaseName();
  const prefix = redisPrefix();
  const port = await freePort();
  const common = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    GRIDLINE_REDIS_PREFIX: prefix,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...options.env,
  };
  const api = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), {
    ...common,
    PORT: String(port),
    HOST: '127.0.0.1',
    GRIDLINE_DATA_DIR: dir,
    GRIDLINE_MASTER_KEY: randomBytes(32).toString('hex'),
  });
  const scheduler = new ManagedProcess('scheduler', join(DIST, 'apps/scheduler/src/main.js'), common);
  const agent = new ManagedProcess('agent', join(DIST, 'apps/agent/src/main.js'), {
    ...common,
    GRIDLINE_NODE_NAME: `node-${prefix}`,
    GRIDLINE_MODEL_PATH: modelPath,
    GRIDLINE_MODEL_NAME: modelName,
    GRIDLINE_GPU: 'cpu',
    GRIDLINE_THREADS: '1',
    GRIDLINE_CONTEXT_SIZE: '2048',
    GRIDLINE_PARALLEL: String(options.parallel ?? 2),
  });
  const stop = async () => {
    await Promise.all([agent.stop(), scheduler.stop(), api.stop()]);
    await db.drop();
  };
  try {
    const banner = await api.waitFor(/access key: (AKIA[A-Z2-7]{16})\s+secret key: (\S+)/);
    await api.waitFor(/listening on/);
    await agent.waitFor(/registered as/);
    return { url: `http://127.0.0.1:${port}`, accessKey: banner[1], secretKey: banner[2], modelName, modelPath, db, prefix, api, scheduler, agent, startupMs: Date.now() - started, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
