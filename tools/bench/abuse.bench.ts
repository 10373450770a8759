#!/usr/bin/env node
/**
 * `npm run bench:abuse`: what hostile clients cost the api. In one run against one built api
 * process:
 * - the api's responsiveness (latency of /healthz probes every 5 ms; a stalled event loop shows
 *   here) at rest, then while another client sends a 3.5 MB body of 300,000 unknown keys in a
 *   loop, and how long each of those takes to be refused;
 * - the api's resident memory before and after 10,000 requests signed with distinct 15 KB
 *   access keys that do not exist, and how many reached the database.
 * BENCH_KEY_BYTES changes the key size; BENCH_API_NODE_OPTIONS starts the api with other V8
 * options (e.g. `--max-old-space-size=48`, to tell garbage the heap has not collected yet
 * from memory something keeps).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { signRequest } from '@gridline/auth';
import { Client } from 'pg';
import { TEST_PG_URL, startApiProcess } from '@gridline/testing';
import { quantile } from './bench-stats';

const PROBE_MS = 5;
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 4000);
const UNKNOWN_KEYS = Number(process.env.BENCH_UNKNOWN_KEYS ?? 10_000);
const KEY_BYTES = Number(process.env.BENCH_KEY_BYTES ?? 15_000);


function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

/** Latencies of /healthz probes sent every PROBE_MS until `until` resolves. */
async function probe(base: string, until: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void until.then(() => (done = true));
  while (!done) {
    const started = performance.now();
    await (await fetch(`${base}/healthz`)).arrayBuffer();
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, PROBE_MS));
  }
  return latencies;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 3.5 MB: one object with 300,000 unknown keys. */
const HOSTILE_BODY = JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], ...Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`k${i}`, 1])) });

/** The attacking process: sends the hostile body in a loop for `ms`, then reports each refusal's time. */
async function attack(base: string, host: string, accessKey: string, secretKey: string, ms: number): Promise<void> {
  const times: number[] = [];
  process.send?.('ready');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const started = performance.now();
    const headers = signRequest({ accessKey, secretKey, method: 'POST', pathAndQuery: '/v1/chat/completions', host, contentType: 'application/json' });
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body: HOSTILE_BODY });
    const answer = (await res.json()) as { error?: { code?: string } };
    if (res.status !== 400 || answer.error?.code !== 'too_many_keys') throw new Error(`unexpected answer ${res.status} ${JSON.stringify(answer).slice(0, 200)}`);
    times.push(performance.now() - started);
  }
  process.send?.(times);
}

async function main(): Promise<void> {
  const { api, base, host, root, db, stop } = await startApiProcess({ LOG_LEVEL: 'warn', ...(process.env.BENCH_API_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS } : {}) });
  const out = process.stdout;
  try {
    const signed = (accessKey: string, secretKey: string, method: string, path: string) =>
      signRequest({ accessKey, secretKey, method, pathAndQuery: path, host, contentType: 'application/json' });

    await probe(base, sleep(500)); // warm-up
    const rest = await probe(base, sleep(PHASE_MS));

    // The attacker is a process of its own, so its work does not delay the probes.
    const attacker = fork(__filename, ['attack', base, host, root.accessKey, root.secretKey, String(PHASE_MS)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let ready: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (ready = resolve));
    const refusals = new Promise<number[]>((resolve, reject) => {
      attacker.on('message', (m) => (Array.isArray(m) ? resolve(m as number[]) : ready()));
      attacker.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`the attacker exited with ${code}`))));
    });
    await started;
    const attacked = await probe(base, refusals);
    const queriesBefore = await transactions(db.name);
    const rssBefore = rssMb(api.child.pid ?? 0);
    const statuses = new Map<number, number>();
    // Two rounds: memory a cache kept would grow again in the second; garbage would not.
    const rssAfter: number[] = [];
    for (let round = 0; round < 2; round++) {
      let sent = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (sent < UNKNOWN_KEYS) {
            const i = round * UNKNOWN_KEYS + sent++;
            const accessKey = `AKIA${i.toString().padStart(8, '0')}${'Q'.repeat(KEY_BYTES)}`;
            const res = await fetch(`${base}/v1/models`, { headers: signed(accessKey, root.secretKey, 'GET', '/v1/models') });
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
        }),
      );
      await sleep(3000);
      rssAfter.push(rssMb(api.child.pid ?? 0));
    }
    const queries = (await transactions(db.name)) - queriesBefore;

    out.write(`\nGridline abuse benchmark (one api process, loopback)\n`);
    out.write(`  /healthz latency at rest                  p50 ${quantile(rest, 0.5).toFixed(2)} ms  p99 ${quantile(rest, 0.99).toFixed(2)} ms  (${rest.length} probes)\n`);
    out.write(
      `  /healthz latency under the 300k-key loop   p50 ${quantile(attacked, 0.5).toFixed(2)} ms  p99 ${quantile(attacked, 0.99).toFixed(2)} ms  (${attacked.length} probes; +${(quantile(attacked, 0.99) - quantile(rest, 0.99)).toFixed(2)} ms p99 over rest)\n`,
    );
    const refused = await refusals;
    out.write(`  300k-key body (${(HOSTILE_BODY.length / 1e6).toFixed(1)} MB) refused in    p50 ${quantile(refused, 0.5).toFixed(2)} ms  p99 ${quantile(refused, 0.99).toFixed(2)} ms  (${refused.length} bodies, upload included)\n`);
    const delta = (mb: number) => `${mb - rssBefore >= 0 ? '+' : ''}${(mb - rssBefore).toFixed(1)} MB`;
    out.write(
      `  distinct ${(KEY_BYTES / 1000).toFixed(0)} KB unknown access keys: api RSS ${rssBefore.toFixed(1)} MB before, ${rssAfter[0].toFixed(1)} MB after ${UNKNOWN_KEYS} (${delta(rssAfter[0])}), ` +
        `${rssAfter[1].toFixed(1)} MB after ${2 * UNKNOWN_KEYS} (${delta(rssAfter[1])}); answers ${JSON.stringify(Object.fromEntries(statuses))}; database transactions meanwhile: ${queries}\n`,
    );
  } finally {
    await stop();
  }
}

/** Committed transactions of the api's database so far (the statistics collector's count). */
async function transactions(name: string): Promise<number> {
  const c = new Client({ connectionString: TEST_PG_URL.replace(/\/[^/]*$/, '/postgres') });
  await c.connect();
  try {
    await c.query('SELECT pg_stat_clear_snapshot()');
    return Number((await c.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [name])).rows[0]?.xact_commit ?? 0);
  } finally {
    await c.end();
  }
}

const [role, ...args] = process.argv.slice(2);
(role === 'attack' ? attack(args[0], args[1], args[2], args[3], Number(args[4])) : main()).catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exitCode = 1;
});
