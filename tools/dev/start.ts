#!/usr/bin/env node
/**
 * `npm start`: runs api, scheduler and agent locally against the local Postgres and Redis,
 * with a demo model generated on first run, and prints where to reach them and how to sign in.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { generateKeypair, signingFetch } from '@gridline/auth';
import { buildTinyLlama, encodeGguf } from '@gridline/models';

const t0 = Date.now();
const env = { ...process.env };
const dataDir = resolve(env.GRIDLINE_DATA_DIR ?? '.gridline');
const port = env.PORT ?? '8080';
const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/gridline';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const url = `http://127.0.0.1:${port}`;
const say = (line: string) => process.stdout.write(`${line}\n`);
const DIST = resolve(__dirname, '..', '..');

interface Keys {
  accessKey: string;
  secretKey: string;
}

function reason(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err.code ?? err.message ?? String(e);
}

async function checkServices(): Promise<void> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
  } catch (e) {
    say(`Gridline needs Postgres at ${admin.host} and cannot reach it (${reason(e)}). Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or: docker compose -f docker/compose.yml up -d postgres redis`);
    process.exit(1);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    redis.disconnect();
  } catch (e) {
    redis.disconnect();
    say(`Gridline needs Redis at ${redisUrl} and cannot reach it (${reason(e)}). Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no, or: docker compose -f docker/compose.yml up -d postgres redis`);
    process.exit(1);
  }
}

function demoModel(): { path: string; name?: string } {
  if (env.GRIDLINE_MODEL_PATH) return { path: resolve(env.GRIDLINE_MODEL_PATH), name: env.GRIDLINE_MODEL_NAME };
  const path = join(dataDir, 'models', 'demo.gguf');
  if (!existsSync(path)) {
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    writeFileSync(path, encodeGguf(buildTinyLlama({ seed: 42 })));
    say(`generated the demo model ${path} (a tiny random-weight llama: it answers with gibberish, quickly)`);
  }
  return { path, name: 'demo' };
}

function adminKeypair(): Keys {
  if (env.GRIDLINE_BOOTSTRAP_ACCESS_KEY && env.GRIDLINE_BOOTSTRAP_SECRET_KEY) {
    return { accessKey: env.GRIDLINE_BOOTSTRAP_ACCESS_KEY, secretKey: env.GRIDLINE_BOOTSTRAP_SECRET_KEY };
  }
  const file = join(dataDir, 'admin.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Keys;
  const pair = { url, ...generateKeypair() };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(pair, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return pair;
}

const children: ChildProcess[] = [];
let stopping = false;
function run(name: string, script: string, extraEnv: Record<string, string>) {
  const child = spawn(process.execPath, [join(DIST, script)], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`.padEnd(12);
  const listeners: ((line: string) => void)[] = [];
  const onLine = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      process.stdout.write(`${prefix}${line}\n`);
      for (const l of listeners) l(line);
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${prefix}exited (${signal ?? code}); stopping Gridline`);
    shutdown(1);
  });
  children.push(child);
  return { child, waitFor: (re: RegExp) => new Promise<string>((res) => listeners.push((line) => re.test(line) && res(line))) };
}

function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }, 10_000);
  void Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

async function main(): Promise<void> {
  await checkServices();
  const model = demoModel();
  const keys = adminKeypair();
  const common = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, GRIDLINE_DATA_DIR: dataDir, LOG_FORMAT: env.LOG_FORMAT ?? 'pretty' };

  const api = run('api', 'apps/api/src/main.js', {
    ...common,
    PORT: port,
    GRIDLINE_BOOTSTRAP_ACCESS_KEY: keys.accessKey,
    GRIDLINE_BOOTSTRAP_SECRET_KEY: keys.secretKey,
  });
  await api.waitFor(/listening on/);
  run('scheduler', 'apps/scheduler/src/main.js', common);
  // Agents join as on a real fleet: with a join token (approving on its own here, for the demo),
  // then with the node credential each keeps in its data directory.
  const tokenRes = await signingFetch(keys)(`${url}/api/v1/join-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ maxUses: null, autoApprove: true, ttlSeconds: 600, description: 'npm start' }),
  });
  const { token: joinToken } = (await tokenRes.json()) as { token: string };
  if (!tokenRes.ok) throw new Error(`could not create a join token for the local agents (${tokenRes.status})`);
  const agentEnv = (name: string) => ({
    ...common,
    GRIDLINE_SERVER: url,
    GRIDLINE_JOIN_TOKEN: joinToken,
    GRIDLINE_NODE_NAME: name,
    GRIDLINE_DATA_DIR: join(dataDir, 'agents', name),
    GRIDLINE_THREADS: env.GRIDLINE_THREADS ?? '1',
    GRIDLINE_CONTEXT_SIZE: env.GRIDLINE_CONTEXT_SIZE ?? '2048',
  });
  const agent = run('agent', 'apps/agent/src/main.js', {
    ...agentEnv(env.GRIDLINE_NODE_NAME ?? 'local'),
    GRIDLINE_MODEL_PATH: model.path,
    ...(model.name ? { GRIDLINE_MODEL_NAME: model.name } : {}),
  });
  // A small fleet beside it: agents with simulated GPUs (their models would run on this CPU).
  const fleet = (env.GRIDLINE_DEMO_FLEET ?? 'sim-h100=2xH100-80GB,sim-l4=1xL4-24GB').split(',').filter(Boolean);
  // Each agent's metrics listener on a port of its own: the first on the default (9465), the fleet's after it.
  fleet.forEach((item, i) => {
    const [name, gpus] = item.split('=');
    run(name, 'apps/agent/src/main.js', { ...agentEnv(name), GRIDLINE_SIMULATE_GPUS: gpus, GRIDLINE_NODE_LABELS: 'gridline.dev/simulated=true', GRIDLINE_METRICS_PORT: String(9466 + i) });
  });
  await agent.waitFor(/registered as/);

  // A first signed request, so "running" means "answers".
  const modelName = model.name ?? model.path.replace(/^.*\//, '').replace(/\.gguf$/i, '');
  const res = await signingFetch(keys)(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelName, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16 }),
  });
  const body = (await res.json()) as { choices: { message: { content: string } }[] };
  const firstAnswerSeconds = ((Date.now() - t0) / 1000).toFixed(1);
  say('');
  say('================================ Gridline is running ================================');
  say(`  API          ${url}`);
  say(`  Console      ${url}/console   (sign in with the keypair below)`);
  say(`  Swagger UI   ${url}/docs   (OpenAPI document: ${url}/docs-json)`);
  say(`  Access key   ${keys.accessKey}`);
  say(`  Secret key   ${keys.secretKey}`);
  say(`               (superadmin keypair, kept in ${join(dataDir, 'admin.json')}, mode 0600)`);
  say(`  Model        ${modelName}  (${model.path})`);
  if (res.ok) say(`  First answer ${JSON.stringify(body.choices[0].message.content)} after ${firstAnswerSeconds} s`);
  else say(`  First request failed: ${res.status} ${JSON.stringify(body)}`);
  say(`  Nodes        the local agent and ${fleet.length} with simulated GPUs: npm run gridline -- nodes`);
  say(`  Try          npm run gridline -- chat "Hello"`);
  say('  Stop         Ctrl-C');
  say('=====================================================================================');
}

main().catch((e: Error) => {
  say(`gridline: ${e.message}`);
  shutdown(1);
});
