#!/usr/bin/env node
/**
 * `npm run bench:scheduler`: the scheduling algorithms over synthetic load.
 *
 * Fair share: 20 teams with weights 1..5 share a fleet with a fixed number of sequences; team 0
 * (weight 1) floods at 10× the others' arrival rate. The same trace is served by the fair queue,
 * a FIFO (arrival order) and a round-robin (one job per backlogged team in turn), all with the
 * same queue bounds. Prints Jain's index of served dominant share vs. entitlement (weight-
 * proportional among the teams backlogged through a window), queue wait p50/p99 for the flooder
 * and the others, refusals, and the fair queue's decisions per second with 10,000 jobs waiting.
 *
 * Placement: the api's planner (planDeployment) places a seeded stream of deployments (real model
 * shapes through the api's memory estimator) on a seeded fleet of 1,000 nodes of four GPU shapes,
 * binpack and spread, each plan's bytes promised on the nodes as the api promises them, until the
 * fleet is full. Against the same deployments: a round-robin baseline and an offline first-fit-
 * decreasing reference, both splitting a replica on a node with the planner's own split. Prints the
 * GPU memory each placed, an independent audit for over-committed GPUs, and the planner's plans/s.
 */
import { MODEL_PRESETS, ModelPresetName, ModelShape, PresetQuantization, buildPresetHeader, decodeGgufHeader, encodeGguf, modelShape, plannedRequirements } from '@gridline/models';
import {
  FairQueue,
  FairQueueCapacity,
  INSTANCE_TYPES,
  PlacementPolicy,
  PlanNode,
  PlannedReplica,
  ReplicaRequirement,
  WaitingJob,
  dominantShare,
  planDeployment,
} from '@gridline/scheduling';
import { quantile } from './bench-stats';

const SIM_SECONDS = Number(process.env.BENCH_SIM_SECONDS ?? 4 * 3600);
const SEQUENCES = 64;
const TOKENS_PER_SEQUENCE_SECOND = 40;
const TEAMS = 20;
const FLOODER = 't00';
const MAX_PER_TEAM = 1000;
const MAX_TOTAL = 10_000;
const WINDOW_SECONDS = 300;
/**
 * Sequence-seconds per second the 19 other teams ask for together, as a fraction of the fleet:
 * under it, weighted max-min fairness can serve all of them and leave the rest to the flooder;
 * over it, the light-weight teams are backlogged too.
 */
const OTHERS_LOADS = [0.8, 1.2];

interface TeamSpec {
  id: string;
  weight: number;
  /** Short teams send chats (sequences dominate); long teams send long generations (tokens dominate). */
  tokens: [number, number];
  arrivalsPerSecond: number;
}

/** What the simulator needs from a queueing policy. */
interface Policy {
  readonly name: string;
  enqueue(job: WaitingJob): boolean;
  next(): WaitingJob | null;
  waiting(teamId: string): number;
}

function lcg(seed: number): () => number {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 11n) / 2 ** 53;
  };
}

function teamSpecs(othersLoad: number): TeamSpec[] {
  const specs: TeamSpec[] = [];
  const longTokens: [number, number] = [200, 1800];
  const shortTokens: [number, number] = [20, 200];
  const meanSeconds = (r: [number, number]) => (r[0] + r[1]) / 2 / TOKENS_PER_SEQUENCE_SECOND;
  const perOther = (othersLoad * SEQUENCES) / (TEAMS - 1);
  for (let i = 0; i < TEAMS; i++) {
    const tokens = i % 2 === 0 ? longTokens : shortTokens;
    const rate = perOther / meanSeconds(tokens);
    specs.push({ id: `t${String(i).padStart(2, '0')}`, weight: (i % 5) + 1, tokens, arrivalsPerSecond: i === 0 ? rate * 10 : rate });
  }
  return specs;
}

/** Poisson arrivals of every team over the simulated time, in arrival order. */
function trace(specs: TeamSpec[], seed: number): WaitingJob[] {
  const rand = lcg(seed);
  const jobs: WaitingJob[] = [];
  for (const spec of specs) {
    for (let t = -Math.log(1 - rand()) / spec.arrivalsPerSecond; t < SIM_SECONDS; t += -Math.log(1 - rand()) / spec.arrivalsPerSecond) {
      const tokens = Math.round(spec.tokens[0] + rand() * (spec.tokens[1] - spec.tokens[0]));
      jobs.push({ id: `${spec.id}-${jobs.length}`, teamId: spec.id, priority: 0, enqueuedAt: t, cost: { sequences: 1, tokens } });
    }
  }
  return jobs.sort((a, b) => a.enqueuedAt - b.enqueuedAt);
}

