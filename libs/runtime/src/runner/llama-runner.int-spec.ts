import { ChatMessage, InferenceRequest, chatRequest } from '@gridline/contract';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_PRESETS, buildLlamaHeader, buildTinyLlama, encodeGguf } from '@gridline/models';
import { spawn } from 'node:child_process';
import { RunnerClient } from './runner-client';
import type { RunnerGenerationDone } from './runner-protocol';

const DIST = join(__dirname, '..', '..', '..', '..', 'dist');
/** The runner as `npm run build` emits it (Jest runs the TypeScript sources, the runner must be the built ESM file). */
const BUILT_RUNNER = join(DIST, 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');
/** A stand-in for the agent that keeps a runner streaming to it (libs/testing, built). */
const RUNNER_PARENT = join(DIST, 'libs', 'testing', 'src', 'runner-parent.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the stand-in parent with four sequences streaming, kills it, and resolves with the
 * output it and its runner printed once the runner is gone.
 */
function killParentWhileStreaming(modelPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const parent = spawn(process.execPath, [RUNNER_PARENT, modelPath, '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let runner = 0;
    const collect = (d: Buffer) => {
      output += d.toString();
      const m = /runner (\d+) streaming/.exec(output);
      if (!m || runner) return;
      runner = Number(m[1]);
      parent.kill('SIGKILL');
      const poll = setInterval(() => {
        if (alive(runner)) return;
        clearInterval(poll);
        // What the runner printed while it went: its stdio were the parent's pipes.
        setTimeout(() => resolve(output), 100);
      }, 20);
    };
    parent.stdout.on('data', collect);
    parent.stderr.on('data', collect);
    parent.once('exit', () => {
      if (!runner) reject(new Error(`the stand-in parent exited before its runner streamed:\n${output}`));
    });
  });
}

/** Real llama.cpp (node-llama-cpp's prebuilt CPU binary) in the built ESM runner process. */
describe('llama runner with a GGUF written by libs/models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-runner-'));
  const tinyPath = join(dir, 'tiny.gguf');
  const headerPath = join(dir, 'llama-3-8b.header.gguf');
  const runner = new RunnerClient(BUILT_RUNNER);
  const chat = [{ role: 'user' as const, content: 'Hello, who are you?' }];

  beforeAll(async () => {
    writeFileSync(tinyPath, encodeGguf(buildTinyLlama({ seed: 42 })));
    writeFileSync(headerPath, encodeGguf(buildLlamaHeader(LLAMA_PRESETS['llama-3-8b']), { headerOnly: true }));
    await runner.start('cpu');
  });

  afterAll(() => runner.stop());

  it('reads the written file back through readGgufFileInfo', async () => {
    await expect(runner.inspect(tinyPath)).resolves.toEqual({ architecture: 'llama', name: 'gridline-tiny', version: 3, tensorCount: 21, blockCount: 2 });
  });

  it('reads a header-only real-size model through readGgufFileInfo', async () => {
    await expect(runner.inspect(headerPath)).resolves.toMatchObject({ architecture: 'llama', name: 'Meta-Llama-3-8B-Instruct', tensorCount: 32 * 9 + 3, blockCount: 32 });
  });

  it('loads the model with two parallel sequences on one thread, and measures its longest token', async () => {
    const info = await runner.load({ modelPath: tinyPath, gpuLayers: 0, contextSize: 1024, parallel: 2, threads: 1 });
    expect(info).toMatchObject({ gpuLayers: 0, contextSize: 1024, parallel: 2, trainContextSize: 2048 });
    // The tiny vocabulary's longest pieces are "▁number" and "▁people": 7 bytes of text (" number").
    expect(info.maxTokenBytes).toBe(7);
  });

  it('generates visible text, streamed in chunks that add up to the result', async () => {
    const chunks: string[] = [];
    const done = await runner.generate('g1', chatRequest(chat, { maxTokens: 24, sampling: { temperature: 0, topP: 1 } }), (t) => chunks.push(t));
    expect(done.text.trim().length).toBeGreaterThan(0);
    expect(done.text).toMatch(/[a-z]{2,}/i);
    expect(chunks.join('')).toBe(done.text);
    // Byte and control rows are zeroed, so the end-of-turn token never wins: it runs to the limit.
    expect(done.finishReason).toBe('length');
    expect(done.completionTokens).toBe(24);
    expect(done.promptTokens).toBeGreaterThan(5);
  });

  it('counts the prompt the same whatever the completion length', async () => {
    const short = await runner.generate('t1', chatRequest(chat, { maxTokens: 1, sampling: { temperature: 0, topP: 1 } }));
    const long = await runner.generate('t2', chatRequest(chat, { maxTokens: 30, sampling: { temperature: 0, topP: 1 } }));
    expect(short.completionTokens).toBe(1);
    expect(long.completionTokens).toBe(30);
    expect(long.promptTokens).toBe(short.promptTokens);
    // ChatML markers, role names and the text: more tokens than the words of the message alone.
    expect(short.promptTokens).toBeGreaterThan(chat[0].content.split(' ').length + 6);
  });

  it('is deterministic under greedy decoding, also with two generations in parallel', async () => {
    const req = chatRequest(chat, { maxTokens: 16, sampling: { temperature: 0, topP: 1 } });
    const [a, b] = await Promise.all([runner.generate('p1', req), runner.generate('p2', req)]);
    expect(a.text).toBe(b.text);
    expect(a.promptTokens).toBe(b.promptTokens);
  });

  it('queues generations beyond its parallel sequences instead of failing them', async () => {
    const req = chatRequest(chat, { maxTokens: 8, sampling: { temperature: 0, topP: 1 } });
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => runner.generate(`q${i}`, req)));
    expect(results.map((r) => r.completionTokens)).toEqual([8, 8, 8, 8, 8]);
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
  });

  it('stops at a custom stop string', async () => {
    const full = await runner.generate('s0', chatRequest(chat, { maxTokens: 24, sampling: { temperature: 0, topP: 1 } }));
    const word = full.text.trim().split(/\s+/)[1];
    const stopped = await runner.generate('s1', chatRequest(chat, { maxTokens: 24, sampling: { temperature: 0, topP: 1 }, stop: [word] }));
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.text.length).toBeLessThan(full.text.length);
    expect(stopped.text).not.toContain(word);
  });

  it('continues a plain prompt (no chat template), counting only the prompt tokens', async () => {
    const req = { input: { kind: 'completion' as const, prompt: 'The river runs' }, sampling: { temperature: 0 }, maxTokens: 12 };
    const chunks: string[] = [];
    const done = await runner.generate('pc1', req, (t) => chunks.push(t));
    expect(done.completionTokens).toBe(12);
    expect(chunks.join('')).toBe(done.text);
    const chatted = await runner.generate('pc2', chatRequest([{ role: 'user', content: 'The river runs' }], { maxTokens: 1, sampling: { temperature: 0 } }));
    expect(done.promptTokens).toBeGreaterThan(1);
    expect(done.promptTokens).toBeLessThan(chatted.promptTokens);
  });

  it('cancels a running generation', async () => {
    // Without max_tokens: it could run to the end of the context.
    const pending = runner.generate('c1', chatRequest(chat, { sampling: { temperature: 0, topP: 1 } }), () => runner.cancel('c1'));
    const done = await pending;
    expect(done.finishReason).toBe('cancelled');
    expect(done.completionTokens).toBeLessThan(1024 - done.promptTokens);
  });

  describe('the context window (1024 tokens per sequence)', () => {
    const CONTEXT = 1024;
    const greedy = { temperature: 0, topP: 1 };
    /** A chat whose rendered prompt is exactly `tokens` long: each "x" is one token of the tiny vocabulary. */
    let chatOf: (tokens: number) => ChatMessage[];
    let promptOf: (tokens: number) => string;

    beforeAll(async () => {
      const one = await runner.generate('probe-chat', chatRequest([{ role: 'user', content: 'x' }], { maxTokens: 1, sampling: greedy }));
      chatOf = (tokens) => [{ role: 'user', content: 'x'.repeat(tokens - one.promptTokens + 1) }];
      const plain = await runner.generate('probe-plain', { input: { kind: 'completion', prompt: 'x' }, sampling: greedy, maxTokens: 1 });
      promptOf = (tokens) => 'x'.repeat(tokens - plain.promptTokens + 1);
    });

    /** Requests that fill the context exactly, and their answers: the same as in a roomier context (nothing shifted out). */
    const filled: { request: InferenceRequest; text: string }[] = [];

    it('generates when prompt plus max_tokens fill the context exactly, with the whole prompt counted', async () => {
      const chat = chatRequest(chatOf(CONTEXT - 24), { maxTokens: 24, sampling: greedy });
      const done = await runner.generate('fit', chat);
      expect(done).toMatchObject({ promptTokens: CONTEXT - 24, completionTokens: 24, finishReason: 'length' });
      const plain: InferenceRequest = { input: { kind: 'completion', prompt: promptOf(CONTEXT - 24) }, sampling: greedy, maxTokens: 24 };
      const plainDone = await runner.generate('fit-plain', plain);
      expect(plainDone).toMatchObject({ promptTokens: CONTEXT - 24, completionTokens: 24, finishReason: 'length' });
      filled.push({ request: chat, text: done.text }, { request: plain, text: plainDone.text });
    });

    it('refuses one token more before generating, with the exact numbers', async () => {
      await expect(runner.generate('over', chatRequest(chatOf(CONTEXT - 24), { maxTokens: 25, sampling: greedy }))).rejects.toMatchObject({
        code: 'context_length_exceeded',
        message: `This model's maximum context length is ${CONTEXT} tokens. However, you requested ${CONTEXT + 1} tokens (${CONTEXT - 24} in the messages, 25 in the completion). Please reduce the length of the messages or completion.`,
      });
      await expect(runner.generate('over-plain', { input: { kind: 'completion', prompt: promptOf(CONTEXT - 23) }, sampling: greedy, maxTokens: 24 })).rejects.toMatchObject({
        code: 'context_length_exceeded',
        message: `This model's maximum context length is ${CONTEXT} tokens. However, you requested ${CONTEXT + 1} tokens (${CONTEXT - 23} in the prompt, 24 in the completion). Please reduce the length of the prompt or completion.`,
      });
      await expect(runner.generate('huge', chatRequest(chatOf(5000), { maxTokens: 8, sampling: greedy }))).rejects.toMatchObject({ message: expect.stringContaining('you requested 5008 tokens (5000 in the messages, 8 in the completion)') });
    });

    it('without max_tokens, generates up to the end of the context', async () => {
      const chat = await runner.generate('rest', chatRequest(chatOf(CONTEXT - 30), { sampling: greedy }));
      expect(chat).toMatchObject({ promptTokens: CONTEXT - 30, completionTokens: 30, finishReason: 'length' });
      const plain = await runner.generate('rest-plain', { input: { kind: 'completion', prompt: promptOf(CONTEXT - 1) }, sampling: greedy });
      expect(plain).toMatchObject({ promptTokens: CONTEXT - 1, completionTokens: 1, finishReason: 'length' });
      await expect(runner.generate('full', { input: { kind: 'completion', prompt: promptOf(CONTEXT) }, sampling: greedy })).rejects.toMatchObject({
        message: `This model's maximum context length is ${CONTEXT} tokens. However, your prompt resulted in ${CONTEXT} tokens, which leaves no room for the completion. Please reduce the length of the prompt.`,
      });
    });

    it('keeps the one token LlamaChat needs free after a chat prompt (it would shift the history out otherwise)', async () => {
      const last = await runner.generate('chat-last', chatRequest(chatOf(CONTEXT - 2), { maxTokens: 2, sampling: greedy }));
      expect(last).toMatchObject({ promptTokens: CONTEXT - 2, completionTokens: 2 });
      await expect(runner.generate('chat-full', chatRequest(chatOf(CONTEXT - 1), { maxTokens: 1, sampling: greedy }))).rejects.toMatchObject({
        message: expect.stringContaining(`your messages resulted in ${CONTEXT - 1} tokens, which leaves no room for the completion`),
      });
    });

    it('refuses 512 short messages that do not fit, and answers them in a context that holds them', async () => {
      const many: ChatMessage[] = Array.from({ length: 512 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: 'hi' }));
      many.push({ role: 'user', content: 'hi' });
      const refused = runner.generate('many', chatRequest(many, { maxTokens: 8, sampling: greedy }));
      await expect(refused).rejects.toMatchObject({ code: 'context_length_exceeded', message: expect.stringMatching(/you requested \d+ tokens \(\d+ in the messages, 8 in the completion\)/) });
      const needed = Number(/\((\d+) in the messages/.exec(((await refused.catch((e: Error) => e)) as Error).message)?.[1]);
      expect(needed).toBeGreaterThan(512 * 6);

      await runner.load({ modelPath: tinyPath, gpuLayers: 0, contextSize: 8192, parallel: 1, threads: 1 });
      const done = await runner.generate('many-fit', chatRequest(many, { maxTokens: 8, sampling: greedy }));
      expect(done).toMatchObject({ promptTokens: needed, completionTokens: 8, finishReason: 'length' });

      // What filled the small context exactly is answered the same here: nothing was cut from its prompt.
      expect(filled).toHaveLength(2);
      for (const [i, f] of filled.entries()) expect((await runner.generate(`roomy${i}`, f.request)).text).toBe(f.text);
    }, 60_000);
  });

  it('exits quietly when its parent dies while it streams: no EPIPE crash', async () => {
    // A write that comes before the runner noticed the closed channel fails with EPIPE: a race,
    // which the runner lost in about half of such deaths before it handled channel errors.
    for (let round = 1; round <= 3; round++) {
      expect(await killParentWhileStreaming(tinyPath)).not.toMatch(/EPIPE|Unhandled 'error' event|ERR_IPC_CHANNEL_CLOSED|node:internal/);
    }
  }, 60_000);

  it('reports a failed load as an error without dying', async () => {
    await expect(runner.load({ modelPath: join(dir, 'missing.gguf'), gpuLayers: 0, contextSize: 256, parallel: 1, threads: 1 })).rejects.toMatchObject({ code: 'runner_error' });
    await expect(runner.inspect(tinyPath)).resolves.toMatchObject({ architecture: 'llama' });
  });
});

