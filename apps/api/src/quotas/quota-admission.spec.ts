import { REQUEST_LIMITS, chatRequest } from '@gridline/contract';
import { quotaRefusal, tokenReservation } from './quota-admission';

describe('tokenReservation', () => {
  const hi = chatRequest([{ role: 'user', content: 'hello there' }], { maxTokens: 20 });
  const open = chatRequest([{ role: 'user', content: 'hello there' }]);

  it("is the prompt's lower bound plus max_tokens", () => {
    expect(tokenReservation({ contextTokens: 512, maxTokenBytes: 4 }, hi)).toBe(3 + 20);
  });

  it('without max_tokens, the rest of the context (capped as a request is)', () => {
    expect(tokenReservation({ contextTokens: 512, maxTokenBytes: 4 }, open)).toBe(512);
    expect(tokenReservation({ contextTokens: 1_000_000, maxTokenBytes: 4 }, open)).toBe(3 + REQUEST_LIMITS.maxTokens.max);
  });

  it('without a bound of the prompt, or before the model is served, the completion only', () => {
    expect(tokenReservation({ contextTokens: 512, maxTokenBytes: null }, hi)).toBe(20);
    expect(tokenReservation(undefined, hi)).toBe(20);
    expect(tokenReservation(undefined, open)).toBe(REQUEST_LIMITS.maxTokens.max);
  });
});

describe('quotaRefusal', () => {
  it('a window: 429 rate_limit_exceeded naming scope and limit, Retry-After, and the refused kind’s headers', () => {
    const e = quotaRefusal({ admitted: false, limit: 'tokens_per_minute', scope: 'key', max: 1000, current: 990, requested: 50, retryAfterSeconds: 12 });
    expect(e).toMatchObject({ status: 429, code: 'rate_limit_exceeded', retryAfterSeconds: 12 });
    expect(e.message).toBe('Rate limit reached for this key on tokens_per_minute (1000 tokens per minute): used 990, requested 50. Please try again in 12 s.');
    expect(e.headers).toEqual({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-remaining-tokens': '10', 'x-ratelimit-reset-tokens': '12s' });
  });

  it('a lease: no rate-limit headers (neither kind refused)', () => {
    const e = quotaRefusal({ admitted: false, limit: 'max_concurrent_jobs', scope: 'model', max: 1, current: 1, requested: 1, retryAfterSeconds: 30 });
    expect(e.message).toBe("Rate limit reached for the team's use of this model on max_concurrent_jobs (1 concurrent job): 1 in use. Please try again in 30 s at most.");
    expect(e.headers).toEqual({});
  });

  it('more than the limit itself: no Retry-After, since it can never pass', () => {
    const e = quotaRefusal({ admitted: false, limit: 'tokens_per_day', scope: 'team', max: 100, current: 0, requested: 101, retryAfterSeconds: null });
    expect(e.retryAfterSeconds).toBeUndefined();
    expect(e.message).toMatch(/^Request too large for the team on tokens_per_day \(100 tokens per day \(UTC\)\): requested 101\./);
    expect(e.headers).toEqual({ 'x-ratelimit-limit-tokens': '100', 'x-ratelimit-remaining-tokens': '100' });
  });
});
