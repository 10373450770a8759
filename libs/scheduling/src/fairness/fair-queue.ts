/** What serving one job takes from the fleet: the two resources dominant resource fairness weighs. */
export interface JobCost {
  /** Parallel sequences the job holds while it runs (usually 1). */
  sequences: number;
  /** Estimated tokens: prompt plus max tokens. */
  tokens: number;
}

export interface WaitingJob {
  id: string;
  teamId: string;
  /** Higher first, within the job's team only. */
  priority: number;
  enqueuedAt: number;
  cost: JobCost;
}

/** The fleet's totals the shares are taken of: sequences, and the token rate (tokens per second). */
export interface FairQueueCapacity {
  sequences: number;
  tokensPerSecond: number;
}

export interface FairQueueOptions {
  capacity: FairQueueCapacity;
  /** Waiting jobs one team may hold; beyond it `enqueue` refuses with `team_queue_full`. */
  maxPerTeam: number;
  /** Waiting jobs in all; beyond it `enqueue` refuses with `queue_full`. */
  maxTotal: number;
  /** Team id → weight (integer ≥ 1). A team not listed weighs 1. */
  weights?: ReadonlyMap<string, number>;
  /** Milliseconds; the service rate behind `retryAfterSeconds` is measured with it. Defaults to `Date.now`. */
  now?: () => number;
  /** Seconds of recent service the rate is measured over (default 30). */
  rateWindowSeconds?: number;
  /** Retry-After when nothing was served recently to estimate from (default 5). */
  defaultRetryAfterSeconds?: number;
  /** Upper bound on any Retry-After estimate (default 300). */
  maxRetryAfterSeconds?: number;
}

export interface QueueRefusal {
  refused: 'team_queue_full' | 'queue_full';
  /** Estimated seconds until the team's waiting jobs (and this one) would have been served; ≥ 1. */
  retryAfterSeconds: number;
}

export type EnqueueResult = { queued: true } | QueueRefusal;

/** A bad weight, capacity, bound or job: the message names the bad value. */
export class FairQueueError extends Error {
  override readonly name = 'FairQueueError';
  constructor(readonly code: 'invalid_weight' | 'invalid_capacity' | 'invalid_bounds' | 'invalid_job' | 'duplicate_job', message: string) {
    super(message);
  }
}

/** One enqueue of a job; a removed or served entry is a hole until it reaches its level's head. */
interface Entry {
  job: WaitingJob;
}

/** The entries of one priority, FIFO. */
interface Level {
  priority: number;
  items: Entry[];
  head: number;
}

interface TeamState {
  /** Start tag: the normalized dominant resource this team has been served, in virtual time. */
  tag: number;
  /** Levels by priority, highest first. */
  levels: Level[];
  waiting: number;
}

const RATE_SAMPLES = 4096;

/**
 * Weighted fair queue of waiting jobs across teams: start-time fair queueing with dominant
 * resource fairness (DRF) over sequences and tokens.
 *
 * Accounting. A job's dominant share is max(sequences / capacity.sequences, tokens /
 * capacity.tokensPerSecond); serving it advances its team's tag by that share divided by the
 * team's weight, so a tag is the team's normalized served dominant resource. `next()` serves
 * the backlogged team with the lowest tag (among those with a job `canServe` accepts; ties by
 * team id), and within a team the highest priority, then the earliest enqueued. Priority never
 * crosses teams. The system virtual time V is the tag of the team last served; a team that
 * becomes backlogged starts at max(its tag, V), and a backlogged team passed over because none of
 * its jobs could be served is lifted to V: neither an idle nor a blocked team banks credit.
 *
 * Guarantee. Let D be the largest normalized cost of any job served (its dominant share divided
 * by its team's weight). At every moment all backlogged teams' tags lie within [V, V + D]. Hence
 * over any interval in which teams A and B are both continuously backlogged and every one of
 * their jobs can be served, the normalized dominant resource each was served differs by at most
 * 2·D:  |served_A / w_A − served_B / w_B| ≤ 2·D  (D ≤ largest single job share / smallest weight).
 * And a job at the head of its team waits at most for the other backlogged teams to catch up to its
 * team's tag, i.e. for each other team at most ⌈D·w / (its smallest job share)⌉ + 1 picks: a flood
 * from one team delays another by a bounded number of picks, never indefinitely.
 *
 * Service is charged when a job is picked, from its estimate; nothing needs reporting back.
 */
