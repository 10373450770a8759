import { QuotaEntry, QuotaLimitValues, QuotaRepository, TeamScope } from '@gridline/db';
import type { QuotaLimits, QuotaPolicy } from './quota.types';

export interface QuotaPoliciesOptions {
  /** How long a team's limits are reused before they are read again (0: read on every admission). */
  ttlMs: number;
  clock?: () => number;
}

/** The limits of a row as the gate takes them: a null limit does not apply; a row without limits is no scope. */
export function gateLimits(v: QuotaLimitValues): QuotaLimits | undefined {
  const out: QuotaLimits = {};
  for (const [k, value] of Object.entries(v) as [keyof QuotaLimits, number | null][]) if (value !== null) out[k] = value;
  return Object.keys(out).length ? out : undefined;
}

/** A team's entries as the policy of one request: the team's row, its key's and its model's. */
export function policyOf(entries: readonly QuotaEntry[], keyId: string | null, model: string): QuotaPolicy {
  const policy: QuotaPolicy = {};
  for (const e of entries) {
    const s = e.subject;
    const limits = gateLimits(e.limits);
    if (!limits) continue;
    if (s.kind === 'team') policy.team = limits;
    else if ((s.kind === 'keypair' || s.kind === 'token') && s.id === keyId) policy.key = limits;
    else if (s.kind === 'model' && s.model === model) policy.model = limits;
  }
  return policy;
}

/**
 * Each team's quota limits, read from Postgres at most once per `ttlMs` per process (one read
 * in flight per team): admission then costs no database round trip. A change made through
 * another api replica applies here within `ttlMs`; one made through this one (`forget`) at once.
 */
export class QuotaPolicies {
  private readonly cache = new Map<string, { until: number; entries: Promise<QuotaEntry[]> }>();
  private readonly clock: () => number;

  constructor(
    private readonly repo: QuotaRepository,
    private readonly options: QuotaPoliciesOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  async policyFor(teamId: string, keyId: string | null, model: string): Promise<QuotaPolicy> {
    return policyOf(await this.entries(teamId), keyId, model);
  }

  forget(teamId: string): void {
    this.cache.delete(teamId);
  }

  private entries(teamId: string): Promise<QuotaEntry[]> {
    const now = this.clock();
    const hit = this.cache.get(teamId);
    if (hit && hit.until > now) return hit.entries;
    const entries = this.repo.forTeam(TeamScope.team(teamId), teamId).then((e) => e ?? []);
    if (this.options.ttlMs > 0) {
      // A failed read is not kept: the next admission tries again.
      this.cache.set(teamId, { until: now + this.options.ttlMs, entries });
      entries.catch(() => this.cache.get(teamId)?.entries === entries && this.cache.delete(teamId));
      // Bounded by the number of teams that admit within one ttl; expired ones are dropped as they pass.
      if (this.cache.size > 10_000) for (const [k, v] of this.cache) if (v.until <= now) this.cache.delete(k);
    }
    return entries;
  }
}
