import { FairQueue, FairQueueError, FairQueueOptions, JobCost, WaitingJob } from './fair-queue';

const CAPACITY = { sequences: 10, tokensPerSecond: 1000 };
let seq = 0;
const job = (teamId: string, extra: Partial<WaitingJob> = {}): WaitingJob => ({ id: `j${++seq}`, teamId, priority: 0, enqueuedAt: seq, cost: { sequences: 1, tokens: 100 }, ...extra });
const queue = (weights: Record<string, number> = {}, options: Partial<FairQueueOptions> = {}) =>
  new FairQueue({ capacity: CAPACITY, maxPerTeam: 100_000, maxTotal: 100_000, weights: new Map(Object.entries(weights)), ...options });

function fill(q: FairQueue, teamId: string, n: number, extra: Partial<WaitingJob> = {}): WaitingJob[] {
  const jobs = Array.from({ length: n }, () => job(teamId, extra));
  for (const j of jobs) expect(q.enqueue(j)).toEqual({ queued: true });
  return jobs;
}

function drain(q: FairQueue, picks: number): string[] {
  const teams: string[] = [];
  for (let i = 0; i < picks; i++) teams.push(q.next()!.teamId);
  return teams;
}

const count = (teams: string[], teamId: string) => teams.filter((t) => t === teamId).length;

/**
 * Checks the stated guarantee from prefix sums: the difference between two teams' normalized
 * served dominant resource over any interval is prefix(j) − prefix(i), so bounding max − min of
 * the prefix difference bounds every interval at once.
 */
function maxIntervalGap(served: WaitingJob[], q: FairQueue, a: string, b: string): number {
  let gap = 0;
  let lo = 0;
  let hi = 0;
  for (const j of served) {
    if (j.teamId === a) gap += q.normalizedCost(j);
    else if (j.teamId === b) gap -= q.normalizedCost(j);
    lo = Math.min(lo, gap);
    hi = Math.max(hi, gap);
  }
  return hi - lo;
}

