import { RequestTimeline } from './request-timeline';

/** Busy-waits `ms` (the timeline reads performance.now(); a timer would not move it exactly). */
function spend(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

function steps(header: string): Record<string, number> {
  return Object.fromEntries(header.split(', ').map((s) => s.split(';dur=')).map(([n, d]) => [n, Number(d)]));
}

describe('RequestTimeline', () => {
  it('names each step with the time since the one before, in server-timing syntax', () => {
    const t = new RequestTimeline();
    spend(3);
    t.mark('auth');
    spend(5);
    t.mark('row');
    expect(t.serverTiming()).toMatch(/^auth;dur=\d+\.\d{3}, row;dur=\d+\.\d{3}$/);
    const s = steps(t.serverTiming());
    expect(s.auth).toBeGreaterThanOrEqual(3);
    expect(s.row).toBeGreaterThanOrEqual(5);
    expect(s.auth + s.row).toBeLessThanOrEqual(t.elapsed());
  });

  it("splits the wait for the first output by the node's account, and counts only the model's part out of the overhead", () => {
    const t = new RequestTimeline();
    t.mark('dispatch');
    spend(12);
    // The node says: 9 ms from the job's arrival to its first text, 6 of them in the runner.
    t.markFirstOutput({ nodeMs: 9, runnerMs: 6 });
    const s = steps(t.serverTiming());
    expect(s.node).toBeCloseTo(3, 5);
    expect(s.runner).toBeCloseTo(6, 5);
    expect(s.transit).toBeGreaterThanOrEqual(3);
    expect(s.transit + s.node + s.runner).toBeGreaterThanOrEqual(12);
    expect(t.overhead()).toBeCloseTo(t.elapsed() - 6, 0);
  });

  it('keeps one step for the wait when the node sent no account (an older agent), and then counts it all as overhead', () => {
    const t = new RequestTimeline();
    spend(2);
    t.markFirstOutput(undefined);
    expect(Object.keys(steps(t.serverTiming()))).toEqual(['first-output']);
    expect(t.overhead()).toBeGreaterThanOrEqual(2);
  });
});