export class FairQueue {
  private readonly teams = new Map<string, TeamState>();
  private readonly jobs = new Map<string, Entry>();
  private readonly weights = new Map<string, number>();
  private readonly now: () => number;
  private readonly rateWindowMs: number;
  private readonly defaultRetryAfter: number;
  private readonly maxRetryAfter: number;
  private readonly capacity: FairQueueCapacity;
  private readonly maxPerTeam: number;
  private readonly maxTotal: number;
  private virtualTime = 0;
  /** Ring of recent serve times, for the service rate. */
  private readonly servedAt = new Float64Array(RATE_SAMPLES);
  private servedCount = 0;

  constructor(options: FairQueueOptions) {
    const { capacity, maxPerTeam, maxTotal } = options;
    if (!(capacity.sequences > 0) || !(capacity.tokensPerSecond > 0) || !Number.isFinite(capacity.sequences) || !Number.isFinite(capacity.tokensPerSecond)) {
      throw new FairQueueError('invalid_capacity', `capacity must be positive and finite, got ${capacity.sequences} sequences, ${capacity.tokensPerSecond} tokens/s`);
    }
    if (!Number.isInteger(maxPerTeam) || !Number.isInteger(maxTotal) || maxPerTeam < 1 || maxTotal < 1) {
      throw new FairQueueError('invalid_bounds', `maxPerTeam and maxTotal must be integers ≥ 1, got ${maxPerTeam} and ${maxTotal}`);
    }
    this.capacity = { ...capacity };
    this.maxPerTeam = maxPerTeam;
    this.maxTotal = maxTotal;
    this.now = options.now ?? Date.now;
    this.rateWindowMs = (options.rateWindowSeconds ?? 30) * 1000;
    this.defaultRetryAfter = options.defaultRetryAfterSeconds ?? 5;
    this.maxRetryAfter = options.maxRetryAfterSeconds ?? 300;
    for (const [teamId, weight] of options.weights ?? []) this.setWeight(teamId, weight);
  }

  get size(): number {
    return this.jobs.size;
  }

  waitingFor(teamId: string): number {
    return this.teams.get(teamId)?.waiting ?? 0;
  }

  setWeight(teamId: string, weight: number): void {
    if (!Number.isInteger(weight) || weight < 1) throw new FairQueueError('invalid_weight', `team ${teamId}: weight must be an integer ≥ 1, got ${weight}`);
    this.weights.set(teamId, weight);
  }

  /** The normalized cost of a job to its team: its dominant share over the team's weight. */
  normalizedCost(job: WaitingJob): number {
    return dominantShare(job.cost, this.capacity) / this.weightOf(job.teamId);
  }

  enqueue(job: WaitingJob): EnqueueResult {
    const { sequences, tokens } = job.cost;
    // A job that costs nothing would let its team be served without ever advancing its tag.
    if (!Number.isInteger(job.priority) || !(sequences >= 0) || !(tokens >= 0) || !Number.isFinite(sequences) || !Number.isFinite(tokens) || sequences + tokens === 0) {
      throw new FairQueueError('invalid_job', `job ${job.id}: priority must be an integer, costs finite and ≥ 0, and not both 0`);
    }
    if (this.jobs.has(job.id)) throw new FairQueueError('duplicate_job', `job ${job.id} is already waiting`);
    const waiting = this.waitingFor(job.teamId);
    if (waiting >= this.maxPerTeam) return { refused: 'team_queue_full', retryAfterSeconds: this.retryAfter(job.teamId, waiting) };
    if (this.jobs.size >= this.maxTotal) return { refused: 'queue_full', retryAfterSeconds: this.retryAfter(job.teamId, waiting) };

    let team = this.teams.get(job.teamId);
    if (!team) {
      team = { tag: this.virtualTime, levels: [], waiting: 0 };
      this.teams.set(job.teamId, team);
    } else if (team.waiting === 0) {
      team.tag = Math.max(team.tag, this.virtualTime);
    }
    const entry: Entry = { job };
    levelFor(team, job.priority).items.push(entry);
    team.waiting++;
    this.jobs.set(job.id, entry);
    return { queued: true };
  }

