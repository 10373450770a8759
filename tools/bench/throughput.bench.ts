#!/usr/bin/env node
/**
 * `npm run bench:throughput`: streamed tokens per second through Gridline against the same
 * runner driven directly: same tiny model, same settings (context, sequences, one thread),
 * same greedy chat, in one run, at each concurrency. Through Gridline every token travels
 * runner → agent → Redis stream → api → SSE to a real HTTP client; directly, runner → IPC.
 * Prints tokens/s on each side and their ratio (the aim is at least 95 %).
 */
import { ChatMessage, chatRequest } from '@gridline/contract';
import { stackBesideRunner, streamChat } from './stream-client';

const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 128);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 8);
const CONTEXT = PARALLEL * 512;
const LEVELS = (process.env.BENCH_CONCURRENCY ?? `1,${PARALLEL}`).split(',').map(Number);
const REQUESTS_PER_CLIENT = Number(process.env.BENCH_REQUESTS_PER_CLIENT ?? 4);

const messages: ChatMessage[] = [{ role: 'user', content: 'Tell me a long story about a river and a stone.' }];

/** Tokens per second over `clients` clients, each sending `REQUESTS_PER_CLIENT` requests in turn. */
async function tokensPerSecond(clients: number, one: () => Promise<number>): Promise<number> {
  const started = performance.now();
  let tokens = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < REQUESTS_PER_CLIENT; i++) tokens += await one();
    }),
  );
  return tokens / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const out = process.stdout;
  const { stack, runner, token, stop } = await stackBesideRunner(PARALLEL, CONTEXT);
  try {
    let n = 0;
    const direct = async () => (await runner.generate(`t${n++}`, chatRequest(messages, { maxTokens: MAX_TOKENS, sampling: { temperature: 0 } }), () => undefined)).completionTokens;
    const stacked = async () => (await streamChat(stack.url, token, { model: 'bench', messages, max_tokens: MAX_TOKENS, temperature: 0 })).completionTokens;
    await tokensPerSecond(2, stacked);
    await tokensPerSecond(2, direct);

    out.write(`\nGridline streamed throughput (tiny llama, greedy chat, ${MAX_TOKENS} tokens a request, ${PARALLEL} sequences, 1 CPU thread)\n`);
    for (const clients of LEVELS) {
      // Alternated halves, so drift of the machine's load hits both sides alike.
      const viaStack = [await tokensPerSecond(clients, stacked)];
      const viaRunner = [await tokensPerSecond(clients, direct)];
      viaStack.push(await tokensPerSecond(clients, stacked));
      viaRunner.push(await tokensPerSecond(clients, direct));
      const s = (viaStack[0] + viaStack[1]) / 2;
      const d = (viaRunner[0] + viaRunner[1]) / 2;
      out.write(`  ${String(clients).padStart(3)} clients: through Gridline ${s.toFixed(1).padStart(8)} tokens/s   runner directly ${d.toFixed(1).padStart(8)} tokens/s   ${((100 * s) / d).toFixed(1)} %\n`);
    }
  } finally {
    await stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
