#!/usr/bin/env node
/**
 * `npm run bench:admission`: what quota admission costs one api process. Against a
 * redis-server of its own (so nothing else counts), from one connection as an api replica
 * has: a plain INCR round trip (the floor: one round trip), then `admit` + `release` of a
 * concurrency slot with requests and tokens counted, and the full cycle of a request over
 * three scopes (team, key, model: admit, settle, release). At concurrency 1 and 64; prints
 * operations per second, the p50/p99 latency of one operation, and redis-server's CPU time per
 * operation (which bounds what one Redis admits for all api replicas together).
 *
 * Then the whole path through one api process: HMAC-signed `POST /api/v1/jobs` submissions
 * (signature and replay check, validation, model lookup, quota admission with the team's
 * limits set, the job row, the queue), answered 202, at concurrency 1 and 64, against a signed
 * `GET /api/v1/whoami` (authentication alone) in the same run. The scheduler and agent are
 * stopped first, so the api has the machine (`BENCH_HTTP_REQUESTS`, default 3,000 per row).
 */
import { Redis } from 'ioredis';
import { signingFetch } from '@gridline/auth';
import { RedisKeys } from '@gridline/common';
import { QuotaGate, QuotaPolicy } from '@gridline/jobs';
import { RedisServer, StackClient, startStack } from '@gridline/testing';
import { quantiles } from './bench-stats';

const N = Number(process.env.BENCH_REQUESTS ?? 20_000);
const HTTP_N = Number(process.env.BENCH_HTTP_REQUESTS ?? 3_000);
const LOTS = 1_000_000_000;

interface Row {
  name: string;
  concurrency: number;
  perSecond: number;
  p50: number;
  p99: number;
  /**
   * CPU time of the redis-server process per operation (INFO cpu: parsing, scripts, replies):
   * what bounds one Redis, whatever the number of api replicas.
   */
  redisUs: number;
}

async function redisBusyUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6;
}

async function measure(redis: Redis, name: string, concurrency: number, once: (i: number) => Promise<void>): Promise<Row> {
  for (let i = 0; i < 2000; i++) await once(i);
  const busy0 = await redisBusyUs(redis);
  let i = 0;
  const { perSecond, p50, p99 } = await throughput(N, concurrency, () => once(i++));
  const redisUs = ((await redisBusyUs(redis)) - busy0) / N;
  return { name, concurrency, perSecond, p50, p99, redisUs };
}

/** `count` calls of `once` over `concurrency` workers: calls per second and latency quantiles. */
async function throughput(count: number, concurrency: number, once: () => Promise<void>): Promise<{ perSecond: number; p50: number; p99: number }> {
  const lat = new Float64Array(count);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const s = performance.now();
        await once();
        lat[i] = performance.now() - s;
      }
    }),
  );
  const q = quantiles(lat);
  return { perSecond: count / ((performance.now() - t0) / 1000), p50: q(0.5), p99: q(0.99) };
}

