import { formOf, limitsOf, putBodyOf, usedPercent, type Limits } from './quota-form';

const none: Limits = { maxConcurrentJobs: null, maxQueuedJobs: null, requestsPerMinute: null, tokensPerMinute: null, tokensPerDay: null };

describe('quota form', () => {
  it('round-trips limits through the form, empty meaning no limit', () => {
    const limits = { ...none, requestsPerMinute: 60, tokensPerDay: 0 };
    expect(formOf(limits)).toEqual({ maxConcurrentJobs: '', maxQueuedJobs: '', requestsPerMinute: 60, tokensPerMinute: '', tokensPerDay: 0 });
    expect(limitsOf(formOf(limits))).toEqual(limits);
    expect(formOf(null).tokensPerDay).toBe('');
  });

  it('refuses fractions and negatives as limits (they become no limit)', () => {
    expect(limitsOf({ ...formOf(null), maxConcurrentJobs: 2.5, maxQueuedJobs: -1 })).toEqual(none);
  });

  it('keeps the key and model entries in the PUT, and sends null limits when every field is empty', () => {
    const current = { limits: { ...none, tokensPerDay: 5 }, keys: [{ kind: 'token' as const, id: 'k1', limits: { ...none, requestsPerMinute: 1 } }], models: [{ model: 'tiny', limits: { ...none, tokensPerMinute: 9 } }] };
    expect(putBodyOf(current, formOf(null))).toEqual({ limits: null, keys: current.keys, models: current.models });
    expect(putBodyOf(current, { ...formOf(null), tokensPerDay: 1000 }).limits).toEqual({ ...none, tokensPerDay: 1000 });
  });
});

describe('usedPercent', () => {
  it('is the share of the limit, capped at 100, and null without a limit', () => {
    expect(usedPercent(25, 100)).toBe(25);
    expect(usedPercent(300, 100)).toBe(100);
    expect(usedPercent(0, 0)).toBe(0);
    expect(usedPercent(5, null)).toBeNull();
    expect(usedPercent(null, 10)).toBeNull();
  });
});
