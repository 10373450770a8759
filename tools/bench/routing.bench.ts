#!/usr/bin/env node
/**
 * `npm run bench:routing`, in three parts, each with its baseline in the same run.
 *
 * 1. One routing decision over a synthetic fleet of 1,000 nodes and 5,000 replicas of 50 models
 *    (Zipf-skewed: the most popular model has hundreds of replicas), random load, and a prefix
 *    index warmed by routing jobs whose prompts share long system prompts. Prints p50/p99 µs per
 *    decision for `routeJob` over the model's replicas (a RoutingView) and over the flat fleet,
 *    with `pickReplica` (load only) as the baseline. Load stands still while decisions are
 *    measured, so this measures their cost, not the routing's quality (part 3 does).
 * 2. Jobs routed end to end: the three built processes on the local Postgres and Redis (a fresh
 *    database and key prefix, both removed afterwards), N clients each sending signed chat
 *    completions of one token to a tiny model, one after another. Prints jobs/s, the request's
 *    p50/p99, and two hops: accepted → dispatched (the job row's timestamps: the api's insert and
 *    enqueue, the scheduler's routing) and dispatched → node started (to the agent's `started`
 *    note in Redis: the node's queue and the agent taking the job). Baseline: the same requests
 *    to a llama.cpp runner process of the same model and sequences, called directly.
 * 3. Time to first token on real runners: two replicas of a wider tiny llama (prefill costs about
 *    a millisecond a token on one thread), clients streaming chat completions whose prompts share
 *    one of a few long system prompts, routed with prefix affinity (the scheduler as it ships) and
 *    by load only (`GRIDLINE_ROUTING_PREFIX_AFFINITY=false`, a second scheduler taking over).
 *
 * BENCH_PARTS picks the parts (default 1,2,3).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type ChatMessage, chatRequest } from '@gridline/contract';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { PrefixIndex, RoutingView, type BlockHash, type ReplicaView, pickReplica, promptBlockHashes, routeJob } from '@gridline/scheduling';
import { type RunningStack, StackClient, TEST_REDIS_URL, startRunner, startStack, until } from '@gridline/testing';
import { quantiles, seededRandom } from './bench-stats';

const NODES = 1000;
const REPLICAS = 5000;
const MODELS = 50;
const SYSTEM_PROMPTS_PER_MODEL = 8;
const WARM_JOBS = Number(process.env.BENCH_WARM_JOBS ?? 50_000);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 20_000);

// Every run routes the same fleet and the same jobs.
const random = seededRandom(42);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const WORDS = 'the of and to in is that for it as with was on be by at this from or an are not have which but all were when we there can more if will one about into no only other time some could these two may first then do any like my now over such our man me even most made after also did many before must through years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
/** Joined, not concatenated: a prompt from a parsed request body is a flat string, not a rope of words. */
const text = (bytes: number, next = random) => {
  const words: string[] = [];
  for (let length = 0; length < bytes; length += words[words.length - 1].length + 1) words.push(WORDS[Math.floor(next() * WORDS.length)]);
  return words.join(' ');
};

/** Zipf(1) over models: model 0 is the most popular, for replicas and for jobs alike. */
const zipf = Array.from({ length: MODELS }, (_, i) => 1 / (i + 1));
const zipfTotal = zipf.reduce((a, b) => a + b, 0);
function popularModel(): string {
  let x = random() * zipfTotal;
  for (let i = 0; i < MODELS; i++) if ((x -= zipf[i]) <= 0) return `model-${i}`;
  return `model-${MODELS - 1}`;
}

function fleet(): ReplicaView[] {
  const replicas: ReplicaView[] = [];
  // Every model has at least one replica; the rest follow the models' popularity.
  for (let i = 0; i < REPLICAS; i++) {
    const slots = [4, 8, 16][int(0, 2)];
    const inFlight = random() < 0.3 ? 0 : int(0, slots);
    replicas.push({
      nodeId: `node-${String(int(0, NODES - 1)).padStart(4, '0')}`,
      replicaId: `replica-${i}`,
      model: i < MODELS ? `model-${i}` : popularModel(),
      ready: random() < 0.97,
      slots,
      inFlight,
      queueDepth: random() < 0.1 ? int(1, 3) : 0,
    });
  }
  return replicas;
}

