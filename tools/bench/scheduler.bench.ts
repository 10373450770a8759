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
 */
import { FairQueue, FairQueueCapacity, WaitingJob, dominantShare } from '@gridline/scheduling';

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

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
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

if (require.main === module) {
  try {
    benchFairShare((line) => process.stdout.write(`${line}\n`));
  } catch (e: unknown) {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  }
}
