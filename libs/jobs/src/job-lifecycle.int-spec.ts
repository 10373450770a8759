import { Queue } from 'bullmq';
import { RedisKeys } from '@gridline/common';
import { chatRequest, parseInferenceJobPayload } from '@gridline/contract';
import { JobRecord, TeamScope } from '@gridline/db';
import { JOB_STREAM_SETTLED_TTL_SECONDS, JobQueues, JobStreams, Queues } from '@gridline/messaging';
import { LifecycleHarness, startLifecycleHarness } from '@gridline/testing';
import { Redis } from 'ioredis';
import { JobLifecycle, MAX_JOB_ATTEMPTS } from './job-lifecycle.service';
import { QuotaGate } from './quota';

/** The lifecycle on the real Postgres (migrated template) and Redis: guarded transitions, fenced streams, one ender. */
describe('job lifecycle (Postgres and Redis)', () => {
  let h: LifecycleHarness<JobLifecycle>;
  let redis: Redis;
  let jobs: LifecycleHarness<JobLifecycle>['jobs'];
  let streams: JobStreams;
  let queues: JobQueues;
  let lifecycle: JobLifecycle;
  let teamId: string;
  let prefix: string;
  const N1 = '11111111-1111-4111-8111-111111111111';
  const N2 = '22222222-2222-4222-8222-222222222222';

  beforeAll(async () => {
    h = await startLifecycleHarness('lifecycle', (j, st, q, r) => new JobLifecycle(j, st, q, new QuotaGate(r.redis, r.keys)));
    ({ redis, jobs, streams, queues, lifecycle, teamId, prefix } = h);
  });

  afterAll(() => h?.close());

  const accept = (key: string | null = null): Promise<JobRecord> => h.accept(key ? { idempotencyKey: key } : {});
  const status = async (id: string) => (await jobs.get(id))?.status;

  it('walks a job through queued → dispatched → running → succeeded, with the outcome read from its stream', async () => {
    const job = await accept();
    expect(job.status).toBe('queued');
    await lifecycle.enqueue(job);
    expect(await queues.holds(Queues.inference, { jobId: job.id, attempt: 1 } as never)).toBe(true);
    expect(await lifecycle.dispatch(job.id, 1, N1, `${N1}/m`)).toMatchObject({ status: 'dispatched', nodeId: N1, replicaId: `${N1}/m` });
    expect(await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }])).toBe(true);
    expect(await lifecycle.start(job.id, 1)).toMatchObject({ status: 'running' });
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'Hi ' }]);
    await lifecycle.firstToken(job.id, 1);
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 1, text: 'there' }]);
    expect(
      await streams.end(job.id, 1, N1, [
        { type: 'usage', promptTokens: 7, completionTokens: 2, cachedPromptTokens: 4 },
        { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 5 },
      ]),
    ).toBe(true);
    const done = await lifecycle.settle(job.id, 1);
    expect(done).toMatchObject({ status: 'succeeded', promptTokens: 7, cachedPromptTokens: 4, completionTokens: 2, result: { text: 'Hi there', finishReason: 'stop' } });
    expect(done?.firstTokenAt).toBeInstanceOf(Date);
    expect(done?.finishedAt).toBeInstanceOf(Date);
    // The row holds the outcome: the stream and control hash expire soon after (JOB_STREAM_SETTLED_TTL_SECONDS).
    for (const key of [`${prefix}:job:${job.id}:events`, `${prefix}:job:${job.id}:ctl`]) {
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(JOB_STREAM_SETTLED_TTL_SECONDS - 10);
      expect(ttl).toBeLessThanOrEqual(JOB_STREAM_SETTLED_TTL_SECONDS);
    }
  });

  it('refuses illegal transitions with a compare-and-set and changes nothing', async () => {
    const job = await accept();
    expect(await lifecycle.start(job.id, 1)).toBeNull();
    expect(await status(job.id)).toBe('queued');
    expect(await lifecycle.dispatch(job.id, 2, N1, 'r')).toBeNull();
    expect(await lifecycle.end(job.id, { transition: 'succeed', output: { text: '', finishReason: 'stop', promptTokens: 0, cachedPromptTokens: null, completionTokens: 0, firstTokenMs: 0, totalMs: 0 } })).toBeNull();
    expect(await status(job.id)).toBe('queued');
    expect(await lifecycle.end(job.id, { transition: 'cancel', code: 'cancelled' })).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
    // A job that ended stays ended, whatever comes later.
    expect(await lifecycle.end(job.id, { transition: 'expire', code: 'timeout' })).toBeNull();
    expect(await lifecycle.dispatch(job.id, 1, N1, 'r')).toBeNull();
    expect(await jobs.get(job.id)).toMatchObject({ status: 'cancelled', errorCode: 'cancelled' });
  });

  it('fences a node off a job the control plane ended: nothing it writes afterwards lands, and readers get the error', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }]);
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'early' }]);
    expect(await lifecycle.end(job.id, { transition: 'expire', code: 'timeout', message: 'too slow' })).toMatchObject({ status: 'expired' });
    expect(await streams.append(job.id, 1, N1, [{ type: 'delta', index: 1, text: 'late' }])).toBe(false);
    expect(await streams.end(job.id, 1, N1, [{ type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1 }])).toBe(false);
    const events = (await streams.read(job.id)).map((e) => e.event);
    expect(events).toEqual([
      { type: 'started', attempt: 1, nodeId: N1 },
      { type: 'delta', index: 0, text: 'early' },
      { type: 'error', code: 'timeout', message: 'too slow' },
    ]);
    expect(await lifecycle.settle(job.id, 1)).toBeNull();
    expect(await status(job.id)).toBe('expired');
  });

  it('requeues a lost attempt only before its first token, once, and fences the old attempt', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await lifecycle.start(job.id, 1);
    const running = (await jobs.get(job.id)) as JobRecord;
    expect(await lifecycle.requeue(running, 'node lost')).toBe(true);
    expect(await jobs.get(job.id)).toMatchObject({ status: 'queued', attempt: 2, nodeId: null });
    expect(await queues.holds(Queues.inference, { jobId: job.id, attempt: 2 } as never)).toBe(true);
    // The lost attempt is fenced off at once, before the next one is even dispatched.
    expect(await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'stale' }])).toBe(false);
    await lifecycle.dispatch(job.id, 2, N2, 'r2');
    expect(await streams.append(job.id, 2, N2, [{ type: 'started', attempt: 2, nodeId: N2 }])).toBe(true);
    await lifecycle.start(job.id, 2);
    await lifecycle.firstToken(job.id, 2);
    const withToken = (await jobs.get(job.id)) as JobRecord;
    expect(withToken.attempt).toBe(MAX_JOB_ATTEMPTS);
    expect(await lifecycle.requeue(withToken, 'lost again')).toBe(false);

    const other = await accept();
    await lifecycle.dispatch(other.id, 1, N1, 'r');
    await lifecycle.start(other.id, 1);
    await lifecycle.firstToken(other.id, 1);
    expect(await lifecycle.requeue((await jobs.get(other.id)) as JobRecord, 'lost after a token')).toBe(false);
    expect(await status(other.id)).toBe('running');
  });

  it('never requeues a job whose first token reached the stream, even before the database heard of it', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }]);
    await lifecycle.start(job.id, 1);
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'seen by a client' }]);
    const row = (await jobs.get(job.id)) as JobRecord;
    expect(row.firstTokenAt).toBeNull();
    expect(await lifecycle.requeue(row, 'lost')).toBe(false);
    expect(await jobs.get(job.id)).toMatchObject({ status: 'running', attempt: 1 });
    expect(await streams.append(job.id, 1, N1, [{ type: 'delta', index: 1, text: ' and more' }])).toBe(true);
  });

  it('resumes a job lost after it streamed: the lost attempt is fenced, the next continues the text, and the row holds the whole of it', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }]);
    await lifecycle.start(job.id, 1);
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'Once upon' }]);
    await lifecycle.firstToken(job.id, 1);
    // A repeated write of the same delta (a retry) is counted once.
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 1, text: ' a time' }, { type: 'delta', index: 1, text: ' a time' }]);
    const running = (await jobs.get(job.id)) as JobRecord;
    expect(await lifecycle.requeue(running, 'node lost')).toBe(false);
    expect(await lifecycle.resume(running, 'node lost')).toBe(true);
    expect(await jobs.get(job.id)).toMatchObject({ status: 'queued', attempt: 2, nodeId: null, firstTokenAt: running.firstTokenAt });
    // The lost node's runner, still alive, can add nothing.
    expect(await streams.append(job.id, 1, N1, [{ type: 'delta', index: 2, text: ' late' }])).toBe(false);
    expect(await streams.end(job.id, 1, N1, [{ type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 2, deltas: 3 }])).toBe(false);
    // The queue holds the next attempt with the text to continue.
    const connection = redis.duplicate();
    const queue = new Queue('inference', { connection, prefix: new RedisKeys(prefix).bullPrefix });
    try {
      const queued = await queue.getJob(`${job.id}-a2`);
      expect(parseInferenceJobPayload(queued?.data).resume).toEqual({ text: 'Once upon a time', deltas: 2 });
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await lifecycle.dispatch(job.id, 2, N2, 'r2');
    expect(await streams.append(job.id, 2, N2, [{ type: 'started', attempt: 2, nodeId: N2, fromDelta: 2 }])).toBe(true);
    await lifecycle.start(job.id, 2);
    await streams.append(job.id, 2, N2, [{ type: 'delta', index: 2, text: ', the end.' }]);
    await streams.end(job.id, 2, N2, [
      { type: 'usage', promptTokens: 5, completionTokens: 6 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 3, deltas: 3 },
    ]);
    const done = await lifecycle.settle(job.id, 2);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 2, completionTokens: 6, result: { text: 'Once upon a time, the end.' } });
    // A second loss finds no try left.
    expect(await lifecycle.resume({ ...(done as JobRecord), status: 'running' }, 'lost again')).toBe(false);
  });

  it('does not resume a sampled job under a JSON format (a new attempt would start a second document after the text); a greedy one it does', async () => {
    for (const [temperature, resumes] of [[0.8, false], [0, true]] as const) {
      const now = new Date();
      const request = { ...chatRequest([{ role: 'user', content: 'JSON, please.' }], { maxTokens: 50, sampling: { temperature } }), responseFormat: { type: 'json_object' } };
      const { job } = await jobs.create({ teamId, keypairId: null, kind: 'chat', mode: 'sync', model: 'm', request: request as unknown as Record<string, unknown>, requestId: null, createdAt: now, deadlineAt: new Date(now.getTime() + 60_000), idempotencyKey: null, requestHash: null });
      await lifecycle.dispatch(job.id, 1, N1, 'r');
      await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }, { type: 'delta', index: 0, text: '{"river": ' }]);
      expect(await lifecycle.resume((await jobs.get(job.id)) as JobRecord, 'lost')).toBe(resumes);
      expect(await jobs.get(job.id)).toMatchObject(resumes ? { status: 'queued', attempt: 2 } : { status: 'dispatched', attempt: 1 });
    }
  });

  it('does not resume a job with no try left, nor one whose streamed text has a hole, and changes nothing then', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }, { type: 'delta', index: 1, text: 'no first delta' }]);
    const row = (await jobs.get(job.id)) as JobRecord;
    expect(await lifecycle.resume(row, 'lost')).toBe(false);
    expect(await jobs.get(job.id)).toMatchObject({ status: 'dispatched', attempt: 1 });
    // Still the lost attempt's: resuming changed nothing.
    expect(await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'x' }])).toBe(true);
    expect(await lifecycle.resume({ ...row, attempt: MAX_JOB_ATTEMPTS }, 'lost')).toBe(false);
  });

  it('lets the node\'s own end win over a control-plane end that came too late', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await streams.append(job.id, 1, N1, [{ type: 'started', attempt: 1, nodeId: N1 }]);
    await streams.append(job.id, 1, N1, [{ type: 'delta', index: 0, text: 'done' }]);
    await streams.end(job.id, 1, N1, [
      { type: 'usage', promptTokens: 2, completionTokens: 1 },
      { type: 'finished', finishReason: 'stop', firstTokenMs: 1, totalMs: 1 },
    ]);
    // The start note was never handled: the row is still dispatched when the api's timeout fires.
    expect(await lifecycle.end(job.id, { transition: 'expire', code: 'timeout' })).toMatchObject({ status: 'succeeded', result: { text: 'done' } });
  });

  it('records the first ender\'s ending when a second one comes between its close and its row', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    // A cancel that closed the stream, then stopped (its row update is late or lost) ...
    expect(await streams.close(job.id, 'cancelled', { type: 'error', code: 'cancelled', message: 'the client disconnected' })).toEqual({ closed: true });
    // ... and the request's timeout or the sweeper: the row says what the readers were told.
    expect(await lifecycle.end(job.id, { transition: 'expire', code: 'timeout' })).toMatchObject({ status: 'cancelled', errorCode: 'cancelled', errorMessage: 'the client disconnected' });
    expect(await lifecycle.settle(job.id, 1)).toBeNull();
  });

  it('does not let an ender of a stale attempt close the current one', async () => {
    const job = await accept();
    await lifecycle.dispatch(job.id, 1, N1, 'r');
    await lifecycle.start(job.id, 1);
    await lifecycle.requeue((await jobs.get(job.id)) as JobRecord, 'lost');
    await lifecycle.dispatch(job.id, 2, N2, 'r');
    expect(await lifecycle.end(job.id, { transition: 'fail', code: 'node_lost' }, 1)).toBeNull();
    expect(await streams.append(job.id, 2, N2, [{ type: 'started', attempt: 2, nodeId: N2 }])).toBe(true);
    expect((await jobs.get(job.id))?.status).toBe('dispatched');
  });

  it('returns the first job for a repeated idempotency key', async () => {
    const a = await accept('k-1');
    const b = await lifecycle.accept({ ...a, idempotencyKey: 'k-1', requestHash: 'h', createdAt: new Date(), deadlineAt: new Date() } as never);
    expect(b).toMatchObject({ created: false, job: { id: a.id } });
    expect((await jobs.list(TeamScope.team(teamId), { limit: 100 })).filter((j) => j.idempotencyKey === 'k-1')).toHaveLength(1);
  });
});