/** Per-team FIFO lists with the fair queue's bounds: the baselines differ only in which list they take from. */
abstract class BoundedLists implements Policy {
  abstract readonly name: string;
  protected readonly lists = new Map<string, WaitingJob[]>();
  protected total = 0;

  enqueue(job: WaitingJob): boolean {
    const list = this.lists.get(job.teamId) ?? [];
    if (list.length >= MAX_PER_TEAM || this.total >= MAX_TOTAL) return false;
    list.push(job);
    this.lists.set(job.teamId, list);
    this.total++;
    return true;
  }

  waiting(teamId: string): number {
    return this.lists.get(teamId)?.length ?? 0;
  }

  next(): WaitingJob | null {
    const teamId = this.pickTeam();
    if (teamId === null) return null;
    this.total--;
    return this.lists.get(teamId)!.shift()!;
  }

  protected abstract pickTeam(): string | null;
}

class Fifo extends BoundedLists {
  readonly name = 'fifo';
  protected pickTeam(): string | null {
    let best: WaitingJob | null = null;
    for (const list of this.lists.values()) if (list.length > 0 && (!best || list[0].enqueuedAt < best.enqueuedAt)) best = list[0];
    return best?.teamId ?? null;
  }
}

class RoundRobin extends BoundedLists {
  readonly name = 'round-robin';
  private last = '';
  protected pickTeam(): string | null {
    const ids = [...this.lists.keys()].filter((id) => this.lists.get(id)!.length > 0).sort();
    if (ids.length === 0) return null;
    this.last = ids.find((id) => id > this.last) ?? ids[0];
    return this.last;
  }
}

class Fair implements Policy {
  readonly name = 'fair share';
  readonly queue: FairQueue;
  constructor(weights: Map<string, number>, capacity: FairQueueCapacity, now: () => number) {
    this.queue = new FairQueue({ capacity, weights, maxPerTeam: MAX_PER_TEAM, maxTotal: MAX_TOTAL, now });
  }
  enqueue(job: WaitingJob): boolean {
    return 'queued' in this.queue.enqueue(job);
  }
  next(): WaitingJob | null {
    return this.queue.next();
  }
  waiting(teamId: string): number {
    return this.queue.waitingFor(teamId);
  }
}

interface SimResult {
  name: string;
  jain: number;
  /** Windows with at least two teams backlogged throughout, the ones Jain's index is averaged over. */
  windows: number;
  waits: { flooder: number[]; others: number[] };
  refused: { flooder: number; others: number };
}

