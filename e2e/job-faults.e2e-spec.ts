import { Redis } from 'ioredis';
import { chatRequest } from '@gridline/contract';
import { RunningStack, StackClient, TEST_REDIS_URL, startRunner, startStack, until } from '@gridline/testing';

interface Row {
  status: string;
  error_code: string | null;
  attempt: number;
  first_token_at: Date | null;
}

/**
 * Faults done for real against the three built processes: the api killed between a job's
 * row and its enqueue, the agent killed mid-stream, a client that goes away. Each ends with
 * the right status and code, no open job past its bound, and no text twice on any stream.
 */
describe('jobs under faults', () => {
  let stack: RunningStack;
  let client: StackClient;
  let redis: Redis;
  const messages = [{ role: 'user' as const, content: 'Write a very long story about rivers.' }];
  const body = (max: number) => ({ model: 'tiny-faults', messages, max_tokens: max, temperature: 0 });

  beforeAll(async () => {
    stack = await startStack({
      modelName: 'tiny-faults',
      parallel: 1,
      env: { GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '3', GRIDLINE_SWEEP_SECONDS: '1' },
    });
    client = new StackClient(stack, stack.url);
    redis = new Redis(TEST_REDIS_URL);
  }, 120_000);

  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await stack?.stop();
  });

  const row = async (id: string) => (await client.sql<Row>('SELECT status, error_code, attempt, first_token_at FROM jobs WHERE id = $1', [id]))[0];
  const streamDeltas = async (id: string) => {
    const entries = (await redis.xrange(`${stack.prefix}:job:${id}:events`, '-', '+')) as [string, string[]][];
    return entries.map(([, f]) => JSON.parse(f[f.indexOf('e') + 1]) as { type: string; index?: number }).filter((e) => e.type === 'delta');
  };

  afterEach(async () => {
    // No job stays open past its bound (its deadline, plus one sweep).
    await until('no overdue open job', async () => ((await client.openJobs({ overdueBySeconds: 2 })) === 0 ? true : undefined), 5000);
  });

  it('a client that disconnects mid-stream cancels its job, and the next request on the one sequence starts at once', async () => {
    const first = await client.stream(body(1500), (_e, i) => i >= 3);
    const firstId = first.headers.get('x-gridline-job-id') ?? '';
    expect(firstId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.abortedAt).not.toBeNull();
    const second = await client.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', body(4));
    expect(second.status).toBe(200);
    expect(second.headers.get('x-gridline-job-id')).toMatch(/^[0-9a-f-]{36}$/);
    await until('the first job to be cancelled', async () => ((await row(firstId)).status === 'cancelled' ? true : undefined));
    expect(await row(firstId)).toMatchObject({ status: 'cancelled', error_code: 'cancelled' });
    const cancelled = await stack.agent.waitFor(new RegExp(`\\{[^\\n]*"jobId":"${firstId}"[^\\n]*"msg":"job cancelled"[^\\n]*\\}`));
    expect((JSON.parse(cancelled[0]) as { completionTokens: number }).completionTokens).toBeLessThan(1500);
    const secondRow = (await client.sql<{ started_at: Date; status: string }>('SELECT started_at, status FROM jobs WHERE id = $1', [second.headers.get('x-gridline-job-id')]))[0];
    const firstEnd = (await client.sql<{ finished_at: Date }>('SELECT finished_at FROM jobs WHERE id = $1', [firstId]))[0];
    expect(secondRow.status).toBe('succeeded');
    // The second job ran on the sequence the first one freed: after the first ended, not after its 1500 tokens.
    expect(secondRow.started_at.getTime()).toBeGreaterThanOrEqual(firstEnd.finished_at.getTime() - 50);
  });

  it('the api killed between the job row and the enqueue: the job is queued again and succeeds', async () => {
    const faulty = await stack.startApi({ GRIDLINE_FAULT: 'crash-after-insert' });
    const faultyClient = new StackClient(stack, faulty.url);
    await expect(faultyClient.json('POST', '/api/v1/jobs', body(6))).rejects.toThrow();
    await until('the faulty api to die', async () => (faulty.process.child.signalCode === 'SIGKILL' ? true : undefined), 5000);
    const orphan = (await client.sql<{ id: string }>('SELECT id FROM jobs ORDER BY created_at DESC LIMIT 1'))[0];
    const done = await until('the orphaned job to succeed', async () => {
      const j = (await client.json<{ status: string; result: { text: string } | null; usage: { completion_tokens: number } | null }>('GET', `/api/v1/jobs/${orphan.id}`)).body;
      return j.status === 'succeeded' ? j : undefined;
    }, 20_000);
    expect(done.usage?.completion_tokens).toBe(6);
    expect(done.result?.text.length).toBeGreaterThan(0);
    expect(stack.scheduler.output).toContain('a queued job was missing from Redis');
  });

  it('the agent killed mid-stream: the client gets node_lost, the job fails once, and its text is never repeated', async () => {
    const result = await client.stream(body(1500), (_e, i) => {
      if (i === 4) stack.agent.child.kill('SIGKILL');
      return false;
    });
    const id = result.headers.get('x-gridline-job-id') ?? '';
    const errors = result.events.filter((e) => 'error' in e);
    expect(errors).toEqual([{ error: expect.objectContaining({ code: 'node_lost' }) }]);
    expect(result.done).toBe(true);
    // The stream is closed first (the client is told at once), the row follows.
    await until('the row to record node_lost', async () => ((await row(id)).status === 'failed' ? true : undefined), 5000);
    expect(await row(id)).toMatchObject({ status: 'failed', error_code: 'node_lost', attempt: 1 });

    // What the client saw is a prefix of the one greedy answer: nothing repeated, nothing out of order.
    const runner = startRunner();
    try {
      await runner.start('cpu');
      await runner.load({ modelPath: stack.modelPath, gpuLayers: 0, contextSize: 2048, parallel: 1, threads: 1 });
      const full = await runner.generate('direct', chatRequest(messages, { maxTokens: 1500, sampling: { temperature: 0 } }));
      expect(result.text.length).toBeGreaterThan(0);
      expect(full.text.startsWith(result.text)).toBe(true);
    } finally {
      await runner.stop();
    }
    const deltas = await streamDeltas(id);
    expect(deltas.map((d) => d.index)).toEqual(deltas.map((_d, i) => i));

    // The node comes back: the killed job is not run again, new work is served.
    await stack.restartAgent();
    const after = await client.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', body(4));
    expect(after.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await row(id)).toMatchObject({ status: 'failed', error_code: 'node_lost', attempt: 1 });
    expect(await streamDeltas(id)).toHaveLength(deltas.length);
  }, 60_000);

  it('a scheduler restarted while the one sequence is busy hears the node first: it routes nothing into that sequence and keeps the node Ready', async () => {
    const nodes = async () => (await client.json<{ items: { status: string; replicas: { pid: number | null }[] }[] }>('GET', '/api/v1/nodes')).body.items;
    const pid = (await nodes())[0].replicas[0].pid as number;
    // The first job holds the one sequence: its runner is stopped mid-generation (the agent heartbeats on, listing the job).
    let paused!: () => void;
    const isPaused = new Promise<void>((r) => (paused = r));
    const first = client.stream(body(1500), (_e, i) => {
      if (i === 2) {
        process.kill(pid, 'SIGSTOP');
        paused();
      }
      return false;
    });
    try {
      await isPaused;
      await stack.restartScheduler();
      const second = client.json('POST', '/v1/chat/completions', body(4));
      // Past the new scheduler's warm-up and a few heartbeats: it knows the sequence is busy.
      await new Promise((r) => setTimeout(r, 4000));
      const [waiting] = await client.sql<{ status: string }>(`SELECT status FROM jobs ORDER BY created_at DESC LIMIT 1`);
      expect(waiting.status).toBe('queued');
      expect((await nodes()).map((n) => [n.status, (n as { reason?: string }).reason])).toEqual([['Ready', null]]);
      process.kill(pid, 'SIGCONT');
      expect((await first).done).toBe(true);
      expect((await second).status).toBe(200);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }, 60_000);
});
