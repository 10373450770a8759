import { chatRequest } from '@gridline/contract';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_PRESETS, buildLlamaHeader, buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunnerClient } from './runner-client';

/** The runner as `npm run build` emits it (Jest runs the TypeScript sources, the runner must be the built ESM file). */
const BUILT_RUNNER = join(__dirname, '..', '..', '..', '..', 'dist', 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');

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

  it('loads the model with two parallel sequences on one thread', async () => {
    const info = await runner.load({ modelPath: tinyPath, gpuLayers: 0, contextSize: 1024, parallel: 2, threads: 1 });
    expect(info).toMatchObject({ gpuLayers: 0, contextSize: 1024, parallel: 2, trainContextSize: 2048 });
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
    const pending = runner.generate('c1', chatRequest(chat, { maxTokens: 4000, sampling: { temperature: 0, topP: 1 } }), () => runner.cancel('c1'));
    const done = await pending;
    expect(done.finishReason).toBe('cancelled');
    expect(done.completionTokens).toBeLessThan(4000);
  });

  it('reports a failed load as an error without dying', async () => {
    await expect(runner.load({ modelPath: join(dir, 'missing.gguf'), gpuLayers: 0, contextSize: 256, parallel: 1, threads: 1 })).rejects.toMatchObject({ code: 'runner_error' });
    await expect(runner.inspect(tinyPath)).resolves.toMatchObject({ architecture: 'llama' });
  });
});
