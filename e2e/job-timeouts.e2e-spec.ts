import { Redis } from 'ioredis';
import { RunningStack, StackClient, TEST_REDIS_URL, startStack, until } from '@gridline/testing';

/**
 * The request timeout holds when no event ever comes: the agent is frozen with SIGSTOP (it
 * stays "alive" for the scheduler, whose node timeout is longer), so only the api's own
 * deadline can answer. After SIGCONT nothing is delivered late and nothing turns into a success.
 */
describe('request timeout with a frozen agent', () => {
  const LIMIT_S = 3;
  let stack: RunningStack;
  let client: StackClient;
  let redis: Redis;
  const body = { model: 'tiny-frozen', messages: [{ role: 'user', content: 'Hello there' }], max_tokens: 8, temperature: 0 };

  beforeAll(async () => {
    stack = await startStack({
      modelName: 'tiny-frozen',
      parallel: 2,
      env: { GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '60', GRIDLINE_SWEEP_SECONDS: '1' },
      apiEnv: { GRIDLINE_REQUEST_TIMEOUT_SECONDS: String(LIMIT_S) },
    });
    client = new StackClient(stack, stack.url);
    redis = new Redis(TEST_REDIS_URL);
  }, 120_000);

  const progressNotes = async () =>
    ((await redis.xrange(`${stack.prefix}:jobs:progress`, '-', '+')) as [string, string[]][]).map(([, f]) => {
      const note: Record<string, string> = {};
      for (let i = 0; i + 1 < f.length; i += 2) note[f[i]] = f[i + 1];
      return note;
    });
  const deltasOf = async (id: string) =>
    ((await redis.xrange(`${stack.prefix}:job:${id}:events`, '-', '+')) as [string, string[]][])
      .map(([, f]) => JSON.parse(f[f.indexOf('e') + 1]) as { type: string; text?: string })
      .filter((e) => e.type === 'delta');

  afterEach(async () => {
    // No job stays open past its bound (its deadline, plus one sweep).
    await until('no overdue open job', async () => ((await client.openJobs({ overdueBySeconds: 2 })) === 0 ? true : undefined), 5000);
  });

  afterAll(async () => {
    redis?.disconnect();
    await client?.close();
    await stack?.stop();
  });

  it('answers 504 at the limit (also to a stream that got nothing yet), expires the jobs, and delivers nothing after SIGCONT', async () => {
    expect((await client.json('POST', '/v1/chat/completions', body)).status).toBe(200);
    stack.agent.child.kill('SIGSTOP');
    try {
      const started = Date.now();
      const [plain, streamed] = await Promise.all([client.json<{ error: { code: string; type: string } }>('POST', '/v1/chat/completions', body), client.stream(body)]);
      const elapsed = Date.now() - started;
      expect(plain.status).toBe(504);
      expect(plain.body.error).toMatchObject({ code: 'timeout', type: 'api_error' });
      expect(plain.headers.get('x-gridline-job-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(elapsed).toBeGreaterThanOrEqual(LIMIT_S * 1000 - 50);
      expect(elapsed).toBeLessThan(LIMIT_S * 1000 + 1000);
      // Nothing was streamed yet: the stream's headers wait for its first output, so it gets the same 504.
      expect(streamed.status).toBe(504);
      expect(streamed.events).toEqual([{ error: expect.objectContaining({ code: 'timeout', type: 'api_error' }) }]);
      expect(streamed.text).toBe('');

      const ids = [plain.headers.get('x-gridline-job-id'), streamed.headers.get('x-gridline-job-id')] as string[];
      await until('both jobs to be expired', async () => {
        const rows = await client.sql<{ status: string }>('SELECT status FROM jobs WHERE id = ANY($1)', [ids]);
        return rows.every((r) => r.status === 'expired') ? rows : undefined;
      });

      stack.agent.child.kill('SIGCONT');
      // The agent wakes up to the jobs dispatched to it: the jobs are closed, so it writes nothing and tells the scheduler.
      await until('the scheduler to hear that the woken agent dropped both jobs', async () => {
        const dropped = (await progressNotes()).filter((n) => n.kind === 'ended' && n.fenced === '1' && ids.includes(n.job));
        return dropped.length === 2 ? true : undefined;
      }, 15_000);
      for (const id of ids) {
        const entries = (await redis.xrange(`${stack.prefix}:job:${id}:events`, '-', '+')) as [string, string[]][];
        const events = entries.map(([, f]) => JSON.parse(f[f.indexOf('e') + 1]) as { type: string; code?: string });
        expect(events).toEqual([{ type: 'error', code: 'timeout', message: expect.any(String) }]);
      }
      const rows = await client.sql<{ status: string; error_code: string }>('SELECT status, error_code FROM jobs WHERE id = ANY($1)', [ids]);
      expect(rows).toEqual([
        { status: 'expired', error_code: 'timeout' },
        { status: 'expired', error_code: 'timeout' },
      ]);
      expect((await client.json('POST', '/v1/chat/completions', body)).status).toBe(200);
    } finally {
      stack.agent.child.kill('SIGCONT');
    }
  }, 60_000);

  it('an agent frozen mid-generation: the stream ends with a timeout error at the limit, and the text stops where the client saw it', async () => {
    const result = await client.stream({ ...body, max_tokens: 1900 }, (_e, i) => {
      if (i === 2) stack.agent.child.kill('SIGSTOP');
      return false;
    });
    const id = result.headers.get('x-gridline-job-id') ?? '';
    try {
      expect(result.events.filter((e) => 'error' in e)).toEqual([{ error: expect.objectContaining({ code: 'timeout' }) }]);
      const seen = (await deltasOf(id)).map((d) => d.text).join('');
      expect(result.text).toBe(seen);
      stack.agent.child.kill('SIGCONT');
      await until('the woken agent to end the job', async () => ((await progressNotes()).some((n) => n.kind === 'ended' && n.job === id) ? true : undefined), 15_000);
      // What the runner produced while the agent was frozen was refused: the stream holds only what the client saw.
      expect((await deltasOf(id)).map((d) => d.text).join('')).toBe(seen);
      expect((await client.sql<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [id]))[0].status).toBe('expired');
    } finally {
      stack.agent.child.kill('SIGCONT');
    }
  }, 60_000);
});