/** Event-driven run of one policy over the trace: arrivals, dispatch to free sequences, completions. */
function simulate(makePolicy: (now: () => number) => Policy, specs: TeamSpec[], jobs: WaitingJob[], capacity: FairQueueCapacity): SimResult {
  let clock = 0;
  const policy = makePolicy(() => clock * 1000);
  const weight = new Map(specs.map((s) => [s.id, s.weight]));
  const finishes: number[] = [];
  const result: SimResult = { name: policy.name, jain: 0, windows: 0, waits: { flooder: [], others: [] }, refused: { flooder: 0, others: 0 } };
  // Per window: dominant share served per team, and which teams stayed backlogged throughout.
  let served = new Map<string, number>();
  let backlogged = new Set(specs.map((s) => s.id).filter((id) => policy.waiting(id) > 0));
  const jains: number[] = [];
  let windowEnd = WINDOW_SECONDS;

  const closeWindow = () => {
    const ids = [...backlogged];
    if (ids.length >= 2) {
      const total = ids.reduce((s, id) => s + (served.get(id) ?? 0), 0);
      const weights = ids.reduce((s, id) => s + weight.get(id)!, 0);
      const x = ids.map((id) => (served.get(id) ?? 0) / ((total * weight.get(id)!) / weights));
      const sum = x.reduce((s, v) => s + v, 0);
      if (total > 0) jains.push((sum * sum) / (x.length * x.reduce((s, v) => s + v * v, 0)));
    }
    served = new Map();
    backlogged = new Set(specs.map((s) => s.id).filter((id) => policy.waiting(id) > 0));
  };
  const dispatch = () => {
    while (finishes.length < SEQUENCES) {
      const job = policy.next();
      if (!job) return;
      if (policy.waiting(job.teamId) === 0) backlogged.delete(job.teamId);
      served.set(job.teamId, (served.get(job.teamId) ?? 0) + dominantShare(job.cost, capacity));
      (job.teamId === FLOODER ? result.waits.flooder : result.waits.others).push(clock - job.enqueuedAt);
      finishes.push(clock + job.cost.tokens / TOKENS_PER_SEQUENCE_SECOND);
    }
  };

  let i = 0;
  while (i < jobs.length || finishes.length > 0) {
    const nextFinish = finishes.length > 0 ? Math.min(...finishes) : Infinity;
    const nextArrival = i < jobs.length ? jobs[i].enqueuedAt : Infinity;
    clock = Math.min(nextFinish, nextArrival);
    if (clock > SIM_SECONDS) break;
    while (clock >= windowEnd) {
      closeWindow();
      windowEnd += WINDOW_SECONDS;
    }
    if (nextFinish <= nextArrival) finishes.splice(finishes.indexOf(nextFinish), 1);
    else {
      const job = jobs[i++];
      if (!policy.enqueue(job)) result.refused[job.teamId === FLOODER ? 'flooder' : 'others']++;
    }
    dispatch();
  }
  result.jain = jains.reduce((s, v) => s + v, 0) / Math.max(1, jains.length);
  result.windows = jains.length;
  return result;
}


/** Decisions per second of `next()` (each followed by one enqueue, so 10,000 jobs stay waiting). */
function decisionsPerSecond(specs: TeamSpec[], capacity: FairQueueCapacity): number {
  const queue = new FairQueue({ capacity, weights: new Map(specs.map((s) => [s.id, s.weight])), maxPerTeam: 10_000, maxTotal: 10_000 });
  const rand = lcg(3);
  let n = 0;
  const make = (teamId: string): WaitingJob => ({ id: `d${n++}`, teamId, priority: Math.floor(rand() * 3), enqueuedAt: n, cost: { sequences: 1, tokens: 20 + Math.floor(rand() * 1800) } });
  // Half the jobs are the flooder's, the rest spread over the other teams.
  for (let k = 0; k < 10_000; k++) queue.enqueue(make(k % 2 === 0 ? FLOODER : specs[1 + (k % (specs.length - 1))].id));
  const rounds = 200_000;
  const start = process.hrtime.bigint();
  for (let k = 0; k < rounds; k++) queue.enqueue(make(queue.next()!.teamId));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return rounds / seconds;
}

/** The fair-share part of bench:scheduler; prints its figures through `print`. */
export function benchFairShare(print: (line: string) => void): void {
  const capacity: FairQueueCapacity = { sequences: SEQUENCES, tokensPerSecond: SEQUENCES * TOKENS_PER_SEQUENCE_SECOND };
  print(`fair share: ${TEAMS} teams (weights 1..5, odd ones short chats, even ones long generations), ${FLOODER} (weight 1) floods at 10x the others' rate;`);
  print(`  ${SEQUENCES} sequences at ${TOKENS_PER_SEQUENCE_SECOND} tokens/s each; ${SIM_SECONDS} s simulated; queue bounds ${MAX_PER_TEAM} per team, ${MAX_TOTAL} in all;`);
  print(`  Jain's index of served dominant share / weight-proportional entitlement among teams backlogged through a ${WINDOW_SECONDS} s window, averaged over windows`);
  print('  (n/a: no window had two teams backlogged throughout, i.e. only the flooder stayed backlogged)');
  for (const othersLoad of OTHERS_LOADS) {
    const specs = teamSpecs(othersLoad);
    const jobs = trace(specs, 11);
    const weights = new Map(specs.map((s) => [s.id, s.weight]));
    print(`  others ask ${othersLoad}x the fleet, with the flooder ${(othersLoad * (1 + 10 / (TEAMS - 1))).toFixed(2)}x; ${jobs.length} jobs`);
    print('    policy        Jain (windows)  wait p50 / p99 flooder (s)  wait p50 / p99 others (s)  refused flooder / others');
    for (const make of [(now: () => number) => new Fair(weights, capacity, now), () => new Fifo(), () => new RoundRobin()]) {
      const r = simulate(make, specs, jobs, capacity);
      const w = (v: number[]) => `${quantile(v, 0.5).toFixed(1)} / ${quantile(v, 0.99).toFixed(1)}`;
      print(`    ${r.name.padEnd(12)}  ${(r.windows > 0 ? `${r.jain.toFixed(4)} (${r.windows})` : 'n/a (0)').padStart(14)}  ${w(r.waits.flooder).padStart(26)}  ${w(r.waits.others).padStart(25)}  ${`${r.refused.flooder} / ${r.refused.others}`.padStart(24)}`);
    }
  }
  print(`  fair queue next() with 10,000 waiting (${TEAMS} teams): ${Math.round(decisionsPerSecond(teamSpecs(1), capacity)).toLocaleString('en-US')} decisions/s`);
}

