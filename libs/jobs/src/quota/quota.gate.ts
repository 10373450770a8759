import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '@gridline/common';
import { ADMIT_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT, SETTLE_SCRIPT } from './quota.scripts';
import { AdmissionResult, QuotaDemand, QuotaHold, QuotaLimitName, QuotaLimits, QuotaPolicy, QuotaScopeKind, QuotaSubject, QuotaUsage, RateLimitState, SettleResult, TokenReservation } from './quota.types';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** A slot's lease unless the caller says otherwise: its holder renews it well within (every third of it). */
export const DEFAULT_SLOT_LEASE_MS = 30_000;
/** A queue place's life unless the caller says otherwise: set it to the job's queue deadline. */
export const DEFAULT_QUEUE_TTL_MS = 3_600_000;

export interface QuotaGateOptions {
  /** Milliseconds since the epoch (UTC); injectable so tests move through windows without waiting. */
  clock?: () => number;
  slotLeaseMs?: number;
  queueTtlMs?: number;
}

type Scripted = Redis & {
  glQuotaAdmit(...args: (string | number)[]): Promise<number[]>;
  glQuotaRelease(...args: (string | number)[]): Promise<number>;
  glQuotaRenew(...args: (string | number)[]): Promise<number>;
  glQuotaSettle(...args: (string | number)[]): Promise<number[]>;
};

/** In the order of the script's per-scope keys and limits. */
const LIMITS: [QuotaLimitName, keyof QuotaLimits][] = [
  ['max_concurrent_jobs', 'maxConcurrentJobs'],
  ['max_queued_jobs', 'maxQueuedJobs'],
  ['requests_per_minute', 'requestsPerMinute'],
  ['tokens_per_minute', 'tokensPerMinute'],
  ['tokens_per_day', 'tokensPerDay'],
];

interface Scope {
  kind: QuotaScopeKind;
  base: string;
  limits: QuotaLimits;
}

