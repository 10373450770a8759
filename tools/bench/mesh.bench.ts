#!/usr/bin/env node
/**
 * `npm run bench:mesh`: what routing a request through the mesh adds to the time to first token
 * and to the whole answer. In one run: a peer Gridline B (its own database, Redis namespace and
 * port) serving a tiny model, and an OpenAI-compatible server double; stack A registers both as
 * endpoints. The same streamed greedy chat is sent directly (to B, to the double) and through A,
 * alternating, at concurrency 1 and 16. Prints p50/p99 of each side and the difference.
 */
import { RunningStack, StackClient, startOpenAiDouble, startStack } from '@gridline/testing';
import { quantiles } from './bench-stats';
import { streamChat } from './stream-client';

const ROUNDS = Number(process.env.BENCH_REQUESTS ?? 100);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? '1,16').split(',').map(Number);
const messages = [{ role: 'user', content: 'Name one river.' }];

interface Target {
  name: string;
  url: string;
  token: string;
  model: string;
}

const f = (x: number) => `${x.toFixed(2).padStart(8)} ms`;

async function token(stack: RunningStack): Promise<string> {
  const c = new StackClient(stack, stack.url);
  return c.inferenceToken('bench').finally(() => c.close());
}

async function measure(level: number, direct: Target, mesh: Target): Promise<void> {
  const samples: Record<'direct' | 'mesh', { ttft: number[]; total: number[] }> = { direct: { ttft: [], total: [] }, mesh: { ttft: [], total: [] } };
  const perWorker = Math.max(1, Math.round(ROUNDS / level));
  await Promise.all(
    Array.from({ length: level }, async () => {
      for (let i = 0; i < perWorker; i++) {
        // Alternating, so both sides meet the same machine load.
        for (const side of i % 2 === 0 ? (['direct', 'mesh'] as const) : (['mesh', 'direct'] as const)) {
          const t = side === 'direct' ? direct : mesh;
          const chat = await streamChat(t.url, t.token, { model: t.model, messages, max_tokens: 8, temperature: 0 });
          samples[side].ttft.push(chat.ttftMs);
          samples[side].total.push(chat.totalMs);
        }
      }
    }),
  );
  const row = (what: string, xs: number[]) => {
    const q = quantiles(xs);
    return `${what.padEnd(34)} p50 ${f(q(0.5))}  p99 ${f(q(0.99))}`;
  };
  const lines = [`\n${mesh.name}, concurrency ${level} (${samples.direct.ttft.length} requests each side)`];
  for (const metric of ['ttft', 'total'] as const) {
    lines.push(row(`${metric === 'ttft' ? 'first token' : 'whole answer'}, direct (${direct.name})`, samples.direct[metric]));
    lines.push(row(`${metric === 'ttft' ? 'first token' : 'whole answer'}, through A`, samples.mesh[metric]));
    const added = (p: number) => quantiles(samples.mesh[metric])(p) - quantiles(samples.direct[metric])(p);
    lines.push(`${'  added by the mesh'.padEnd(34)} p50 ${f(added(0.5))}  p99 ${f(added(0.99))}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const [a, b, double] = await Promise.all([startStack({ modelName: 'local' }), startStack({ modelName: 'remote', parallel: 16, agentEnv: { GRIDLINE_CONTEXT_SIZE: '4096' } }), startOpenAiDouble({ apiKey: 'sk-bench', models: ['ext'] })]);
  try {
    const admin = new StackClient(a, a.url);
    const adminB = new StackClient(b, b.url);
    const team = await adminB.json<{ id: string }>('POST', '/api/v1/teams', { name: 'peer-a' });
    const user = await adminB.json<{ id: string }>('POST', '/api/v1/users', { email: 'a@example.com', displayName: 'A', teamId: team.body.id, role: 'member' });
    const key = await adminB.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
    for (const body of [
      { name: 'peer-b', kind: 'gridline', url: b.url, credentials: { accessKey: key.body.accessKey, secretKey: key.body.secretKey } },
      { name: 'ext', kind: 'openai', url: double.url, credentials: { apiKey: 'sk-bench' } },
    ]) {
      const made = await admin.json('POST', '/api/v1/endpoints', body);
      if (made.status !== 201) throw new Error(`registering ${body.name} answered ${made.status}: ${JSON.stringify(made.body)}`);
    }
    const [tokenA, tokenB] = await Promise.all([token(a), token(b)]);
    await Promise.all([admin.close(), adminB.close()]);
    // Warm both paths (model load, connection pools, caches).
    for (let i = 0; i < 5; i++) {
      await streamChat(a.url, tokenA, { model: 'remote', messages, max_tokens: 2 });
      await streamChat(a.url, tokenA, { model: 'ext', messages, max_tokens: 2 });
    }
    for (const level of LEVELS) {
      await measure(level, { name: 'the double', url: double.url, token: 'sk-bench', model: 'ext' }, { name: 'A → an OpenAI-compatible server', url: a.url, token: tokenA, model: 'ext' });
      await measure(level, { name: 'B', url: b.url, token: tokenB, model: 'remote' }, { name: 'A → peer Gridline B', url: a.url, token: tokenA, model: 'remote' });
    }
  } finally {
    await double.close();
    await Promise.all([a.stop(), b.stop()]);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