interface Job {
  model: string;
  blocks: BlockHash[];
}

/** Jobs whose prompts are one of their model's system prompts and a question; `hashUs` receives the hashing time of each. */
function jobs(n: number, systemPrompts: Map<string, string[]>, hashUs: number[] = []): Job[] {
  return Array.from({ length: n }, () => {
    const model = popularModel();
    const system = systemPrompts.get(model) ?? [];
    const prompt = system[int(0, system.length - 1)] + text(int(200, 2000));
    const t = performance.now();
    const blocks = promptBlockHashes(prompt);
    hashUs.push((performance.now() - t) * 1000);
    return { model, blocks };
  });
}

function stats(us: number[]): string {
  const s = [...us].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${q(0.5).toFixed(2).padStart(7)} µs  p99 ${q(0.99).toFixed(2).padStart(7)} µs`;
}

function decisions(): void {
  const replicas = fleet();
  const view = new RoutingView();
  for (const r of replicas) view.upsert(r);
  const systemPrompts = new Map(Array.from({ length: MODELS }, (_, i) => [`model-${i}`, Array.from({ length: SYSTEM_PROMPTS_PER_MODEL }, () => text(int(2000, 8000)))]));

  const index = new PrefixIndex();
  const hashUs: number[] = [];
  const warm = jobs(WARM_JOBS, systemPrompts, hashUs);
  const r0 = performance.now();
  for (const job of warm) {
    const chosen = routeJob(view, job, index)?.replica;
    if (chosen) index.record(chosen.replicaId, job.blocks);
    // Load moves while the index warms, so the prompts spread as they would in a live fleet.
    const moved = replicas[int(0, REPLICAS - 1)];
    moved.inFlight = random() < 0.3 ? 0 : int(0, moved.slots);
  }
  const warmUs = ((performance.now() - r0) * 1000) / WARM_JOBS;

  const measured = jobs(DECISIONS, systemPrompts);
  const rows: [string, (job: Job) => unknown][] = [
    ['pickReplica, flat fleet (baseline)', (job) => pickReplica(replicas, job.model)],
    ['pickReplica, RoutingView', (job) => pickReplica(view.replicasOf(job.model), job.model)],
    ['routeJob, flat fleet', (job) => routeJob(replicas, job, index)],
    ['routeJob, RoutingView', (job) => routeJob(view, job, index)],
  ];
  // One discarded pass over every row, so no row pays for the JIT warming up.
  for (const [, route] of rows) for (const job of measured) route(job);

  const out = process.stdout;
  const perModel = replicas.filter((r) => r.model === 'model-0').length;
  out.write(`\nGridline routing benchmark: ${NODES} nodes, ${REPLICAS} replicas of ${MODELS} models (most popular: ${perModel}), ${DECISIONS} decisions per row, goal ≤ 50 µs a decision\n`);
  out.write(`  prefix index: ${index.size} blocks after ${WARM_JOBS} routed jobs (limits ${index.limits.perReplica}/replica, ${index.limits.total} in all)\n`);
  const holders = measured.reduce((n, job) => n + index.replicasWithPrefix(job.blocks).size, 0) / measured.length;
  out.write(`  replicas holding a prompt's first block: ${holders.toFixed(1)} on average (the only ones routeJob looks up over a RoutingView)\n`);
  out.write(`  hashing a prompt (2–10 KB) into blocks: ${stats(hashUs)};  route + record while warming: ${warmUs.toFixed(2)} µs mean\n`);
  for (const [name, route] of rows) {
    const us: number[] = [];
    for (const job of measured) {
      const t = performance.now();
      route(job);
      us.push((performance.now() - t) * 1000);
    }
    out.write(`  ${name.padEnd(36)} ${stats(us)}\n`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parts 2 and 3: end to end, on the local Postgres and Redis.

const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3').split(','));

/** Part 2: the client counts, and how long each runs. */
const CLIENTS = (process.env.BENCH_CLIENTS ?? '1,8').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
/**
 * Sequences of part 2's replica: twice the most clients. A sequence counts as free once the
 * scheduler reads the node's `ended` note, which can be after its client has the answer and sent
 * the next request: with as many sequences as clients, jobs would wait for a free one, not routing.
 */
const TINY_SLOTS = Number(process.env.BENCH_SLOTS ?? 2 * Math.max(...CLIENTS));
/** Part 3: system prompts, clients, requests per routing, and the replicas' sequences. */
const GROUPS = Number(process.env.BENCH_PREFIX_GROUPS ?? 6);
const PREFIX_CLIENTS = Number(process.env.BENCH_PREFIX_CLIENTS ?? 4);
const PREFIX_REQUESTS = Number(process.env.BENCH_PREFIX_REQUESTS ?? 120);
const PREFIX_SLOTS = 4;
const SYSTEM_BYTES = Number(process.env.BENCH_SYSTEM_BYTES ?? 800);
/**
 * Wide enough that prefill dominates a first token (about 1 ms a prompt token on one thread,
 * where the default tiny llama takes a tenth of that; its vocabulary makes a token of about every
 * byte), few enough layers that a replica loads in a second. A narrower model with more layers
 * was tried: its first token costs more per token of context even when the whole prefix is
 * cached, which hides what a cache hit saves.
 */
const PREFILL_MODEL = { seed: 7, embedding: 384, layers: 3, heads: 6, kvHeads: 3, feedForward: 1536, contextLength: 4096, name: 'gridline-prefill' };

const ms = (x: number) => `${x.toFixed(1).padStart(7)} ms`;

interface LoopResult {
  ids: string[];
  latencies: number[];
  seconds: number;
}

/** `clients` callers, each sending one request after another until `seconds` have passed; `send` returns the job id. */
async function closedLoop(clients: number, seconds: number, send: (n: number) => Promise<string>): Promise<LoopResult> {
  const ids: string[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        ids.push(await send(n++));
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { ids, latencies, seconds: (performance.now() - started) / 1000 };
}

/**
 * When each job's node began it: the id of the agent's `started` note on the progress stream is
 * the Redis clock's millisecond at which it was written (the same host's clock as the rows').
 */
async function nodeStarts(stack: RunningStack, ids: readonly string[]): Promise<Map<string, number>> {
  const wanted = new Set(ids);
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const started = new Map<string, number>();
    for (const [id, fields] of await redis.xrange(`${stack.prefix}:jobs:progress`, '-', '+')) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i], fields[i + 1]);
      const job = f.get('job');
      if (job && wanted.has(job) && f.get('kind') === 'started') started.set(job, Number(id.split('-')[0]));
    }
    return started;
  } finally {
    redis.disconnect();
  }
}