describe('FairQueue', () => {
  it('serves weights 1:3 about 1:3 while both are backlogged, within the stated bound', () => {
    const q = queue({ a: 1, b: 3 });
    fill(q, 'a', 200);
    fill(q, 'b', 200);
    const served = Array.from({ length: 200 }, () => q.next()!);
    expect(count(served.map((j) => j.teamId), 'a')).toBe(50);
    const d = Math.max(...served.map((j) => q.normalizedCost(j)));
    expect(maxIntervalGap(served, q, 'a', 'b')).toBeLessThanOrEqual(2 * d + 1e-12);
  });

  it('keeps the bound with random costs and weights for every pair of continuously backlogged teams', () => {
    let state = 7;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const weights = { t1: 1, t2: 2, t3: 3, t4: 5 };
    const q = queue(weights);
    const refill = (teamId: string) => q.enqueue(job(teamId, { cost: { sequences: 1 + Math.floor(rand() * 2), tokens: Math.floor(rand() * 4000) } }));
    for (const t of Object.keys(weights)) for (let i = 0; i < 3; i++) refill(t);
    const served: WaitingJob[] = [];
    for (let i = 0; i < 2000; i++) {
      const j = q.next()!;
      served.push(j);
      refill(j.teamId);
    }
    const d = Math.max(...served.map((j) => q.normalizedCost(j)));
    for (const a of Object.keys(weights)) for (const b of Object.keys(weights)) if (a < b) expect(maxIntervalGap(served, q, a, b)).toBeLessThanOrEqual(2 * d + 1e-12);
    const share = (t: keyof typeof weights) => served.filter((j) => j.teamId === t).reduce((s, j) => s + q.normalizedCost(j) * weights[t], 0) / weights[t];
    expect(Math.abs(share('t1') - share('t4'))).toBeLessThanOrEqual(2 * d);
  });

  it("never lets one team's flood starve another: a newcomer is served within a bounded number of picks", () => {
    const q = queue();
    fill(q, 'flood', 5000);
    drain(q, 1000);
    const mine = job('small');
    q.enqueue(mine);
    const picks = [q.next()!, q.next()!];
    expect(picks.map((j) => j.id)).toContain(mine.id);
  });

  it('orders by priority within a team, never across teams', () => {
    const q = queue();
    const low = job('a', { priority: 0 });
    const high = job('a', { priority: 5 });
    q.enqueue(low);
    q.enqueue(high);
    fill(q, 'b', 3, { priority: 0 });
    fill(q, 'c', 3, { priority: 100 });
    const served = Array.from({ length: 3 }, () => q.next()!);
    expect(served.map((j) => j.teamId).sort()).toEqual(['a', 'b', 'c']);
    expect(served.find((j) => j.teamId === 'a')!.id).toBe(high.id);
    const rest = Array.from({ length: 3 }, () => q.next()!);
    expect(rest.filter((j) => j.teamId === 'a').map((j) => j.id)).toEqual([low.id]);
  });

  it('is FIFO among jobs of one team and one priority', () => {
    const q = queue();
    const jobs = fill(q, 'a', 5);
    expect(Array.from({ length: 5 }, () => q.next()!.id)).toEqual(jobs.map((j) => j.id));
    expect(q.next()).toBeNull();
  });

  it('does not let an idle team bank credit: after a long idle time it gets its share, not a monopoly', () => {
    const q = queue();
    fill(q, 'busy', 3000);
    drain(q, 1000);
    fill(q, 'idle', 500);
    const after = drain(q, 100);
    expect(count(after, 'idle')).toBeGreaterThanOrEqual(49);
    expect(count(after, 'idle')).toBeLessThanOrEqual(51);
  });

  it('shares by the dominant resource: token-heavy jobs count by tokens, short jobs by sequences', () => {
    const q = queue();
    const heavy: JobCost = { sequences: 1, tokens: 500 }; // dominant: tokens, 0.5
    const short: JobCost = { sequences: 1, tokens: 10 }; // dominant: sequences, 0.1
    fill(q, 'heavy', 100, { cost: heavy });
    fill(q, 'short', 100, { cost: short });
    const served = drain(q, 60);
    expect(count(served, 'heavy')).toBe(10);
    expect(count(served, 'short')).toBe(50);
  });

  it('refuses beyond its bounds with a Retry-After estimated from the recent service rate', () => {
    let now = 0;
    const q = queue({ a: 1, b: 1 }, { maxPerTeam: 3, maxTotal: 5, now: () => now });
    fill(q, 'a', 3);
    expect(q.enqueue(job('a'))).toEqual({ refused: 'team_queue_full', retryAfterSeconds: 5 });
    fill(q, 'b', 2);
    expect(q.enqueue(job('c'))).toMatchObject({ refused: 'queue_full' });

    // Two jobs served per second over the window: team a (half of the weight) drains its 3 + 1 at 1/s.
    for (let t = 0; t < 30; t++) {
      now = t * 1000;
      q.next();
      q.next();
      q.enqueue(job('a'));
      q.enqueue(job('b'));
    }
    fill(q, 'a', 3 - q.waitingFor('a'));
    expect(q.enqueue(job('a'))).toEqual({ refused: 'team_queue_full', retryAfterSeconds: 4 });
    const refusal = q.enqueue(job('c'));
    expect(refusal).toMatchObject({ refused: 'queue_full' });
    expect('retryAfterSeconds' in refusal && refusal.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('removes a cancelled job: it is never served and frees its place in the bounds', () => {
    const q = queue({}, { maxPerTeam: 2 });
    const [first, second] = fill(q, 'a', 2);
    expect(q.remove(first.id)).toBe(true);
    expect(q.remove(first.id)).toBe(false);
    expect(q.size).toBe(1);
    const third = job('a');
    expect(q.enqueue(third)).toEqual({ queued: true });
    expect([q.next()!.id, q.next()!.id]).toEqual([second.id, third.id]);
    expect(q.next()).toBeNull();
  });

  it('lets canServe skip jobs that cannot run now without losing their place', () => {
    const q = queue();
    const [a1, a2, a3] = [job('a', { priority: 9 }), job('a'), job('a')];
    for (const j of [a1, a2, a3]) q.enqueue(j);
    const b1 = job('b');
    q.enqueue(b1);
    const notA1 = (j: WaitingJob) => j.id !== a1.id;
    expect(q.next(notA1)!.id).toBe(a2.id);
    expect(q.next(() => false)).toBeNull();
    expect(q.next()!.id).toBe(b1.id);
    expect(q.next()!.id).toBe(a1.id);
    expect(q.next()!.id).toBe(a3.id);
  });

  it('does not let a team blocked by canServe bank credit either', () => {
    const q = queue();
    fill(q, 'blocked', 200);
    fill(q, 'free', 400);
    const notBlocked = (j: WaitingJob) => j.teamId !== 'blocked';
    for (let i = 0; i < 100; i++) expect(q.next(notBlocked)!.teamId).toBe('free');
    const after = drain(q, 100);
    expect(count(after, 'blocked')).toBeGreaterThanOrEqual(49);
    expect(count(after, 'blocked')).toBeLessThanOrEqual(51);
  });

  it('refuses bad weights, capacities, bounds and jobs with stable codes', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof FairQueueError ? e.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => queue({ a: 0 }))).toBe('invalid_weight');
    expect(codeOf(() => queue({ a: 1.5 }))).toBe('invalid_weight');
    expect(codeOf(() => queue({}, { capacity: { sequences: 0, tokensPerSecond: 1 } }))).toBe('invalid_capacity');
    expect(codeOf(() => queue({}, { maxTotal: 0 }))).toBe('invalid_bounds');
    const q = queue();
    expect(codeOf(() => q.enqueue(job('a', { cost: { sequences: 0, tokens: 0 } })))).toBe('invalid_job');
    expect(codeOf(() => q.enqueue(job('a', { priority: 0.5 })))).toBe('invalid_job');
    const j = job('a');
    q.enqueue(j);
    expect(codeOf(() => q.enqueue(j))).toBe('duplicate_job');
  });
});
