import type { RateLimitState } from './quota.types';

/**
 * A duration as OpenAI writes its rate-limit resets (Go's `time.Duration` format): `20ms`
 * below a second, else hours, minutes and seconds with up to three decimals: `1s`, `1.5s`,
 * `6m0s`, `1h2m3s`. Rounded up to the millisecond, so a reset is never announced early.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const rest = total % 60_000;
  const whole = Math.floor(rest / 1000);
  const frac = rest % 1000;
  const s = frac ? `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}s` : `${whole}s`;
  if (h) return `${h}h${m}m${s}`;
  if (m) return `${m}m${s}`;
  return s;
}

/**
 * OpenAI's `x-ratelimit-*` headers for an admission: limit, remaining and reset of requests
 * and of tokens; a kind with no limit configured gets no headers (there is nothing to report).
 */
export function rateLimitHeaders(state: RateLimitState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of ['requests', 'tokens'] as const) {
    const s = state[kind];
    if (!s) continue;
    out[`x-ratelimit-limit-${kind}`] = String(s.limit);
    out[`x-ratelimit-remaining-${kind}`] = String(s.remaining);
    out[`x-ratelimit-reset-${kind}`] = formatResetDuration(s.resetMs);
  }
  return out;
}