/** CPU seconds a process has used (Linux /proc; 0 elsewhere): where a row's time went. */
function cpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in ticks of 1/100 s.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Throughput and the hops of each job, for part 2. */
async function routedEndToEnd(stack: RunningStack, client: StackClient): Promise<string[]> {
  const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me about the river and the stone.' }];
  const body = JSON.stringify({ model: stack.modelName, messages, max_tokens: 1, temperature: 0 });
  const viaStack = async () => {
    const res = await client.fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const answer = (await res.json()) as { usage?: { completion_tokens: number } };
    const id = res.headers.get('x-gridline-job-id');
    if (!res.ok || !id || answer.usage?.completion_tokens !== 1) throw new Error(`unexpected answer ${res.status} ${JSON.stringify(answer)}`);
    return id;
  };
  await closedLoop(2, 1, viaStack); // warm-up: connections, JIT, the runner's first evaluation
  const lines = [`\nJobs routed end to end (signed chat completions of 1 token to a tiny llama: api → Redis → scheduler → Redis → agent → llama.cpp runner of ${TINY_SLOTS} sequences, 1 thread; ${SECONDS} s per row)`];
  lines.push(`  ${'clients'.padEnd(9)}${'jobs/s'.padStart(7)}   ${'request p50'.padStart(11)} ${'p99'.padStart(10)}   ${'accepted → dispatched p50'.padStart(25)} ${'p99'.padStart(10)}   ${'dispatched → node started p50'.padStart(29)} ${'p99'.padStart(10)}   CPU s/s (the runner is the agent's child)`);
  for (const clients of CLIENTS) {
    const processes = [stack.api, stack.scheduler, stack.agent];
    const cpuBefore = processes.map((p) => cpuSeconds(p.child.pid));
    const run = await closedLoop(clients, SECONDS, viaStack);
    const cpu = processes.map((p, i) => `${p.name} ${((cpuSeconds(p.child.pid) - cpuBefore[i]) / run.seconds).toFixed(2)}`);
    const started = await nodeStarts(stack, run.ids);
    const rows = await client.sql<{ id: string; created: string; dispatched: string | null }>(
      'SELECT id, EXTRACT(EPOCH FROM created_at) * 1000 AS created, EXTRACT(EPOCH FROM dispatched_at) * 1000 AS dispatched FROM jobs WHERE id = ANY($1)',
      [run.ids],
    );
    const request = quantiles(run.latencies);
    const dispatch = quantiles(rows.flatMap((r) => (r.dispatched === null ? [] : [Number(r.dispatched) - Number(r.created)])));
    const start = quantiles(rows.flatMap((r) => (r.dispatched === null || !started.has(r.id) ? [] : [(started.get(r.id) ?? 0) - Number(r.dispatched)])));
    lines.push(
      `  ${String(clients).padEnd(9)}${(run.ids.length / run.seconds).toFixed(1).padStart(7)}   ${ms(request(0.5)).padStart(11)} ${ms(request(0.99))}   ${ms(dispatch(0.5)).padStart(25)} ${ms(dispatch(0.99))}   ${ms(start(0.5)).padStart(29)} ${ms(start(0.99))}   ${cpu.join(', ')}`,
    );
  }

  // Baseline: the same generation asked of a runner process directly (the agent's IPC, no network, no queue).
  const runner = startRunner();
  try {
    await runner.start('cpu');
    await runner.load({ modelPath: stack.modelPath, gpuLayers: 0, contextSize: 2048, parallel: TINY_SLOTS, threads: 1 });
    const request = chatRequest(messages, { maxTokens: 1, sampling: { temperature: 0 } });
    const direct = async (n: number) => {
      const done = await runner.generate(`b${n}`, request);
      if (done.completionTokens !== 1) throw new Error(`the runner generated ${done.completionTokens} tokens`);
      return `b${n}`;
    };
    await closedLoop(2, 1, direct);
    for (const clients of CLIENTS) {
      const run = await closedLoop(clients, Math.min(SECONDS, 4), direct);
      const request = quantiles(run.latencies);
      lines.push(`  baseline, the runner called directly, ${clients} client${clients === 1 ? ': ' : 's:'} ${(run.ids.length / run.seconds).toFixed(1).padStart(7)} jobs/s   request p50 ${ms(request(0.5))}  p99 ${ms(request(0.99))}`);
    }
  } finally {
    await runner.stop();
  }
  lines.push(`  (accepted and dispatched: the job row's created_at and dispatched_at, which the api and the scheduler write; node started: when the agent's "started" note entered Redis. The row's started_at comes later, when the scheduler reads that note. Load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs at the end.)`);
  return lines;
}

