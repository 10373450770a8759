import { Redis } from 'ioredis';
import { signingFetch } from '@gridline/auth';
import { RedisServer, RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface Outcome {
  startedAt: number;
  ms: number;
  /** 0: no answer before the client gave up (it hung). */
  status: number;
  code: string | null;
}

interface CapturedRequest {
  url: string;
  init: RequestInit;
}

/**
 * Redis faults done for real, during load, on a redis-server of the test's own (the shared
 * one is never stopped): stalled with SIGSTOP, then killed and restarted empty, then near its
 * memory limit. Requests that need Redis fail fast with 503 and a stable code, nothing hangs,
 * readiness follows, a signature captured before the restart stays refused, and the stack
 * serves again by itself: no process is restarted.
 */
describe('Redis stalled, restarted empty and full, under load', () => {
  let redis: RedisServer;
  let stack: RunningStack;
  let client: StackClient;
  let control: Redis;
  const model = 'tiny-redis';
  const chat = { model, messages: [{ role: 'user', content: 'Say hi.' }], max_tokens: 2 };

  beforeAll(async () => {
    redis = await RedisServer.start();
    stack = await startStack({
      modelName: model,
      parallel: 2,
      env: { REDIS_URL: redis.url, GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '3', GRIDLINE_SWEEP_SECONDS: '1' },
      apiEnv: { GRIDLINE_REQUEST_TIMEOUT_SECONDS: '15' },
    });
    client = new StackClient(stack, stack.url);
    control = new Redis(redis.url, { maxRetriesPerRequest: null });
    control.on('error', () => undefined);
  }, 120_000);

  afterAll(async () => {
    control?.disconnect();
    redis?.resume();
    await client?.close();
    await stack?.stop();
    await redis?.stop();
  });

  const pids = () => [stack.api, stack.scheduler, stack.agent].map((p) => ({ pid: p.child.pid, exitCode: p.child.exitCode, signal: p.child.signalCode }));

  /** One signed request, bounded by the client: an answer that does not come in 20 s is recorded as hung (status 0). */
  async function timed(method: string, path: string, body?: unknown): Promise<Outcome> {
    const startedAt = Date.now();
    try {
      const res = await client.fetch(`${stack.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      const parsed = (text ? JSON.parse(text) : {}) as { code?: string; error?: { code?: string } };
      return { startedAt, ms: Date.now() - startedAt, status: res.status, code: parsed.error?.code ?? parsed.code ?? null };
    } catch {
      return { startedAt, ms: Date.now() - startedAt, status: 0, code: null };
    }
  }

  /** Signed clients in a loop (chat completions and a management read) until stopped. */
  function load(workers = 3): { stop: () => Promise<Outcome[]> } {
    let running = true;
    const outcomes: Outcome[] = [];
    const loops = Array.from({ length: workers }, async (_, w) => {
      while (running) {
        outcomes.push(await (w === 0 ? timed('GET', '/api/v1/whoami') : timed('POST', '/v1/chat/completions', chat)));
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    return {
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return outcomes;
      },
    };
  }

  const readyz = async () => (await fetch(`${stack.url}/readyz`, { signal: AbortSignal.timeout(10_000) })).status;

  it('a stalled Redis (SIGSTOP): 503 redis_unavailable within 2 s, readiness fails, and both recover after SIGCONT', async () => {
    const traffic = load();
    await until('traffic to be served', async () => ((await timed('POST', '/v1/chat/completions', chat)).status === 200 ? true : undefined), 20_000);
    await new Promise((r) => setTimeout(r, 1000));

    const stoppedAt = Date.now();
    redis.pause();
    await new Promise((r) => setTimeout(r, 300));
    const readyStarted = Date.now();
    expect(await readyz()).toBe(503);
    const readyzMs = Date.now() - readyStarted;
    await new Promise((r) => setTimeout(r, 4000));
    const resumedAt = Date.now();
    redis.resume();
    await until('readiness to come back', async () => ((await readyz()) === 200 ? true : undefined), 10_000, 50);
    const readyAgainMs = Date.now() - resumedAt;
    const servedAgain = await until('a completion to be served again', async () => {
      const o = await timed('POST', '/v1/chat/completions', chat);
      return o.status === 200 ? o : undefined;
    }, 20_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    const outcomes = await traffic.stop();

    // Started while Redis was stopped (and answered before it came back): 503 redis_unavailable, fast.
    const during = outcomes.filter((o) => o.startedAt >= stoppedAt + 50 && o.startedAt + 2100 < resumedAt);
    expect(during.length).toBeGreaterThan(5);
    expect(during.filter((o) => o.status !== 503 || o.code !== 'redis_unavailable')).toEqual([]);
    const slowest = Math.max(...during.map((o) => o.ms));
    expect(slowest).toBeLessThan(2000);
    // Those in flight when it stopped too: every 503 came within 2 s of its request.
    const refusals = outcomes.filter((o) => o.status === 503);
    const slowestRefusal = Math.max(...refusals.map((o) => o.ms));
    expect(slowestRefusal).toBeLessThan(2000);
    // Nothing hung and nothing broke: every request was answered, none with a 500.
    expect(outcomes.filter((o) => o.status === 0 || o.status === 500)).toEqual([]);
    // After it came back (and the first request served again), everything is served.
    const after = outcomes.filter((o) => o.startedAt > servedAgain.startedAt + servedAgain.ms);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((o) => o.status !== 200)).toEqual([]);
    expect(pids().every((p) => p.exitCode === null && p.signal === null)).toBe(true);
    process.stdout.write(
      `redis SIGSTOP: ${during.length} requests during the stall, all 503 redis_unavailable, slowest ${slowest} ms, slowest of all ${refusals.length} refusals (in flight at the stop included) ${slowestRefusal} ms (median ${during.map((o) => o.ms).sort((a, b) => a - b)[Math.floor(during.length / 2)]} ms); /readyz 503 in ${readyzMs} ms; ` +
        `after SIGCONT: ready again in ${readyAgainMs} ms, first completion served ${servedAgain.startedAt + servedAgain.ms - resumedAt} ms after it\n`,
    );
  }, 60_000);

  it('Redis killed and restarted empty: a signature captured before stays refused, fresh requests are served, nothing restarts', async () => {
    const capture = async (path: string): Promise<CapturedRequest> => {
      let captured: CapturedRequest | null = null;
      const sign = signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey }, async (url, init) => {
        captured = { url: String(url), init: init ?? {} };
        return new Response(null, { status: 204 });
      });
      await sign(`${stack.url}${path}`, { method: 'GET' });
      return captured as unknown as CapturedRequest;
    };
    const send = async (r: CapturedRequest) => {
      const res = await fetch(r.url, r.init);
      return { status: res.status, body: (await res.json()) as { code?: string } };
    };
    const used = await capture('/api/v1/whoami');
    expect((await send(used)).status).toBe(200);
    expect(await send(used)).toMatchObject({ status: 401, body: { code: 'replayed_request' } });
    const neverSent = await capture('/api/v1/whoami');
    const before = pids();

    const traffic = load();
    await new Promise((r) => setTimeout(r, 1000));
    const killedAt = Date.now();
    await redis.restart({ empty: true });
    await until('readiness after the restart', async () => ((await readyz()) === 200 ? true : undefined), 10_000, 50);
    const readyMs = Date.now() - killedAt;
    const served = await until('a completion to be served after the restart', async () => {
      const o = await timed('POST', '/v1/chat/completions', chat);
      return o.status === 200 ? o : undefined;
    }, 30_000, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const outcomes = await traffic.stop();

    // The markers are gone with the data, and still: both signatures from before are refused.
    expect(await send(used)).toMatchObject({ status: 401, body: { code: 'replayed_request' } });
    expect(await send(neverSent)).toMatchObject({ status: 401, body: { code: 'replayed_request' } });
    // Fresh signatures are served.
    expect((await client.json('GET', '/api/v1/whoami')).status).toBe(200);
    expect((await client.json('POST', '/v1/chat/completions', chat)).status).toBe(200);
    expect(outcomes.filter((o) => o.status === 0 || o.status === 500)).toEqual([]);
    expect(pids()).toEqual(before);
    expect(before.every((p) => p.exitCode === null && p.signal === null)).toBe(true);
    process.stdout.write(`redis restarted empty: ready again ${readyMs} ms after the kill, first completion served ${served.startedAt + served.ms - killedAt} ms after it; ${outcomes.length} requests meanwhile, none hung\n`);
  }, 60_000);

  it('near the memory limit: new inference is refused with 503 redis_memory_full (nothing written), and taken again once there is room', async () => {
    const jobs = async () => (await client.sql<{ n: number }>('SELECT count(*)::int AS n FROM jobs'))[0].n;
    const used = Number(/used_memory:(\d+)/.exec(await control.info('memory'))?.[1]);
    // Above the api's 90 % mark, below the limit itself (so Redis still takes small writes such as replay markers).
    await control.config('SET', 'maxmemory', String(Math.ceil(used / 0.94)));
    const refused = await until('submissions to be refused', async () => {
      const r = await client.json<{ error?: { code: string; type: string } }>('POST', '/v1/chat/completions', chat);
      return r.status === 503 ? r : undefined;
    }, 5000, 50);
    expect(refused.body.error).toMatchObject({ code: 'redis_memory_full', type: 'api_error' });
    const before = await jobs();
    expect((await client.json('POST', '/v1/chat/completions', chat)).status).toBe(503);
    const asyncJob = await client.json<{ code: string }>('POST', '/api/v1/jobs', { model, prompt: 'Once upon a time', max_tokens: 2 });
    expect(asyncJob.status).toBe(503);
    expect(asyncJob.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(asyncJob.body.code).toBe('redis_memory_full');
    expect(await jobs()).toBe(before);
    // What needs no new job still works.
    expect((await client.json('GET', '/api/v1/whoami')).status).toBe(200);

    await control.config('SET', 'maxmemory', '0');
    await until('submissions to be taken again', async () => ((await client.json('POST', '/v1/chat/completions', chat)).status === 200 ? true : undefined), 5000, 50);
  }, 30_000);
});
