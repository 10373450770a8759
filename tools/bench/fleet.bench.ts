#!/usr/bin/env node
/**
 * `npm run bench:fleet`: what a fleet's heartbeats cost the control plane's CPU.
 *
 * Starts the built api and scheduler (a fresh database and Redis namespace, both removed after),
 * measures them idle, then joins BENCH_NODES (1,000) simulated agents over HTTP with a multi-use,
 * self-approving join token, gives each BENCH_REPLICAS (2) replicas through the admin API, and
 * heartbeats every node every BENCH_HEARTBEAT_SECONDS (5), spread evenly, from this one process
 * over keep-alive connections, signed with each node's credential the way the agent signs them.
 * A heartbeat carries what an agent on a CUDA host sends: 8 GPUs as nvidia-smi reports them, its
 * replicas Ready under changing load, the jobs they run; its answer's desired replicas are what
 * the next heartbeat reports.
 *
 * Prints the CPU time of the api and scheduler processes (and of the Postgres backends serving
 * the bench database, and of this process) as % of one core over three windows of
 * BENCH_WINDOW_SECONDS (60): idle before the fleet joins; heartbeating, after
 * BENCH_WARMUP_SECONDS (10) of heartbeats; idle again with the fleet joined but silent. Beating
 * minus silent is what the heartbeats cost (per heartbeat too); silent minus empty is what the
 * fleet's mere size costs (the scheduler's periodic passes over every node). Also heartbeat latency
 * p50/p99 as the agents see it, heartbeats/s answered, and every error. BENCH_CPU_PROFILE_DIR=dir
 * also writes CPU profiles of both processes over the heartbeating window (the sampling adds to
 * their CPU time).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DATE_WINDOW_MS, generateKeypair, signingFetch } from '@gridline/auth';
import type { NodeGpu, RunningJob } from '@gridline/contract';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { AGENT_PATHS, HeartbeatReply, HeartbeatRequest, JoinReply, JoinRequest, NodeInventory, ReplicaReport, ReplicaSpec } from '@gridline/scheduling';
import { DIST, ManagedProcess, StackClient, TEST_REDIS_URL, TestDatabase, databaseUrl, freePort, freshDatabaseName, redisPrefix } from '@gridline/testing';
import { quantile, seededRandom } from './bench-stats';

function envInt(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const NODES = envInt('BENCH_NODES', 1000);
const REPLICAS_PER_NODE = envInt('BENCH_REPLICAS', 2);
const INTERVAL_S = envInt('BENCH_HEARTBEAT_SECONDS', 5);
const WARMUP_S = envInt('BENCH_WARMUP_SECONDS', 10);
const WINDOW_S = envInt('BENCH_WINDOW_SECONDS', 60);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR ? resolve(process.env.BENCH_CPU_PROFILE_DIR) : '';
/** Joins and replica creations in flight during setup (not measured). */
const SETUP_CONCURRENCY = 8;
const GPUS_PER_NODE = 8;
const GPU_BYTES = 80 * 1024 ** 3;
const SEQUENCES_PER_REPLICA = 4;
/** As the agent: a heartbeat unanswered this long has failed. */
const REQUEST_TIMEOUT_MS = 10_000;
const MODELS = ['fleet-a', 'fleet-b'];

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + system, every thread) a process has used, from /proc/<pid>/stat; null once it is gone. */
function cpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces; after it come state (3) … utime (14), stime (15).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

