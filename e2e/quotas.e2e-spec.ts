import OpenAI, { RateLimitError } from 'openai';
import { InferenceInput, ServedContext, completionBudget, promptTokensLowerBound } from '@gridline/contract';
import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

type OpenAiError = { error: { message: string; type: string; code: string; param: string | null } };
type Completion = { usage: { total_tokens: number } };
interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until the current UTC minute has at least `ms` left, so a test's requests share one window. */
async function roomInMinute(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 50);
}

/** Running intervals as the jobs table has them: the most that overlap at any moment. */
function maxOverlap(rows: { created_at: Date; finished_at: Date }[]): number {
  const edges = rows.flatMap((r) => [
    { at: r.created_at.getTime(), d: 1 },
    { at: r.finished_at.getTime(), d: -1 },
  ]);
  // An end before a start at the same millisecond: that slot was free again.
  edges.sort((x, y) => x.at - y.at || x.d - y.d);
  let now = 0;
  let most = 0;
  for (const e of edges) most = Math.max(most, (now += e.d));
  return most;
}

/**
 * Quotas per team through the three real processes: a bearer token (what OpenAI clients send)
 * on the OpenAI routes. Concurrency never above its limit under 500 simultaneous requests (read
 * from the jobs table), the minute windows, tokens settled to the actual usage, rate-limit
 * headers on answers, streams and refusals, and a slot freed by its lease after the api that
 * held it is killed.
 */
