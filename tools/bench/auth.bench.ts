#!/usr/bin/env node
/**
 * `npm run bench:auth`: what authentication costs. In one run against one built api process:
 * an unauthenticated route (/healthz) and the same-size authenticated route (/api/v1/whoami,
 * no database access) with HMAC-signed requests and with bearer tokens. Prints requests/second
 * (sequential and 16 concurrent clients) and p50/p99 latency, and the ratios to the baseline.
 */
import { signingFetch } from '@gridline/auth';
import { startApiProcess } from '@gridline/testing';

const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = 16;

interface Result {
  name: string;
  p50: number;
  p99: number;
  rps: number;
  concurrentRps: number;
}

async function measure(name: string, once: () => Promise<Response>): Promise<Result> {
  for (let i = 0; i < 200; i++) await (await once()).arrayBuffer();
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    const res = await once();
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status}`);
    lat.push(performance.now() - s);
  }
  const rps = N / ((performance.now() - t0) / 1000);
  const c0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = 0; i < N / CONCURRENCY; i++) await (await once()).arrayBuffer();
    }),
  );
  const concurrentRps = N / ((performance.now() - c0) / 1000);
  lat.sort((a, b) => a - b);
  return { name, p50: lat[Math.floor(N * 0.5)], p99: lat[Math.floor(N * 0.99)], rps, concurrentRps };
}

async function main(): Promise<void> {
  // Request logging is off (LOG_LEVEL=warn) so that the rows compare authentication, not logging.
  const { base, root, stop } = await startApiProcess({ LOG_LEVEL: 'warn' });
  try {
    const signed = signingFetch(root);
    const made = (await (await signed(`${base}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', scope: 'inference' }) })).json()) as { token: string };
    const rows: [string, () => Promise<Response>][] = [
      ['unauthenticated GET /healthz', () => fetch(`${base}/healthz`)],
      ['HMAC-signed GET /api/v1/whoami', () => signed(`${base}/api/v1/whoami`)],
      ['bearer-token GET /api/v1/whoami', () => fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${made.token}` } })],
    ];
    // One discarded pass over every row, so no row pays for the JIT warming up.
    for (const [name, once] of rows) await measure(name, once);
    const results: Result[] = [];
    for (const [name, once] of rows) results.push(await measure(name, once));
    const [baseline] = results;
    const out = process.stdout;
    out.write(`\nGridline auth benchmark (${N} requests per row, one api process, loopback, client signs each request)\n`);
    for (const r of results) {
      out.write(
        `  ${r.name.padEnd(34)} ${r.rps.toFixed(0).padStart(6)} req/s sequential, ${r.concurrentRps.toFixed(0).padStart(6)} req/s x${CONCURRENCY}   p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms` +
          (r === baseline ? '' : `   (${(r.concurrentRps / baseline.concurrentRps).toFixed(2)}x throughput, +${(r.p50 - baseline.p50).toFixed(3)} ms p50)`) +
          '\n',
      );
    }
  } finally {
    await stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exitCode = 1;
});
