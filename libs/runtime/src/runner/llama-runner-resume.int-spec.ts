import { chatRequest } from '@gridline/contract';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunnerClient } from './runner-client';

const BUILT_RUNNER = join(__dirname, '..', '..', '..', '..', 'dist', 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');

describe('llama runner: resuming a generation from the text streamed so far', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-resume-'));
  const modelPath = join(dir, 'tiny.gguf');
  const runner = new RunnerClient(BUILT_RUNNER);

  beforeAll(async () => {
    writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: 17 })));
    await runner.start('cpu');
    await runner.load({ modelPath, gpuLayers: 0, contextSize: 1024, parallel: 2, threads: 2 });
  }, 90_000);

  afterAll(() => runner.stop());

  it('continues a greedy chat exactly where any chunk left it, and counts the whole answer', async () => {
    const request = chatRequest([{ role: 'user', content: 'Tell me a long story about the sea and its ships.' }], { maxTokens: 300, sampling: { temperature: 0 } });
    const chunks: string[] = [];
    const reference = await runner.generate('ref', request, (t) => chunks.push(t));
    for (const cut of [3, 150]) {
      const soFar = chunks.slice(0, cut).join('');
      const rest: string[] = [];
      const resumed = await runner.generate(`cut-${cut}`, request, (t) => rest.push(t), { text: soFar, deltas: cut });
      expect(soFar + rest.join('')).toBe(chunks.join(''));
      expect(resumed.completionTokens).toBe(reference.completionTokens);
      expect(resumed.promptTokens).toBe(reference.promptTokens);
    }
  }, 120_000);

  it('continues a sampled completion after the text so far, counting that text against max_tokens', async () => {
    const request = { input: { kind: 'completion' as const, prompt: 'The river' }, sampling: { temperature: 1 }, maxTokens: 40 };
    const first = await runner.generate('sampled', request);
    const soFar = first.text.slice(0, Math.floor(first.text.length / 2));
    const rest: string[] = [];
    const resumed = await runner.generate('sampled-2', request, (t) => rest.push(t), { text: soFar, deltas: 2 });
    expect(resumed.promptTokens).toBe(first.promptTokens);
    // Text so far plus new tokens, within max_tokens (the text may tokenize into other pieces than it was generated with).
    expect(resumed.completionTokens).toBeLessThanOrEqual(40);
    expect(resumed.completionTokens).toBeGreaterThan(0);
    expect(rest.join('')).toBe(resumed.text);
    // A text that already fills max_tokens ends the job at once, as it would have.
    const full = await runner.generate('sampled-3', { ...request, maxTokens: 2 }, undefined, { text: first.text, deltas: 9 });
    expect(full).toMatchObject({ text: '', finishReason: 'length', promptTokens: first.promptTokens, completionTokens: 2 });
  }, 60_000);

  it('refuses to continue a greedy text it does not generate again', async () => {
    const request = chatRequest([{ role: 'user', content: 'Hello' }], { maxTokens: 20, sampling: { temperature: 0 } });
    await expect(runner.generate('other', request, undefined, { text: 'not what this model says', deltas: 1 })).rejects.toMatchObject({ code: 'runner_error', message: expect.stringMatching(/differs from the text the job streamed/) });
  }, 60_000);
});
