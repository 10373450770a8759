import { Redis } from 'ioredis';
import { RedisServer, RunningStack, StackClient, startStack, until } from '@gridline/testing';

/**
 * Token chunks lost on their way: Redis acknowledged them, then lost them (killed and
 * restarted from its last snapshot) before the api had read them. The client's stream ends
 * with an error event, never as if its text were complete, and the job's row says the same.
 * On a Redis of the test's own (the shared one is never stopped).
 */
describe('a stream that lost chunks', () => {
  let redis: RedisServer;
  let stack: RunningStack;
  let client: StackClient;

  beforeAll(async () => {
    redis = await RedisServer.start();
    stack = await startStack({ modelName: 'tiny-loss', parallel: 1, env: { REDIS_URL: redis.url } });
    client = new StackClient(stack, stack.url);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
    await redis?.stop();
  });

  it('ends with a stream_interrupted error event, and the job fails with that code', async () => {
    const control = new Redis(redis.url, { maxRetriesPerRequest: null, lazyConnect: true });
    control.on('error', () => undefined);
    let fault: Promise<void> | null = null;
    const result = await client.stream({ model: 'tiny-loss', messages: [{ role: 'user', content: 'Tell a very long story about rivers.' }], max_tokens: 1500, temperature: 0 }, (_e, i) => {
      if (i === 3) {
        fault = (async () => {
          // Snapshot now; then the api stops reading while the node keeps writing; then Redis
          // dies and comes back from the snapshot: what was written meanwhile is gone.
          await control.save();
          stack.api.child.kill('SIGSTOP');
          await new Promise((r) => setTimeout(r, 600));
          await redis.restart({ empty: false });
          stack.api.child.kill('SIGCONT');
        })();
      }
      return false;
    });
    await fault;
    control.disconnect();
    const id = result.headers.get('x-gridline-job-id') ?? '';
    const errors = result.events.filter((e) => 'error' in e);
    expect(errors).toEqual([{ error: expect.objectContaining({ code: 'stream_interrupted', type: 'api_error' }) }]);
    expect(result.events.some((e) => (e.choices as { finish_reason?: string }[] | undefined)?.[0]?.finish_reason)).toBe(false);
    expect(result.text.length).toBeGreaterThan(0);
    await until('the row to record stream_interrupted', async () => {
      const row = (await client.sql<{ status: string; error_code: string | null }>('SELECT status, error_code FROM jobs WHERE id = $1', [id]))[0];
      return row.status === 'failed' ? row : undefined;
    }, 15_000).then((row) => expect(row).toEqual({ status: 'failed', error_code: 'stream_interrupted' }));
    // Nothing was restarted, and the stack serves again.
    expect([stack.api, stack.scheduler, stack.agent].map((p) => p.child.exitCode)).toEqual([null, null, null]);
    const after = await client.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', { model: 'tiny-loss', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 });
    expect(after.status).toBe(200);
  }, 40_000);
});
