import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { REPO_ROOT, TEST_REDIS_URL, redisPrefix } from '@gridline/testing';
import { Admission, AdmissionResult, QuotaPolicy, Refusal } from './quota.types';
import { DAY_MS, MINUTE_MS, QuotaGate } from './quota.gate';

/** A fixed UTC day start, far from the real clock: windows move only when a test moves `clock.now`. */
const DAY0 = Date.UTC(2031, 4, 6);

function admitted(r: AdmissionResult): Admission {
  if (!r.admitted) throw new Error(`refused: ${JSON.stringify(r)}`);
  return r;
}
function refused(r: AdmissionResult): Refusal {
  if (r.admitted) throw new Error(`admitted: ${JSON.stringify(r)}`);
  return r;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QuotaGate (Redis)', () => {
  const prefix = redisPrefix();
  const keys = new RedisKeys(prefix);
  const clock = { now: DAY0 + 10 * MINUTE_MS };
  let redis: Redis;
  let gate: QuotaGate;
  const extra: Redis[] = [];

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    gate = new QuotaGate(redis, keys, { clock: () => clock.now });
  });

  afterAll(async () => {
    const left = await redis.keys(`${prefix}:*`);
    if (left.length) await redis.del(...left);
    await Promise.all([redis, ...extra].map((r) => r.quit()));
  });

  /** Every key of the file with its type, value and whether it expires: what a refusal must leave unchanged. */
  async function snapshot(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const k of (await redis.keys(`${prefix}:*`)).sort()) {
      const type = await redis.type(k);
      const value = type === 'zset' ? await redis.zrange(k, 0, -1, 'WITHSCORES') : await redis.get(k);
      out[k] = JSON.stringify([type, value, (await redis.pttl(k)) > 0]);
    }
    return out;
  }

  it('never holds more than 10 slots at once under 500 simultaneous admissions from 20 connections', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxConcurrentJobs: 10 } };
    const conns = Array.from({ length: 20 }, () => new Redis(TEST_REDIS_URL));
    extra.push(...conns);
    // One gate per connection, each as an api replica would have (real clock: leases are real time).
    const gates = conns.map((c) => new QuotaGate(c, keys));
    let held = 0;
    let maxHeld = 0;
    let refusals = 0;
    await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const g = gates[i % gates.length];
        for (;;) {
          const r = await g.admit({ teamId }, policy, { slot: true });
          if (!r.admitted) {
            refusals++;
            expect(r).toMatchObject({ limit: 'max_concurrent_jobs', scope: 'team', max: 10, current: 10 });
            await sleep(10 + (i % 20));
            continue;
          }
          held++;
          maxHeld = Math.max(maxHeld, held);
          await sleep(i % 3);
          held--;
          expect(await g.release(r.slot)).toBe(true);
          return;
        }
      }),
    );
    expect(maxHeld).toBe(10);
    expect(refusals).toBeGreaterThan(0);
    expect(await redis.zcard(`${prefix}:quota:{${teamId}}:team:slots`)).toBe(0);
  }, 60_000);

  it('releases a slot once: a second release changes nothing', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxConcurrentJobs: 1 } };
    const a = admitted(await gate.admit({ teamId }, policy, { slot: true }));
    expect(refused(await gate.admit({ teamId }, policy, { slot: true })).retryAfterSeconds).toBe(30);
    expect(await gate.release(a.slot)).toBe(true);
    expect(await gate.release(a.slot)).toBe(false);
    const b = admitted(await gate.admit({ teamId }, policy, { slot: true }));
    // The earlier holder's second release must not free the new holder's slot.
    expect(await gate.release(a.slot)).toBe(false);
    refused(await gate.admit({ teamId }, policy, { slot: true }));
    await gate.release(b.slot);
  });

  it('tells a holder whose lease lapsed (a stalled process) that it lost its slot', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxConcurrentJobs: 1 } };
    const realGate = new QuotaGate(redis, keys);
    const a = admitted(await realGate.admit({ teamId }, policy, { slot: true, leaseMs: 300 }));
    // The stall: the lease lapses before the first renewal, and someone else takes the slot.
    await redis.zadd(a.slot!.keys[0], Date.now() - 1, a.id);
    const b = admitted(await realGate.admit({ teamId }, policy, { slot: true, leaseMs: 60_000 }));
    const lost = await new Promise<boolean>((resolve) => {
      const stop = realGate.keepAlive(a.slot!, () => resolve(true));
      setTimeout(() => (stop(), resolve(false)), 1000);
    });
    expect(lost).toBe(true);
    expect(await redis.zrange(b.slot!.keys[0], 0, -1)).toEqual([b.id]);
    await realGate.release(b.slot);
  });

  it('drops a lease that is not renewed, and renewing a lapsed lease fails', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxConcurrentJobs: 1 } };
    const a = admitted(await gate.admit({ teamId }, policy, { slot: true, leaseMs: 5000 }));
    clock.now += 4000;
    expect(await gate.renew(a.slot!)).toBe(true);
    clock.now += 4000; // 8 s after admission, 4 s after the renewal: still held
    expect(refused(await gate.admit({ teamId }, policy, { slot: true }))).toMatchObject({ current: 1, retryAfterSeconds: 1 });
    clock.now += 1000; // exactly at the renewed expiry: lapsed
    admitted(await gate.admit({ teamId }, policy, { slot: true }));
    expect(await gate.renew(a.slot!)).toBe(false);
  });

  it('frees the slot of a holder killed with SIGKILL once its lease lapses, and not before', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxConcurrentJobs: 1 } };
    const LEASE = 1500;
    // The holder is another process (an api replica): it takes the slot and keeps it alive (renewed every third of the lease).
    const child = spawn(process.execPath, ['-e', HOLDER], {
      cwd: REPO_ROOT,
      env: { ...process.env, QUOTA_GATE: join(__dirname, 'quota.gate.ts'), REDIS_URL: TEST_REDIS_URL, PREFIX: prefix, TEAM: teamId, LEASE: String(LEASE) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const realGate = new QuotaGate(redis, keys);
      for (let i = 0; !output.includes('held'); i++) {
        if (i > 200 || child.exitCode !== null) throw new Error(`holder did not take the slot: ${output}`);
        await sleep(50);
      }
      // Alive and renewing: the slot stays taken past its first lease.
      await sleep(2 * LEASE);
      expect(refused(await realGate.admit({ teamId }, policy, { slot: true }))).toMatchObject({ limit: 'max_concurrent_jobs', current: 1 });
      expect(output).not.toContain('lost');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const killedAt = Date.now();
      refused(await realGate.admit({ teamId }, policy, { slot: true }));
      let slot: Admission | null = null;
      while (!slot && Date.now() - killedAt < 3 * LEASE) {
        const r = await realGate.admit({ teamId }, policy, { slot: true });
        if (r.admitted) slot = r;
        else await sleep(50);
      }
      expect(slot).not.toBeNull();
      // Renewed at most a third of a lease before the kill (give or take a loaded machine's timers): not freed at once.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LEASE / 3);
      await realGate.release(slot!.slot);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('counts requests per UTC minute: the limit is admitted, one more is refused until the minute ends', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { requestsPerMinute: 3 } };
    clock.now = DAY0 + 20 * MINUTE_MS + 15_000;
    const first = admitted(await gate.admit({ teamId }, policy));
    expect(first.rateLimits.requests).toEqual({ limit: 3, remaining: 2, resetMs: 45_000 });
    admitted(await gate.admit({ teamId }, policy));
    expect(admitted(await gate.admit({ teamId }, policy)).rateLimits.requests?.remaining).toBe(0);
    expect(refused(await gate.admit({ teamId }, policy))).toEqual({ admitted: false, limit: 'requests_per_minute', scope: 'team', max: 3, current: 3, requested: 1, retryAfterSeconds: 45 });
    clock.now = DAY0 + 21 * MINUTE_MS - 1; // the minute's last millisecond
    expect(refused(await gate.admit({ teamId }, policy)).retryAfterSeconds).toBe(1);
    clock.now = DAY0 + 21 * MINUTE_MS; // the next minute
    expect(admitted(await gate.admit({ teamId }, policy)).rateLimits.requests).toEqual({ limit: 3, remaining: 2, resetMs: 60_000 });
  });

  it('reserves tokens per minute: exactly at the limit is admitted, one token over is refused; settle gives back the rest', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { tokensPerMinute: 100 } };
    clock.now = DAY0 + 30 * MINUTE_MS;
    const a = admitted(await gate.admit({ teamId }, policy, { tokens: 60 }));
    admitted(await gate.admit({ teamId }, policy, { tokens: 40 }));
    expect(refused(await gate.admit({ teamId }, policy, { tokens: 1 }))).toMatchObject({ limit: 'tokens_per_minute', max: 100, current: 100, requested: 1, retryAfterSeconds: 60 });
    // The first request used 50 of its 60: 10 are free again.
    expect(await gate.settle(a.reservation, 50)).toEqual({ settled: true, reserved: 60, overBy: 0 });
    expect(refused(await gate.admit({ teamId }, policy, { tokens: 11 }))).toMatchObject({ current: 90 });
    expect(admitted(await gate.admit({ teamId }, policy, { tokens: 10 })).rateLimits.tokens).toEqual({ limit: 100, remaining: 0, resetMs: 60_000 });
    clock.now += MINUTE_MS;
    admitted(await gate.admit({ teamId }, policy, { tokens: 100 }));
  });

  it('holds the daily budget at its limit, refuses one token over until the next UTC day, and refuses a request larger than the budget for good', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { tokensPerDay: 1000 } };
    clock.now = DAY0 + 23 * 3_600_000;
    admitted(await gate.admit({ teamId }, policy, { tokens: 999 }));
    clock.now += 30 * MINUTE_MS; // same day, another minute
    const last = admitted(await gate.admit({ teamId }, policy, { tokens: 1 }));
    expect(last.rateLimits.tokens).toEqual({ limit: 1000, remaining: 0, resetMs: 30 * MINUTE_MS });
    expect(refused(await gate.admit({ teamId }, policy, { tokens: 1 }))).toMatchObject({ limit: 'tokens_per_day', current: 1000, retryAfterSeconds: 30 * 60 });
    clock.now = DAY0 + DAY_MS; // midnight UTC
    admitted(await gate.admit({ teamId }, policy, { tokens: 1000 }));
    expect(refused(await gate.admit({ teamId: randomUUID() }, policy, { tokens: 1001 }))).toMatchObject({ limit: 'tokens_per_day', current: 0, requested: 1001, retryAfterSeconds: null });
  });

  it('settles once: a second settle changes nothing; more than reserved is charged in full; never below zero', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { tokensPerMinute: 100, tokensPerDay: 1000 } };
    clock.now = DAY0 + 40 * MINUTE_MS;
    const tpm = `${prefix}:quota:{${teamId}}:team:tpm:${DAY0 + 40 * MINUTE_MS}`;
    const tpd = `${prefix}:quota:{${teamId}}:team:tpd:${DAY0}`;
    const a = admitted(await gate.admit({ teamId }, policy, { tokens: 80 }));
    expect(a.reservation?.buckets).toEqual([tpm, tpd]);
    expect(await gate.settle(a.reservation, 30)).toEqual({ settled: true, reserved: 80, overBy: 0 });
    expect(await gate.settle(a.reservation, 30)).toEqual({ settled: false, reserved: 0, overBy: 0 });
    expect(await gate.settle(a.reservation, 0)).toEqual({ settled: false, reserved: 0, overBy: 0 });
    expect([await redis.get(tpm), await redis.get(tpd)]).toEqual(['30', '30']);

    // The prompt was underestimated: 70 reserved, 90 used. Usage reflects it, and the window refuses until it ends.
    const b = admitted(await gate.admit({ teamId }, policy, { tokens: 70 }));
    expect(await gate.settle(b.reservation, 90)).toEqual({ settled: true, reserved: 70, overBy: 20 });
    expect(await redis.get(tpm)).toBe('120');
    expect(refused(await gate.admit({ teamId }, policy, { tokens: 1 }))).toMatchObject({ limit: 'tokens_per_minute', current: 120 });

    // A window emptied meanwhile (an admin reset): settling below what is left stops at zero.
    const c = admitted(await gate.admit({ teamId }, policy, { tokens: 0, requests: 1 }));
    expect(c.reservation).toBeNull();
    clock.now += MINUTE_MS;
    const d = admitted(await gate.admit({ teamId }, policy, { tokens: 50 }));
    await redis.set(d.reservation!.buckets[0], '5', 'KEEPTTL');
    await gate.settle(d.reservation, 0);
    expect(await redis.get(d.reservation!.buckets[0])).toBe('0');
    expect(await redis.pttl(d.reservation!.buckets[0])).toBeGreaterThan(0);
  });

  it('applies team, key and model limits in one call, and a refusal by one scope changes nothing in any', async () => {
    const teamId = randomUUID();
    const subject = { teamId, keyId: 'key-1', model: 'llama3:8b' };
    const policy: QuotaPolicy = { team: { requestsPerMinute: 100, tokensPerMinute: 10_000, maxConcurrentJobs: 5 }, key: { requestsPerMinute: 50 }, model: { tokensPerMinute: 300, maxConcurrentJobs: 2 } };
    clock.now = DAY0 + 50 * MINUTE_MS;
    const a = admitted(await gate.admit(subject, policy, { tokens: 200, slot: true }));
    // Headers report the binding limit of each kind: the key's requests, the model's tokens.
    expect(a.rateLimits).toEqual({ requests: { limit: 50, remaining: 49, resetMs: 60_000 }, tokens: { limit: 300, remaining: 100, resetMs: 60_000 } });
    expect(a.slot?.keys).toHaveLength(2);

    const before = await snapshot();
    expect(refused(await gate.admit(subject, policy, { tokens: 101, slot: true }))).toEqual({
      admitted: false,
      limit: 'tokens_per_minute',
      scope: 'model',
      max: 300,
      current: 200,
      requested: 101,
      retryAfterSeconds: 60,
    });
    expect(await snapshot()).toEqual(before);

    // The same team through a model with no limits of its own is bound by the team's only (the caller resolves each model's policy).
    admitted(await gate.admit({ teamId, model: 'other' }, { team: policy.team }, { tokens: 5000, slot: true }));
    const b = admitted(await gate.admit(subject, policy, { tokens: 100, slot: true }));
    expect(refused(await gate.admit(subject, policy, { slot: true, tokens: 0 }))).toMatchObject({ limit: 'max_concurrent_jobs', scope: 'model', max: 2, current: 2 });
    await gate.release(b.slot);
    admitted(await gate.admit(subject, policy, { slot: true, tokens: 0 }));
  });

  it('caps queued jobs with places that are freed on start (once) or lapse at the queue deadline', async () => {
    const teamId = randomUUID();
    const policy: QuotaPolicy = { team: { maxQueuedJobs: 2 } };
    clock.now = DAY0 + 60 * MINUTE_MS;
    const a = admitted(await gate.admit({ teamId }, policy, { queue: true, queueTtlMs: 10 * MINUTE_MS }));
    admitted(await gate.admit({ teamId }, policy, { queue: true, queueTtlMs: 20 * MINUTE_MS }));
    expect(refused(await gate.admit({ teamId }, policy, { queue: true }))).toMatchObject({ limit: 'max_queued_jobs', max: 2, current: 2, retryAfterSeconds: 600 });
    // Synchronous requests take no queue place.
    admitted(await gate.admit({ teamId }, policy, { slot: true }));
    expect(await gate.dequeue(a.queued)).toBe(true);
    expect(await gate.dequeue(a.queued)).toBe(false);
    admitted(await gate.admit({ teamId }, policy, { queue: true, queueTtlMs: 60 * MINUTE_MS }));
    refused(await gate.admit({ teamId }, policy, { queue: true }));
    clock.now += 20 * MINUTE_MS; // the second place's deadline
    admitted(await gate.admit({ teamId }, policy, { queue: true }));
  });

  it('leaves no key without an expiry', async () => {
    const all = await redis.keys(`${prefix}:*`);
    expect(all.length).toBeGreaterThan(10);
    const ttls = await Promise.all(all.map(async (k) => [k, await redis.pttl(k)] as const));
    expect(ttls.filter(([, t]) => t <= 0)).toEqual([]);
    // Nothing outlives a day and its slack.
    expect(Math.max(...ttls.map(([, t]) => t))).toBeLessThanOrEqual(DAY_MS + 2 * MINUTE_MS);
  });
});

/**
 * The slot holder, run in a child process (plain JavaScript: TypeScript sources are compiled
 * on require with @swc/core, which Jest uses too).
 */
const HOLDER = `
const swc = require('@swc/core');
require.extensions['.ts'] = (m, file) => m._compile(swc.transformFileSync(file, { module: { type: 'commonjs' }, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }).code, file);
const { Redis } = require('ioredis');
const { QuotaGate } = require(process.env.QUOTA_GATE);
const e = process.env;
const gate = new QuotaGate(new Redis(e.REDIS_URL), { prefix: e.PREFIX });
gate.admit({ teamId: e.TEAM }, { team: { maxConcurrentJobs: 1 } }, { slot: true, leaseMs: Number(e.LEASE) }).then((r) => {
  if (!r.admitted) { console.log('refused'); process.exit(1); }
  gate.keepAlive(r.slot, () => console.log('lost'));
  console.log('held');
  setInterval(() => undefined, 60000);
});
`;
