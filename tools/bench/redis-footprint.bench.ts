#!/usr/bin/env node
/**
 * `npm run bench:redis`: what a finished request leaves in Redis. Starts a redis-server of
 * its own (so nothing else counts), a stack on it, and sends N synchronous chat completions
 * and N asynchronous jobs; prints Redis's used memory and keys per request before, right after
 * the last one finished, and once the finished jobs' streams have expired
 * (JOB_STREAM_SETTLED_TTL_SECONDS), with what the remaining keys are.
 */
import { Redis } from 'ioredis';
import { signingFetch } from '@gridline/auth';
import { JOB_STREAM_SETTLED_TTL_SECONDS } from '@gridline/messaging';
import { RedisServer, startStack, until } from '@gridline/testing';

const N = Number(process.env.BENCH_REQUESTS ?? 200);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 32);
const CONCURRENCY = 4;

interface Sample {
  used: number;
  keys: number;
  kinds: Record<string, number>;
}

async function sample(redis: Redis, prefix: string): Promise<Sample> {
  const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const kinds: Record<string, number> = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      const kind = k.startsWith(`${prefix}:`)
        ? k
            .slice(prefix.length + 1)
            .replace(/^replay:[0-9a-f]+$/, 'replay:<signature>')
            .replace(/^job:[0-9a-f-]{36}:/, 'job:<id>:')
            .replace(/^bull:([a-z]+)(\.[0-9a-f-]{36})?:.*$/, 'bull:$1$2…')
            .replace(/\.[0-9a-f-]{36}…$/, '.<node>…')
        : '(other)';
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
  } while (cursor !== '0');
  return { used, keys: Object.values(kinds).reduce((a, b) => a + b, 0), kinds };
}

async function main(): Promise<void> {
  const server = await RedisServer.start();
  const stack = await startStack({ modelName: 'bench', parallel: 4, env: { REDIS_URL: server.url } });
  const redis = new Redis(server.url);
  const signed = signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey });
  const prompt = 'Tell me about the river and the stone. '.repeat(8);
  const post = async (path: string, body: unknown) => {
    const res = await signed(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = (await res.json()) as { id?: string };
    if (!res.ok) throw new Error(`unexpected answer ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const sync = () => post('/v1/chat/completions', { model: 'bench', messages: [{ role: 'user', content: prompt }], max_tokens: MAX_TOKENS });
  try {
    for (let i = 0; i < 5; i++) await sync();
    await new Promise((r) => setTimeout(r, (JOB_STREAM_SETTLED_TTL_SECONDS + 2) * 1000));
    const before = await sample(redis, stack.prefix);

    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = w; i < N; i += CONCURRENCY) {
          await sync();
          ids.push((await post('/api/v1/jobs', { model: 'bench', prompt, max_tokens: MAX_TOKENS })).id as string);
        }
      }),
    );
    await until('every async job to finish', async () => {
      for (const id of ids) {
        const res = await signed(`${stack.url}/api/v1/jobs/${id}`);
        const job = (await res.json()) as { status: string };
        if (job.status === 'queued' || job.status === 'dispatched' || job.status === 'running') return undefined;
      }
      return true;
    }, 600_000, 500);
    const requests = 2 * N;
    const right = await sample(redis, stack.prefix);
    const usage = async (key: string) => Number(await redis.memory('USAGE', key));
    const streamBytes = await usage(`${stack.prefix}:job:${ids[ids.length - 1]}:events`);
    const controlBytes = await usage(`${stack.prefix}:job:${ids[ids.length - 1]}:ctl`);
    const [, markers] = await redis.scan('0', 'MATCH', `${stack.prefix}:replay:*`, 'COUNT', 1000);
    const markerBytes = markers.length > 0 ? await usage(markers[0]) : 0;
    await new Promise((r) => setTimeout(r, (JOB_STREAM_SETTLED_TTL_SECONDS + 2) * 1000));
    const later = await sample(redis, stack.prefix);

    const per = (s: Sample) => `${((s.used - before.used) / requests).toFixed(0)} B and ${((s.keys - before.keys) / requests).toFixed(2)} keys per request`;
    const out = process.stdout;
    out.write(`\nRedis footprint of finished requests (${N} chat completions + ${N} async jobs, ${MAX_TOKENS} tokens each, a ${prompt.length}-character prompt)\n`);
    out.write(`  before:                                   used_memory ${before.used} B, ${before.keys} keys\n`);
    out.write(`  right after the last one finished:        ${per(right)}\n`);
    out.write(`  ${JOB_STREAM_SETTLED_TTL_SECONDS + 2} s later (finished jobs' streams expired): ${per(later)}\n`);
    out.write(`  one finished job's stream ${streamBytes} B + control hash ${controlBytes} B (until it expires); one replay marker ${markerBytes} B (while its date is acceptable)\n`);
    out.write(`  keys then, by kind:\n`);
    for (const [kind, n] of Object.entries(later.kinds).sort((a, b) => b[1] - a[1])) out.write(`    ${String(n).padStart(6)}  ${kind}\n`);
    const progress = await redis.xlen(`${stack.prefix}:jobs:progress`);
    const progressBytes = Number(await redis.memory('USAGE', `${stack.prefix}:jobs:progress`));
    out.write(`  progress notes stream: ${progress} entries, ${progressBytes} B (${(progressBytes / progress).toFixed(0)} B per note; a bounded ring)\n`);
  } finally {
    redis.disconnect();
    await stack.stop();
    await server.stop();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.message}\n`);
  process.exitCode = 1;
});