// ---------------------------------------------------------------------------------------------
// Placement: the api's planner (planDeployment) over a synthetic fleet, against two baselines.

const GiB = 1024 ** 3;
const TiB = 1024 * GiB;
/** Nodes of the fleet; a smaller fleet (BENCH_PLACE_NODES=100) runs in seconds, with its stream scaled to it. */
const PLACE_NODES = Number(process.env.BENCH_PLACE_NODES ?? 1000);
/** The stream is drawn until it asks for this many times the fleet's GPU memory: more than fits. */
const PLACE_DEMAND = 1.25;
/**
 * The binpack planner refusing this many deployments in a row ends the stream (the fleet is full
 * for this mix): every run is offered the deployments up to there. A refused plan is the
 * planner's slow path on a full fleet, so the cut also bounds the run's time.
 */
const FULL_AFTER_REFUSALS = 10;

interface NodeShape {
  name: string;
  gpus: number;
  /** Memory of one GPU, nominal, as the instance-type table counts it (80 GB = 80 GiB). */
  gib: number;
  /** Share of the fleet's nodes. */
  share: number;
}

/** A fleet as clouds mix it: few 8-GPU nodes holding most of the memory, many small inference nodes. */
const NODE_SHAPES: readonly NodeShape[] = [
  { name: '8xH100-80GB', gpus: 8, gib: 80, share: 0.1 },
  { name: '2xA100-40GB', gpus: 2, gib: 40, share: 0.2 },
  { name: '1xL4-24GB', gpus: 1, gib: 24, share: 0.45 },
  { name: '4xA10-24GB', gpus: 4, gib: 24, share: 0.25 },
];

/** Models the stream deploys, with their quantizations and how often they are asked: small models most. */
const MODEL_MIX: readonly { preset: ModelPresetName; quants: readonly PresetQuantization[]; weight: number }[] = [
  { preset: 'llama-3.2-1b', quants: ['Q8_0', 'F16'], weight: 12 },
  { preset: 'llama-3.2-3b', quants: ['Q4_K_M', 'Q8_0', 'F16'], weight: 12 },
  { preset: 'llama-3.1-8b', quants: ['Q4_K_M', 'Q5_K_M', 'Q8_0', 'F16'], weight: 28 },
  { preset: 'qwen2.5-14b', quants: ['Q4_K_M', 'Q8_0'], weight: 16 },
  { preset: 'qwen2.5-32b', quants: ['Q4_K_M', 'Q8_0'], weight: 14 },
  { preset: 'llama-3.1-70b', quants: ['Q4_K_M', 'Q8_0', 'F16'], weight: 12 },
  { preset: 'qwen2.5-72b', quants: ['Q4_K_M'], weight: 6 },
];
/** Runtime settings drawn per deployment: context per sequence, sequences, flash attention on or off. */
const CONTEXTS = [2048, 4096, 8192];
const PARALLEL = [1, 2, 4];

interface Deployment {
  requirement: ReplicaRequirement;
  replicas: number;
}