// The same fleet and the same load changes on every run.
const random = seededRandom(7);
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` over node:http with one keep-alive agent: a thousand agents would hold a thousand
 * sockets, here they share a pool, so the api pays for requests, not connections. (A real
 * agent's fetch keeps an idle socket open for less than the 5 s interval: it may connect per
 * heartbeat, which this does not measure.)
 */
function keepAliveFetch(agent: Agent): FetchLike {
  return (input, init = {}) =>
    new Promise<Response>((done, fail) => {
      const url = input instanceof Request ? input.url : input.toString();
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(new Response(chunks.length ? Buffer.concat(chunks) : null, { status: res.statusCode ?? 502 })));
        res.on('error', fail);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', fail);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
}

/** The stable code of a refusal, as the agent reads it. */
async function refusal(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { code?: string; error?: { code?: string } };
    return `HTTP ${res.status} ${body.code ?? body.error?.code ?? ''}`.trim();
  } catch {
    return `HTTP ${res.status}`;
  }
}

interface ControlPlane {
  url: string;
  root: { accessKey: string; secretKey: string };
  db: TestDatabase;
  prefix: string;
  api: ManagedProcess;
  scheduler: ManagedProcess;
  stop(): Promise<void>;
}

/** The built api and scheduler as an operator runs them, on a database that does not exist yet and a Redis namespace of their own. */
async function startControlPlane(dir: string): Promise<ControlPlane> {
  const db = freshDatabaseName();
  const prefix = redisPrefix();
  const port = await freePort();
  const root = generateKeypair();
  const profiled = (name: string): Record<string, string> =>
    PROFILE_DIR ? { NODE_OPTIONS: `--require ${join(DIST, 'tools/bench/window-profiler.js')}`, BENCH_PROFILE_PATH: join(PROFILE_DIR, `${name}.cpuprofile`) } : {};
  const common = {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    GRIDLINE_REDIS_PREFIX: prefix,
    GRIDLINE_HEARTBEAT_SECONDS: String(INTERVAL_S),
    // A silent fleet stays Ready through its baseline (no NotReady or Lost transitions in it); heartbeats are answered alike.
    GRIDLINE_NODE_TIMEOUT_SECONDS: String(10 * (WARMUP_S + WINDOW_S)),
    GRIDLINE_NODE_LOST_SECONDS: String(20 * (WARMUP_S + WINDOW_S)),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  };
  const processes: ManagedProcess[] = [];
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await db.drop();
    })());
  try {
    const api = new ManagedProcess('api', join(DIST, 'apps/api/src/main.js'), {
      ...common,
      ...profiled('api'),
      PORT: String(port),
      HOST: '127.0.0.1',
      GRIDLINE_DATA_DIR: dir,
      GRIDLINE_MODEL_ROOTS: dir,
      GRIDLINE_MASTER_KEY: randomBytes(32).toString('hex'),
      GRIDLINE_BOOTSTRAP_ACCESS_KEY: root.accessKey,
      GRIDLINE_BOOTSTRAP_SECRET_KEY: root.secretKey,
    });
    processes.push(api);
    await api.waitFor(/listening on/);
    // After the api: it created and migrated the database.
    const scheduler = new ManagedProcess('scheduler', join(DIST, 'apps/scheduler/src/main.js'), { ...common, ...profiled('scheduler'), GRIDLINE_METRICS_PORT: '0' });
    processes.push(scheduler);
    // Measured as the leader: it reconciles, sweeps and watches nodes; a standby does not.
    await scheduler.waitFor(/leader \(lease token/);
    return { url: `http://127.0.0.1:${port}`, root, db, prefix, api, scheduler, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

interface NamespaceKeys {
  keys: number;
  replayMarkers: number;
}

/** Counts the keys of the bench's Redis namespace (and how many are replay markers), removing them when asked. */
async function scanNamespace(prefix: string, remove: boolean): Promise<NamespaceKeys> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const seen = { keys: 0, replayMarkers: 0 };
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      seen.keys += keys.length;
      seen.replayMarkers += keys.filter((k) => k.startsWith(`${prefix}:replay:`)).length;
      if (remove && keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
    return seen;
  } finally {
    redis.disconnect();
  }
}

interface Slot {
  jobId: string;
  beatsLeft: number;
}

/** One simulated agent: its credential, what the control plane last asked of it, and the jobs its replicas run. */
interface SimNode {
  id: string;
  name: string;
  send: FetchLike;
  gpuUuids: string[];
  /** The desired replicas from the last answer: the agent reports them Ready. */
  specs: ReplicaSpec[];
  slots: Map<string, (Slot | null)[]>;
  busy: boolean;
}

function inventory(node: SimNode, allocated: number[]): NodeInventory {
  const gpus: NodeGpu[] = node.gpuUuids.map((uuid, index) => ({
    index,
    name: 'NVIDIA H100 80GB HBM3',
    vendor: 'nvidia',
    uuid,
    totalMemoryBytes: GPU_BYTES,
    freeMemoryBytes: Math.max(0, GPU_BYTES - (allocated[index] ?? 0) - between(0, 512) * 1024 ** 2),
    utilizationPercent: allocated[index] ? between(20, 100) : 0,
    temperatureC: between(35, 80),
  }));
  return {
    agentVersion: '0.1.0',
    backend: 'cuda',
    llamaCppVersion: 'b6110',
    gpus,
    cpuCores: 96,
    totalMemoryBytes: 1024 * 1024 ** 3,
    freeMemoryBytes: between(600, 900) * 1024 ** 3,
    diskFreeBytes: between(2000, 3000) * 1024 ** 3,
    capabilities: [],
    platform: 'linux',
    arch: 'x64',
  };
}

