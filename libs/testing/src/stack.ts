import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { signingFetch } from '@gridline/auth';
import { DIST, ManagedProcess, freePort } from './processes';
import { TEST_REDIS_URL, TestDatabase, freshDatabaseName, redisPrefix } from './test-env';

export interface StackOptions {
  modelName?: string;
  parallel?: number;
  seed?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Extra environment for one process. */
  apiEnv?: Record<string, string>;
  schedulerEnv?: Record<string, string>;
  agentEnv?: Record<string, string>;
}

export interface ExtraApi {
  url: string;
  process: ManagedProcess;
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
  /**
   * Where each process serves `GET /metrics` (the api on its own port; the scheduler's and the
   * agent's listeners on ports chosen here). Processes spawned later (`spawnScheduler`,
   * `spawnAgent`) have theirs off unless their env sets GRIDLINE_METRICS_PORT.
   */
  metrics: { api: string; scheduler: string; agent: string };
  /** Milliseconds from spawning the api to the agent's registration. */
  startupMs: number;
  /** Starts a new agent process for the same node (after the first was killed) and waits for its registration. */
  restartAgent(): Promise<ManagedProcess>;
  /** Kills the scheduler (SIGKILL) and starts a new one; resolves once it leads. */
  restartScheduler(): Promise<ManagedProcess>;
  /** Another scheduler process on the stack (a standby while the first leads); resolves once it listens. */
  spawnScheduler(env?: Record<string, string>): Promise<ManagedProcess>;
  /** Another agent process on the stack (its own name and data directory in `env`), joining with `joinToken` when given. */
  spawnAgent(env: Record<string, string>, joinToken?: string): ManagedProcess;
  /** Stops the api (SIGKILL: as a crash or a host going away) and waits until it is gone. */
  killApi(): Promise<void>;
  /** Starts the api again on the same port (after killApi), and waits until it listens. */
  reviveApi(): Promise<ManagedProcess>;
  /** Another api replica on the same database and Redis namespace, with extra environment. */
  startApi(env?: Record<string, string>): Promise<ExtraApi>;
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
  const schedulerMetricsPort = await freePort();
  const agentMetricsPort = await freePort();
  const masterKey = randomBytes(32).toString('hex');
  const common = {
    // Heartbeats every second: a restarted scheduler hears every node, and tests see state changes, quickly.
    GRIDLINE_HEARTBEAT_SECONDS: '1',
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    GRIDLINE_REDIS_PREFIX: prefix,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...options.env,
  };
  const apiEnv = (p: number) => ({ ...common, PORT: String(p), HOST: '127.0.0.1', GRIDLINE_DATA_DIR: dir, GRIDLINE_MASTER_KEY: masterKey, ...options.apiEnv });
  const agentEnv = {
    ...common,
    GRIDLINE_SERVER: `http://127.0.0.1:${port}`,
    GRIDLINE_DATA_DIR: join(dir, 'agent'),
    GRIDLINE_NODE_NAME: `node-${prefix}`,
    GRIDLINE_MODEL_PATH: modelPath,
    GRIDLINE_MODEL_NAME: modelName,
    GRIDLINE_GPU: 'cpu',
    GRIDLINE_THREADS: '1',
    GRIDLINE_CONTEXT_SIZE: '2048',
    GRIDLINE_PARALLEL: String(options.parallel ?? 2),
    GRIDLINE_METRICS_HOST: '127.0.0.1',
    GRIDLINE_METRICS_PORT: String(agentMetricsPort),
    ...options.agentEnv,
  };
  const api = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), apiEnv(port));
  // A short lease: a scheduler started after one was killed leads within about two seconds.
  const schedulerEnv = { GRIDLINE_LEADER_LEASE_SECONDS: '2', GRIDLINE_METRICS_HOST: '127.0.0.1', GRIDLINE_METRICS_PORT: String(schedulerMetricsPort), ...common, ...options.schedulerEnv };
  const scheduler = new ManagedProcess('scheduler', join(DIST, 'apps/scheduler/src/main.js'), schedulerEnv);
  const processes: ManagedProcess[] = [api, scheduler];
  let agent: ManagedProcess | null = null;
  const spawnAgent = (joinToken?: string, env: Record<string, string> = {}) => {
    const agent = new ManagedProcess('agent', join(DIST, 'apps/agent/src/main.js'), { ...agentEnv, ...(joinToken ? { GRIDLINE_JOIN_TOKEN: joinToken } : {}), ...env });
    processes.push(agent);
    return agent;
  };
  const stop = async () => {
    for (const p of processes) if (p.child.signalCode === null && p.child.exitCode === null) p.child.kill('SIGCONT');
    await Promise.all(processes.map((p) => p.stop()));
    await db.drop();
  };
  try {
    const banner = await api.waitFor(/access key: (AKIA[A-Z2-7]{16})\s+secret key: (\S+)/);
    await api.waitFor(/listening on/);
    // The agent joins as an SRE's would: with a join token an admin created (approving on its own here).
    const joinToken = await createJoinToken(`http://127.0.0.1:${port}`, { accessKey: banner[1], secretKey: banner[2] });
    agent = spawnAgent(joinToken);
    await agent.waitFor(/registered as/);
    const stack: RunningStack = {
      url: `http://127.0.0.1:${port}`,
      accessKey: banner[1],
      secretKey: banner[2],
      modelName,
      modelPath,
      db,
      prefix,
      api,
      scheduler,
      agent,
      metrics: { api: `http://127.0.0.1:${port}/metrics`, scheduler: `http://127.0.0.1:${schedulerMetricsPort}/metrics`, agent: `http://127.0.0.1:${agentMetricsPort}/metrics` },
      startupMs: Date.now() - started,
      restartAgent: async () => {
        // Later starts use the node credential the first one stored.
        const next = spawnAgent();
        await next.waitFor(/registered as/);
        stack.agent = next;
        return next;
      },
      restartScheduler: async () => {
        stack.scheduler.child.kill('SIGKILL');
        await stack.scheduler.waitExit();
        const next = new ManagedProcess('scheduler', join(DIST, 'apps/scheduler/src/main.js'), schedulerEnv);
        processes.push(next);
        await next.waitFor(/leader \(lease token/);
        stack.scheduler = next;
        return next;
      },
      spawnScheduler: async (env = {}) => {
        const next = new ManagedProcess('scheduler', join(DIST, 'apps/scheduler/src/main.js'), { ...schedulerEnv, GRIDLINE_METRICS_PORT: '0', ...env });
        processes.push(next);
        await next.waitFor(/scheduler ready/);
        return next;
      },
      spawnAgent: (env, joinToken) => spawnAgent(joinToken, { GRIDLINE_MODEL_PATH: '', GRIDLINE_METRICS_PORT: '0', ...env }),
      killApi: async () => {
        stack.api.child.kill('SIGKILL');
        await stack.api.waitExit();
      },
      reviveApi: async () => {
        const next = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), apiEnv(port));
        processes.push(next);
        await next.waitFor(/listening on/);
        stack.api = next;
        return next;
      },
      startApi: async (env = {}) => {
        const p = await freePort();
        const proc = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), { ...apiEnv(p), ...env });
        processes.push(proc);
        await proc.waitFor(/listening on/);
        return { url: `http://127.0.0.1:${p}`, process: proc };
      },
      stop,
    };
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A multi-use, self-approving join token, created through the admin API with a superadmin keypair. */
export async function createJoinToken(url: string, keys: { accessKey: string; secretKey: string }, body: Record<string, unknown> = { maxUses: null, autoApprove: true, description: 'test stack' }): Promise<string> {
  const res = await signingFetch(keys)(`${url}/api/v1/join-tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const created = (await res.json()) as { token?: string };
  if (res.status !== 201 || !created.token) throw new Error(`creating a join token failed: ${res.status} ${JSON.stringify(created)}`);
  return created.token;
}
