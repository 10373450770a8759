import { InferenceRequest, TokenLogprob, chatRequest } from '@gridline/contract';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, buildTinyVocab, encodeGguf } from '@gridline/models';
import { RunnerClient } from './runner-client';
import type { RunnerGenerationDone } from './runner-protocol';

const BUILT_RUNNER = join(__dirname, '..', '..', '..', '..', 'dist', 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');

/**
 * What OpenAI's sampling parameters do to a real generation (node-llama-cpp's prebuilt CPU
 * llama.cpp in the built runner, a tiny random-weight model written by libs/models):
 * logit_bias, frequency and presence penalties, log probabilities from the generation pass,
 * and JSON output held to a schema.
 */
describe('llama runner: token bias, penalties, log probabilities, JSON formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-sampling-'));
  const modelPath = join(dir, 'tiny.gguf');
  const runner = new RunnerClient(BUILT_RUNNER);
  const vocab = buildTinyVocab();
  const chat = [{ role: 'user' as const, content: 'Hello, who are you?' }];
  const greedy = { temperature: 0, topP: 1 };
  let n = 0;

  /** Generates, collecting the streamed chunks and their log probabilities. */
  async function generate(request: InferenceRequest): Promise<RunnerGenerationDone & { chunks: string[]; logprobs: TokenLogprob[]; chunksWithout: number }> {
    const chunks: string[] = [];
    const logprobs: TokenLogprob[] = [];
    let chunksWithout = 0;
    const done = await runner.generate(`s${++n}`, request, (text, lp) => {
      chunks.push(text);
      if (lp) logprobs.push(...lp);
      else chunksWithout++;
    });
    return { ...done, chunks, logprobs, chunksWithout };
  }

  /**
   * The vocabulary ids a token's text may stand for: SentencePiece writes a leading space as ▁,
   * and the first token of a text is read without its leading space (as the text is).
   */
  const idsOf = (token: string) => [`\u2581${token.trimStart()}`, token].map((t) => vocab.tokens.indexOf(t)).filter((id) => id >= 0);

  beforeAll(async () => {
    writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: 42 })));
    await runner.start('cpu');
    await runner.load({ modelPath, gpuLayers: 0, contextSize: 1024, parallel: 2, threads: 1 });
  });

  afterAll(() => runner.stop());

  describe('log probabilities', () => {
    it.each([
      ['chat', chatRequest(chat, { maxTokens: 16, sampling: greedy })],
      ['completion', { input: { kind: 'completion' as const, prompt: 'The river runs' }, sampling: greedy, maxTokens: 16 }],
    ])('%s: one entry per generated token, from the same pass: greedy tokens are the most likely, the text is unchanged', async (_kind, request: InferenceRequest) => {
      const plain = await generate(request);
      const withLogprobs = await generate({ ...request, logprobs: { top: 5 } });
      // The same generation: log probabilities change nothing of the text.
      expect(withLogprobs.text).toBe(plain.text);
      expect(withLogprobs.chunks.join('')).toBe(plain.text);
      expect(withLogprobs.chunksWithout).toBe(0);
      expect(withLogprobs.logprobs).toHaveLength(withLogprobs.completionTokens);
      expect(withLogprobs.logprobs.map((e) => e.token).join('')).toBe(plain.text);
      for (const e of withLogprobs.logprobs) {
        expect(e.top).toHaveLength(5);
        // Greedy: the token taken is the most likely one, with its log probability.
        expect(e.top[0]).toEqual({ token: e.token, logprob: e.logprob, bytes: e.bytes });
        expect(e.logprob).toBeLessThanOrEqual(0);
        expect(e.bytes).toEqual([...Buffer.from(e.token, 'utf8')]);
        // Most likely first, and probabilities that add up to at most 1.
        expect(e.top.map((t) => t.logprob)).toEqual([...e.top.map((t) => t.logprob)].sort((a, b) => b - a));
        expect(e.top.reduce((sum, t) => sum + Math.exp(t.logprob), 0)).toBeLessThanOrEqual(1 + 1e-6);
      }
      // No request for them, none sent.
      expect(plain.logprobs).toEqual([]);
    });

    it('gives the chosen token only with top 0, and the same log probabilities as with alternatives', async () => {
      const request = chatRequest(chat, { maxTokens: 8, sampling: greedy });
      const bare = await generate({ ...request, logprobs: { top: 0 } });
      const full = await generate({ ...request, logprobs: { top: 2 } });
      expect(bare.logprobs.map((e) => e.top)).toEqual(bare.logprobs.map(() => []));
      expect(bare.logprobs.map((e) => e.token)).toEqual(full.logprobs.map((e) => e.token));
      bare.logprobs.forEach((e, i) => expect(e.logprob).toBeCloseTo(full.logprobs[i].logprob, 4));
    });

    it('are those of a sampled token when sampling (seeded), the text unchanged by asking for them', async () => {
      const request = chatRequest(chat, { maxTokens: 12, sampling: { temperature: 1, seed: 7 } });
      const plain = await generate(request);
      const withLogprobs = await generate({ ...request, logprobs: { top: 3 } });
      expect(withLogprobs.text).toBe(plain.text);
      expect(withLogprobs.logprobs).toHaveLength(withLogprobs.completionTokens);
      for (const e of withLogprobs.logprobs) expect(e.logprob).toBeLessThanOrEqual(e.top[0].logprob);
    });
  });

  describe('logit_bias', () => {
    it('-100 bans a token: the greedy first token never appears and the text changes', async () => {
      const request = chatRequest(chat, { maxTokens: 16, sampling: greedy });
      const plain = await generate({ ...request, logprobs: { top: 0 } });
      const first = idsOf(plain.logprobs[0].token);
      expect(first.length).toBeGreaterThan(0);
      const banned = await generate({ ...request, logitBias: Object.fromEntries(first.map((id) => [String(id), -100])), logprobs: { top: 0 } });
      expect(banned.text).not.toBe(plain.text);
      for (const e of banned.logprobs) expect(idsOf(e.token).filter((id) => first.includes(id))).toEqual([]);
      expect(banned.completionTokens).toBe(16);
    });

    it('+100 all but forces a token: it is every token generated', async () => {
      const river = vocab.tokens.indexOf('\u2581river');
      const forced = await generate({ ...chatRequest(chat, { maxTokens: 6, sampling: greedy }), logitBias: { [String(river)]: 100 }, logprobs: { top: 1 } });
      expect(forced.logprobs.map((e) => e.token.trimStart())).toEqual(Array(6).fill('river'));
      expect(forced.text.trim()).toBe(Array(6).fill('river').join(' '));
      // Nearly certain: its log probability is close to 0.
      for (const e of forced.logprobs) expect(e.logprob).toBeGreaterThan(-0.01);
    });

    it('biases the end-of-turn token too: +100 on it ends the answer at once', async () => {
      const ended = await generate({ ...chatRequest(chat, { maxTokens: 16, sampling: greedy }), logitBias: { [String(vocab.eos)]: 100 } });
      expect([ended.text, ended.finishReason]).toEqual(['', 'stop']);
    });

    it('moderate values shift the odds without forcing', async () => {
      const request = chatRequest(chat, { maxTokens: 1, sampling: greedy });
      const plain = await generate({ ...request, logprobs: { top: 2 } });
      const [second] = idsOf(plain.logprobs[0].top[1].token);
      const gap = plain.logprobs[0].top[0].logprob - plain.logprobs[0].top[1].logprob;
      // A bias a little above the gap between the two most likely tokens makes the second one win.
      const shifted = await generate({ ...request, logitBias: { [String(second)]: gap + 0.5 }, logprobs: { top: 0 } });
      expect(idsOf(shifted.logprobs[0].token)[0]).toBe(second);
    });

    it('refuses a token id outside the vocabulary with invalid_request naming logit_bias, before generating', async () => {
      const request = { ...chatRequest(chat, { maxTokens: 4, sampling: greedy }), logitBias: { [String(vocab.tokens.length)]: 5 } };
      await expect(runner.generate('oov', request)).rejects.toMatchObject({ code: 'invalid_request', param: 'logit_bias', message: expect.stringContaining(`token ${vocab.tokens.length} is not in the model's vocabulary`) });
    });
  });

  describe('frequency and presence penalties', () => {
    /** The count of the most repeated token of a generation. */
    const mostRepeated = (lp: TokenLogprob[]) => Math.max(...[...lp.reduce((m, e) => m.set(e.token, (m.get(e.token) ?? 0) + 1), new Map<string, number>()).values()]);
    const request = { ...chatRequest(chat, { maxTokens: 48, sampling: greedy }), logprobs: { top: 0 } };

    it('a positive penalty changes a repetitive greedy text and repeats less; a negative one repeats more', async () => {
      const plain = await generate(request);
      expect(mostRepeated(plain.logprobs)).toBeGreaterThan(2);
      for (const sampling of [{ frequencyPenalty: 2 }, { presencePenalty: 2 }]) {
        const penalized = await generate({ ...request, sampling: { ...greedy, ...sampling } });
        expect(penalized.text).not.toBe(plain.text);
        expect(mostRepeated(penalized.logprobs)).toBeLessThan(mostRepeated(plain.logprobs));
      }
      const favoured = await generate({ ...request, sampling: { ...greedy, frequencyPenalty: -2 } });
      expect(mostRepeated(favoured.logprobs)).toBeGreaterThan(mostRepeated(plain.logprobs));
    });

    it('penalties of 0 change nothing', async () => {
      const plain = await generate(request);
      const zero = await generate({ ...request, sampling: { ...greedy, frequencyPenalty: 0, presencePenalty: 0 } });
      expect(zero.text).toBe(plain.text);
    });
  });

  describe('response_format', () => {
    const schema = {
      type: 'object',
      properties: { mood: { enum: ['happy', 'sad', 'calm'] }, ok: { type: 'boolean' } },
      required: ['mood', 'ok'],
      additionalProperties: false,
    };

    it.each([
      ['chat', chatRequest(chat, { maxTokens: 64, sampling: greedy })],
      ['completion', { input: { kind: 'completion' as const, prompt: 'The river runs' }, sampling: greedy, maxTokens: 64 }],
    ])('%s: json_schema output parses and validates against the schema, and ends', async (_kind, request: InferenceRequest) => {
      const done = await generate({ ...request, responseFormat: { type: 'json_schema', name: 'mood', schema } });
      const value = JSON.parse(done.text) as Record<string, unknown>;
      expect(Object.keys(value).sort()).toEqual(['mood', 'ok']);
      expect(['happy', 'sad', 'calm']).toContain(value.mood);
      expect(typeof value.ok).toBe('boolean');
      expect(done.finishReason).toBe('stop');
    });

    it('json_schema with log probabilities: the entries spell the JSON', async () => {
      const done = await generate({ ...chatRequest(chat, { maxTokens: 64, sampling: greedy }), responseFormat: { type: 'json_schema', name: 'mood', schema }, logprobs: { top: 2 } });
      expect(JSON.parse(done.text)).toMatchObject({ mood: expect.any(String) });
      expect(done.logprobs.map((e) => e.token).join('')).toBe(done.text);
    });

    it('json_object: the output is JSON (steered to a short one with logit_bias, as random weights never close a string)', async () => {
      // Quotes favoured, commas and whitespace banned: the grammar leaves `{"": ""}` and its end.
      const ids = ['"', ',', '<0x2C>', '\u2581', '<0x20>', '<0x0A>', '<0x09>', '<0x0D>'].map((t) => vocab.tokens.indexOf(t));
      expect(ids.every((id) => id > 0)).toBe(true);
      const logitBias = Object.fromEntries(ids.map((id, i) => [String(id), i === 0 ? 100 : -100]));
      const done = await generate({ ...chatRequest(chat, { maxTokens: 64, sampling: greedy }), responseFormat: { type: 'json_object' }, logitBias });
      expect(done.finishReason).toBe('stop');
      expect(typeof JSON.parse(done.text)).toBe('object');
    });

    it('refuses a schema outside what the grammar enforces with invalid_request naming response_format', async () => {
      const request: InferenceRequest = { ...chatRequest(chat, { maxTokens: 4, sampling: greedy }), responseFormat: { type: 'json_schema', name: 'x', schema: { type: 'string', pattern: '^a+$' } } };
      await expect(runner.generate('bad-schema', request)).rejects.toMatchObject({ code: 'invalid_request', param: 'response_format', message: expect.stringContaining('pattern is not supported') });
    });
  });
});