function checkCount(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/**
 * Per-team quota admission in Redis, atomic across api replicas: one script call checks every
 * limit of every scope that applies (team, key, model) and takes what the request needs, or
 * refuses and changes nothing.
 *
 * - Concurrency slots are leases (sorted-set members scored by expiry): the holder renews its
 *   slot while the job runs and releases it at the end; a holder that dies leaks its slot for
 *   one lease at most.
 * - Queue places use the same mechanism with the job's queue deadline as the lease, and no
 *   renewal: the caller takes one on enqueue and frees it (`dequeue`, idempotent) when the job
 *   starts or ends unstarted. A plain counter would drift for good on every lost decrement or
 *   doubled one (a retried start); a place that is never freed lapses at the deadline by itself.
 * - Windows are fixed and aligned to UTC: requests and tokens per minute count in
 *   [m, m + 60 s) for whole minutes m since the epoch, tokens per day in the UTC day. At most
 *   `limit` is admitted within one window (so up to twice the limit within 60 s that straddle a
 *   minute's end). The reset is the window's end.
 * - Tokens are reserved at admission (prompt estimate + max_tokens) and replaced by the actual
 *   count at `settle`. Admitted work thus never brings a window over its limit, unless settle
 *   reports more than was reserved: the excess is charged in full (usage reflects what ran) and
 *   later requests are refused until the window ends; the overspend is the sum of those
 *   excesses. A reservation that is never settled stays charged to its windows (it is not an
 *   overspend: it only refuses early).
 * - Times come from the api's clock: replicas whose clocks differ by d see window edges and
 *   lease expiries d apart. Keys outlive their window or lease by a minute and then expire.
 */
export class QuotaGate {
  private readonly redis: Scripted;
  private readonly clock: () => number;
  private readonly slotLeaseMs: number;
  private readonly queueTtlMs: number;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    options: QuotaGateOptions = {},
  ) {
    if (!('glQuotaAdmit' in redis)) {
      // defineCommand: EVALSHA, and EVAL once on NOSCRIPT (a restarted or flushed Redis).
      redis.defineCommand('glQuotaAdmit', { lua: ADMIT_SCRIPT });
      redis.defineCommand('glQuotaRelease', { lua: RELEASE_SCRIPT });
      redis.defineCommand('glQuotaRenew', { lua: RENEW_SCRIPT });
      redis.defineCommand('glQuotaSettle', { lua: SETTLE_SCRIPT });
    }
    this.redis = redis as Scripted;
    this.clock = options.clock ?? Date.now;
    this.slotLeaseMs = options.slotLeaseMs ?? DEFAULT_SLOT_LEASE_MS;
    this.queueTtlMs = options.queueTtlMs ?? DEFAULT_QUEUE_TTL_MS;
  }

  /** Checks and takes `demand` against every limit of `policy` that applies to `subject`, or refuses changing nothing. */
  async admit(subject: QuotaSubject, policy: QuotaPolicy, demand: QuotaDemand = {}): Promise<AdmissionResult> {
    const requests = demand.requests ?? 1;
    const tokens = demand.tokens ?? 0;
    checkCount('requests', requests);
    checkCount('tokens', tokens);
    const leaseMs = demand.leaseMs ?? this.slotLeaseMs;
    const queueTtlMs = demand.queueTtlMs ?? this.queueTtlMs;
    checkCount('leaseMs', leaseMs);
    checkCount('queueTtlMs', queueTtlMs);
    const now = Math.floor(this.clock());
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const day = Math.floor(now / DAY_MS) * DAY_MS;
    const scopes = this.scopes(subject, policy);
    const id = randomUUID();
    // Nothing configured: nothing to count, and no round trip.
    if (!scopes.length) return { admitted: true, id, slot: null, queued: null, reservation: null, rateLimits: { requests: null, tokens: null } };

    const keys: string[] = [];
    const limits: number[] = [];
    for (const s of scopes) {
      keys.push(`${s.base}:slots`, `${s.base}:queued`, `${s.base}:rpm:${minute}`, `${s.base}:tpm:${minute}`, `${s.base}:tpd:${day}`);
      for (const [name, field] of LIMITS) {
        const v = s.limits[field];
        if (v !== undefined) checkCount(name, v);
        limits.push(v ?? -1);
      }
    }
    const reservationKey = `${this.tag(subject.teamId)}:res:${id}`;
    const r = await this.redis.glQuotaAdmit(
      keys.length + 1,
      ...keys,
      reservationKey,
      now,
      id,
      leaseMs,
      queueTtlMs,
      requests,
      tokens,
      demand.slot ? 1 : 0,
      demand.queue ? 1 : 0,
      minute + MINUTE_MS,
      day + DAY_MS,
      scopes.length,
      ...limits,
    );

    if (r[0] === 0) {
      const [, scope, limit, max, current, requested, waitMs] = r;
      return {
        admitted: false,
        limit: LIMITS[limit - 1][0],
        scope: scopes[scope - 1].kind,
        max,
        current,
        requested,
        retryAfterSeconds: waitMs < 0 ? null : Math.max(1, Math.ceil(waitMs / 1000)),
      };
    }

    const holdOf = (index: number, limit: keyof QuotaLimits, lease: number): QuotaHold | null => {
      const held = scopes.flatMap((s, i) => (s.limits[limit] !== undefined ? [keys[i * 5 + index]] : []));
      return held.length ? { id, keys: held, leaseMs: lease } : null;
    };
    const buckets = tokens > 0 ? scopes.flatMap((s, i) => [...(s.limits.tokensPerMinute !== undefined ? [keys[i * 5 + 3]] : []), ...(s.limits.tokensPerDay !== undefined ? [keys[i * 5 + 4]] : [])]) : [];
    const reservation: TokenReservation | null = buckets.length ? { key: reservationKey, buckets, tokens } : null;
    const [, rl, rr, rs, tl, tr, ts] = r;
    const rateLimits: RateLimitState = {
      requests: rl >= 0 ? { limit: rl, remaining: rr, resetMs: rs } : null,
      tokens: tl >= 0 ? { limit: tl, remaining: tr, resetMs: ts } : null,
    };
    return {
      admitted: true,
      id,
      slot: demand.slot ? holdOf(0, 'maxConcurrentJobs', leaseMs) : null,
      queued: demand.queue ? holdOf(1, 'maxQueuedJobs', queueTtlMs) : null,
      reservation,
      rateLimits,
    };
  }

  /** Frees a concurrency slot; true when this call freed it (false: freed before, or its lease had lapsed and was dropped). */
  async release(slot: QuotaHold | null): Promise<boolean> {
    if (!slot) return false;
    return (await this.redis.glQuotaRelease(slot.keys.length, ...slot.keys, slot.id)) > 0;
  }

  /** Frees a queue place (the job started, or ended without starting); idempotent like `release`. */
  dequeue(place: QuotaHold | null): Promise<boolean> {
    return this.release(place);
  }

  /**
   * Extends a slot's lease to now + its lease time. False when the lease had lapsed: the slot
   * is gone (it may have been given to another request) and the holder should stop.
   */
  async renew(slot: QuotaHold): Promise<boolean> {
    return (await this.redis.glQuotaRenew(slot.keys.length, ...slot.keys, slot.id, Math.floor(this.clock()), slot.leaseMs)) === 1;
  }

  /**
   * Renews `slot` every third of its lease until the returned function is called. `onLost`
   * runs once if the lease lapsed anyway (the process stalled past it): the slot may be
   * someone else's now, and renewing stops. A renewal that fails (Redis unreachable) is tried
   * again at the next tick; the lease covers two missed ones.
   */
  keepAlive(slot: QuotaHold, onLost: () => void): () => void {
    let stopped = false;
    const timer = setInterval(() => {
      this.renew(slot).then(
        (alive) => {
          if (alive || stopped) return;
          stop();
          onLost();
        },
        () => undefined,
      );
    }, Math.max(1, Math.floor(slot.leaseMs / 3)));
    // A lease must not keep a process alive that has nothing else to do.
    timer.unref();
    const stop = () => {
      stopped = true;
      clearInterval(timer);
    };
    return stop;
  }

  /**
   * Replaces a reservation by the tokens actually used (prompt and completion), in every window
   * it charged that has not ended. Idempotent: only the first call changes anything. A count
   * above the reservation is charged in full (`overBy`).
   */
  async settle(reservation: TokenReservation | null, actualTokens: number): Promise<SettleResult> {
    checkCount('actualTokens', actualTokens);
    if (!reservation) return { settled: false, reserved: 0, overBy: 0 };
    const [settled, reserved] = await this.redis.glQuotaSettle(1 + reservation.buckets.length, reservation.key, ...reservation.buckets, actualTokens);
    return settled === 1 ? { settled: true, reserved, overBy: Math.max(0, actualTokens - reserved) } : { settled: false, reserved: 0, overBy: 0 };
  }

  /**
   * What one scope uses now, for display (read without a script: the figures may be a moment
   * apart): live slots and queue places, and the requests and tokens of the current windows.
   */
  async usage(subject: QuotaSubject, kind: QuotaScopeKind): Promise<QuotaUsage> {
    const base = this.base(subject, kind);
    if (!base) throw new RangeError(`the subject names no ${kind}`);
    const now = Math.floor(this.clock());
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    const day = Math.floor(now / DAY_MS) * DAY_MS;
    const r = await this.redis
      .multi()
      .zcount(`${base}:slots`, `(${now}`, '+inf')
      .zcount(`${base}:queued`, `(${now}`, '+inf')
      .get(`${base}:rpm:${minute}`)
      .get(`${base}:tpm:${minute}`)
      .get(`${base}:tpd:${day}`)
      .exec();
    const n = (i: number) => Number(r?.[i]?.[1] ?? 0) || 0;
    return { concurrentJobs: n(0), queuedJobs: n(1), requestsThisMinute: n(2), tokensThisMinute: n(3), tokensToday: n(4) };
  }

  /**
   * The scopes that apply and their key bases. Every key of a team shares the hash tag `{team}`,
   * so one script call stays on one slot of a Redis Cluster.
   */
  private scopes(subject: QuotaSubject, policy: QuotaPolicy): Scope[] {
    const out: Scope[] = [];
    for (const kind of ['team', 'key', 'model'] as const) {
      const limits = policy[kind];
      const base = this.base(subject, kind);
      if (limits && base) out.push({ kind, base, limits });
    }
    return out;
  }

  /** The key base of one scope of the subject; null when the subject names no such scope. */
  private base(subject: QuotaSubject, kind: QuotaScopeKind): string | null {
    const tag = this.tag(subject.teamId);
    if (kind === 'team') return `${tag}:team`;
    if (kind === 'key') return subject.keyId ? `${tag}:key:${encodeURIComponent(subject.keyId)}` : null;
    return subject.model ? `${tag}:model:${encodeURIComponent(subject.model)}` : null;
  }

  private tag(teamId: string): string {
    return `${this.keys.prefix}:quota:{${encodeURIComponent(teamId)}}`;
  }
}
