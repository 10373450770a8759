import { formatResetDuration, rateLimitHeaders } from './rate-limit-headers';

describe('OpenAI rate-limit headers', () => {
  it.each([
    [0, '0s'],
    [1, '1ms'],
    [20, '20ms'],
    [999, '999ms'],
    [999.2, '1s'],
    [1000, '1s'],
    [1500, '1.5s'],
    [8640, '8.64s'],
    [59_001, '59.001s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [90_500, '1m30.5s'],
    [3_600_000, '1h0m0s'],
    [3_723_000, '1h2m3s'],
    [86_400_000, '24h0m0s'],
    [-5, '0s'],
  ])('writes %p ms as %p', (ms, text) => {
    expect(formatResetDuration(ms)).toBe(text);
  });

  it('reports the requests and tokens trios, and nothing for a kind without a limit', () => {
    expect(rateLimitHeaders({ requests: { limit: 60, remaining: 59, resetMs: 1000 }, tokens: { limit: 150000, remaining: 149984, resetMs: 360_000 } })).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '150000',
      'x-ratelimit-remaining-tokens': '149984',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(rateLimitHeaders({ requests: null, tokens: { limit: 10, remaining: 0, resetMs: 20 } })).toEqual({
      'x-ratelimit-limit-tokens': '10',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '20ms',
    });
    expect(rateLimitHeaders({ requests: null, tokens: null })).toEqual({});
  });
});
