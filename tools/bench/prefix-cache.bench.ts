#!/usr/bin/env node
/**
 * `npm run bench:prefix`: what reusing a cached prompt prefix saves. One runner (one sequence,
 * one thread) with a larger tiny model; a chat with a long system prompt is asked one question
 * after another. Cold: the sequence last held an unrelated prompt, so the whole prompt is
 * evaluated. Warm: it last held the same system prompt with another question, so only the
 * part after the shared prefix is. Prints the time to first token of each and the tokens reused.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chatRequest } from '@gridline/contract';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { startRunner } from '@gridline/testing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const SYSTEM = 'You are a careful assistant for the people of the river town, and you answer in short plain words. '.repeat(Number(process.env.BENCH_SYSTEM_REPEAT ?? 24));

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gl-bench-prefix-'));
  const modelPath = join(dir, 'bench.gguf');
  writeFileSync(modelPath, encodeGguf(buildTinyLlama({ seed: 1, embedding: 256, layers: 6, heads: 8, kvHeads: 4, feedForward: 768, contextLength: 4096 })));
  const runner = startRunner();
  try {
    await runner.start('cpu');
    const info = await runner.load({ modelPath, gpuLayers: 0, contextSize: 4096, parallel: 1, threads: 1 });
    process.stdout.write(`loaded: ${(info.memory.cpuBytes / 2 ** 20).toFixed(1)} MiB resident, ${(info.memory.gpuBytes / 2 ** 20).toFixed(1)} MiB GPU\n`);
    const ask = (id: string, question: string) =>
      runner.generate(id, chatRequest([{ role: 'system', content: SYSTEM }, { role: 'user', content: question }], { maxTokens: 4, sampling: { temperature: 0 } }));
    const cold: number[] = [];
    const warm: number[] = [];
    let prompt = 0;
    let reused = 0;
    let coldReused = 0;
    for (let i = 0; i < ROUNDS; i++) {
      await runner.generate(`other${i}`, chatRequest([{ role: 'user', content: `Something else entirely, round ${i}.` }], { maxTokens: 1, sampling: { temperature: 0 } }));
      const c = await ask(`cold${i}`, `Where does the river go, round ${i}?`);
      const w = await ask(`warm${i}`, `Who lives in the town, round ${i}?`);
      cold.push(c.firstTokenMs);
      warm.push(w.firstTokenMs);
      prompt = w.promptTokens;
      reused = w.cachedPromptTokens;
      coldReused = c.cachedPromptTokens;
    }
    process.stdout.write(`prompt ${prompt} tokens: ${coldReused} reused when cold (the template's opening), ${reused} when warm; ${ROUNDS} rounds\n`);
    process.stdout.write(`time to first token, cold (whole prompt evaluated): median ${median(cold).toFixed(1)} ms\n`);
    process.stdout.write(`time to first token, warm (shared prefix reused):   median ${median(warm).toFixed(1)} ms\n`);
  } finally {
    await runner.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
