/** The limits a platform admin may set on one scope; an absent limit does not apply. */
export interface QuotaLimits {
  maxConcurrentJobs?: number;
  maxQueuedJobs?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  tokensPerDay?: number;
}

/** Who asks: a team, and optionally the key it authenticated with and the model it asks for. */
export interface QuotaSubject {
  teamId: string;
  keyId?: string;
  model?: string;
}

/**
 * The limits configured for the subject's scopes, resolved by the caller (from the database):
 * the team's own, its key's and its model's. Every configured one applies; `key` applies only
 * when the subject names a key, `model` only when it names a model.
 */
export interface QuotaPolicy {
  team?: QuotaLimits;
  key?: QuotaLimits;
  model?: QuotaLimits;
}

export type QuotaScopeKind = keyof QuotaPolicy;

/** The limit names as the admin API and refusals spell them. */
export type QuotaLimitName = 'max_concurrent_jobs' | 'max_queued_jobs' | 'requests_per_minute' | 'tokens_per_minute' | 'tokens_per_day';

/** What one admission takes. */
export interface QuotaDemand {
  /** Requests counted against requests_per_minute (default 1; 0 for the start of an already counted job). */
  requests?: number;
  /**
   * Tokens reserved against tokens_per_minute and tokens_per_day: the prompt's estimate plus
   * max_tokens (or the rest of the context). Settled to the actual count at the end.
   */
  tokens?: number;
  /** Take a concurrency slot (a lease) where max_concurrent_jobs applies. */
  slot?: boolean;
  /** Take a queue place where max_queued_jobs applies (asynchronous jobs, until they start). */
  queue?: boolean;
  /** Lease of the slot (default: the gate's). */
  leaseMs?: number;
  /** How long the queue place lasts at most (default: the gate's): the job's queue deadline. */
  queueTtlMs?: number;
}

/** A held slot or queue place: plain data, so it can travel with a job to whoever ends it. */
export interface QuotaHold {
  id: string;
  keys: string[];
  leaseMs: number;
}

/** Tokens reserved at admission, corrected by `settle`. */
export interface TokenReservation {
  /** The key that holds the reserved amount until settled (its deletion makes settle idempotent). */
  key: string;
  /** The token windows charged (per minute, per day), as they were at admission. */
  buckets: string[];
  tokens: number;
}

/**
 * What OpenAI's rate-limit headers report: the binding limit of each kind (the one with the
 * least remaining), null where no such limit applies.
 */
export interface RateLimitState {
  requests: { limit: number; remaining: number; resetMs: number } | null;
  tokens: { limit: number; remaining: number; resetMs: number } | null;
}

export interface Admission {
  admitted: true;
  id: string;
  slot: QuotaHold | null;
  queued: QuotaHold | null;
  reservation: TokenReservation | null;
  rateLimits: RateLimitState;
}

export interface Refusal {
  admitted: false;
  limit: QuotaLimitName;
  scope: QuotaScopeKind;
  /** The configured limit. */
  max: number;
  /** Usage at the time of the refusal (slots held, places queued, requests or tokens in the window). */
  current: number;
  /** What was asked for (1 slot, 1 place, the requests or the tokens). */
  requested: number;
  /**
   * When to try again: the window's end, or the earliest lease's expiry (an upper bound: a
   * holder that finishes frees its slot sooner). Null when the request can never pass (it asks
   * for more than the limit itself).
   */
  retryAfterSeconds: number | null;
}

export type AdmissionResult = Admission | Refusal;

/** What settling found: whether this call settled it (false: settled before, or it expired) and the tokens charged beyond the reservation. */
export interface SettleResult {
  settled: boolean;
  reserved: number;
  overBy: number;
}

/** What one scope uses now (QuotaGate.usage). */
export interface QuotaUsage {
  concurrentJobs: number;
  queuedJobs: number;
  requestsThisMinute: number;
  tokensThisMinute: number;
  tokensToday: number;
}
