import { ApiError } from '@gridline/common';
import { InferenceRequest, REQUEST_LIMITS, ServedContext, completionBudget, promptTokensLowerBound } from '@gridline/contract';
import { QuotaLimitName, QuotaScopeKind, Refusal, formatResetDuration } from '@gridline/jobs';

/**
 * The tokens a request reserves against tokens_per_minute and tokens_per_day: the prompt's
 * lower bound (the api cannot tokenize: its bytes over the longest token's) plus max_tokens,
 * or the rest of the context when it has none. Before any agent announced how it serves the
 * model: max_tokens, or the largest completion a request may ask for.
 */
export function tokenReservation(served: ServedContext | undefined, request: InferenceRequest): number {
  if (!served) return request.maxTokens ?? REQUEST_LIMITS.maxTokens.max;
  const prompt = served.maxTokenBytes ? promptTokensLowerBound(request.input, served.maxTokenBytes) : 0;
  return prompt + completionBudget(served.contextTokens, prompt, request.maxTokens);
}

const WHAT: Record<QuotaLimitName, (n: number) => string> = {
  max_concurrent_jobs: (n) => `${n} concurrent job${n === 1 ? '' : 's'}`,
  max_queued_jobs: (n) => `${n} queued job${n === 1 ? '' : 's'}`,
  requests_per_minute: (n) => `${n} request${n === 1 ? '' : 's'} per minute`,
  tokens_per_minute: (n) => `${n} token${n === 1 ? '' : 's'} per minute`,
  tokens_per_day: (n) => `${n} token${n === 1 ? '' : 's'} per day (UTC)`,
};

const WHO: Record<QuotaScopeKind, string> = { team: 'the team', key: 'this key', model: "the team's use of this model" };

/**
 * A refusal as the client gets it: 429 `rate_limit_exceeded` in OpenAI's shape, naming the limit
 * and its scope, with `Retry-After` (absent when the request asks for more than the limit
 * itself: it can never pass) and the `x-ratelimit-*` headers of the refused kind.
 */
export function quotaRefusal(r: Refusal): ApiError {
  const on = `${WHO[r.scope]} on ${r.limit} (${WHAT[r.limit](r.max)})`;
  const message =
    r.retryAfterSeconds === null
      ? `Request too large for ${on}: requested ${r.requested}. Lower max_tokens or shorten the input.`
      : r.limit === 'max_concurrent_jobs' || r.limit === 'max_queued_jobs'
        ? `Rate limit reached for ${on}: ${r.current} in use. Please try again in ${r.retryAfterSeconds} s at most.`
        : `Rate limit reached for ${on}: used ${r.current}, requested ${r.requested}. Please try again in ${r.retryAfterSeconds} s.`;
  const kind = r.limit === 'requests_per_minute' ? 'requests' : r.limit === 'tokens_per_minute' || r.limit === 'tokens_per_day' ? 'tokens' : null;
  const headers: Record<string, string> = kind
    ? {
        [`x-ratelimit-limit-${kind}`]: String(r.max),
        [`x-ratelimit-remaining-${kind}`]: String(Math.max(0, r.max - r.current)),
        ...(r.retryAfterSeconds !== null ? { [`x-ratelimit-reset-${kind}`]: formatResetDuration(r.retryAfterSeconds * 1000) } : {}),
      }
    : {};
  return new ApiError('rate_limit_exceeded', message, { headers, ...(r.retryAfterSeconds !== null ? { retryAfterSeconds: r.retryAfterSeconds } : {}) });
}