/** Nodes of the fleet in a seeded order, every GPU free; the same fleet each call. */
function buildFleet(): PlanNode[] {
  const shapes = NODE_SHAPES.flatMap((shape) => Array.from({ length: Math.round(shape.share * PLACE_NODES) }, () => shape));
  const rand = lcg(5);
  for (let i = shapes.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [shapes[i], shapes[j]] = [shapes[j], shapes[i]];
  }
  return shapes.map((shape, i) => ({
    id: `node-${i}`,
    name: `n${String(i).padStart(4, '0')}`,
    approved: true,
    status: 'Ready',
    cordoned: false,
    draining: false,
    labels: {},
    taints: [],
    gpus: Array.from({ length: shape.gpus }, (_, index) => ({ index, totalBytes: shape.gib * GiB, allocatedBytes: 0 })),
    // As the api plans today: no node runs a replica that spans nodes.
    capabilities: { spanningReplicas: false },
  }));
}

const fleetBytes = (nodes: readonly PlanNode[]): number => nodes.reduce((a, n) => a + n.gpus.reduce((b, g) => b + g.totalBytes, 0), 0);

/**
 * Deployments until they ask for `PLACE_DEMAND` × the fleet's memory. Each replica's requirement
 * is the api's own: the model's shape (a header-only preset of a real architecture) through the
 * estimator at the drawn settings, mapped to the planner's fields as the deployments service maps it.
 */
