#!/usr/bin/env node
/**
 * `npm run bench:stack`: latency of one chat completion through api → scheduler → agent
 * (signed HTTP, Postgres, BullMQ, Redis streams, llama.cpp) against the same generation run
 * directly in a llama.cpp runner process; plus start-up time and a concurrent-load figure.
 * Uses the local Postgres and Redis, a fresh database and namespace, and a tiny model.
 */
import { signingFetch } from '@gridline/auth';
import { ChatMessage, chatRequest } from '@gridline/contract';
import { startRunner, startStack } from '@gridline/testing';

const N = Number(process.env.BENCH_REQUESTS ?? 40);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 32);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p95: q(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0] };
}
const fmt = (x: number) => `${x.toFixed(1)} ms`;

async function main(): Promise<void> {
  const t0 = performance.now();
  const stack = await startStack({ modelName: 'bench', parallel: 4 });
  const signed = signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey });
  const messages = [{ role: 'user', content: 'Tell me about the river and the stone.' }];
  const body = JSON.stringify({ model: 'bench', messages, max_tokens: MAX_TOKENS, temperature: 0 });
  const ask = async () => {
    const started = performance.now();
    const res = await signed(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const json = (await res.json()) as { usage?: { completion_tokens: number } };
    if (!res.ok || json.usage?.completion_tokens !== MAX_TOKENS) throw new Error(`unexpected answer ${res.status} ${JSON.stringify(json)}`);
    return performance.now() - started;
  };
  try {
    await ask();
    const firstAnswer = performance.now() - t0;
    for (let i = 0; i < 3; i++) await ask();
    const viaStack: number[] = [];
    for (let i = 0; i < N; i++) viaStack.push(await ask());

    const concurrentStart = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < N / CONCURRENCY; i++) {
          await ask();
          done++;
        }
      }),
    );
    const concurrentSeconds = (performance.now() - concurrentStart) / 1000;

    const runner = startRunner();
    await runner.start('cpu');
    await runner.load({ modelPath: stack.modelPath, gpuLayers: 0, contextSize: 2048, parallel: 1, threads: 1 });
    const direct: number[] = [];
    for (let i = 0; i < N + 3; i++) {
      const started = performance.now();
      await runner.generate(`b${i}`, chatRequest(messages as ChatMessage[], { maxTokens: MAX_TOKENS, sampling: { temperature: 0, topP: 1 } }));
      if (i >= 3) direct.push(performance.now() - started);
    }
    await runner.stop();

    const s = stats(viaStack);
    const d = stats(direct);
    const out = process.stdout;
    out.write(`\nGridline stack benchmark (tiny llama, ${MAX_TOKENS} tokens per request, 1 CPU thread, ${N} requests)\n`);
    out.write(`  start-up: spawn to agent registered       ${(stack.startupMs / 1000).toFixed(2)} s\n`);
    out.write(`  start-up: spawn to first answer           ${(firstAnswer / 1000).toFixed(2)} s\n`);
    out.write(`  through the stack   p50 ${fmt(s.p50)}  p95 ${fmt(s.p95)}  mean ${fmt(s.mean)}  min ${fmt(s.min)}\n`);
    out.write(`  runner in-process   p50 ${fmt(d.p50)}  p95 ${fmt(d.p95)}  mean ${fmt(d.mean)}  min ${fmt(d.min)}\n`);
    out.write(`  stack overhead      p50 ${fmt(s.p50 - d.p50)}  (${(s.p50 / d.p50).toFixed(2)}x the bare generation)\n`);
    out.write(`  ${CONCURRENCY} concurrent clients: ${done} requests in ${concurrentSeconds.toFixed(2)} s = ${(done / concurrentSeconds).toFixed(1)} req/s, ${((done * MAX_TOKENS) / concurrentSeconds).toFixed(0)} tokens/s\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exitCode = 1;
});
