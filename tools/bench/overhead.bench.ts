#!/usr/bin/env node
/**
 * `npm run bench:overhead`: what Gridline adds to the time to first token. The same streamed
 * greedy chat, same tiny model, same runner settings (context, sequences, one thread) is sent
 * through the whole stack (bearer token → api → agent → runner → Redis stream → SSE) and to a
 * runner process driven directly, in one run, at concurrency 1 and 64. Prints p50/p99 of each
 * side and of the difference, and where the stack's milliseconds go, from the api's own
 * `server-timing` header (auth, model lookup, admission, job row, dispatch, first chunk back).
 * Uses the local Postgres and Redis, a fresh database and namespace.
 */
import { ChatMessage, chatRequest } from '@gridline/contract';
import { quantiles } from './bench-stats';
import { stackBesideRunner, streamChat } from './stream-client';

const ROUNDS = Number(process.env.BENCH_REQUESTS ?? 200);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 4);
const PARALLEL = Number(process.env.BENCH_PARALLEL ?? 64);
const CONTEXT = PARALLEL * 128;
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,64').split(',').map(Number);

const messages: ChatMessage[] = [{ role: 'user', content: 'Name one river.' }];

interface Sample {
  ttft: number;
  hops: Record<string, number>;
}

/** `server-timing: auth;dur=0.21, model;dur=0.4` → {auth: 0.21, model: 0.4}. */
function serverTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}

async function viaStack(url: string, token: string): Promise<Sample> {
  const chat = await streamChat(url, token, { model: 'bench', messages, max_tokens: MAX_TOKENS, temperature: 0 });
  const hops = serverTiming(chat.headers.get('server-timing'));
  const overhead = Number(chat.headers.get('x-gridline-overhead-ms'));
  if (Number.isFinite(overhead)) hops['x-gridline-overhead-ms'] = overhead;
  return { ttft: chat.ttftMs, hops };
}

async function rounds(level: number, one: () => Promise<Sample>): Promise<Sample[]> {
  const samples: Sample[] = [];
  const perWorker = Math.max(1, Math.round(ROUNDS / level));
  await Promise.all(
    Array.from({ length: level }, async () => {
      for (let i = 0; i < perWorker; i++) samples.push(await one());
    }),
  );
  return samples;
}

const f = (x: number) => `${x.toFixed(2).padStart(8)} ms`;

async function main(): Promise<void> {
  const out = process.stdout;
  const { stack, runner, token, stop } = await stackBesideRunner(PARALLEL, CONTEXT);
  try {
    let n = 0;
    const direct = async (): Promise<Sample> => {
      const started = performance.now();
      let ttft = -1;
      await runner.generate(`d${n++}`, chatRequest(messages, { maxTokens: MAX_TOKENS, sampling: { temperature: 0 } }), (text) => {
        if (ttft < 0 && text.length > 0) ttft = performance.now() - started;
      });
      return { ttft, hops: {} };
    };
    const stacked = () => viaStack(stack.url, token);

    // Warm both sides (the agent's first job, the api's caches, the runner's prompt cache).
    for (let i = 0; i < 10; i++) {
      await stacked();
      await direct();
    }

    out.write(`\nGridline overhead on time to first token (tiny llama, streamed greedy chat, ${MAX_TOKENS} tokens, ${PARALLEL} sequences, context ${CONTEXT}, 1 CPU thread)\n`);
    for (const level of LEVELS) {
      // Interleaved halves, so drift of the machine's load hits both sides alike.
      const s: Sample[] = [];
      const d: Sample[] = [];
      for (let half = 0; half < 2; half++) {
        s.push(...(await rounds(level, stacked)));
        d.push(...(await rounds(level, direct)));
      }
      const qs = quantiles(s.map((x) => x.ttft));
      const qd = quantiles(d.map((x) => x.ttft));
      out.write(`\nconcurrency ${level}: ${s.length} requests each side\n`);
      out.write(`  through Gridline   p50 ${f(qs(0.5))}  p99 ${f(qs(0.99))}\n`);
      out.write(`  runner directly    p50 ${f(qd(0.5))}  p99 ${f(qd(0.99))}\n`);
      out.write(`  added              p50 ${f(qs(0.5) - qd(0.5))}  p99 ${f(qs(0.99) - qd(0.99))}\n`);
      const names = [...new Set(s.flatMap((x) => Object.keys(x.hops)))];
      if (names.length) out.write(`  the api's own account (server-timing, per request):\n`);
      for (const name of names) {
        const q = quantiles(s.map((x) => x.hops[name]).filter((v) => v !== undefined));
        out.write(`    ${name.padEnd(24)} p50 ${f(q(0.5))}  p99 ${f(q(0.99))}\n`);
      }
    }
  } finally {
    await stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
  process.exitCode = 1;
});