function deploymentStream(capacityBytes: number): Deployment[] {
  const rand = lcg(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const shapes = new Map<string, ModelShape>();
  const totalWeight = MODEL_MIX.reduce((a, m) => a + m.weight, 0);
  const out: Deployment[] = [];
  for (let demand = 0; demand < PLACE_DEMAND * capacityBytes; ) {
    let w = rand() * totalWeight;
    const model = MODEL_MIX.find((m) => (w -= m.weight) < 0) ?? MODEL_MIX[MODEL_MIX.length - 1];
    const quant = pick(model.quants);
    const key = `${model.preset}/${quant}`;
    let shape = shapes.get(key);
    if (!shape) shapes.set(key, (shape = modelShape(decodeGgufHeader(encodeGguf(buildPresetHeader(MODEL_PRESETS[model.preset], quant), { headerOnly: true })))));
    const r = plannedRequirements(shape, { contextSize: pick(CONTEXTS), parallel: pick(PARALLEL), flashAttention: rand() < 0.5 }, null);
    const requirement = { totalBytes: r.totalBytes, fixedBytes: r.fixedBytes, perGpuBytes: r.perGpu.baseBytes, layers: r.layers.map((l) => ({ index: l.index, bytes: l.bytes })) };
    const replicas = 1 + Math.floor(rand() * 4);
    out.push({ requirement, replicas });
    demand += replicas * requirement.totalBytes;
  }
  return out;
}

/** Adds (or, with sign -1, takes back) a replica's GPU bytes to its nodes' allocated bytes, as the api counts promised bytes. */
function allocate(byId: ReadonlyMap<string, PlanNode>, replica: PlannedReplica, sign = 1): void {
  for (const planned of replica.nodes) {
    const node = byId.get(planned.nodeId)!;
    for (const g of planned.gpus) node.gpus.find((x) => x.index === g.index)!.allocatedBytes += sign * g.bytes;
  }
}

/**
 * One replica on this node alone, split over its GPUs by the planner itself (the same whole-layer
 * split, fixed part and per-GPU shares it uses for any node), or null when it does not fit.
 */
function planOn(node: PlanNode, requirement: ReplicaRequirement): PlannedReplica | null {
  // The split needs at least the whole requirement free on the node: skip the plan when it is not.
  let free = 0;
  for (const g of node.gpus) free += Math.max(0, g.totalBytes - g.allocatedBytes);
  if (free < requirement.totalBytes) return null;
  const plan = planDeployment({ requirement, replicas: 1, resource: {}, tolerations: [], nodes: [node], quota: null, instanceTypes: INSTANCE_TYPES });
  return plan.applicable ? plan.replicas[0] : null;
}

/** What one run placed, and how. */
class PlacementRun {
  readonly placed: { requirement: ReplicaRequirement; replica: PlannedReplica }[] = [];
  /** Deployments offered (the run may stop before the stream's end), placed and refused. */
  offered = 0;
  deployments = 0;
  refused = 0;
  /** Σ requirement.totalBytes of the replicas placed: the demand served. */
  servedBytes = 0;
  /** Σ GPU bytes of the replicas placed: served, plus what each further GPU of a split pays on its own. */
  committedBytes = 0;
  /** Served bytes when the first deployment was refused; null when none was, or for a run that sees every item at once. */
  servedAtFirstRefusal: number | null = null;
  /** Seconds each planDeployment over the whole fleet took, for the deployments placed and those refused. */
  readonly planSeconds = { placed: [] as number[], refused: [] as number[] };

  constructor(readonly name: string) {}

  record(requirement: ReplicaRequirement, replicas: readonly PlannedReplica[]): void {
    for (const replica of replicas) {
      this.placed.push({ requirement, replica });
      this.servedBytes += requirement.totalBytes;
      for (const n of replica.nodes) for (const g of n.gpus) this.committedBytes += g.bytes;
    }
  }

  refuse(trackFirst = true): void {
    if (this.refused++ === 0 && trackFirst) this.servedAtFirstRefusal = this.servedBytes;
  }
}

/**
 * The api's path: planDeployment over every node, the plan's bytes promised when it is applicable
 * (the api refuses the rest). Stops after `stopAfterRefusals` refusals in a row, if given.
 */
function runPlanner(policy: PlacementPolicy, stream: readonly Deployment[], stopAfterRefusals = Infinity): PlacementRun {
  const run = new PlacementRun(`planner ${policy}`);
  const nodes = buildFleet();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let inARow = 0;
  for (const d of stream) {
    if (inARow >= stopAfterRefusals) break;
    run.offered++;
    const start = process.hrtime.bigint();
    const plan = planDeployment({ requirement: d.requirement, replicas: d.replicas, resource: {}, tolerations: [], placement: policy, nodes, quota: null, instanceTypes: INSTANCE_TYPES });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    run.planSeconds[plan.applicable ? 'placed' : 'refused'].push(seconds);
    if (!plan.applicable) {
      run.refuse();
      inARow++;
      continue;
    }
    inARow = 0;
    for (const replica of plan.replicas) allocate(byId, replica);
    run.record(d.requirement, plan.replicas);
    run.deployments++;
  }
  return run;
}

/**
 * Baseline: a cursor walks the nodes in fleet order; each replica goes on the first node from the
 * cursor that holds it, and the cursor moves past that node. A deployment is placed whole or not
 * at all, as the planner's.
 */
function runRoundRobin(stream: readonly Deployment[]): PlacementRun {
  const run = new PlacementRun('round-robin');
  const nodes = buildFleet();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let cursor = 0;
  for (const d of stream) {
    run.offered++;
    const startCursor = cursor;
    const replicas: PlannedReplica[] = [];
    for (let r = 0; r < d.replicas; r++) {
      let replica: PlannedReplica | null = null;
      for (let step = 0; step < nodes.length && !replica; step++) {
        replica = planOn(nodes[(cursor + step) % nodes.length], d.requirement);
        if (replica) cursor = (cursor + step + 1) % nodes.length;
      }
      if (!replica) break;
      allocate(byId, replica);
      replicas.push(replica);
    }
    if (replicas.length < d.replicas) {
      for (const replica of replicas) allocate(byId, replica, -1);
      cursor = startCursor;
      run.refuse();
      continue;
    }
    run.record(d.requirement, replicas);
    run.deployments++;
  }
  return run;
}

/**
 * The offline reference: every replica of the stream at once, largest requirement first (stable,
 * so stream order among equals), each on the first node in fleet order that holds it, split by
 * the planner's own whole-layer split on that node (planOn), so a replica costs it what it costs
 * the planner on the same free GPUs. A heuristic, not a proven bound on the best packing: it is
 * what sorting the whole demand buys. It is favoured twice over the planner: it sees the whole
 * stream before placing anything, and it places replicas one by one where the planner places a
 * deployment whole or refuses it.
 */
function runFirstFitDecreasing(stream: readonly Deployment[]): PlacementRun {
  const run = new PlacementRun('FFD (offline)');
  const nodes = buildFleet();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  run.offered = stream.length;
  const items = stream.flatMap((d) => Array.from({ length: d.replicas }, () => d.requirement)).sort((a, b) => b.totalBytes - a.totalBytes);
  for (const requirement of items) {
    let replica: PlannedReplica | null = null;
    for (const node of nodes) if ((replica = planOn(node, requirement))) break;
    if (!replica) {
      run.refuse(false);
      continue;
    }
    allocate(byId, replica);
    run.record(requirement, [replica]);
  }
  return run;
}

/**
 * Checks a run's placements against a freshly built fleet, not the state the run mutated: every
 * replica's GPU bytes summed per GPU and compared with the GPU's total (over-committed GPUs), and
 * every replica's own plan (bad replicas: GPU bytes summing below the requirement, a GPU holding
 * less than its layers' bytes, or layers not each held exactly once, in order).
 */
function audit(run: PlacementRun): { overCommitted: number; badReplicas: number } {
  const totals = new Map<string, number>(buildFleet().flatMap((n) => n.gpus.map((g) => [`${n.id}/${g.index}`, g.totalBytes])));
  const sums = new Map<string, number>();
  let badReplicas = 0;
  for (const { requirement, replica } of run.placed) {
    const layerBytes = new Map(requirement.layers.map((l) => [l.index, l.bytes]));
    const held: number[] = [];
    let bytes = 0;
    let bad = false;
    for (const n of replica.nodes) {
      for (const g of n.gpus) {
        const key = `${n.nodeId}/${g.index}`;
        sums.set(key, (sums.get(key) ?? 0) + g.bytes);
        bytes += g.bytes;
        if (!g.layers) continue;
        let own = 0;
        for (let i = g.layers[0]; i <= g.layers[1]; i++) {
          held.push(i);
          own += layerBytes.get(i) ?? NaN;
        }
        if (!(g.bytes >= own)) bad = true;
      }
    }
    const expected = requirement.layers.map((l) => l.index).sort((a, b) => a - b);
    if (bad || bytes < requirement.totalBytes || held.length !== expected.length || held.some((i, k) => i !== expected[k])) badReplicas++;
  }
  let overCommitted = 0;
  for (const [key, sum] of sums) if (!(sum <= (totals.get(key) ?? 0))) overCommitted++;
  return { overCommitted, badReplicas };
}

/** Replicas spread over several GPUs of their node although one of its GPUs could hold the whole requirement. */
function needlessSplits(run: PlacementRun): number {
  const gpuBytes = new Map(buildFleet().map((n) => [n.id, Math.min(...n.gpus.map((g) => g.totalBytes))]));
  return run.placed.filter(({ requirement, replica }) => replica.nodes.length === 1 && replica.nodes[0].gpus.length > 1 && requirement.totalBytes <= gpuBytes.get(replica.nodes[0].nodeId)!).length;
}

/** The placement part of bench:scheduler; prints its figures through `print`. */
export function benchPlacement(print: (line: string) => void): void {
  const fleet = buildFleet();
  const capacity = fleetBytes(fleet);
  const drawn = deploymentStream(capacity);
  const binpack = runPlanner('binpack', drawn, FULL_AFTER_REFUSALS);
  const stream = drawn.slice(0, binpack.offered);
  const runs = [binpack, runPlanner('spread', stream), runRoundRobin(stream), runFirstFitDecreasing(stream)];
  const ffd = runs[3];

  const replicas = stream.reduce((a, d) => a + d.replicas, 0);
  const demand = stream.reduce((a, d) => a + d.replicas * d.requirement.totalBytes, 0);
  const sizes = stream.map((d) => d.requirement.totalBytes / GiB);
  const tib = (bytes: number) => (bytes / TiB).toFixed(1);
  const pct = (bytes: number) => `${((100 * bytes) / capacity).toFixed(1)}%`;
  const mix = NODE_SHAPES.map((s) => `${fleet.filter((n) => n.gpus.length === s.gpus && n.gpus[0].totalBytes === s.gib * GiB).length} x ${s.name}`).join(', ');
  print(`placement: planDeployment over ${fleet.length} nodes (${mix}) = ${tib(capacity)} TiB of GPU memory, all free at the start;`);
  print(`  deployments of ${MODEL_MIX.length} models 1B..72B at Q4_K_M..F16, 1..4 replicas, ${CONTEXTS[0]}..${CONTEXTS.at(-1)} tokens x 1..${PARALLEL.at(-1)} sequences, flash attention on or off,`);
  print(`  each replica's requirement from the api's estimator; drawn to ask ${PLACE_DEMAND}x the fleet (${drawn.length}); the stream ends where the binpack planner`);
  print(`  refused ${FULL_AFTER_REFUSALS} in a row: every run is offered those ${stream.length} deployments (${replicas} replicas of ${Math.min(...sizes).toFixed(1)}..${Math.max(...sizes).toFixed(1)} GiB, ${tib(demand)} TiB, ${pct(demand)} of the fleet)`);
  print("  planner: each deployment planned over the whole fleet in turn, its plan's GPU bytes added to the nodes' allocated bytes (the api's promised");
  print('  bytes); a plan that is not applicable (a replica would span nodes, which no node runs yet) is refused and the stream goes on');
  print('  round-robin: a cursor walks the nodes, each replica on the first node from it that holds it, the cursor past it; deployments whole or refused');
  print('  FFD: offline reference, not a proven bound: every replica offered, sorted by requirement (largest first), each on the first node that holds it;');
  print("  it sees every item before placing any and places replicas singly (no all-or-nothing deployment), both in its favour");
  print("  fair to the planner: every baseline splits a replica on a node with the planner's own whole-layer split (planDeployment on that node alone),");
  print('  so a replica costs the same bytes on the same free GPUs, and none spans nodes');
  print("  served: Σ requirement of the replicas placed; committed: Σ their plans' GPU bytes (served + the share each further GPU of a split pays on its own)");
  print('  over-committed: GPUs whose placements sum above their total; bad replicas: a plan under its requirement or not holding each layer once (both must be 0)');
  print('    run              served TiB (fleet)  committed TiB (fleet)  deployments placed / refused  replicas placed  first refusal at  over-committed  bad replicas');
  for (const run of runs) {
    const a = audit(run);
    const first = run === ffd ? 'n/a' : run.servedAtFirstRefusal === null ? 'none' : `${pct(run.servedAtFirstRefusal)} served`;
    const deployments = run === ffd ? `n/a (${run.refused} replicas refused)` : `${run.deployments} / ${run.refused}`;
    print(
      `    ${run.name.padEnd(15)}  ${`${tib(run.servedBytes)} (${pct(run.servedBytes)})`.padStart(18)}  ${`${tib(run.committedBytes)} (${pct(run.committedBytes)})`.padStart(21)}  ${deployments.padStart(28)}  ${String(run.placed.length).padStart(15)}  ${first.padStart(16)}  ${String(a.overCommitted).padStart(14)}  ${String(a.badReplicas).padStart(12)}`,
    );
  }
  const splitShare = (run: PlacementRun) => `${((100 * (run.committedBytes - run.servedBytes)) / run.committedBytes).toFixed(1)}%`;
  for (const run of runs.slice(0, 3)) print(`  ${run.name}: served ${((100 * run.servedBytes) / ffd.servedBytes).toFixed(1)}% of FFD's`);
  print('  split shares (committed - served) as a part of committed, and replicas split over several GPUs of a node though one of its GPUs holds them:');
  for (const run of runs) print(`    ${run.name.padEnd(15)}  ${splitShare(run).padStart(5)}  ${needlessSplits(run)} of ${run.placed.length} replicas`);
  for (const run of runs.slice(0, 2)) {
    const all = [...run.planSeconds.placed, ...run.planSeconds.refused];
    const seconds = all.reduce((a, b) => a + b, 0);
    const ms = (v: number[]) => (v.length === 0 ? 'none' : `p50 ${(1000 * quantile(v, 0.5)).toFixed(1)} / p99 ${(1000 * quantile(v, 0.99)).toFixed(1)} / max ${(1000 * Math.max(...v)).toFixed(1)} ms`);
    print(`  ${run.name}: ${all.length} plans over ${fleet.length} nodes in ${seconds.toFixed(1)} s: ${Math.round(all.length / seconds)} plans/s, ${Math.round(run.placed.length / seconds)} replicas placed/s;`);
    print(`    a plan placed ${ms(run.planSeconds.placed)}; refused ${ms(run.planSeconds.refused)}`);
  }
}

if (require.main === module) {
  try {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    benchFairShare(print);
    benchPlacement(print);
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  }
}
