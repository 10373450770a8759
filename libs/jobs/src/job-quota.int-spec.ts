import { RedisKeys } from '@gridline/common';
import { chatRequest } from '@gridline/contract';
import { JobQuotaHolds, JobRecord } from '@gridline/db';
import { LifecycleHarness, startLifecycleHarness } from '@gridline/testing';
import { JobLifecycle } from './job-lifecycle.service';
import { Admission, QuotaGate, QuotaPolicy } from './quota';

/**
 * What a job took from its team's quotas goes back through the lifecycle (real Postgres and
 * Redis): the queue place when it starts, the slot and the settled tokens when its row is finished.
 */
describe('job lifecycle gives back quota holds', () => {
  let h: LifecycleHarness<JobLifecycle>;
  let gate: QuotaGate;
  const N1 = '11111111-1111-4111-8111-111111111111';
  const policy: QuotaPolicy = { team: { maxConcurrentJobs: 10, maxQueuedJobs: 10, tokensPerDay: 1_000_000 } };

  beforeAll(async () => {
    h = await startLifecycleHarness('quota-lifecycle', (j, st, q, r) => new JobLifecycle(j, st, q, new QuotaGate(r.redis, r.keys)));
    gate = new QuotaGate(h.redis, new RedisKeys(h.prefix));
  });

  afterAll(() => h?.close());

  /** An admitted asynchronous job (100 tokens reserved) written with its holds, as the api does. */
  async function admitted(): Promise<{ job: JobRecord; admission: Admission }> {
    const r = await gate.admit({ teamId: h.teamId }, policy, { tokens: 100, slot: true, queue: true, leaseMs: 60_000, queueTtlMs: 60_000 });
    if (!r.admitted) throw new Error('refused');
    const quota: JobQuotaHolds = { slot: r.slot, queued: r.queued, reservation: r.reservation };
    const now = new Date();
    const { job } = await h.jobs.create({ teamId: h.teamId, keypairId: null, kind: 'chat', mode: 'async', model: 'm', request: chatRequest([{ role: 'user', content: 'hi' }], { maxTokens: 99 }) as unknown as Record<string, unknown>, requestId: null, createdAt: now, deadlineAt: new Date(now.getTime() + 60_000), idempotencyKey: null, requestHash: null, quota });
    return { job, admission: r };
  }
  const usage = () => gate.usage({ teamId: h.teamId }, 'team');

  it('a succeeded job: its place is freed at start, its slot at the end, and its tokens settled to the usage', async () => {
    const before = await usage();
    const { job } = await admitted();
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs + 1, queuedJobs: before.queuedJobs + 1, tokensToday: before.tokensToday + 100 });
    await h.lifecycle.dispatch(job.id, 1, N1, `${N1}/m`);
    await h.streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }]);
    await h.lifecycle.start(job.id, 1);
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs + 1, queuedJobs: before.queuedJobs });
    await h.streams.end(job.id, 1, N1, [
      { type: 'usage', promptTokens: 7, completionTokens: 5 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 2 },
    ]);
    expect(await h.lifecycle.settle(job.id, 1)).toMatchObject({ status: 'succeeded' });
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs, queuedJobs: before.queuedJobs, tokensToday: before.tokensToday + 12 });
  });

  it('a job cancelled in the queue gives back everything; one cancelled after it reached a node stays charged its reservation', async () => {
    const before = await usage();
    const queued = await admitted();
    await h.lifecycle.end(queued.job.id, { transition: 'cancel', code: 'cancelled' });
    expect(await usage()).toEqual(before);
    const dispatched = await admitted();
    await h.lifecycle.dispatch(dispatched.job.id, 1, N1, `${N1}/m`);
    await h.lifecycle.end(dispatched.job.id, { transition: 'cancel', code: 'cancelled' });
    expect(await usage()).toEqual({ ...before, tokensToday: before.tokensToday + 100 });
    // Ending again changes nothing (the row is finished; holds go back once).
    await h.lifecycle.end(dispatched.job.id, { transition: 'cancel', code: 'cancelled' });
    expect(await gate.settle(dispatched.admission.reservation, 0)).toMatchObject({ settled: false });
    expect(await usage()).toEqual({ ...before, tokensToday: before.tokensToday + 100 });
  });

  it("an asynchronous job's slot taken at dispatch is recorded on its row, given back when the job is requeued (node lost) and again taken by the next dispatch", async () => {
    const before = await usage();
    const r = await gate.admit({ teamId: h.teamId }, policy, { tokens: 100, queue: true, queueTtlMs: 60_000 });
    if (!r.admitted) throw new Error('refused');
    const now = new Date();
    const { job } = await h.jobs.create({ teamId: h.teamId, keypairId: null, kind: 'chat', mode: 'async', model: 'm', request: chatRequest([{ role: 'user', content: 'hi' }], { maxTokens: 99 }) as unknown as Record<string, unknown>, requestId: null, createdAt: now, deadlineAt: new Date(now.getTime() + 60_000), idempotencyKey: null, requestHash: null, quota: { slot: null, queued: r.queued, reservation: r.reservation } });
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs, queuedJobs: before.queuedJobs + 1 });
    // As the scheduler does: the slot first, then the dispatch that records it.
    const take = async () => {
      const s = await gate.admit({ teamId: h.teamId }, policy, { requests: 0, slot: true, leaseMs: 60_000 });
      if (!s.admitted || !s.slot) throw new Error('no slot');
      return s.slot;
    };
    const first = await take();
    const dispatched = await h.lifecycle.dispatch(job.id, 1, N1, `${N1}/m`, new Date(), undefined, first);
    expect(dispatched?.quota).toEqual({ slot: first, queued: r.queued, reservation: r.reservation });
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs + 1 });
    expect(await h.lifecycle.requeue(dispatched as JobRecord, 'its node was lost')).toBe(true);
    expect((await h.jobs.get(job.id))?.quota).toEqual({ slot: null, queued: r.queued, reservation: r.reservation });
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs, queuedJobs: before.queuedJobs + 1 });
    const second = await take();
    await h.lifecycle.dispatch(job.id, 2, N1, `${N1}/m`, new Date(), undefined, second);
    expect((await h.jobs.get(job.id))?.quota?.slot).toEqual(second);
    await h.lifecycle.end(job.id, { transition: 'cancel', code: 'cancelled' });
    expect(await usage()).toMatchObject({ concurrentJobs: before.concurrentJobs, queuedJobs: before.queuedJobs });
  });
});
