import type { QuotaEntry, QuotaEntryRecord, QuotaLimitValues, QuotaRepository, TeamScope } from '@gridline/db';
import { QuotaPolicies, policyOf } from './quota-policies';

const NONE: QuotaLimitValues = { maxConcurrentJobs: null, maxQueuedJobs: null, requestsPerMinute: null, tokensPerMinute: null, tokensPerDay: null };
const K1 = '11111111-1111-4111-8111-111111111111';
const K2 = '22222222-2222-4222-8222-222222222222';

describe('policyOf', () => {
  const entries: QuotaEntry[] = [
    { subject: { kind: 'team' }, limits: { ...NONE, maxConcurrentJobs: 10, tokensPerDay: 0 } },
    { subject: { kind: 'token', id: K1 }, limits: { ...NONE, requestsPerMinute: 5 } },
    { subject: { kind: 'keypair', id: K2 }, limits: NONE },
    { subject: { kind: 'model', model: 'm' }, limits: { ...NONE, tokensPerMinute: 100 } },
  ];

  it("takes the team's row, the request's key's and its model's; null limits are left out (0 is a limit)", () => {
    expect(policyOf(entries, K1, 'm')).toEqual({ team: { maxConcurrentJobs: 10, tokensPerDay: 0 }, key: { requestsPerMinute: 5 }, model: { tokensPerMinute: 100 } });
  });

  it('ignores other keys and models, and a row without any limit', () => {
    expect(policyOf(entries, K2, 'other')).toEqual({ team: { maxConcurrentJobs: 10, tokensPerDay: 0 } });
    expect(policyOf([], null, 'm')).toEqual({});
  });
});

describe('QuotaPolicies', () => {
  /** A repository fake that counts its reads. */
  function repo(entries: QuotaEntryRecord[]): { repo: QuotaRepository; reads: () => number } {
    let reads = 0;
    const fake = {
      forTeam: async (_scope: TeamScope, _teamId: string) => {
        reads++;
        return entries;
      },
    };
    return { repo: fake as unknown as QuotaRepository, reads: () => reads };
  }
  const rows: QuotaEntryRecord[] = [{ subject: { kind: 'team' }, limits: { ...NONE, requestsPerMinute: 3 }, updatedAt: new Date() }];

  it('reads a team once per ttl (concurrent admissions share one read), again after it, and at once after forget', async () => {
    const clock = { now: 1000 };
    const r = repo(rows);
    const policies = new QuotaPolicies(r.repo, { ttlMs: 2000, clock: () => clock.now });
    const all = await Promise.all([policies.policyFor('t', null, 'm'), policies.policyFor('t', null, 'm')]);
    expect(all).toEqual([{ team: { requestsPerMinute: 3 } }, { team: { requestsPerMinute: 3 } }]);
    expect(r.reads()).toBe(1);
    clock.now += 1999;
    await policies.policyFor('t', null, 'm');
    expect(r.reads()).toBe(1);
    clock.now += 1;
    await policies.policyFor('t', null, 'm');
    expect(r.reads()).toBe(2);
    policies.forget('t');
    await policies.policyFor('t', null, 'm');
    expect(r.reads()).toBe(3);
  });

  it('with ttl 0 reads on every admission', async () => {
    const r = repo(rows);
    const policies = new QuotaPolicies(r.repo, { ttlMs: 0 });
    await policies.policyFor('t', null, 'm');
    await policies.policyFor('t', null, 'm');
    expect(r.reads()).toBe(2);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const fake = { forTeam: async () => (fail ? Promise.reject(new Error('db down')) : rows) } as unknown as QuotaRepository;
    const policies = new QuotaPolicies(fake, { ttlMs: 60_000 });
    await expect(policies.policyFor('t', null, 'm')).rejects.toThrow('db down');
    fail = false;
    expect(await policies.policyFor('t', null, 'm')).toEqual({ team: { requestsPerMinute: 3 } });
  });
});
