#!/usr/bin/env node
/**
 * `npm run bench:cancel`: how fast a client that goes away frees its sequence. On a replica
 * with one sequence, a streaming request for 1,500 tokens is dropped after its third chunk,
 * and a second request is sent at once. Prints, per round: disconnect → the runner stopped
 * and released the sequence (the agent's `job cancelled` log line), and disconnect → the
 * second job's first token; the baseline is the second request's time to first token on an
 * idle replica, measured in the same run.
 */
import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `p50 ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms`;
}

async function firstTokenAt(client: StackClient, id: string): Promise<number> {
  return until(`first token of ${id}`, async () => {
    const row = (await client.sql<{ first_token_at: Date | null }>('SELECT first_token_at FROM jobs WHERE id = $1', [id]))[0];
    return row?.first_token_at ? row.first_token_at.getTime() : undefined;
  }, 10_000, 10);
}

async function cancelledLogTime(stack: RunningStack, id: string): Promise<number> {
  const line = await stack.agent.waitFor(new RegExp(`\\{[^\\n]*"jobId":"${id}"[^\\n]*"msg":"job cancelled"[^\\n]*\\}`), 10_000);
  return (JSON.parse(line[0]) as { time: number }).time;
}

async function main(): Promise<void> {
  const stack = await startStack({ modelName: 'bench-cancel', parallel: 1, env: { LOG_LEVEL: 'info' } });
  const client = new StackClient(stack, stack.url);
  const body = (max: number) => ({ model: 'bench-cancel', messages: [{ role: 'user', content: 'Tell me a long story.' }], max_tokens: max, temperature: 0 });
  const freed: number[] = [];
  const nextFirstToken: number[] = [];
  const baseline: number[] = [];
  try {
    for (let i = 0; i < ROUNDS + 2; i++) {
      // Baseline: time to first token of a short request on the idle replica.
      const idleStart = Date.now();
      const idle = await client.json('POST', '/v1/chat/completions', body(2));
      const idleFirst = await firstTokenAt(client, idle.headers.get('x-gridline-job-id') ?? '');

      const dropped = await client.stream(body(1500), (_e, k) => k >= 3);
      const disconnectAt = dropped.abortedAt as number;
      const second = await client.json('POST', '/v1/chat/completions', body(2));
      if (second.status !== 200) throw new Error(`second request: ${second.status}`);
      const droppedId = dropped.headers.get('x-gridline-job-id') ?? '';
      const stoppedAt = await cancelledLogTime(stack, droppedId);
      const secondFirst = await firstTokenAt(client, second.headers.get('x-gridline-job-id') ?? '');
      if (i < 2) continue; // warm-up
      baseline.push(idleFirst - idleStart);
      freed.push(stoppedAt - disconnectAt);
      nextFirstToken.push(secondFirst - disconnectAt);
    }
  } finally {
    await client.close();
    await stack.stop();
  }
  const out = process.stdout;
  out.write(`\nGridline cancellation benchmark (tiny llama, 1 sequence, 1 CPU thread, ${ROUNDS} rounds)\n`);
  out.write(`  disconnect → runner stopped, sequence released     ${stats(freed)}\n`);
  out.write(`  disconnect → next job's first token                ${stats(nextFirstToken)}\n`);
  out.write(`  baseline: submit → first token on an idle replica  ${stats(baseline)}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`bench:cancel failed: ${e.message}\n`);
  process.exit(1);
});
