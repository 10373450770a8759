import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIST, RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface Job {
  id: string;
  status: string;
  kind: string;
  mode: string;
  attempt: number;
  usage: { prompt_tokens: number; cached_prompt_tokens: number | null; completion_tokens: number; total_tokens: number } | null;
  result: { text: string; finish_reason: string } | null;
  error: { code: string; message: string } | null;
  timings: Record<string, string | null>;
}

/** The asynchronous jobs API through the three built processes. */
describe('jobs API', () => {
  let stack: RunningStack;
  let client: StackClient;
  const chat = (content: string, max = 8) => ({ model: 'tiny-jobs', messages: [{ role: 'user', content }], max_tokens: max, temperature: 0 });

  beforeAll(async () => {
    stack = await startStack({ modelName: 'tiny-jobs', parallel: 4, env: { GRIDLINE_SWEEP_SECONDS: '1', GRIDLINE_HEARTBEAT_SECONDS: '1' } });
    client = new StackClient(stack, stack.url);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('accepts a chat job with 202 and its id at once, then gives status, timings, usage and the result', async () => {
    const res = await client.json<Job>('POST', '/api/v1/jobs', chat('Tell me about rivers.', 12));
    expect(res.status).toBe(202);
    expect(res.headers.get('x-gridline-job-id')).toBe(res.body.id);
    expect(res.headers.get('location')).toBe(`/api/v1/jobs/${res.body.id}`);
    expect(res.body).toMatchObject({ object: 'job', status: 'queued', mode: 'async', kind: 'chat', attempt: 1, result: null, usage: null });
    const done = await until('the job to succeed', async () => {
      const j = (await client.json<Job>('GET', `/api/v1/jobs/${res.body.id}`)).body;
      return j.status === 'succeeded' ? j : undefined;
    });
    expect(done.result?.text.length).toBeGreaterThan(0);
    expect(done.result?.finish_reason).toBe('length');
    expect(done.usage).toEqual({ prompt_tokens: expect.any(Number), cached_prompt_tokens: expect.any(Number), completion_tokens: 12, total_tokens: (done.usage?.prompt_tokens ?? 0) + 12 });
    for (const t of ['queued_at', 'dispatched_at', 'started_at', 'first_token_at', 'finished_at']) expect(done.timings[t]).toEqual(expect.any(String));
    const order = ['queued_at', 'dispatched_at', 'started_at', 'first_token_at', 'finished_at'].map((t) => Date.parse(done.timings[t] as string));
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    // The same text as the synchronous route gives for the same greedy request.
    const sync = await client.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', chat('Tell me about rivers.', 12));
    expect(sync.body.choices[0].message.content).toBe(done.result?.text);
  });

  it('runs a plain prompt as a completion job', async () => {
    const res = await client.json<Job>('POST', '/api/v1/jobs', { model: 'tiny-jobs', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
    expect(res.status).toBe(202);
    const done = await until('the completion job', async () => {
      const j = (await client.json<Job>('GET', `/api/v1/jobs/${res.body.id}`)).body;
      return j.status === 'succeeded' ? j : undefined;
    });
    expect(done).toMatchObject({ kind: 'completion', usage: { completion_tokens: 6 } });
  });

  it('reports the prompt tokens a job reused from the one before it (a long shared system prompt)', async () => {
    const system = 'You are a careful assistant for the people of the river town, and you answer in short plain words. '.repeat(12);
    const withSystem = (question: string) => ({ ...chat(question), messages: [{ role: 'system', content: system }, { role: 'user', content: question }] });
    const finished = async (id: string) =>
      until(`job ${id} to succeed`, async () => {
        const j = (await client.json<Job>('GET', `/api/v1/jobs/${id}`)).body;
        return j.status === 'succeeded' ? j : undefined;
      });
    const first = await finished((await client.json<Job>('POST', '/api/v1/jobs', withSystem('Where does the river go?'))).body.id);
    const second = await finished((await client.json<Job>('POST', '/api/v1/jobs', withSystem('Who lives in the town?'))).body.id);
    // Nearly all of the first prompt is the system prompt: the second evaluates little more than its question.
    expect(second.usage?.cached_prompt_tokens).toBeGreaterThan((first.usage?.prompt_tokens ?? 0) * 0.8);
    expect(second.usage?.cached_prompt_tokens).toBeLessThan(second.usage?.prompt_tokens ?? 0);

    // The OpenAI-shaped answer reports it as OpenAI does.
    const sync = await client.json<{ usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens: number } } }>('POST', '/v1/chat/completions', withSystem('What is the number of people?'));
    expect(sync.body.usage.prompt_tokens_details?.cached_tokens).toBeGreaterThan(sync.body.usage.prompt_tokens * 0.8);
    expect(sync.body.usage.prompt_tokens_details?.cached_tokens).toBeLessThan(sync.body.usage.prompt_tokens);
  });

  it.each([
    ['both messages and prompt', { model: 'tiny-jobs', prompt: 'x', messages: [{ role: 'user', content: 'x' }] }, 'validation_failed'],
    ['neither messages nor prompt', { model: 'tiny-jobs' }, 'validation_failed'],
    ['a streaming request', { ...chat('x'), stream: true }, 'validation_failed'],
    ['a temperature above the contract bound', { ...chat('x'), temperature: 2.5 }, 'validation_failed'],
    ['an unknown model', { ...chat('x'), model: 'nope' }, 'model_not_found'],
  ])('refuses %s before creating a job', async (_what, body, code) => {
    const before = (await client.sql<{ n: number }>('SELECT count(*)::int AS n FROM jobs'))[0].n;
    const res = await client.json<{ code: string }>('POST', '/api/v1/jobs', body);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.code).toBe(code);
    expect((await client.sql<{ n: number }>('SELECT count(*)::int AS n FROM jobs'))[0].n).toBe(before);
  });

  it('returns the first job for a retried Idempotency-Key, and 409 for the same key with another body', async () => {
    const key = `retry-${Date.now()}`;
    const first = await client.json<Job>('POST', '/api/v1/jobs', chat('idempotent'), { 'idempotency-key': key });
    const again = await client.json<Job>('POST', '/api/v1/jobs', chat('idempotent'), { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    const other = await client.json<{ code: string }>('POST', '/api/v1/jobs', chat('something else'), { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect((await client.sql<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = $1', [key]))[0].n).toBe(1);
  });

  it('cancels a job with DELETE, idempotently', async () => {
    const res = await client.json<Job>('POST', '/api/v1/jobs', chat('a long answer please', 1500));
    const cancelled = await client.json<Job>('DELETE', `/api/v1/jobs/${res.body.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: res.body.id, status: 'cancelled', error: { code: 'cancelled' } });
    const again = await client.json<Job>('DELETE', `/api/v1/jobs/${res.body.id}`);
    expect(again.body.status).toBe('cancelled');
    // It never turns into a success later, and the node stopped generating well before the limit.
    await new Promise((r) => setTimeout(r, 1500));
    const row = (await client.sql<{ status: string; completion_tokens: number | null }>('SELECT status, completion_tokens FROM jobs WHERE id = $1', [res.body.id]))[0];
    expect(row).toEqual({ status: 'cancelled', completion_tokens: null });
    expect((await client.json('DELETE', '/api/v1/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('runs a burst of 100 jobs to success, each result readable, and lists them newest first by cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 100; i += 20) {
      const batch = await Promise.all(Array.from({ length: 20 }, (_, k) => client.json<Job>('POST', '/api/v1/jobs', { ...chat(`burst ${i + k}`), model: 'tiny-jobs' })));
      for (const r of batch) {
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    }
    await until(
      'every job of the burst to end',
      async () => {
        return (await client.openJobs({ ids })) === 0 ? true : undefined;
      },
      120_000,
      250,
    );
    const statuses = await client.sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [ids]);
    expect(statuses).toEqual([{ status: 'succeeded', n: 100 }]);
    for (const id of ids.slice(0, 100)) {
      const j = (await client.json<Job>('GET', `/api/v1/jobs/${id}`)).body;
      expect(j.result?.text.length).toBeGreaterThan(0);
      expect(j.usage?.completion_tokens).toBe(8);
    }

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: Job[]; next_cursor: string | null } } = await client.json('GET', `/api/v1/jobs?status=succeeded&model=tiny-jobs&limit=30${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((j) => j.id));
      for (const j of page.body.data) expect(j.status).toBe('succeeded');
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));
    const created = await client.sql<{ id: string }>("SELECT id FROM jobs WHERE status = 'succeeded' AND model = 'tiny-jobs' ORDER BY created_at DESC, id DESC");
    expect(seen).toEqual(created.map((r) => r.id));
    expect((await client.json<{ code: string }>('GET', '/api/v1/jobs?cursor=bm90LWEtY3Vyc29y')).body.code).toBe('invalid_cursor');
  }, 180_000);

  it('drives jobs from the gridline CLI: submit and wait, list, cancel', async () => {
    const env = { ...process.env, GRIDLINE_URL: stack.url, GRIDLINE_ACCESS_KEY: stack.accessKey, GRIDLINE_SECRET_KEY: stack.secretKey };
    const cli = async (...args: string[]) => (await promisify(execFile)(process.execPath, [join(DIST, 'tools/cli/gridline.js'), ...args], { env, encoding: 'utf8' })).stdout;
    const text = await cli('jobs', 'submit', '--model', 'tiny-jobs', '--max-tokens', '5', '--temperature', '0', '--wait', 'Tell me about rivers.');
    const sync = await client.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', chat('Tell me about rivers.', 5));
    expect(text).toBe(`${sync.body.choices[0].message.content}\n`);
    // The node holds still, so the job is still open when the cancel comes (a tiny model would
    // otherwise finish 1,500 tokens in about the time the CLI takes to start).
    stack.agent.child.kill('SIGSTOP');
    let id: string;
    try {
      id = (await cli('jobs', 'submit', '--model', 'tiny-jobs', '--max-tokens', '1500', 'long')).trim();
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(await cli('jobs', 'cancel', id))).toMatchObject({ id, status: 'cancelled' });
    } finally {
      stack.agent.child.kill('SIGCONT');
    }
    const listed = await cli('jobs', 'list', '--status', 'cancelled', '--limit', '5');
    expect(listed.split('\n')[0]).toMatch(/^id\s+status\s+model/);
    expect(listed).toContain(id);
  });

  it('leaves no job open past its deadline', async () => {
    expect(await client.openJobs({ overdueBySeconds: 0 })).toBe(0);
  });
});
