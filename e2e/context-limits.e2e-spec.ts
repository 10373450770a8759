import OpenAI from 'openai';
import { signingFetch } from '@gridline/auth';
import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface Job {
  id: string;
  status: string;
  error: { code: string; message: string } | null;
}

const CONTEXT = 2048;
const limit = `This model's maximum context length is ${CONTEXT} tokens.`;

/**
 * Requests that do not fit the model's context (2,048 tokens per sequence here), through the
 * three built processes and real llama.cpp: the api refuses what certainly overflows before a
 * job exists; the runner counts exactly before it generates; nothing is cut silently.
 */
describe('the context window', () => {
  let stack: RunningStack;
  let client: StackClient;
  let openai: OpenAI;
  const model = 'tiny-ctx';
  /** Prompt tokens of a one-message chat of `n` times "x" (one token each): measured once, through the api. */
  let chatTokens: (n: number) => number;

  beforeAll(async () => {
    stack = await startStack({ modelName: model, parallel: 4 });
    client = new StackClient(stack, stack.url);
    openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'unused', fetch: signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey }), maxRetries: 0 });
    const probe = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 1, temperature: 0 });
    const base = (probe.usage?.prompt_tokens ?? 0) - 1;
    chatTokens = (n) => base + n;
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  const jobCount = async () => (await client.sql<{ n: number }>('SELECT count(*)::int AS n FROM jobs'))[0].n;
  const xs = (n: number) => [{ role: 'user' as const, content: 'x'.repeat(n) }];
  /** What the openai client throws, as its user sees it. */
  const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

  it('knows what the agent announced: the context per sequence and the longest token in bytes', async () => {
    const [row] = await client.sql<{ serving: unknown }>("SELECT facts->'serving' AS serving FROM models WHERE name = $1", [model]);
    expect(row.serving).toEqual({ contextTokens: CONTEXT, maxTokenBytes: 7 });
  });

  it('refuses a megabyte prompt before any job exists, with both numbers (chat, stream, async job)', async () => {
    const before = await jobCount();
    const messages = [{ role: 'user' as const, content: 'river stone '.repeat(80_000) }]; // 960 KB
    const atLeast = Math.ceil((messages[0].content.trim().length) / 7);
    const expected = `${limit} However, you requested at least ${atLeast + 64} tokens (at least ${atLeast} in the messages, 64 in the completion). Please reduce the length of the messages or completion.`;

    const sync = await failure(openai.chat.completions.create({ model, messages, max_tokens: 64 }).withResponse());
    expect(sync).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', message: expect.stringContaining(expected) });
    expect(sync?.headers?.get('x-gridline-job-id')).toBeFalsy();
    const streamed = await failure(openai.chat.completions.create({ model, messages, max_tokens: 64, stream: true }));
    expect(streamed).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });

    const job = await client.json<{ code: string; detail: string; param: string }>('POST', '/api/v1/jobs', { model, prompt: messages[0].content, max_tokens: 64 });
    expect(job.status).toBe(400);
    expect(job.body).toMatchObject({ code: 'context_length_exceeded', param: 'prompt', detail: expect.stringMatching(/However, you requested at least \d+ tokens \(at least \d+ in the prompt, 64 in the completion\)/) });
    expect(await jobCount()).toBe(before);
  });

  it('refuses max_tokens 32768 on a 2,048-token model before any job exists', async () => {
    const before = await jobCount();
    const res = await failure(openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 32768 }));
    expect(res).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      message: expect.stringContaining(`${limit} However, you requested at least 32769 tokens (at least 1 in the messages, 32768 in the completion).`),
    });
    expect(await jobCount()).toBe(before);
  });

  it('refuses what fits the lower bound but not the exact count, from the runner, with the exact numbers (sync, stream, async job)', async () => {
    // 2,040 "x": at least 292 tokens by their bytes, 16 to generate: the api lets it through; exactly, it is more than the context.
    const messages = xs(2040);
    const prompt = chatTokens(2040);
    expect(prompt + 16).toBeGreaterThan(CONTEXT);
    const expected = `${limit} However, you requested ${prompt + 16} tokens (${prompt} in the messages, 16 in the completion). Please reduce the length of the messages or completion.`;

    const sync = await failure(openai.chat.completions.create({ model, messages, max_tokens: 16 }).withResponse());
    expect(sync).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', message: expect.stringContaining(expected) });
    const syncId = sync?.headers?.get('x-gridline-job-id') ?? '';
    expect(syncId).toMatch(/^[0-9a-f-]{36}$/);

    // Streaming, the headers wait for the first token: the failure keeps its status and body.
    const streamed = await failure(openai.chat.completions.create({ model, messages, max_tokens: 16, stream: true }));
    expect(streamed).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages', message: expect.stringContaining(expected) });

    const submitted = await client.json<Job>('POST', '/api/v1/jobs', { model, messages, max_tokens: 16 });
    expect(submitted.status).toBe(202);
    const failed = await until('the job to fail', async () => {
      const j = (await client.json<Job>('GET', `/api/v1/jobs/${submitted.body.id}`)).body;
      return j.status === 'failed' ? j : undefined;
    });
    expect(failed.error).toEqual({ code: 'context_length_exceeded', message: expected });
    const row = await until('the sync job row to fail', async () => {
      const [r] = await client.sql<{ status: string; error_code: string | null }>('SELECT status, error_code FROM jobs WHERE id = $1', [syncId]);
      return r?.status === 'failed' ? r : undefined;
    });
    expect(row.error_code).toBe('context_length_exceeded');
  });

  it('answers 512 short messages with the exact overflow, not a runner error', async () => {
    const messages = Array.from({ length: 512 }, (_, i) => ({ role: i % 2 ? ('assistant' as const) : ('user' as const), content: 'hi' }));
    const res = await failure(openai.chat.completions.create({ model, messages, max_tokens: 16 }));
    expect(res).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
    const [, requested, inMessages] = /However, you requested (\d+) tokens \((\d+) in the messages, 16 in the completion\)/.exec(res?.message ?? '') ?? [];
    expect(Number(inMessages)).toBeGreaterThan(512 * 6);
    expect(Number(requested)).toBe(Number(inMessages) + 16);
    // The same with user messages only (today's other failure: a history the runtime could not compress).
    const users = await failure(openai.chat.completions.create({ model, messages: messages.map((m) => ({ ...m, role: 'user' as const })), max_tokens: 16 }));
    expect(users).toMatchObject({ status: 400, code: 'context_length_exceeded' });
  });

  it('without max_tokens, generates up to the end of the context: finish_reason length, the whole prompt counted', async () => {
    const prompt = chatTokens(1900);
    const done = await openai.chat.completions.create({ model, messages: xs(1900), temperature: 0 });
    expect(done.choices[0].finish_reason).toBe('length');
    expect(done.usage).toEqual({ prompt_tokens: prompt, completion_tokens: CONTEXT - prompt, total_tokens: CONTEXT, prompt_tokens_details: { cached_tokens: expect.any(Number) } });
    // A prompt that leaves no room for one token is refused, with its exact count.
    const full = await failure(openai.chat.completions.create({ model, messages: xs(2100) }));
    expect(full).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      message: expect.stringContaining(`${limit} However, your messages resulted in ${chatTokens(2100)} tokens. Please reduce the length of the messages.`),
    });
  });

  it('a killed agent takes its runner down quietly: no EPIPE crash while it was streaming to it', async () => {
    // The agent dies while its runner writes four streams to it. A write that comes before the
    // runner noticed the closed channel failed with EPIPE and crashed it, in about half of such
    // kills (the runner's own test repeats it).
    const [, pid] = await stack.agent.waitFor(/runner pid (\d+)/);
    const alive = () => {
      try {
        process.kill(Number(pid), 0);
        return true;
      } catch {
        return false;
      }
    };
    const abort = new AbortController();
    const request = { model, messages: [{ role: 'user' as const, content: 'Tell me a long story.' }], max_tokens: 1500, temperature: 0, stream: true as const };
    const streams = await Promise.all([0, 1, 2, 3].map(() => openai.chat.completions.create(request, { signal: abort.signal })));
    for (const s of streams) expect((await s[Symbol.asyncIterator]().next()).done).toBe(false);
    stack.agent.child.kill('SIGKILL');
    abort.abort();
    await until('the runner to exit', async () => (alive() ? undefined : true), 10_000);
    // The runner shares the agent's stdout and stderr: whatever it printed is in the agent's output.
    expect(stack.agent.output).not.toMatch(/EPIPE|Unhandled 'error' event|ERR_IPC_CHANNEL_CLOSED|node:internal/);
  });
});
