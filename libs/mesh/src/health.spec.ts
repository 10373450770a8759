import { HealthCounters, backoffMs, nextHealth, pickWeighted } from './health';

const fresh: HealthCounters = { state: 'unknown', consecutiveFailures: 0, consecutiveSuccesses: 0 };

/** The states after each outcome in turn, from `start`. */
function walk(outcomes: boolean[], thresholds: { unhealthyThreshold: number; healthyThreshold: number }, start: HealthCounters = fresh): string[] {
  let h = start;
  return outcomes.map((passed) => {
    h = nextHealth(h, passed, thresholds);
    return h.state;
  });
}

describe('nextHealth', () => {
  const t = { unhealthyThreshold: 3, healthyThreshold: 2 };

  it('takes the first outcome’s side at once from unknown', () => {
    expect(nextHealth(fresh, true, t)).toEqual({ state: 'healthy', consecutiveFailures: 0, consecutiveSuccesses: 1, changed: true });
    expect(nextHealth(fresh, false, t)).toEqual({ state: 'unhealthy', consecutiveFailures: 1, consecutiveSuccesses: 0, changed: true });
  });

  it('stays healthy below unhealthyThreshold failures in a row, and turns at it', () => {
    expect(walk([true, false, false, false], t)).toEqual(['healthy', 'healthy', 'healthy', 'unhealthy']);
  });

  it('counts failures in a row only: a pass in between starts the count again', () => {
    expect(walk([true, false, false, true, false, false], t)).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'healthy']);
  });

  it('needs healthyThreshold passes in a row to be healthy again', () => {
    expect(walk([false, true, false, true, true], t)).toEqual(['unhealthy', 'unhealthy', 'unhealthy', 'unhealthy', 'healthy']);
  });

  it('says when the state changed', () => {
    const healthy = nextHealth(fresh, true, t);
    expect(nextHealth(healthy, true, t).changed).toBe(false);
    expect(nextHealth(healthy, false, t).changed).toBe(false);
    const down = nextHealth(nextHealth(nextHealth(healthy, false, t), false, t), false, t);
    expect(down).toEqual({ state: 'unhealthy', consecutiveFailures: 3, consecutiveSuccesses: 0, changed: true });
  });

  it('turns on a single outcome with thresholds of 1', () => {
    expect(walk([true, false, true, false], { unhealthyThreshold: 1, healthyThreshold: 1 })).toEqual(['healthy', 'unhealthy', 'healthy', 'unhealthy']);
  });
});

describe('pickWeighted', () => {
  const a = { id: 'a', weight: 1 };
  const b = { id: 'b', weight: 3 };
  const none = { id: 'none', weight: 0 };

  it('maps random values onto candidates in proportion to their weights', () => {
    // a holds [0, 0.25), b holds [0.25, 1).
    expect(pickWeighted([a, b], 0)).toBe(a);
    expect(pickWeighted([a, b], 0.2499)).toBe(a);
    expect(pickWeighted([a, b], 0.25)).toBe(b);
    expect(pickWeighted([a, b], 0.9999)).toBe(b);
  });

  it('picks each candidate about as often as its weight says over evenly spread random values', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const id = pickWeighted([a, none, b], (i + 0.5) / 1000)?.id ?? 'null';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ a: 250, b: 750 });
  });

  it('never picks a zero or negative weight while another has weight', () => {
    const negative = { id: 'negative', weight: -5 };
    for (let i = 0; i < 100; i++) {
      expect(pickWeighted([none, negative, a, none], i / 100)).toBe(a);
      expect(pickWeighted([none, b, negative], i / 100)).toBe(b);
    }
  });

  it('picks the first when every weight is zero, and nothing from no candidates', () => {
    expect(pickWeighted([none, { id: 'other', weight: 0 }], 0.9)).toBe(none);
    expect(pickWeighted([], 0.5)).toBeNull();
  });
});

describe('backoffMs', () => {
  it('waits between half and all of an exponential ceiling from the base', () => {
    expect([1, 2, 3, 4].map((r) => backoffMs(r, 0, 100, 10_000))).toEqual([50, 100, 200, 400]);
    expect([1, 2, 3, 4].map((r) => backoffMs(r, 0.999999, 100, 10_000))).toEqual([100, 200, 400, 800]);
  });

  it('never exceeds the cap, however many retries', () => {
    for (const retry of [6, 7, 10, 50, 5000]) {
      expect(backoffMs(retry, 0, 100, 2000)).toBe(1000);
      expect(backoffMs(retry, 0.999999, 100, 2000)).toBe(2000);
    }
  });

  it('stays within its bounds for any random value, with the defaults', () => {
    for (let retry = 1; retry <= 8; retry++) {
      const ceiling = Math.min(2000, 100 * 2 ** (retry - 1));
      for (const random of [0, 0.1, 0.5, 0.9, 0.999]) {
        const ms = backoffMs(retry, random);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('reads retry 0 as the first retry', () => {
    expect(backoffMs(0, 0)).toBe(backoffMs(1, 0));
  });
});
