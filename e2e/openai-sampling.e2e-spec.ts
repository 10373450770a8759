import OpenAI, { BadRequestError } from 'openai';
import { ChatOpenAI } from '@langchain/openai';
import { buildTinyVocab } from '@gridline/models';
import { RunningStack, startOpenAiStack } from '@gridline/testing';

/**
 * OpenAI's sampling parameters through the whole stack, with unmodified clients and a bearer
 * token: the official `openai` npm client and LangChain's ChatOpenAI. JSON-schema output that
 * parses and validates, log probabilities (whole and streamed), token biases and penalties,
 * and the runner's refusal of a token id outside the vocabulary, named.
 */
describe('sampling parameters with the openai client and LangChain', () => {
  let stack: RunningStack;
  let openai: OpenAI;
  let token: string;
  const model = 'tiny-sampling';
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'How do you feel today?' }];
  const vocab = buildTinyVocab();
  const MOODS = ['happy', 'sad', 'calm'];
  const schema = {
    type: 'object',
    properties: { mood: { type: 'string', enum: MOODS }, ok: { type: 'boolean' } },
    required: ['mood', 'ok'],
    additionalProperties: false,
  };
  /** What the schema asks, checked by hand: exactly its two keys, with their types. */
  const expectMood = (value: unknown) => {
    expect(value).toEqual({ mood: expect.any(String), ok: expect.any(Boolean) });
    expect(MOODS).toContain((value as { mood: string }).mood);
  };

  beforeAll(async () => {
    ({ stack, openai, token } = await startOpenAiStack(model));
  }, 120_000);

  afterAll(() => stack?.stop());

  describe('the openai client', () => {
    it('json_schema: the answer parses and validates against the schema', async () => {
      const c = await openai.chat.completions.create({
        model,
        messages,
        max_tokens: 64,
        temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'mood', schema, strict: true } },
      });
      expect(c.choices[0].finish_reason).toBe('stop');
      expectMood(JSON.parse(c.choices[0].message.content ?? ''));
    });

    it('a schema the grammar cannot hold the output to is a BadRequestError naming response_format', async () => {
      const error = await openai.chat.completions
        .create({ model, messages, max_tokens: 8, response_format: { type: 'json_schema', json_schema: { name: 'n', schema: { type: 'object', properties: { n: { type: 'integer', minimum: 3 } } } } } })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'unsupported_parameter', param: 'response_format' });
    });

    it('chat logprobs: one entry per token, greedy tokens the most likely, the same whole and streamed', async () => {
      const request = { model, messages, max_tokens: 12, temperature: 0, logprobs: true, top_logprobs: 3 } as const;
      const c = await openai.chat.completions.create(request);
      const content = c.choices[0].logprobs?.content ?? [];
      expect(c.choices[0].logprobs?.refusal).toBeNull();
      expect(content).toHaveLength(c.usage?.completion_tokens ?? -1);
      expect(content.map((e) => e.token).join('')).toBe(c.choices[0].message.content);
      for (const e of content) {
        expect(e).toEqual({ token: expect.any(String), logprob: expect.any(Number), bytes: [...Buffer.from(e.token, 'utf8')], top_logprobs: expect.any(Array) });
        expect(e.top_logprobs).toHaveLength(3);
        expect(e.top_logprobs[0]).toEqual({ token: e.token, logprob: e.logprob, bytes: e.bytes });
        expect(e.top_logprobs.reduce((sum, t) => sum + Math.exp(t.logprob), 0)).toBeLessThanOrEqual(1 + 1e-6);
      }

      const stream = await openai.chat.completions.create({ ...request, stream: true });
      let text = '';
      const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (!choice) continue;
        text += choice.delta.content ?? '';
        // Each piece of text comes with the entries of its tokens.
        if (choice.delta.content) expect(choice.logprobs?.content?.map((e) => e.token).join('')).toBe(choice.delta.content);
        streamed.push(...(choice.logprobs?.content ?? []));
      }
      expect(text).toBe(c.choices[0].message.content);
      expect(streamed.map((e) => e.token)).toEqual(content.map((e) => e.token));
      streamed.forEach((e, i) => expect(e.logprob).toBeCloseTo(content[i].logprob, 4));
    });

    it('completions logprobs: tokens, their log probabilities, the most likely alternatives and text offsets', async () => {
      const c = await openai.completions.create({ model, prompt: 'The river runs', max_tokens: 8, temperature: 0, logprobs: 2 });
      const lp = c.choices[0].logprobs;
      expect(lp).toEqual({ tokens: expect.any(Array), token_logprobs: expect.any(Array), top_logprobs: expect.any(Array), text_offset: expect.any(Array) });
      expect(lp?.tokens).toHaveLength(8);
      expect(lp?.tokens?.join('')).toBe(c.choices[0].text);
      let offset = 0;
      lp?.tokens?.forEach((t, i) => {
        expect(lp.text_offset?.[i]).toBe(offset);
        offset += t.length;
        expect(Object.keys(lp.top_logprobs?.[i] ?? {}).length).toBeGreaterThanOrEqual(1);
        expect(Math.max(...Object.values(lp.top_logprobs?.[i] ?? {}))).toBeCloseTo(lp.token_logprobs?.[i] ?? NaN, 5);
      });
    });

    it('logit_bias bans and forces tokens; an id outside the vocabulary is a BadRequestError naming logit_bias', async () => {
      const river = vocab.tokens.indexOf('\u2581river');
      const forced = await openai.chat.completions.create({ model, messages, max_tokens: 4, temperature: 0, logit_bias: { [river]: 100 } });
      expect(forced.choices[0].message.content?.trim()).toBe('river river river river');
      const banned = await openai.chat.completions.create({ model, messages, max_tokens: 4, temperature: 0, logit_bias: { [river]: -100 }, logprobs: true });
      expect(banned.choices[0].logprobs?.content?.map((e) => e.token.trim())).not.toContain('river');

      const error = await openai.chat.completions.create({ model, messages, max_tokens: 4, logit_bias: { [vocab.tokens.length + 10]: 5 } }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({ status: 400, code: 'invalid_request', param: 'logit_bias', type: 'invalid_request_error' });
    });

    it('frequency and presence penalties change a greedy answer', async () => {
      const plain = await openai.chat.completions.create({ model, messages, max_tokens: 32, temperature: 0 });
      const penalized = await openai.chat.completions.create({ model, messages, max_tokens: 32, temperature: 0, frequency_penalty: 2, presence_penalty: 1 });
      expect(penalized.choices[0].message.content).not.toBe(plain.choices[0].message.content);
    });
  });

  describe("LangChain's ChatOpenAI", () => {
    const chat = (fields: ConstructorParameters<typeof ChatOpenAI>[0] = {}) =>
      new ChatOpenAI({ model, apiKey: token, configuration: { baseURL: `${stack.url}/v1` }, temperature: 0, maxTokens: 64, maxRetries: 0, ...fields });

    it('withStructuredOutput (jsonSchema): a parsed object that validates against the schema', async () => {
      const structured = chat().withStructuredOutput({ ...schema, title: 'mood', description: 'How the model feels' }, { method: 'jsonSchema', name: 'mood', strict: true });
      expectMood(await structured.invoke('How do you feel today?'));
    });

    it('logprobs: in the response metadata, whole and streamed alike', async () => {
      const model = chat({ maxTokens: 10, logprobs: true, topLogprobs: 2 });
      const whole = await model.invoke('How do you feel today?');
      const content = (whole.response_metadata.logprobs as { content: OpenAI.ChatCompletionTokenLogprob[] }).content;
      expect(content).toHaveLength(10);
      expect(content.map((e) => e.token).join('')).toBe(whole.content);
      for (const e of content) expect(e.top_logprobs).toHaveLength(2);

      const streamed: OpenAI.ChatCompletionTokenLogprob[] = [];
      let text = '';
      for await (const chunk of await model.stream('How do you feel today?')) {
        text += typeof chunk.content === 'string' ? chunk.content : '';
        streamed.push(...((chunk.response_metadata.logprobs as { content?: OpenAI.ChatCompletionTokenLogprob[] } | null)?.content ?? []));
      }
      expect(text).toBe(whole.content);
      expect(streamed.map((e) => e.token)).toEqual(content.map((e) => e.token));
    });
  });
});
