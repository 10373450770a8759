import { ChatOpenAI } from '@langchain/openai';
import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { RunningStack, startOpenAiStack } from '@gridline/testing';

/**
 * The official `openai` client, unmodified, with a bearer token (what the SDKs send), against
 * the three built processes on real Postgres, Redis and llama.cpp. Every field OpenAI's
 * specification requires is checked present with its type (the client itself checks nothing
 * at run time), so an answer that only type-checks cannot pass.
 */
describe('the openai npm client with a bearer token', () => {
  let stack: RunningStack;
  let openai: OpenAI;
  let bearer: string;
  const model = 'tiny-oai';
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Tell me about lighthouses.' }];
  const prompt = 'The lighthouse keeper opened the door and';
  const FINGERPRINT = /^gl-[0-9a-f]{12}-c[1-9][0-9]*$/;

  beforeAll(async () => {
    ({ stack, openai, token: bearer } = await startOpenAiStack(model));
  }, 120_000);

  afterAll(() => stack?.stop());

  const usageShape = { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), total_tokens: expect.any(Number), prompt_tokens_details: { cached_tokens: expect.any(Number) } };

  it('chat: every required field of ChatCompletion with its type, and a string system_fingerprint', async () => {
    const { data: c, response } = await openai.chat.completions.create({ model, messages, max_tokens: 12, temperature: 0 }).withResponse();
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const expected: OpenAI.ChatCompletion = {
      id: expect.stringMatching(/^chatcmpl-[0-9a-f]{32}$/),
      object: 'chat.completion',
      created: expect.any(Number),
      model,
      system_fingerprint: expect.stringMatching(FINGERPRINT),
      choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String), refusal: null }, logprobs: null, finish_reason: 'length' }],
      usage: usageShape,
    };
    expect(c).toEqual(expected);
    expect(c.usage?.completion_tokens).toBe(12);
    expect(c.usage?.total_tokens).toBe((c.usage?.prompt_tokens ?? 0) + 12);
    expect(Math.abs(c.created - Date.now() / 1000)).toBeLessThan(60);
  });

  it('streaming chat: chunks in ChatCompletionChunk shape whose text is the greedy non-streamed text', async () => {
    const whole = await openai.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
    const stream = await openai.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    // One id for the whole stream, another than the non-streamed answer's (another job).
    expect(chunks[0].id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(chunks[0].id).not.toBe(whole.id);
    for (const chunk of chunks) expect(chunk).toMatchObject({ id: chunks[0].id, object: 'chat.completion.chunk', created: expect.any(Number), model, system_fingerprint: whole.system_fingerprint });
    const withChoice = chunks.filter((c) => c.choices.length > 0);
    withChoice.forEach((c, i) => expect(c.choices).toEqual([{ index: 0, delta: expect.any(Object), logprobs: null, finish_reason: i === withChoice.length - 1 ? 'length' : null }]));
    expect(withChoice[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(withChoice.map((c) => c.choices[0].delta.content ?? '').join('')).toBe(whole.choices[0].message.content);
    // The usage chunk comes last and has no choices.
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { ...usageShape, completion_tokens: 16 } });
  });

  it("x-gridline-overhead-ms and server-timing: the api's account of where a request's time went, streamed and not", async () => {
    for (const stream of [false, true]) {
      const started = performance.now();
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ model, messages, max_tokens: 8, temperature: 0, stream }),
      });
      expect(res.status).toBe(200);
      await res.text();
      const clientMs = performance.now() - started;
      const steps = (res.headers.get('server-timing') ?? '').split(', ').map((s) => {
        const [name, dur] = s.split(';dur=');
        return { name, ms: Number(dur) };
      });
      // Every step in order, each a duration; the model's own part is the node's report.
      expect(steps.map((s) => s.name)).toEqual(['read', 'auth', 'validate', 'model', 'admission', 'row', 'dispatch', 'transit', 'node', 'runner', ...(stream ? [] : ['generate'])]);
      for (const s of steps) expect(s.ms).toBeGreaterThanOrEqual(0);
      const accounted = steps.reduce((sum, s) => sum + s.ms, 0);
      const overhead = Number(res.headers.get('x-gridline-overhead-ms'));
      // The steps cover the api's time up to the answer (less than the client waited); the
      // overhead is that time without the model's work (streamed: up to the first text).
      expect(accounted).toBeLessThanOrEqual(clientMs);
      expect(steps.find((s) => s.name === 'runner')?.ms).toBeGreaterThan(0);
      expect(overhead).toBeGreaterThan(0);
      expect(overhead).toBeLessThan(accounted);
      if (stream) expect(overhead).toBeCloseTo(accounted - (steps.find((s) => s.name === 'runner')?.ms ?? 0), 0);
    }
  });

  it("LangChain's ChatOpenAI, unmodified: invoke, and a stream whose chunks arrive while the model generates and join into the same text", async () => {
    const chat = new ChatOpenAI({ model, apiKey: bearer, configuration: { baseURL: `${stack.url}/v1` }, temperature: 0, maxTokens: 24, maxRetries: 0 });
    const whole = await chat.invoke([{ role: 'user', content: 'Tell me about lighthouses.' }]);
    expect(typeof whole.content).toBe('string');
    expect((whole.content as string).length).toBeGreaterThan(0);
    expect(whole.usage_metadata).toMatchObject({ output_tokens: 24, input_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(whole.response_metadata).toMatchObject({ finish_reason: 'length', system_fingerprint: expect.stringMatching(FINGERPRINT) });

    const arrivals: number[] = [];
    let text = '';
    for await (const chunk of await chat.stream([{ role: 'user', content: 'Tell me about lighthouses.' }])) {
      arrivals.push(performance.now());
      text += typeof chunk.content === 'string' ? chunk.content : '';
    }
    expect(text).toBe(whole.content);
    // Streamed as generated, not delivered at the end in one piece.
    expect(new Set(arrivals.map((t) => Math.round(t))).size).toBeGreaterThanOrEqual(3);
  });

  it('completions: Completion shape, and the streamed text equals the non-streamed one', async () => {
    const c = await openai.completions.create({ model, prompt, max_tokens: 10, temperature: 0 });
    const expected: OpenAI.Completion = {
      id: expect.stringMatching(/^cmpl-[0-9a-f]{32}$/),
      object: 'text_completion',
      created: expect.any(Number),
      model,
      system_fingerprint: expect.stringMatching(FINGERPRINT),
      choices: [{ index: 0, text: expect.any(String), logprobs: null, finish_reason: 'length' }],
      usage: usageShape,
    };
    expect(c).toEqual(expected);
    expect(c.choices[0].text.length).toBeGreaterThan(0);
    expect(c.usage?.completion_tokens).toBe(10);

    const stream = await openai.completions.create({ model, prompt, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].id).toMatch(/^cmpl-[0-9a-f]{32}$/);
    for (const chunk of chunks) expect(chunk).toMatchObject({ id: chunks[0].id, object: 'text_completion', created: expect.any(Number), model, system_fingerprint: c.system_fingerprint });
    const withChoice = chunks.filter((x) => x.choices.length > 0);
    expect(withChoice.length).toBeGreaterThan(2);
    withChoice.forEach((x, i) => expect(x.choices).toEqual([{ index: 0, text: expect.any(String), logprobs: null, finish_reason: i === withChoice.length - 1 ? 'length' : null }]));
    expect(withChoice.map((x) => x.choices[0].text).join('')).toBe(c.choices[0].text);
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { ...usageShape, completion_tokens: 10 } });
  });

  it('completions honour stop: the text ends before the stop string, finish_reason stop', async () => {
    const free = await openai.completions.create({ model, prompt, max_tokens: 10, temperature: 0 });
    const text = free.choices[0].text;
    // A word from the middle of the greedy text.
    const stop = text.split(' ').filter((w) => w.length > 2)[1] ?? '';
    expect(stop.length).toBeGreaterThan(0);
    const stopped = await openai.completions.create({ model, prompt, max_tokens: 10, temperature: 0, stop: [stop] });
    expect(stopped.choices[0].finish_reason).toBe('stop');
    expect(stopped.choices[0].text).not.toContain(stop);
    // Compared without trailing whitespace: the runner drops the whitespace just before a stop string (a runtime matter, reported apart).
    expect(stopped.choices[0].text.trimEnd()).toBe(text.slice(0, text.indexOf(stop)).trimEnd());
  });

  it('models.list() and models.retrieve(id)', async () => {
    const list = await openai.models.list();
    // OpenAI's fields, and Gridline's `served_by` (where the model runs: here, this installation's fleet).
    const expected: OpenAI.Model & { served_by: string[] } = { id: model, object: 'model', created: expect.any(Number), owned_by: 'gridline', served_by: ['local'] };
    expect(list.data).toEqual([expected]);
    expect(await openai.models.retrieve(model)).toEqual(list.data[0]);
  });

  it('an unknown model is the client NotFoundError with code model_not_found, for retrieve and for chat', async () => {
    for (const call of [() => openai.models.retrieve('no-such-model'), () => openai.chat.completions.create({ model: 'no-such-model', messages })]) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model', type: 'invalid_request_error' });
      expect((error as NotFoundError).requestID).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('an unsupported parameter is the client BadRequestError naming it; accepted-and-ignored ones change nothing', async () => {
    const error = await openai.chat.completions.create({ model, messages, n: 2, max_tokens: 4 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'n', type: 'invalid_request_error' });

    const plain = await openai.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0 });
    const decorated = await openai.chat.completions.create({
      model,
      messages,
      max_tokens: 6,
      temperature: 0,
      store: false,
      metadata: { suite: 'e2e' },
      user: 'someone',
      service_tier: 'auto',
      parallel_tool_calls: false,
      n: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
    });
    expect(decorated.choices[0].message.content).toBe(plain.choices[0].message.content);
  });
});