interface PrefixRun {
  ttft: number[];
  ids: string[];
  /** The system prompt of each job, by job id (distinct across blocks). */
  groupOf: Map<string, string>;
}

/**
 * One block of part 3: `PREFIX_REQUESTS / 2` streaming chats over `PREFIX_CLIENTS` clients, each
 * on one of `systems` (the same sequence of choices in every block), added to `run`.
 */
async function sharedPrefixBlock(client: StackClient, model: string, systems: string[], block: number, run: PrefixRun): Promise<void> {
  const next = seededRandom(7);
  const plan = Array.from({ length: Math.ceil(PREFIX_REQUESTS / 2) }, (_, i) => ({ group: Math.floor(next() * systems.length), question: `Question ${i}: ${text(40, next)}?` }));
  let taken = 0;
  await Promise.all(
    Array.from({ length: PREFIX_CLIENTS }, async () => {
      while (taken < plan.length) {
        const { group, question } = plan[taken++];
        const sent = performance.now();
        let first = 0;
        const answer = await client.stream({ model, messages: [{ role: 'system', content: systems[group] }, { role: 'user', content: question }], max_tokens: 2, temperature: 0 }, (event) => {
          const delta = (event.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content;
          if (delta && !first) first = performance.now();
          return false;
        });
        const id = answer.headers.get('x-gridline-job-id');
        if (answer.status !== 200 || !answer.done || !first || !id) throw new Error(`unexpected stream ${answer.status}: ${JSON.stringify(answer.events.slice(0, 2))}`);
        run.ttft.push(first - sent);
        run.ids.push(id);
        run.groupOf.set(id, `${block}/${group}`);
      }
    }),
  );
}

/** One plain request that has to be routed and answered: the scheduler leads and has heard the nodes. */
async function answered(client: StackClient, model: string): Promise<void> {
  const res = await client.json('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'Are you there?' }], max_tokens: 1 });
  if (res.status !== 200) throw new Error(`probe failed: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The figures of one routing's jobs, from their rows. */
async function prefixRow(client: StackClient, name: string, run: PrefixRun): Promise<string> {
  const rows = await client.sql<{ id: string; prompt_tokens: number | null; cached_prompt_tokens: number | null; replica_id: string | null }>(
    'SELECT id, prompt_tokens, cached_prompt_tokens, replica_id FROM jobs WHERE id = ANY($1) ORDER BY created_at',
    [run.ids],
  );
  const prompt = rows.reduce((n, r) => n + (r.prompt_tokens ?? 0), 0);
  const cached = rows.reduce((n, r) => n + (r.cached_prompt_tokens ?? 0), 0);
  const isHit = (r: (typeof rows)[number]) => (r.cached_prompt_tokens ?? 0) * 2 > (r.prompt_tokens ?? 0);
  const hits = rows.filter(isHit).length;
  const ttftOf = new Map(run.ids.map((id, i) => [id, run.ttft[i]]));
  const hitTtft = quantiles(rows.filter(isHit).map((r) => ttftOf.get(r.id) ?? NaN));
  const missTtft = quantiles(rows.filter((r) => !isHit(r)).map((r) => ttftOf.get(r.id) ?? NaN));
  // How often a system prompt's job went where its previous one had gone: what affinity aims at.
  const lastReplica = new Map<string, string>();
  let again = 0;
  let followers = 0;
  for (const r of rows) {
    const group = run.groupOf.get(r.id) ?? '';
    const previous = lastReplica.get(group);
    if (previous !== undefined) {
      followers++;
      if (previous === r.replica_id) again++;
    }
    lastReplica.set(group, r.replica_id ?? '');
  }
  const q = quantiles(run.ttft);
  const mean = run.ttft.reduce((a, b) => a + b, 0) / run.ttft.length;
  const reused = `${((100 * cached) / prompt).toFixed(0)} %, ${hits} of ${rows.length} hits`;
  return `  ${name.padEnd(40)}${ms(q(0.5))} ${ms(q(0.9))} ${ms(mean)}   ${reused.padEnd(22)} ${ms(hitTtft(0.5))} ${ms(missTtft(0.5))}   ${((100 * again) / followers).toFixed(0).padStart(3)} %`;
}

/**
 * Time to first token with prefix affinity vs. load only, on two replicas of a wider tiny llama
 * (part 3). The routings take turns, affinity – load only – load only – affinity, so that a
 * machine busier at one moment than another weighs on both alike.
 */
async function sharedPrefixes(stack: RunningStack, client: StackClient, dir: string): Promise<string[]> {
  const model = 'prefill';
  writeFileSync(join(dir, `${model}.gguf`), encodeGguf(buildTinyLlama(PREFILL_MODEL)));
  const registered = await client.json('POST', '/api/v1/models', { name: model, source: `file://${join(dir, `${model}.gguf`)}` });
  if (registered.status !== 201) throw new Error(`registering the model failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const nodes = await client.json<{ items: { id: string }[] }>('GET', '/api/v1/nodes');
  const nodeId = nodes.body.items[0].id;
  for (let i = 0; i < 2; i++) {
    const added = await client.json('POST', `/api/v1/nodes/${nodeId}/replicas`, { model, contextSize: 1024, parallel: PREFIX_SLOTS, threads: 1 });
    if (added.status !== 201) throw new Error(`adding a replica failed: ${added.status} ${JSON.stringify(added.body)}`);
  }
  await until(
    'two replicas Ready',
    async () => {
      const replicas = (await client.json<{ replicas: { model: string; state: string; reason: string | null }[] }>('GET', `/api/v1/nodes/${nodeId}`)).body.replicas.filter((r) => r.model === model);
      const failed = replicas.find((r) => r.state === 'Failed');
      if (failed) throw new Error(`a replica failed to load: ${failed.reason}`);
      return replicas.filter((r) => r.state === 'Ready').length === 2 ? true : undefined;
    },
    120_000,
    200,
  );
  await answered(client, model);

  let leader = stack.scheduler;
  /** A scheduler with the routing given takes over from the one that leads. */
  const lead = async (affinity: boolean) => {
    const next = await stack.spawnScheduler({ GRIDLINE_ROUTING_PREFIX_AFFINITY: String(affinity) });
    await leader.stop();
    await next.waitFor(/leader \(lease token/);
    leader = next;
    await answered(client, model);
  };
  // Each block has system prompts of its own: none finds another block's in the runners' caches.
  const systemsFor = (block: number) => {
    const next = seededRandom(100 + block);
    return Array.from({ length: GROUPS }, (_, g) => `You are assistant ${block}-${g}. ${text(SYSTEM_BYTES, next)}`);
  };
  const affinity: PrefixRun = { ttft: [], ids: [], groupOf: new Map() };
  const loadOnly: PrefixRun = { ttft: [], ids: [], groupOf: new Map() };
  await sharedPrefixBlock(client, model, systemsFor(1), 1, affinity);
  await lead(false);
  await sharedPrefixBlock(client, model, systemsFor(2), 2, loadOnly);
  await sharedPrefixBlock(client, model, systemsFor(3), 3, loadOnly);
  await lead(true);
  await sharedPrefixBlock(client, model, systemsFor(4), 4, affinity);

  return [
    `\nShared prefixes on real runners (2 replicas of a ${PREFILL_MODEL.layers}-layer, ${PREFILL_MODEL.embedding}-wide tiny llama, ${PREFIX_SLOTS} sequences and 1 thread each; ${GROUPS} system prompts of ${SYSTEM_BYTES} bytes (a token a byte), ${PREFIX_CLIENTS} clients, ${affinity.ids.length} streaming chats of 2 tokens per row)`,
    `  ${'routing'.padEnd(40)}${'TTFT p50'.padStart(10)} ${'p90'.padStart(10)} ${'mean'.padStart(10)}   ${'prompt tokens reused'.padEnd(22)} ${'TTFT hit'.padStart(10)} ${'miss'.padStart(10)}   same replica as the prompt's last job`,
    await prefixRow(client, 'prefix affinity (routeJob, as shipped)', affinity),
    await prefixRow(client, 'load only (baseline)', loadOnly),
    `  (a hit reused over half its prompt from a sequence's cache, p50 of each; the routings took turns: affinity, load only, load only, affinity. Load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs at the end.)`,
  ];
}

/** What the stack left in Redis under its prefix (stopping it drops its database, not its keys). */
async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function endToEnd(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-routing-'));
  const stack = await startStack({ modelName: 'tiny', parallel: TINY_SLOTS, apiEnv: { GRIDLINE_MODEL_ROOTS: dir } });
  const client = new StackClient(stack, stack.url);
  try {
    const lines = [...(PARTS.has('2') ? await routedEndToEnd(stack, client) : []), ...(PARTS.has('3') ? await sharedPrefixes(stack, client, dir) : [])];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await client.close();
    await stack.stop();
    await dropRedisPrefix(stack.prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (PARTS.has('1')) decisions();
  if (PARTS.has('2') || PARTS.has('3')) await endToEnd();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:routing failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
