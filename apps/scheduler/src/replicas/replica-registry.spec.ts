import { ReplicaRegistry, cacheBlocks, promptBlocks, runningKey } from './replica-registry';

import type { RunningJob } from '@gridline/contract';

/** A heartbeat of node `nodeId` serving model m on one replica with `parallel` sequences. */
const beat = (r: ReplicaRegistry, nodeId: string, parallel: number, at: number, running: RunningJob[] = [], graceMs = 2000) =>
  r.beat({ nodeId, at, schedulable: true, replicas: [{ id: `${nodeId}-r`, model: 'm', parallel, ready: true }], runningJobs: running }, graceMs);

describe('ReplicaRegistry', () => {
  it('claims free sequences only, and frees them on release', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 1, 1000);
    expect(r.claim('m', 'j1', 1, 1000, 5000)?.nodeId).toBe('a');
    expect(r.holder('j1', 1)).toBe('a');
    expect(r.claim('m', 'j2', 1, 1000, 5000)).toBeNull();
    expect(r.release('a', 'j1', 1)).toBe('m');
    expect(r.claim('m', 'j2', 1, 1000, 5000)?.nodeId).toBe('a');
  });

  it('releases only the attempt that ended', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 2, 1000);
    r.claim('m', 'j', 2, 1000, 5000);
    // A stale end of the lost first attempt frees nothing.
    expect(r.release('a', 'j', 1)).toBeNull();
    expect(r.holder('j', 2)).toBe('a');
    expect(r.release('a', 'j', 2)).toBe('m');
    expect(r.release('a', 'j', 2)).toBeNull();
  });

  it('tells whether a model is served by a ready replica on a live node other than a lost one', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 1, 1000);
    expect(r.servesElsewhere('m', 'a', 1000, 5000)).toBe(false);
    beat(r, 'b', 1, 1000);
    expect(r.servesElsewhere('m', 'a', 1000, 5000)).toBe(true);
    expect(r.servesElsewhere('other', 'a', 1000, 5000)).toBe(false);
    // b's heartbeats stopped too.
    expect(r.servesElsewhere('m', 'a', 6001, 5000)).toBe(false);
    r.beat({ nodeId: 'c', at: 6000, schedulable: true, replicas: [{ id: 'c-r', model: 'm', parallel: 1, ready: false }], runningJobs: [] }, 2000);
    expect(r.servesElsewhere('m', 'a', 6001, 5000)).toBe(false);
  });

  it('never routes to a node whose heartbeats stopped', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 4, 1000);
    expect(r.isAlive('a', 5999, 5000)).toBe(true);
    expect(r.isAlive('a', 6001, 5000)).toBe(false);
    expect(r.claim('m', 'j', 1, 6001, 5000)).toBeNull();
  });

  it('reconciles with heartbeats: a claim the node does not run lapses after the grace, a job it runs counts', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 1, 0);
    expect(r.claim('m', 'lost', 1, 1000, 60_000)?.nodeId).toBe('a');
    // Within the grace the claim stands (the node may not have picked the job up yet).
    beat(r, 'a', 1, 1500, [], 2000);
    expect(r.claim('m', 'x', 1, 1500, 60_000)).toBeNull();
    // Past it, the missed end is forgiven and the sequence is free again.
    beat(r, 'a', 1, 4000, [], 2000);
    expect(r.claim('m', 'x', 1, 4000, 60_000)?.nodeId).toBe('a');
    r.release('a', 'x', 1, 4000);
    // A job the node reports (dispatched by an earlier scheduler) is counted.
    beat(r, 'a', 1, 5000, [{ jobId: 'other', attempt: 2 }], 2000);
    expect(r.claim('m', 'y', 1, 5000, 60_000)).toBeNull();
    expect(r.lastReport('a')?.jobs.has(runningKey('other', 2))).toBe(true);
  });

  it('does not count again a job whose end it saw, when a heartbeat sent before that end arrives after it', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 1, 0);
    r.claim('m', 'j', 1, 1000, 60_000);
    r.release('a', 'j', 1, 1100);
    beat(r, 'a', 1, 1200, [{ jobId: 'j', attempt: 1 }], 2000);
    expect(r.claim('m', 'next', 1, 1300, 60_000)?.nodeId).toBe('a');
  });

  it('sends a prompt back to the replica that served its prefix, when the load allows', () => {
    const r = new ReplicaRegistry();
    beat(r, 'a', 4, 1000);
    beat(r, 'b', 4, 1000);
    const system = 'You are a careful assistant. '.repeat(40);
    const p = promptBlocks({ kind: 'chat', messages: [{ role: 'system', content: system }, { role: 'user', content: 'first' }] });
    const q = promptBlocks({ kind: 'chat', messages: [{ role: 'system', content: 'Another long preamble. '.repeat(40) }, { role: 'user', content: 'x' }] });
    expect(p.length).toBeGreaterThan(2);
    expect(r.claim('m', 'j1', 1, 1000, 60_000, p)?.nodeId).toBe('a');
    // b is idle, a busy: the load term sends an unrelated prompt to b.
    expect(r.claim('m', 'j2', 1, 1000, 60_000, q)?.nodeId).toBe('b');
    r.release('a', 'j1', 1, 1100);
    r.release('b', 'j2', 1, 1100);
    // Both idle again: without affinity the tie would go to a; the prefix b holds decides.
    const again = promptBlocks({ kind: 'chat', messages: [{ role: 'system', content: 'Another long preamble. '.repeat(40) }, { role: 'user', content: 'y' }] });
    expect(r.claim('m', 'j3', 1, 1200, 60_000, again)?.nodeId).toBe('b');
    // A prefix nobody holds: plain load order.
    expect(r.claim('m', 'j4', 1, 1200, 60_000, promptBlocks({ kind: 'completion', prompt: 'z'.repeat(2000) }))?.nodeId).toBe('a');
  });

  it("sizes what it believes a replica caches by the replica's KV cache (context × sequences)", () => {
    expect(cacheBlocks(undefined)).toBe(Infinity);
    // 4 sequences × 1,024 tokens ≈ 16 KiB of text: 64 blocks of 256 bytes.
    expect(cacheBlocks(4 * 1024)).toBe(64);
  });
});
