import { DOUBLE_ANSWER, OpenAiDouble, startOpenAiDouble } from './openai-double';

const KEY = 'sk-double-test';
const MODEL = 'double-mini';

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): string[] {
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
}

interface ChatChunk {
  object: string;
  model: string;
  choices: { index: number; delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** Reads a streamed body until `enough` says so or it ends; the text read so far, and the error that ended it if any. */
async function readUntil(res: Response, enough: (text: string) => boolean = () => false): Promise<{ text: string; error: unknown }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text, error: null };
      text += decoder.decode(value, { stream: true });
      if (enough(text)) return { text, error: null };
    }
  } catch (error) {
    return { text, error };
  }
}

describe('OpenAI double', () => {
  let double: OpenAiDouble;
  const chat = (body: Record<string, unknown>, init: RequestInit = {}, key = KEY) =>
    fetch(`${double.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to me' }], ...body }),
      ...init,
    });

  beforeEach(async () => {
    double = await startOpenAiDouble({ apiKey: KEY, models: [MODEL, 'double-large'] });
  });
  afterEach(() => double.close());

  it('lists its models', async () => {
    const res = await fetch(`${double.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'list',
      data: [
        { id: MODEL, object: 'model', created: expect.any(Number), owned_by: 'double' },
        { id: 'double-large', object: 'model', created: expect.any(Number), owned_by: 'double' },
      ],
    });
  });

  it('answers a chat completion with usage counted in words, and records the request', async () => {
    const res = await chat({}, { headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'X-Trace': 'abc' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: expect.stringMatching(/^chatcmpl-/),
      object: 'chat.completion',
      created: expect.any(Number),
      model: MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: DOUBLE_ANSWER, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
    });
    await double.idle();
    expect(double.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: expect.objectContaining({ authorization: `Bearer ${KEY}`, 'x-trace': 'abc' }),
        body: expect.objectContaining({ model: MODEL, messages: [{ role: 'user', content: 'Say hello to me' }] }),
        behaviour: 'normal',
        status: 200,
        aborted: false,
        settled: true,
      }),
    ]);
  });

  it('honours max_tokens by cutting the answer with finish_reason length', async () => {
    const body = await (await chat({ max_tokens: 2 })).json();
    expect(body.choices[0]).toMatchObject({ message: { content: 'Hello from' }, finish_reason: 'length' });
    expect(body.usage).toEqual({ prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 });
  });

  it('streams the role chunk, one chunk a word, the finish chunk, the usage chunk, then [DONE]', async () => {
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === MODEL)).toBe(true);
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const content = chunks.slice(1, -2).map((c) => c.choices[0].delta.content);
    expect(content).toEqual(['Hello', ' from', ' the', ' double.']);
    expect(chunks.at(-2)!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 } });
  });

  it('streams without a usage chunk unless asked', async () => {
    const data = sseData(await (await chat({ stream: true })).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk);
    expect(chunks).toHaveLength(6);
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
  });

  it('answers the legacy completions route in the text_completion shape, whole and streamed', async () => {
    const post = (body: Record<string, unknown>) =>
      fetch(`${double.url}/v1/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, prompt: 'Once upon a time', ...body }),
      });
    expect(await (await post({})).json()).toMatchObject({
      object: 'text_completion',
      choices: [{ text: DOUBLE_ANSWER, index: 0, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 },
    });
    const data = sseData(await (await post({ stream: true, stream_options: { include_usage: true } })).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { object: string; choices: { text: string; finish_reason: string | null }[]; usage?: unknown });
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.slice(0, 4).map((c) => c.choices[0].text).join('')).toBe(DOUBLE_ANSWER);
    expect(chunks[4].choices[0]).toMatchObject({ text: '', finish_reason: 'stop' });
    expect(chunks[5]).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(data.at(-1)).toBe('[DONE]');
  });

  it('refuses a wrong key with 401 in OpenAI’s error shape', async () => {
    const res = await chat({}, {}, 'sk-wrong-key');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining('Incorrect API key'), type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    const models = await fetch(`${double.url}/v1/models`);
    expect(models.status).toBe(401);
  });

  it('answers an unknown path 404, bad JSON 400 and an unknown model 404, without spending a scripted behaviour', async () => {
    double.script({ kind: 'error', status: 500 });
    expect((await fetch(`${double.url}/v1/embeddingz`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` } })).status).toBe(404);
    const bad = await fetch(`${double.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ type: 'invalid_request_error' });
    const unknown = await chat({ model: 'gpt-nope' });
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.code).toBe('model_not_found');
    expect((await chat({})).status).toBe(500);
    expect((await chat({})).status).toBe(200);
  });

  it('plays scripted behaviours in order: 429 with Retry-After, then an error status, then normal', async () => {
    double.script({ kind: 'rate_limited', retryAfterSeconds: 7 }, { kind: 'error', status: 502 });
    const limited = await chat({});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(await limited.json()).toEqual({ error: { message: expect.any(String), type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    const failed = await chat({});
    expect(failed.status).toBe(502);
    expect((await failed.json()).error).toMatchObject({ type: 'server_error', param: null });
    expect((await chat({})).status).toBe(200);
    expect(double.requests.map((r) => r.behaviour)).toEqual(['rate_limited', 'error', 'normal']);
  });

  it('hangs until the client aborts, and records the abort', async () => {
    double.script({ kind: 'hang' });
    const ac = new AbortController();
    const pending = chat({}, { signal: ac.signal });
    await double.waitForRequests(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(double.requests[0]).toMatchObject({ behaviour: 'hang', status: null, settled: false });
    ac.abort();
    await expect(pending).rejects.toThrow(/abort/i);
    await double.idle();
    expect(double.requests[0]).toMatchObject({ aborted: true, settled: true });
  });

  it('records a client that stops reading a slow stream midway as aborted', async () => {
    double.script({ kind: 'slow_stream', chunkDelayMs: 50, chunks: 40 });
    const ac = new AbortController();
    const res = await chat({ stream: true }, { signal: ac.signal });
    const { text } = await readUntil(res, (t) => sseData(t).length >= 3);
    ac.abort();
    await double.idle();
    expect(double.requests[0]).toMatchObject({ behaviour: 'slow_stream', aborted: true, settled: true });
    expect(text).not.toContain('[DONE]');
  });

  it('streams every chunk of a slow stream to a client that waits', async () => {
    double.script({ kind: 'slow_stream', chunkDelayMs: 10, chunks: 6 });
    const data = sseData(await (await chat({ stream: true })).text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as ChatChunk);
    expect(chunks.slice(1, -1).map((c) => c.choices[0].delta.content).join('')).toBe('Hello from the double. Hello from');
    expect(data.at(-1)).toBe('[DONE]');
    expect(double.requests[0].aborted).toBe(false);
  });

  it('drops the connection mid-stream: the client reads the first chunks, then its read fails', async () => {
    double.script({ kind: 'fail_mid_stream', afterChunks: 2 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    const { text, error } = await readUntil(res);
    // undici's TypeError('terminated') comes from another realm than Jest's, so not `toBeInstanceOf(Error)`.
    expect(error).toMatchObject({ message: expect.any(String) });
    const data = sseData(text);
    expect(data).toHaveLength(3);
    expect(data.map((d) => (JSON.parse(d) as ChatChunk).choices[0].delta.content)).toEqual(['', 'Hello', ' from']);
    await double.idle();
    expect(double.requests[0]).toMatchObject({ behaviour: 'fail_mid_stream', aborted: false, settled: true });
  });

  it('answers 503 to everything, models included, once its default is down', async () => {
    double.setDefault({ kind: 'down' });
    const models = await fetch(`${double.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(models.status).toBe(503);
    expect((await models.json()).error.type).toBe('server_error');
    expect((await chat({})).status).toBe(503);
    double.setDefault({ kind: 'normal' });
    expect((await chat({})).status).toBe(200);
  });

  it('closes with a request still hanging', async () => {
    double.setDefault({ kind: 'hang' });
    const pending = fetch(`${double.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } });
    await double.waitForRequests(1);
    await double.close();
    await expect(pending).rejects.toThrow();
    expect(double.requests[0]).toMatchObject({ behaviour: 'hang', aborted: false, settled: true });
  });
});
