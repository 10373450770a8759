#!/usr/bin/env node
/**
 * `npm run bench:routing`: one routing decision over a synthetic fleet of 1,000 nodes and 5,000
 * replicas of 50 models (Zipf-skewed: the most popular model has hundreds of replicas), random
 * load, and a prefix index warmed by routing jobs whose prompts share long system prompts.
 * Prints p50/p99 µs per decision for `routeJob` over the model's replicas (a RoutingView) and
 * over the flat fleet, with `pickReplica` (load only) as the baseline in the same run. Load stands
 * still while decisions are measured, so this measures their cost, not the routing's quality
 * (that is time to first token on real runners, with affinity vs. load only).
 */
import { PrefixIndex, RoutingView, type BlockHash, type ReplicaView, pickReplica, promptBlockHashes, routeJob } from '@gridline/scheduling';

const NODES = 1000;
const REPLICAS = 5000;
const MODELS = 50;
const SYSTEM_PROMPTS_PER_MODEL = 8;
const WARM_JOBS = Number(process.env.BENCH_WARM_JOBS ?? 50_000);
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 20_000);

/** mulberry32: a seeded generator, so every run routes the same fleet and the same jobs. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(42);
const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
const WORDS = 'the of and to in is that for it as with was on be by at this from or an are not have which but all were when we there can more if will one about into no only other time some could these two may first then do any like my now over such our man me even most made after also did many before must through years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
/** Joined, not concatenated: a prompt from a parsed request body is a flat string, not a rope of words. */
const text = (bytes: number) => {
  const words: string[] = [];
  for (let length = 0; length < bytes; length += words[words.length - 1].length + 1) words.push(WORDS[int(0, WORDS.length - 1)]);
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

function main(): void {
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

main();