describe('quotas per team (real stack)', () => {
  let stack: RunningStack;
  let admin: StackClient;
  let teamId: string;
  let token: string;
  let served: ServedContext;
  const model = 'tiny-quotas';

  beforeAll(async () => {
    stack = await startStack({
      modelName: model,
      parallel: 2,
      // The agent is paused in one test: the scheduler must not declare its node lost meanwhile.
      env: { GRIDLINE_NODE_TIMEOUT_SECONDS: '120' },
      apiEnv: { GRIDLINE_QUOTA_CACHE_MS: '0' },
    });
    admin = new StackClient(stack, stack.url);
    teamId = (await admin.json<{ teamId: string }>('GET', '/api/v1/whoami')).body.teamId;
    token = await admin.inferenceToken('quota-e2e');
    // The first completion makes sure the model is served (and its context announced).
    expect((await chat(stack.url, 'Hello.', 2)).status).toBe(200);
    served = (await admin.sql<{ s: ServedContext }>(`SELECT facts->'serving' AS s FROM models WHERE name = $1`, [model]))[0].s;
  }, 120_000);

  afterAll(async () => {
    await admin?.close();
    await stack?.stop();
  });

  async function setQuotas(limits: Record<string, number>): Promise<void> {
    const res = await admin.json('PUT', `/api/v1/teams/${teamId}/quotas`, { limits });
    expect(res.status).toBe(200);
  }

  async function chat<T = Completion>(base: string, content: string, maxTokens: number, extra: Record<string, unknown> = {}, bearer = token): Promise<Answer<T>> {
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }], max_tokens: maxTokens, temperature: 0, ...extra }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text) as T };
  }

  /** What the api reserves for a chat of one user message: its prompt's lower bound and max_tokens. */
  function reservation(content: string, maxTokens: number): number {
    const input: InferenceInput = { kind: 'chat', messages: [{ role: 'user', content }] };
    const prompt = served.maxTokenBytes ? promptTokensLowerBound(input, served.maxTokenBytes) : 0;
    return prompt + completionBudget(served.contextTokens, prompt, maxTokens);
  }

  it('500 simultaneous requests over two api replicas against max_concurrent_jobs 10: never more than 10 run at once; the rest get 429 with Retry-After', async () => {
    await setQuotas({ maxConcurrentJobs: 10 });
    const replica = await stack.startApi();
    const since = new Date();
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => chat<Completion | OpenAiError>(i % 2 ? replica.url : stack.url, `Count the rivers, number ${i}.`, 24)));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(ok.length + refused.length).toBe(500);
    expect(ok.length).toBeGreaterThanOrEqual(10);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body).toEqual({ error: { message: expect.stringContaining('for the team on max_concurrent_jobs (10 concurrent jobs)'), type: 'rate_limit_error', param: null, code: 'rate_limit_exceeded' } });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The server's record: one row per admitted request (none for a refused one), and their lives overlap at most 10 deep.
    const rows = await admin.sql<{ created_at: Date; finished_at: Date; status: string }>(`SELECT created_at, finished_at, status FROM jobs WHERE created_at >= $1 AND api_token_id IS NOT NULL`, [since]);
    expect(rows.length).toBe(ok.length);
    expect(rows.every((r) => r.status === 'succeeded' && r.finished_at)).toBe(true);
    expect(maxOverlap(rows)).toBeLessThanOrEqual(10);
    expect(maxOverlap(rows)).toBeGreaterThan(1);
    // Every slot is free again.
    await until('the slots to be free', async () => {
      const q = (await admin.json<{ usage: { concurrentJobs: number } }>('GET', `/api/v1/teams/${teamId}/quotas`)).body;
      return q.usage.concurrentJobs === 0 ? true : undefined;
    });
  }, 300_000);

  it('x-ratelimit-* headers on every answer, streamed ones and refusals, counting down; tokens are settled to the usage reported', async () => {
    await roomInMinute(20_000);
    await setQuotas({ requestsPerMinute: 1000, tokensPerMinute: 1_000_000, tokensPerDay: 10_000_000 });
    const first = await chat(stack.url, 'Hello.', 4);
    const second = await chat(stack.url, 'Hello again.', 4);
    const streamed = await chat<string>(stack.url, 'Hello, streaming.', 4, { stream: true });
    for (const a of [first, second, streamed]) {
      expect(a.status).toBe(200);
      expect(a.headers.get('x-ratelimit-limit-requests')).toBe('1000');
      expect(a.headers.get('x-ratelimit-limit-tokens')).toBe('1000000');
      expect(a.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+ms|\d+(\.\d+)?s)$/);
      expect(a.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(\d+ms|\d+(\.\d+)?s)$/);
    }
    expect(streamed.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const remaining = (a: Answer<unknown>, kind: string) => Number(a.headers.get(`x-ratelimit-remaining-${kind}`));
    expect(remaining(second, 'requests')).toBe(remaining(first, 'requests') - 1);
    expect(remaining(streamed, 'requests')).toBe(remaining(second, 'requests') - 1);
    expect(remaining(second, 'tokens')).toBeLessThan(remaining(first, 'tokens'));
    // Tokens in the window are what the completed requests used, once their jobs are settled.
    const used = first.body.usage.total_tokens + second.body.usage.total_tokens;
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(reservation('Hello.', 4) + reservation('Hello again.', 4) + 100);
    const charged = await until('the tokens to be settled', async () => {
      const u = (await admin.json<{ usage: { tokensThisMinute: number; tokensToday: number } }>('GET', `/api/v1/teams/${teamId}/quotas`)).body.usage;
      const streamedRow = (await admin.sql<{ p: number; c: number }>(`SELECT prompt_tokens AS p, completion_tokens AS c FROM jobs WHERE id = $1 AND status = 'succeeded'`, [streamed.headers.get('x-gridline-job-id')]))[0];
      return streamedRow && u.tokensThisMinute === used + streamedRow.p + streamedRow.c ? u : undefined;
    });
    expect(charged.tokensToday).toBe(charged.tokensThisMinute);
    // A refusal carries them too: three requests were counted in this minute.
    await setQuotas({ requestsPerMinute: 3 });
    const refused = await chat<OpenAiError>(stack.url, 'Hello.', 4);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-ratelimit-limit-requests')).toBe('3');
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  }, 120_000);

  it('requests_per_minute and tokens_per_minute: refused until the UTC minute ends, admitted in the next', async () => {
    // A key of its own: its windows have counted nothing yet.
    const key = (await admin.json<{ id: string; token: string }>('POST', '/api/v1/tokens', { name: 'quota-windows', scope: 'inference' })).body;
    const keyed = (content: string, maxTokens: number) => chat<OpenAiError>(stack.url, content, maxTokens, {}, key.token);
    const setKeyQuotas = async (limits: Record<string, number>) => {
      const res = await admin.json('PUT', `/api/v1/teams/${teamId}/quotas`, { keys: [{ kind: 'token', id: key.id, limits }] });
      expect(res.status).toBe(200);
    };
    await roomInMinute(25_000);
    await setKeyQuotas({ requestsPerMinute: 2 });
    expect((await keyed('One.', 2)).status).toBe(200);
    expect((await keyed('Two.', 2)).status).toBe(200);
    const third = await keyed('Three.', 2);
    expect(third.status).toBe(429);
    expect(third.body.error.message).toContain('for this key on requests_per_minute (2 requests per minute)');
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The team's other keys are not limited by it.
    expect((await chat(stack.url, 'Other key.', 2)).status).toBe(200);

    // A token budget of exactly one request's reservation: it is admitted (at the limit); the next is
    // not, whether or not the first was settled yet (it used at least one token).
    const r = reservation('Four.', 8);
    await setKeyQuotas({ tokensPerMinute: r });
    expect((await keyed('Four.', 8)).status).toBe(200);
    const fifth = await keyed('Four.', 8);
    expect(fifth.status).toBe(429);
    expect(fifth.body.error.message).toContain('for this key on tokens_per_minute');
    expect(Number(fifth.headers.get('retry-after'))).toBeLessThanOrEqual(60);

    // Both at once: refused in this minute, admitted in the next.
    await setKeyQuotas({ requestsPerMinute: 2, tokensPerMinute: r });
    expect((await keyed('Three.', 2)).status).toBe(429);
    await sleep(60_000 - (Date.now() % 60_000) + 200);
    const next = await keyed('Four.', 8);
    expect(next.status).toBe(200);
    expect(next.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(next.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
  }, 150_000);

  it('the official openai client, unmodified: rate-limit headers on a completion, then RateLimitError (429) with Retry-After over quota', async () => {
    const key = (await admin.json<{ id: string; token: string }>('POST', '/api/v1/tokens', { name: 'quota-sdk', scope: 'inference' })).body;
    const res = await admin.json('PUT', `/api/v1/teams/${teamId}/quotas`, { keys: [{ kind: 'token', id: key.id, limits: { requestsPerMinute: 1 } }] });
    expect(res.status).toBe(200);
    await roomInMinute(10_000);
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key.token, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Hello.' }];
    const { data, response } = await openai.chat.completions.create({ model, messages, max_tokens: 2, temperature: 0 }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const refused = await openai.chat.completions.create({ model, messages, max_tokens: 2, temperature: 0 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
    const e = refused as RateLimitError;
    expect(e.status).toBe(429);
    expect(e.code).toBe('rate_limit_exceeded');
    expect(e.type).toBe('rate_limit_error');
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(e.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('asynchronous jobs beyond max_concurrent_jobs wait queued instead of being refused; never more than the limit run at once', async () => {
    // One slot, on a replica with two sequences: the limit, not the replica, holds them back.
    await setQuotas({ maxConcurrentJobs: 1, maxQueuedJobs: 20 });
    const submitted = await Promise.all(Array.from({ length: 5 }, (_, i) => admin.json<{ id: string }>('POST', '/api/v1/jobs', { model, messages: [{ role: 'user', content: `Tell me about river ${i}.` }], max_tokens: 24 })));
    expect(submitted.map((s) => s.status)).toEqual(Array(5).fill(202));
    const ids = submitted.map((s) => s.body.id);
    const rows = await until('every job to finish', async () => {
      const r = await admin.sql<{ created_at: Date; finished_at: Date; status: string }>(`SELECT dispatched_at AS created_at, finished_at, status FROM jobs WHERE id = ANY($1)`, [ids]);
      return r.every((x) => x.finished_at) ? r : undefined;
    }, 120_000, 250);
    expect(rows.map((r) => r.status)).toEqual(Array(5).fill('succeeded'));
    // From dispatch to end, one at a time: the others waited for the slot.
    expect(maxOverlap(rows)).toBe(1);
    await until('the slots to be free', async () => {
      const q = (await admin.json<{ usage: { concurrentJobs: number; queuedJobs: number } }>('GET', `/api/v1/teams/${teamId}/quotas`)).body;
      return q.usage.concurrentJobs === 0 && q.usage.queuedJobs === 0 ? true : undefined;
    });
  }, 180_000);

  it('a slot held by an api that is killed (SIGKILL) is free again when its lease lapses, while its job still runs', async () => {
    await setQuotas({ maxConcurrentJobs: 1 });
    const doomed = await stack.startApi({ GRIDLINE_QUOTA_SLOT_LEASE_MS: '1500' });
    const doomedClient = new StackClient(stack, doomed.url);
    const opened: string[] = [];
    // A long generation through the doomed api; the agent is paused once it streams, so the job cannot end by itself.
    const streaming = doomedClient
      .stream({ model, messages: [{ role: 'user', content: 'Write a very long story about rivers.' }], max_tokens: 1500, temperature: 0 }, (_e, i) => {
        if (i === 2) {
          stack.agent.child.kill('SIGSTOP');
          doomed.process.child.kill('SIGKILL');
        }
        return false;
      })
      .catch(() => null);
    try {
      await streaming;
      const [{ id: jobId }] = await admin.sql<{ id: string }>(`SELECT id FROM jobs WHERE status IN ('dispatched', 'running') AND api_token_id IS NULL ORDER BY created_at DESC LIMIT 1`);
      opened.push(jobId);
      // The slot is held: a chat is refused at once. Once the lease lapsed, the team's slot count is
      // 0 while the job is still open, and a chat is admitted (it gets no answer: the agent is
      // paused; the client gives up, which cancels it).
      const probe = async (): Promise<number | 'admitted'> => {
        const res = await fetch(`${stack.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Probe.' }], max_tokens: 2 }),
          signal: AbortSignal.timeout(3000),
        }).catch(() => null);
        await res?.text().catch(() => undefined);
        return res ? res.status : 'admitted';
      };
      expect(await probe()).toBe(429);
      await until('the slot to lapse', async () => {
        const q = (await admin.json<{ usage: { concurrentJobs: number } }>('GET', `/api/v1/teams/${teamId}/quotas`)).body;
        return q.usage.concurrentJobs === 0 ? true : undefined;
      }, 20_000, 200);
      // Not the job's end that freed it: the job is still open.
      const row = (await admin.sql<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [jobId]))[0];
      expect(['dispatched', 'running']).toContain(row.status);
      expect(await probe()).toBe('admitted');
    } finally {
      stack.agent.child.kill('SIGCONT');
    }
    for (const id of opened) expect((await admin.json('DELETE', `/api/v1/jobs/${id}`)).status).toBe(200);
  }, 120_000);
});