/** The node's next heartbeat: its replicas' sequences start and end jobs between beats. */
function heartbeatOf(node: SimNode): HeartbeatRequest {
  const allocated: number[] = [];
  const replicas: ReplicaReport[] = [];
  const runningJobs: RunningJob[] = [];
  node.specs.forEach((spec, r) => {
    const gpuIndexes = [(2 * r) % GPUS_PER_NODE, (2 * r + 1) % GPUS_PER_NODE];
    const bytes = spec.estimateBytes ?? spec.sizeBytes;
    for (const g of gpuIndexes) allocated[g] = (allocated[g] ?? 0) + bytes / gpuIndexes.length;
    const slots = node.slots.get(spec.id) ?? Array.from({ length: spec.settings.parallel }, () => null);
    node.slots.set(spec.id, slots);
    for (let s = 0; s < slots.length; s++) {
      const slot = slots[s];
      if (slot && --slot.beatsLeft > 0) continue;
      slots[s] = random() < 0.6 ? { jobId: randomUUID(), beatsLeft: between(1, 6) } : null;
    }
    const running = slots.filter((s): s is Slot => s !== null);
    for (const job of running) runningJobs.push({ jobId: job.jobId, attempt: 1, replicaId: spec.id });
    replicas.push({
      id: spec.id,
      model: spec.model,
      sha256: spec.sha256,
      origin: 'control-plane',
      state: 'Ready',
      reason: null,
      parallel: spec.settings.parallel,
      busySequences: running.length,
      queueDepth: running.length === slots.length ? between(0, 3) : 0,
      tokensPerSecond: running.length ? Math.round(running.length * between(25, 45) * 10) / 10 : 0,
      gpuLayers: 33,
      totalLayers: 33,
      gpuIndexes,
      pid: 40_000 + r,
      memory: { estimateBytes: spec.estimateBytes, gpuBytes: bytes, cpuBytes: 512 * 1024 ** 2 },
      pull: null,
    });
  });
  return { nodeId: node.id, inventory: inventory(node, allocated), replicas, runningJobs, loads: [], shuttingDown: false };
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function inPool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

/** Joins the fleet as agents do (token, inventory, credential back) and places its replicas as an admin does. */
async function joinFleet(plane: ControlPlane, dir: string, plain: FetchLike, keepAlive: Agent): Promise<SimNode[]> {
  const admin = new StackClient({ ...plane.root, db: plane.db }, plane.url);
  try {
    const token = await admin.json<{ token: string }>('POST', '/api/v1/join-tokens', { maxUses: null, autoApprove: true, description: 'bench:fleet' });
    if (token.status !== 201) throw new Error(`creating the join token: HTTP ${token.status} ${JSON.stringify(token.body)}`);
    for (const [i, name] of MODELS.entries()) {
      const path = join(dir, `${name}.gguf`);
      writeFileSync(path, encodeGguf(buildTinyLlama({ seed: i + 1 })));
      const model = await admin.json('POST', '/api/v1/models', { name, source: `file://${path}` });
      if (model.status !== 201) throw new Error(`registering ${name}: HTTP ${model.status} ${JSON.stringify(model.body)}`);
    }
    const nodes: SimNode[] = [];
    await inPool(
      Array.from({ length: NODES }, (_, i) => i),
      SETUP_CONCURRENCY,
      async (i) => {
        const name = `gpu-${String(i).padStart(4, '0')}`;
        const gpuUuids = Array.from({ length: GPUS_PER_NODE }, () => `GPU-${randomUUID()}`);
        const node: SimNode = { id: '', name, send: plain, gpuUuids, specs: [], slots: new Map(), busy: false };
        const body: JoinRequest = { token: token.body.token, nodeName: name, labels: { zone: `zone-${i % 4}`, gpu: 'h100' }, taints: [], inventory: inventory(node, []) };
        const res = await plain(`${plane.url}${AGENT_PATHS.join}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        if (res.status !== 201) throw new Error(`joining ${name}: ${await refusal(res)}`);
        const joined = (await res.json()) as JoinReply;
        node.id = joined.nodeId;
        // The agent's own signing: signingFetch over its transport, with the node credential.
        node.send = signingFetch({ accessKey: joined.accessKey, secretKey: joined.secretKey }, keepAliveFetch(keepAlive));
        // Right after the join: a node is Ready (takes replicas) until its heartbeats are late.
        for (let r = 0; r < REPLICAS_PER_NODE; r++) {
          const placed = await admin.json('POST', `/api/v1/nodes/${node.id}/replicas`, { model: MODELS[r % MODELS.length], contextSize: 4096, parallel: SEQUENCES_PER_REPLICA });
          if (placed.status !== 201) throw new Error(`placing a replica on ${name}: HTTP ${placed.status} ${JSON.stringify(placed.body)}`);
        }
        nodes.push(node);
      },
    );
    return nodes;
  } finally {
    await admin.close();
  }
}

interface BeatStats {
  sent: number;
  answered: number;
  /** Due while the node's previous heartbeat was unanswered (the agent sends one at a time). */
  skipped: number;
  latenciesMs: number[];
  errors: Map<string, number>;
}

const newStats = (): BeatStats => ({ sent: 0, answered: 0, skipped: 0, latenciesMs: [], errors: new Map() });

/** Every node once per interval, in a fixed order spread evenly over it; each answer becomes the node's desired state. */
class Heartbeats {
  stats = newStats();
  private running = false;
  private inFlight = 0;
  private k = 0;
  private origin = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly spacingMs: number;

  constructor(
    private readonly nodes: SimNode[],
    private readonly url: string,
  ) {
    this.spacingMs = (INTERVAL_S * 1000) / nodes.length;
  }

  start(): void {
    this.running = true;
    this.origin = performance.now();
    this.tick();
  }

  /** Stops sending; resolves when every heartbeat sent has its answer (or its timeout). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    while (this.inFlight > 0) await sleep(20);
  }

  private readonly tick = (): void => {
    const now = performance.now();
    while (this.running && this.origin + this.k * this.spacingMs <= now) {
      this.beat(this.nodes[this.k % this.nodes.length]);
      this.k++;
    }
    if (this.running) this.timer = setTimeout(this.tick, Math.max(1, this.origin + this.k * this.spacingMs - performance.now()));
  };

  private beat(node: SimNode): void {
    const stats = this.stats;
    if (node.busy) {
      stats.skipped++;
      return;
    }
    node.busy = true;
    this.inFlight++;
    stats.sent++;
    const body = JSON.stringify(heartbeatOf(node));
    const started = performance.now();
    void node
      .send(`${this.url}${AGENT_PATHS.heartbeat}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then(async (res) => {
        if (!res.ok) return refusal(res);
        const reply = (await res.json()) as HeartbeatReply;
        stats.latenciesMs.push(performance.now() - started);
        node.specs = reply.replicas;
        if (reply.nodeId !== node.id || reply.status !== 'Ready') return `answer: ${reply.status} (${reply.reason})`;
        if (reply.replicas.length !== REPLICAS_PER_NODE) return `answer: ${reply.replicas.length} desired replicas, not ${REPLICAS_PER_NODE}`;
        stats.answered++;
        return null;
      })
      .catch((e: Error) => `network: ${e.message}`)
      .then((error) => {
        if (error) stats.errors.set(error, (stats.errors.get(error) ?? 0) + 1);
        node.busy = false;
        this.inFlight--;
      });
  }
}

interface CpuSnapshot {
  at: number;
  api: number;
  scheduler: number;
  /** CPU seconds of each Postgres backend connected to the bench database, by pid. */
  postgres: Map<number, number>;
  bench: number;
  /** Transactions the bench database has committed or rolled back (a statement outside a transaction is one). */
  transactions: number;
}

interface CpuShare {
  seconds: number;
  api: number;
  scheduler: number;
  postgres: number;
  bench: number;
  transactions: number;
}

async function snapshot(plane: ControlPlane, pg: Client): Promise<CpuSnapshot> {
  const backends = await pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [plane.db.name]);
  // Backends report their counts within a second or so: negligible over a window.
  const done = await pg.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [plane.db.name]);
  const postgres = new Map<number, number>();
  for (const { pid } of backends.rows) {
    const s = cpuSeconds(pid);
    if (s !== null) postgres.set(pid, s);
  }
  const api = cpuSeconds(plane.api.child.pid!);
  const scheduler = cpuSeconds(plane.scheduler.child.pid!);
  if (api === null || scheduler === null) throw new Error(`the ${api === null ? 'api' : 'scheduler'} exited:\n${(api === null ? plane.api : plane.scheduler).output.slice(-4000)}`);
  const own = process.cpuUsage();
  return { at: performance.now(), api, scheduler, postgres, bench: (own.user + own.system) / 1e6, transactions: Number(done.rows[0]?.n ?? 0) };
}

/** Shares of one core between two snapshots; a backend that connected in between counts whole. */
function share(a: CpuSnapshot, b: CpuSnapshot): CpuShare {
  const seconds = (b.at - a.at) / 1000;
  let postgres = 0;
  for (const [pid, s] of b.postgres) postgres += s - (a.postgres.get(pid) ?? 0);
  return {
    seconds,
    api: (b.api - a.api) / seconds,
    scheduler: (b.scheduler - a.scheduler) / seconds,
    postgres: postgres / seconds,
    bench: (b.bench - a.bench) / seconds,
    transactions: (b.transactions - a.transactions) / seconds,
  };
}

/** Signals both processes' window profilers (start, then stop and write). */
function toggleProfiles(plane: ControlPlane): void {
  if (!PROFILE_DIR) return;
  plane.api.child.kill('SIGWINCH');
  plane.scheduler.child.kill('SIGWINCH');
}

async function profilesWritten(): Promise<void> {
  for (const name of ['api', 'scheduler']) {
    const path = join(PROFILE_DIR, `${name}.cpuprofile`);
    for (let waited = 0; !existsSync(path); waited += 100) {
      if (waited > 30_000) throw new Error(`no ${path} after the window`);
      await sleep(100);
    }
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const count = (x: number) => x.toLocaleString('en-US');

interface Windows {
  /** Before the fleet joins. */
  empty: CpuShare;
  /** The fleet joined, its heartbeats stopped. */
  silent: CpuShare;
  heartbeating: CpuShare;
}

function report(w: Windows, stats: BeatStats, bodyBytes: number, redis: NamespaceKeys, loadBefore: number): void {
  const out = process.stdout;
  const scheduled = NODES / INTERVAL_S;
  const minus = (a: CpuShare, b: CpuShare): CpuShare => ({
    seconds: a.seconds,
    api: a.api - b.api,
    scheduler: a.scheduler - b.scheduler,
    postgres: a.postgres - b.postgres,
    bench: a.bench - b.bench,
    transactions: a.transactions - b.transactions,
  });
  const widths = [44, 9, 11, 16, 15, 9];
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('')}\n`;
  const row = (label: string, c: CpuShare) => line([label, ...[c.api, c.scheduler, c.api + c.scheduler, c.postgres, c.bench].map(pct)]);
  const beats = minus(w.heartbeating, w.silent);
  const perSecond = stats.answered / w.heartbeating.seconds;
  const lat = [...stats.latenciesMs].sort((a, b) => a - b);
  out.write(`\nGridline fleet benchmark: ${count(NODES)} simulated agents, a heartbeat each every ${INTERVAL_S} s spread evenly (${count(scheduled)}/s), `);
  out.write(`${GPUS_PER_NODE} GPUs and ${REPLICAS_PER_NODE} replicas per node, ${(bodyBytes / 1024).toFixed(1)} KiB per heartbeat\n`);
  out.write(`host: ${cpus().length} cores, load average ${loadBefore.toFixed(2)} before the run; windows of ${w.heartbeating.seconds.toFixed(1)} s, the heartbeating one after ${WARMUP_S} s of heartbeats\n\n`);
  out.write(line(['CPU, % of one core', 'api', 'scheduler', 'api+scheduler', 'postgres (db)', 'bench']));
  out.write(row('idle: no fleet', w.empty));
  out.write(row(`idle: ${count(NODES)} nodes joined, silent`, w.silent));
  out.write(row(`${count(NODES)} agents heartbeating`, w.heartbeating));
  out.write(row('a silent fleet\'s cost (silent − no fleet)', minus(w.silent, w.empty)));
  out.write(row('the heartbeats\' cost (beating − silent)', beats));
  out.write(`  per heartbeat answered: api ${ms((1000 * beats.api) / perSecond)}, scheduler ${ms((1000 * beats.scheduler) / perSecond)}, postgres ${ms((1000 * beats.postgres) / perSecond)} of CPU; `);
  out.write(`${(beats.transactions / perSecond).toFixed(1)} Postgres transactions (a silent fleet: ${(w.silent.transactions - w.empty.transactions).toFixed(1)}/s more than none)\n\n`);
  out.write(`  heartbeats answered    ${perSecond.toFixed(1)}/s of ${count(scheduled)}/s scheduled (${count(stats.answered)} of ${count(stats.sent)} sent in the window)\n`);
  out.write(`  latency (agent side)   p50 ${ms(quantile(lat, 0.5))}  p99 ${ms(quantile(lat, 0.99))}  max ${ms(lat[lat.length - 1] ?? NaN)}\n`);
  out.write(`  skipped                ${count(stats.skipped)} (due while the node's previous heartbeat was unanswered)\n`);
  out.write(`  errors                 ${stats.errors.size === 0 ? 'none' : [...stats.errors].map(([e, n]) => `${count(n)}× ${e}`).join('; ')}\n`);
  // The api keeps a marker while its signed date is accepted, plus a minute of clock skew between replicas (replay-guard.ts).
  const markerMinutes = DATE_WINDOW_MS / 60_000 + 1;
  out.write(`  Redis keys after it    ${count(redis.keys)} in the bench namespace, ${count(redis.replayMarkers)} of them replay markers (one per signed request, kept ${markerMinutes} min: about ${count(Math.round(markerMinutes * 60 * perSecond))} for this fleet once steady)\n`);
  if (PROFILE_DIR) out.write(`  CPU profiles of the heartbeating window: ${join(PROFILE_DIR, 'api.cpuprofile')}, ${join(PROFILE_DIR, 'scheduler.cpuprofile')} (sampling adds to the CPU above)\n`);
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0];
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    for (const name of ['api', 'scheduler']) rmSync(join(PROFILE_DIR, `${name}.cpuprofile`), { force: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-fleet-'));
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 64 });
  const plain = keepAliveFetch(keepAlive);
  const plane = await startControlPlane(dir);
  const pg = new Client({ connectionString: databaseUrl('postgres') });
  let heartbeats: Heartbeats | null = null;
  try {
    await pg.connect();
    process.stderr.write(`bench:fleet: control plane up; settling ${WARMUP_S} s, then ${WINDOW_S} s idle\n`);
    const window = async () => {
      const from = await snapshot(plane, pg);
      await sleep(WINDOW_S * 1000);
      return share(from, await snapshot(plane, pg));
    };
    await sleep(WARMUP_S * 1000);
    const empty = await window();

    process.stderr.write(`bench:fleet: joining ${count(NODES)} nodes with ${REPLICAS_PER_NODE} replicas each\n`);
    const joinStarted = performance.now();
    const nodes = await joinFleet(plane, dir, plain, keepAlive);
    process.stderr.write(`bench:fleet: joined in ${((performance.now() - joinStarted) / 1000).toFixed(1)} s; heartbeating, ${WARMUP_S} s warm-up then ${WINDOW_S} s measured\n`);
    heartbeats = new Heartbeats(nodes, plane.url);
    heartbeats.start();
    await sleep(WARMUP_S * 1000);
    const warmup = heartbeats.stats;
    const measured = newStats();
    heartbeats.stats = measured;
    toggleProfiles(plane);
    const heartbeating = await window();
    toggleProfiles(plane);
    heartbeats.stats = newStats();
    await heartbeats.stop();
    heartbeats = null;
    if (PROFILE_DIR) await profilesWritten();
    if (warmup.errors.size > 0) process.stderr.write(`bench:fleet: errors in the warm-up: ${[...warmup.errors].map(([e, n]) => `${n}× ${e}`).join('; ')}\n`);
    const redis = await scanNamespace(plane.prefix, false);

    process.stderr.write(`bench:fleet: heartbeats stopped; settling ${WARMUP_S} s, then ${WINDOW_S} s with the fleet silent\n`);
    await sleep(WARMUP_S * 1000);
    const silent = await window();
    const bodyBytes = Buffer.byteLength(JSON.stringify(heartbeatOf(nodes[0])));
    report({ empty, silent, heartbeating }, measured, bodyBytes, redis, loadBefore);
  } finally {
    await heartbeats?.stop();
    keepAlive.destroy();
    await pg.end().catch(() => undefined);
    await plane.stop();
    await scanNamespace(plane.prefix, true);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench:fleet failed: ${e.message}\n`);
  process.exit(1);
});
