import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { JobRecord, TeamRepository } from '@gridline/db';
import { JobLifecycle, QuotaGate } from '@gridline/jobs';
import { JobQueues, JobStreams, Queues } from '@gridline/messaging';
import { LifecycleHarness, startLifecycleHarness } from '@gridline/testing';
import { WaitingJobs } from '../dispatch/waiting-jobs';
import { Leadership } from '../leadership/leadership.service';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';
import { SweeperService } from './sweeper.service';

const DEAD = '11111111-1111-4111-8111-111111111111';
const ALIVE = '22222222-2222-4222-8222-222222222222';

/** The sweeper's rules on the real Postgres and Redis, one pass at a time. */
describe('sweeper', () => {
  let h: LifecycleHarness<JobLifecycle>;
  let redis: Redis;
  let jobs: LifecycleHarness<JobLifecycle>['jobs'];
  let streams: JobStreams;
  let queues: JobQueues;
  let lifecycle: JobLifecycle;
  let registry: ReplicaRegistry;
  let sweeper: SweeperService;
  let keys: RedisKeys;

  beforeAll(async () => {
    h = await startLifecycleHarness('sweeper', (j, st, q, r) => new JobLifecycle(j, st, q, new QuotaGate(r.redis, r.keys)));
    ({ redis, jobs, streams, queues, lifecycle } = h);
    keys = new RedisKeys(h.prefix);
    registry = new ReplicaRegistry();
    const config = Object.assign(new SchedulerConfig(), { GRIDLINE_HEARTBEAT_SECONDS: 1, GRIDLINE_NODE_TIMEOUT_SECONDS: 3, GRIDLINE_SWEEP_SECONDS: 1 });
    // The sweep is called directly here; the leader-only timer is not under test.
    sweeper = new SweeperService(config, jobs, lifecycle, queues, registry, new WaitingJobs(queues, new TeamRepository(h.ds), registry, config), keys, redis, { leading: true } as Leadership);
  });

  afterAll(() => h?.close());

  const beat = (nodeId: string, at: number, runningJobs: { jobId: string; attempt: number }[] = []) =>
    registry.beat({ nodeId, at, schedulable: true, replicas: [{ id: `${nodeId}-r`, model: 'm', parallel: 4, ready: true }], runningJobs }, 2000);
  const accept = (ageMs = 0, timeoutMs = 60_000): Promise<JobRecord> => h.accept({ ageMs, timeoutMs });
  const get = async (id: string) => (await jobs.get(id)) as JobRecord;
  const lastEvent = async (id: string) => (await streams.read(id)).at(-1)?.event;

  beforeEach(() => {
    beat(DEAD, Date.now() - 10_000);
    beat(ALIVE, Date.now());
  });

  it('expires a job past its deadline, telling its readers', async () => {
    const job = await accept(5000, 1000);
    await lifecycle.dispatch(job.id, 1, ALIVE, 'r');
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'expired', errorCode: 'timeout' });
    expect(await lastEvent(job.id)).toMatchObject({ type: 'error', code: 'timeout' });
  });

  it('puts a queued job Redis lost back on the queue, after the grace the api needs to enqueue it', async () => {
    const fresh = await accept(0);
    const old = await accept(10_000);
    const report = await sweeper.sweep();
    expect(report?.enqueued).toBe(1);
    expect(await queues.holds(Queues.inference, { jobId: old.id, attempt: 1 } as never)).toBe(true);
    expect(await queues.holds(Queues.inference, { jobId: fresh.id, attempt: 1 } as never)).toBe(false);
    // Enqueued once: a second pass finds it held.
    expect((await sweeper.sweep())?.enqueued).toBe(0);
  });

  it('requeues a job lost with its node before the first token once, then fails it with node_lost', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, DEAD, 'r');
    await lifecycle.start(job.id, 1);
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'queued', attempt: 2, nodeId: null });
    expect(await queues.holds(Queues.inference, { jobId: job.id, attempt: 2 } as never)).toBe(true);
    await lifecycle.dispatch(job.id, 2, DEAD, 'r');
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'failed', errorCode: 'node_lost', attempt: 2 });
    expect(await lastEvent(job.id)).toMatchObject({ type: 'error', code: 'node_lost' });
  });

  it('resumes a job lost with its node after it streamed, once, with the text to continue; lost again, it fails with node_lost', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, DEAD, 'r');
    await streams.append(job.id, 1, DEAD, [{ type: 'started', attempt: 1, nodeId: DEAD }, { type: 'delta', index: 0, text: 'The sea' }]);
    await lifecycle.start(job.id, 1);
    await lifecycle.firstToken(job.id, 1);
    const report = await sweeper.sweep();
    expect(report).toMatchObject({ resumed: 1, failed: 0 });
    expect(await get(job.id)).toMatchObject({ status: 'queued', attempt: 2, nodeId: null });
    expect(await queues.holds(Queues.inference, { jobId: job.id, attempt: 2 } as never)).toBe(true);
    await lifecycle.dispatch(job.id, 2, DEAD, 'r');
    await streams.append(job.id, 2, DEAD, [{ type: 'started', attempt: 2, nodeId: DEAD, fromDelta: 1 }, { type: 'delta', index: 1, text: ' is' }]);
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'failed', errorCode: 'node_lost', attempt: 2 });
    expect(await lastEvent(job.id)).toMatchObject({ type: 'error', code: 'node_lost' });
  });

  it('fails with node_lost a job that streamed when no other node serves its model', async () => {
    registry.beat({ nodeId: ALIVE, at: Date.now(), schedulable: true, replicas: [], runningJobs: [] }, 2000);
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, DEAD, 'r');
    await streams.append(job.id, 1, DEAD, [{ type: 'started', attempt: 1, nodeId: DEAD }, { type: 'delta', index: 0, text: 'The sea' }]);
    await lifecycle.start(job.id, 1);
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'failed', errorCode: 'node_lost', attempt: 1 });
    expect(await lastEvent(job.id)).toMatchObject({ type: 'error', code: 'node_lost' });
  });

  it('fails with node_lost a job recorded with a first token whose streamed text cannot be read back', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, DEAD, 'r');
    await lifecycle.start(job.id, 1);
    await lifecycle.firstToken(job.id, 1);
    await sweeper.sweep();
    expect(await get(job.id)).toMatchObject({ status: 'failed', errorCode: 'node_lost', attempt: 1 });
  });

  it('settles from its stream a job whose end note was lost, when the live node no longer runs it', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, ALIVE, 'r');
    await streams.append(job.id, 1, ALIVE, [{ type: 'started', attempt: 1, nodeId: ALIVE }]);
    await lifecycle.start(job.id, 1);
    await streams.append(job.id, 1, ALIVE, [{ type: 'delta', index: 0, text: 'ok' }]);
    await streams.end(job.id, 1, ALIVE, [
      { type: 'usage', promptTokens: 3, completionTokens: 1 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 2 },
    ]);
    // A heartbeat, taken well after the job started, that does not list it.
    beat(ALIVE, Date.now() + 5000, []);
    await sweeper.sweep(Date.now() + 5000);
    expect(await get(job.id)).toMatchObject({ status: 'succeeded', result: { text: 'ok' } });
  });

  it('leaves alone a job its live node reports running', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, ALIVE, 'r');
    await lifecycle.start(job.id, 1);
    beat(ALIVE, Date.now() + 5000, [{ jobId: job.id, attempt: 1 }]);
    await sweeper.sweep(Date.now() + 5000);
    expect((await get(job.id)).status).toBe('running');
    await lifecycle.end(job.id, { transition: 'cancel', code: 'cancelled' });
  });

  it('sweeps one process at a time', async () => {
    await redis.set(keys.sweeperLock, 'another-process', 'PX', 5000);
    expect(await sweeper.sweep()).toBeNull();
    await redis.del(keys.sweeperLock);
    expect(await sweeper.sweep()).not.toBeNull();
  });
});