/** Real llama.cpp in the built runner: its sequences, kept between jobs, and the prompt prefixes they reuse. */
describe('llama runner sequences and prompt-prefix reuse (two parallel sequences)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-runner-seq-'));
  const tinyPath = join(dir, 'tiny.gguf');
  const runner = new RunnerClient(BUILT_RUNNER);
  const seeded = { temperature: 0, topP: 1, seed: 7 };
  /** A long system prompt, as many clients send the same one with every request. */
  const SYSTEM = 'You are a careful assistant for the people of the river town, and you answer in short plain words. '.repeat(12);
  const withSystem = (question: string): ChatMessage[] => [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: question },
  ];
  const plain = (prompt: string, maxTokens = 16): InferenceRequest => ({ input: { kind: 'completion', prompt }, sampling: seeded, maxTokens });

  beforeAll(async () => {
    writeFileSync(tinyPath, encodeGguf(buildTinyLlama({ seed: 42 })));
    await runner.start('cpu');
  });

  afterAll(() => runner.stop());

  it('reports the memory the load took: resident memory on this CPU-only machine, no GPU memory', async () => {
    const info = await runner.load({ modelPath: tinyPath, gpuLayers: 0, contextSize: 2048, parallel: 2, threads: 1 });
    expect(info.parallel).toBe(2);
    expect(info.memory.cpuBytes).toBeGreaterThan(0);
    expect(info.memory.gpuBytes).toBe(0);
  });

  /**
   * Runs requests at the same time and records the order of their events: each one's first
   * chunk and its end.
   */
  async function together(requests: InferenceRequest[], tag: string): Promise<{ results: RunnerGenerationDone[]; order: string[] }> {
    const order: string[] = [];
    const results = await Promise.all(
      requests.map((r, i) =>
        runner
          .generate(`${tag}${i}`, r, () => {
            if (!order.includes(`chunk${i}`)) order.push(`chunk${i}`);
          })
          .then((done) => {
            order.push(`done${i}`);
            return done;
          }),
      ),
    );
    return { results, order };
  }

  for (const [kind, requests] of [
    ['chat', [chatRequest(withSystem('Where does the river go?'), { maxTokens: 32, sampling: seeded }), chatRequest([{ role: 'user', content: 'Tell me about the people.' }], { maxTokens: 32, sampling: seeded })]],
    ['completion', [plain('The river runs through the town', 32), plain('People of the number', 32)]],
  ] as const) {
    it(`runs two ${kind} requests at once on two sequences, each answered as it is alone`, async () => {
      const { results, order } = await together([...requests], `par-${kind}-`);
      // Both were generating at once: each streamed its first text before either ended.
      const firstDone = Math.min(order.indexOf('done0'), order.indexOf('done1'));
      expect(order.indexOf('chunk0')).toBeLessThan(firstDone);
      expect(order.indexOf('chunk1')).toBeLessThan(firstDone);
      for (const [i, r] of requests.entries()) {
        const alone = await runner.generate(`alone-${kind}-${i}`, r);
        expect(alone.text).toBe(results[i].text);
        expect(alone.completionTokens).toBe(32);
        // Run again alone, its sequence held the same prompt: all of it is reused but its last token.
        expect(alone.cachedPromptTokens).toBe(alone.promptTokens - 1);
      }
    });
  }

  it('reuses a long shared system prompt on the sequence that holds it, and nothing for an unrelated prompt', async () => {
    const unrelated = (q: string) => chatRequest([{ role: 'user', content: q }], { maxTokens: 8, sampling: seeded });
    // One sequence holds the system prompt, the other an unrelated chat.
    await together([chatRequest(withSystem('Where does the river go?'), { maxTokens: 8, sampling: seeded }), unrelated('Tell me about the people.')], 'fill-');
    const noSystem = await runner.generate('probe', unrelated('What is the number of people?'));
    const second = await runner.generate('second', chatRequest(withSystem('What is the number of people?'), { maxTokens: 8, sampling: seeded }));
    // The system prompt's tokens are what the second request adds to the same question.
    const systemTokens = second.promptTokens - noSystem.promptTokens;
    expect(systemTokens).toBeGreaterThan(200);
    expect(second.cachedPromptTokens).toBeGreaterThanOrEqual(systemTokens);
    expect(second.cachedPromptTokens).toBeLessThan(second.promptTokens);

    // A prompt with nothing in common shares at most the template's first marker.
    const other = await runner.generate('other', plain('Numbers of the town'));
    expect(other.cachedPromptTokens).toBeLessThanOrEqual(1);
  });

  it('answers the same with and without a reused prefix', async () => {
    const req = chatRequest(withSystem('Who lives by the river?'), { maxTokens: 24, sampling: seeded });
    // Both sequences taken by unrelated prompts first: nothing of the system prompt is cached.
    await together([plain('Town number one'), plain('People people people')], 'clear-');
    const cold = await runner.generate('cold', req);
    expect(cold.cachedPromptTokens).toBeLessThanOrEqual(1);
    const warm = await runner.generate('warm', chatRequest(withSystem('Who lives by the town?'), { maxTokens: 24, sampling: seeded }));
    expect(warm.cachedPromptTokens).toBeGreaterThan(200);
    const again = await runner.generate('again', req);
    expect(again.cachedPromptTokens).toBeGreaterThan(200);
    expect(again.text).toBe(cold.text);
  });

  it('leaves a cancelled sequence consistent: the same request answers as before, reusing its prompt', async () => {
    const req = chatRequest(withSystem('Where does the road go?'), { maxTokens: 40, sampling: seeded });
    const full = await runner.generate('full', req);
    let chunks = 0;
    const cancelled = await runner.generate('cut', req, () => {
      if (++chunks === 5) runner.cancel('cut');
    });
    expect(cancelled.finishReason).toBe('cancelled');
    expect(cancelled.completionTokens).toBeLessThan(40);
    const after = await runner.generate('after', req);
    expect(after.text).toBe(full.text);
    expect(after.cachedPromptTokens).toBe(after.promptTokens - 1);
  });

  it('ends a job cancelled while it waits for a sequence at once; the one behind it still runs', async () => {
    const long = chatRequest([{ role: 'user', content: 'Tell me everything.' }], { maxTokens: 400, sampling: seeded });
    const order: string[] = [];
    const track = (id: string, r: InferenceRequest) => runner.generate(id, r).then((d) => (order.push(id), d));
    const busy = [track('b1', long), track('b2', long)];
    const waiting = track('w1', plain('The river', 4));
    const behind = track('w2', plain('The town', 4));
    runner.cancel('w1');
    expect(await waiting).toMatchObject({ finishReason: 'cancelled', completionTokens: 0, text: '' });
    // It ended while both sequences were still busy with the long ones.
    expect(order[0]).toBe('w1');
    await Promise.all(busy);
    expect(await behind).toMatchObject({ completionTokens: 4, finishReason: 'length' });
  });
});