async function httpSubmissions(): Promise<void> {
  const out = process.stdout;
  const stack = await startStack({ modelName: 'bench' });
  try {
    const admin = new StackClient(stack, stack.url);
    // One answer first, so the model is served and its context known (the reservation uses it).
    const first = await admin.json('POST', '/v1/chat/completions', { model: 'bench', messages: [{ role: 'user', content: 'Hi.' }], max_tokens: 2 });
    if (first.status !== 200) throw new Error(`first chat answered ${first.status}`);
    const teamId = (await admin.json<{ teamId: string }>('GET', '/api/v1/whoami')).body.teamId;
    const limits = { maxConcurrentJobs: LOTS, maxQueuedJobs: LOTS, requestsPerMinute: LOTS, tokensPerMinute: LOTS, tokensPerDay: LOTS };
    const put = await admin.json('PUT', `/api/v1/teams/${teamId}/quotas`, { limits });
    if (put.status !== 200) throw new Error(`setting quotas answered ${put.status}`);
    await admin.close();
    await Promise.all([stack.scheduler.stop(), stack.agent.stop()]);
    const signed = signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey });
    const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Summarize the river and the stone.' }], max_tokens: 16 });
    const submit = async () => {
      const res = await signed(`${stack.url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await res.arrayBuffer();
      if (res.status !== 202 || !res.headers.get('x-ratelimit-limit-requests')) throw new Error(`submission answered ${res.status}`);
    };
    const whoami = async () => {
      const res = await signed(`${stack.url}/api/v1/whoami`);
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`whoami answered ${res.status}`);
    };
    for (let i = 0; i < 200; i++) {
      await submit();
      await whoami();
    }
    out.write(`
One api process, HMAC-signed over HTTP (${HTTP_N} requests per row; the team's five limits set; scheduler and agent stopped)\n`);
    for (const concurrency of [1, 64]) {
      const base = await throughput(HTTP_N, concurrency, whoami);
      const jobs = await throughput(HTTP_N, concurrency, submit);
      out.write(`  c=${String(concurrency).padEnd(3)} signed GET /api/v1/whoami (baseline)        ${base.perSecond.toFixed(0).padStart(7)} /s   p50 ${base.p50.toFixed(2)} ms  p99 ${base.p99.toFixed(2)} ms\n`);
      out.write(`  c=${String(concurrency).padEnd(3)} signed POST /api/v1/jobs, quota-checked, 202 ${jobs.perSecond.toFixed(0).padStart(7)} /s   p50 ${jobs.p50.toFixed(2)} ms  p99 ${jobs.p99.toFixed(2)} ms   (${(jobs.perSecond / base.perSecond).toFixed(2)}x the baseline)\n`);
    }
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  await gateAlone();
  await httpSubmissions();
}

async function gateAlone(): Promise<void> {
  const server = await RedisServer.start();
  const redis = new Redis(server.url);
  try {
    const gate = new QuotaGate(redis, new RedisKeys('bench'));
    const team: QuotaPolicy = { team: { maxConcurrentJobs: LOTS, requestsPerMinute: LOTS, tokensPerMinute: LOTS, tokensPerDay: LOTS } };
    const scoped: QuotaPolicy = { ...team, key: { maxConcurrentJobs: LOTS, requestsPerMinute: LOTS }, model: { maxConcurrentJobs: LOTS, tokensPerMinute: LOTS } };
    const teamId = '3f0c1a52-8d4e-4b7a-9a61-5b2d0c7e9f10';
    const rows: [string, (i: number) => Promise<void>][] = [
      ['INCR round trip (baseline)', () => redis.incr('bench:incr').then(() => undefined)],
      [
        'admit + release (team: 4 limits)',
        async () => {
          const a = await gate.admit({ teamId }, team, { slot: true, tokens: 512 });
          if (!a.admitted) throw new Error(`refused: ${a.limit}`);
          await gate.release(a.slot);
        },
      ],
      [
        'admit + settle + release (team, key, model)',
        async () => {
          const a = await gate.admit({ teamId, keyId: 'k1', model: 'llama3:8b' }, scoped, { slot: true, tokens: 512 });
          if (!a.admitted) throw new Error(`refused: ${a.limit}`);
          await gate.settle(a.reservation, 300);
          await gate.release(a.slot);
        },
      ],
    ];
    const results: Row[] = [];
    for (const concurrency of [1, 64]) {
      for (const [name, once] of rows) results.push(await measure(redis, name, concurrency, once));
    }
    const out = process.stdout;
    out.write(`\nGridline admission benchmark (${N} operations per row, one process, one connection, own redis-server on loopback)\n`);
    for (const r of results) {
      const baseline = results.find((b) => b.concurrency === r.concurrency)!;
      out.write(
        `  c=${String(r.concurrency).padEnd(3)} ${r.name.padEnd(44)} ${r.perSecond.toFixed(0).padStart(7)} /s   p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  redis cpu ${r.redisUs.toFixed(1).padStart(5)} µs` +
          (r === baseline ? '' : `   (${(r.perSecond / baseline.perSecond).toFixed(2)}x the baseline)`) +
          '\n',
      );
    }
    const reservations = (await redis.keys('bench:quota:*:res:*')).length;
    // The admit + release rows never settle: their reservations stay until their day ends (then expire), as a crashed api's would.
    out.write(`  keys left in Redis: ${await redis.dbsize()}, of which ${reservations} unsettled reservations (all expire on their own)\n`);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exitCode = 1;
});