  /** Takes a waiting job out (cancelled, timed out); false when it was not waiting. */
  remove(id: string): boolean {
    const entry = this.jobs.get(id);
    if (!entry) return false;
    this.jobs.delete(id);
    const team = this.teams.get(entry.job.teamId);
    if (team) {
      team.waiting--;
      if (team.waiting === 0) team.levels = [];
    }
    return true;
  }

  /**
   * Takes the job to serve next and charges its team, or returns null when no waiting job
   * `canServe` accepts. Jobs passed over keep their place.
   */
  next(canServe?: (job: WaitingJob) => boolean): WaitingJob | null {
    const order: [string, TeamState][] = [];
    for (const entry of this.teams) if (entry[1].waiting > 0) order.push(entry);
    order.sort((a, b) => a[1].tag - b[1].tag || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 0; i < order.length; i++) {
      const team = order[i][1];
      const entry = this.firstServable(team, canServe);
      if (!entry) continue;
      const job = entry.job;
      const start = team.tag;
      this.virtualTime = Math.max(this.virtualTime, start);
      for (let k = 0; k < i; k++) order[k][1].tag = Math.max(order[k][1].tag, this.virtualTime);
      team.tag = start + this.normalizedCost(job);
      this.take(team, entry);
      this.servedAt[this.servedCount++ % RATE_SAMPLES] = this.now();
      return job;
    }
    return null;
  }

  private weightOf(teamId: string): number {
    return this.weights.get(teamId) ?? 1;
  }

  private live(entry: Entry): boolean {
    return this.jobs.get(entry.job.id) === entry;
  }

  private firstServable(team: TeamState, canServe?: (job: WaitingJob) => boolean): Entry | null {
    for (const level of team.levels) {
      for (let i = level.head; i < level.items.length; i++) {
        const entry = level.items[i];
        if (!this.live(entry)) {
          if (i === level.head) level.head++;
          continue;
        }
        if (!canServe || canServe(entry.job)) return entry;
      }
    }
    return null;
  }

  private take(team: TeamState, entry: Entry): void {
    const { job } = entry;
    this.jobs.delete(job.id);
    team.waiting--;
    if (team.waiting === 0) {
      team.levels = [];
      return;
    }
    const level = team.levels.find((l) => l.priority === job.priority);
    if (!level) return;
    // The picked job becomes a hole; holes at the head are dropped here, the rest when reached.
    while (level.head < level.items.length && !this.live(level.items[level.head])) level.head++;
    if (level.head === level.items.length) team.levels.splice(team.levels.indexOf(level), 1);
    else if (level.head > 1024 && level.head * 2 > level.items.length) {
      level.items = level.items.slice(level.head);
      level.head = 0;
    }
  }

  /** Time for the team's waiting jobs plus one to be served at its fair share of the recent service rate. */
  private retryAfter(teamId: string, waiting: number): number {
    const now = this.now();
    const samples = Math.min(this.servedCount, RATE_SAMPLES);
    let recent = 0;
    for (let i = 0; i < samples; i++) if (now - this.servedAt[i] <= this.rateWindowMs) recent++;
    if (recent === 0) return this.defaultRetryAfter;
    let totalWeight = waiting === 0 ? this.weightOf(teamId) : 0;
    for (const [id, team] of this.teams) if (team.waiting > 0) totalWeight += this.weightOf(id);
    const share = (recent / (this.rateWindowMs / 1000)) * (this.weightOf(teamId) / totalWeight);
    return Math.min(this.maxRetryAfter, Math.max(1, Math.ceil((waiting + 1) / share)));
  }
}

export function dominantShare(cost: JobCost, capacity: FairQueueCapacity): number {
  return Math.max(cost.sequences / capacity.sequences, cost.tokens / capacity.tokensPerSecond);
}

function levelFor(team: TeamState, priority: number): Level {
  let i = 0;
  while (i < team.levels.length && team.levels[i].priority > priority) i++;
  if (team.levels[i]?.priority === priority) return team.levels[i];
  const level: Level = { priority, items: [], head: 0 };
  team.levels.splice(i, 0, level);
  return level;
}
