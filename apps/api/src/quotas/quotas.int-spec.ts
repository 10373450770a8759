import { signingFetch } from '@gridline/auth';
import { ModelRepository, QuotaRepository, TeamScope } from '@gridline/db';
import { ApiTestApp, startApiTestApp } from '../testing/api-test-app';
import { TeamFixture, createTeamFixture } from '../testing/tenancy-fixture';

type Problem = { status: number; code: string; detail: string; param?: string };
type Quotas = {
  teamId: string;
  limits: Record<string, number | null> | null;
  usage: Record<string, number | null> | null;
  keys: { kind: string; id: string; limits: Record<string, number | null>; usage: Record<string, number | null> | null }[];
  models: { model: string; limits: Record<string, number | null>; usage: Record<string, number | null> | null }[];
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until the current UTC minute has at least `ms` left, so a test's requests share one minute window. */
async function roomInMinute(ms: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < ms) await sleep(left + 50);
}

/**
 * Quotas through the real api (in-process) on the real Postgres and Redis: the admin API
 * (validation, tenancy, audit), and admission of asynchronous jobs, which stay queued here (no
 * scheduler runs): so what a request reserves is exact, and nothing is settled behind the test's back.
 * The model's served facts give the api's prompt estimate: 'hi' is ceil(2 / 16) = 1 token.
 */
describe('quotas (admin API and admission, real Postgres and Redis)', () => {
  let t: ApiTestApp;
  let a: TeamFixture;
  let b: TeamFixture;
  const jobCount = async (teamId: string) => (await t.pg.query('SELECT count(*)::int AS n FROM jobs WHERE team_id = $1', [teamId])).rows[0].n as number;
  const put = (teamId: string, body: unknown) => t.root(`/api/v1/teams/${teamId}/quotas`, { method: 'PUT', body });

  /** POST /api/v1/jobs as the team's admin, with the response's headers. */
  const submit = async (team: TeamFixture, maxTokens: number, headers: Record<string, string> = {}) => {
    const res = await signingFetch({ accessKey: team.admin.accessKey, secretKey: team.admin.secretKey })(`${t.base}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'visible', messages: [{ role: 'user', content: 'hi' }], max_tokens: maxTokens }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as { id: string } & Problem };
  };
  const cancel = (team: TeamFixture, id: string) => team.admin.call(`/api/v1/jobs/${id}`, { method: 'DELETE' });

  beforeAll(async () => {
    t = await startApiTestApp();
    await t.app.get(ModelRepository).upsert({ name: 'visible', sha256: 'ab'.repeat(32), sizeBytes: 1000, facts: { architecture: 'llama', contextLength: 512, layers: 2, serving: { contextTokens: 512, maxTokenBytes: 16 } } as never });
    a = await createTeamFixture(t, 'quota-a');
    b = await createTeamFixture(t, 'quota-b');
  });

  afterAll(() => t?.close());

  describe('admin API', () => {
    it('a superadmin replaces the team, key and model quotas at once; the change is audited; team members read them with their use', async () => {
      const res = await put(a.teamId, {
        limits: { maxConcurrentJobs: 5, requestsPerMinute: 100 },
        keys: [{ kind: 'token', id: a.token.id, limits: { requestsPerMinute: 7 } }],
        models: [{ model: 'visible', limits: { tokensPerDay: 1_000_000 } }],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        teamId: a.teamId,
        limits: { maxConcurrentJobs: 5, maxQueuedJobs: null, requestsPerMinute: 100, tokensPerMinute: null, tokensPerDay: null },
        usage: { concurrentJobs: 0, queuedJobs: null, requestsThisMinute: 0, tokensThisMinute: null, tokensToday: null },
        keys: [{ kind: 'token', id: a.token.id, limits: expect.objectContaining({ requestsPerMinute: 7 }) }],
        models: [{ model: 'visible', limits: expect.objectContaining({ tokensPerDay: 1_000_000 }) }],
      });
      const audit = await t.pg.query(`SELECT action, target_id FROM audit_log WHERE action = 'team.quotas.update'`);
      expect(audit.rows).toEqual([{ action: 'team.quotas.update', target_id: a.teamId }]);
      // Shown to the team: its member reads them; another team's member gets 404, and may not change them.
      const mine = await a.member.call(`/api/v1/teams/${a.teamId}/quotas`);
      expect(mine.status).toBe(200);
      expect((mine.body as Quotas).limits).toMatchObject({ maxConcurrentJobs: 5 });
      expect((await b.member.call(`/api/v1/teams/${a.teamId}/quotas`)).status).toBe(404);
      const byAdmin = await a.admin.call(`/api/v1/teams/${a.teamId}/quotas`, { method: 'PUT', body: { limits: { maxConcurrentJobs: 500 } } });
      expect(byAdmin.status).toBe(403);
      // The repository holds what the API shows.
      const stored = await t.app.get(QuotaRepository).forTeam(TeamScope.all(), a.teamId);
      expect(stored?.map((e) => e.subject.kind)).toEqual(['team', 'token', 'model']);
      // Left out: no limit afterwards.
      expect(((await put(a.teamId, {})).body as Quotas)).toMatchObject({ limits: null, usage: null, keys: [], models: [] });
    });

    it.each([
      ['a negative limit', { limits: { requestsPerMinute: -1 } }, 'limits.requestsPerMinute'],
      ['a fraction', { limits: { tokensPerDay: 1.5 } }, 'limits.tokensPerDay'],
      ['a string', { limits: { maxConcurrentJobs: '3' } }, 'limits.maxConcurrentJobs'],
      ['an unknown limit', { limits: { gpus: 3 } }, 'limits.gpus'],
      ['a negative key limit', { keys: [{ kind: 'keypair', id: '00000000-0000-4000-8000-000000000000', limits: { maxQueuedJobs: -5 } }] }, 'keys[0].limits.maxQueuedJobs'],
      ['an unknown key kind', { keys: [{ kind: 'password', id: '00000000-0000-4000-8000-000000000000', limits: {} }] }, 'keys[0].kind'],
    ])('refuses %s with 400 naming it, writing nothing', async (_what, body, param) => {
      await put(b.teamId, { limits: { requestsPerMinute: 9 } });
      const res = await put(b.teamId, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', param });
      expect(((await b.admin.call(`/api/v1/teams/${b.teamId}/quotas`)).body as Quotas).limits).toMatchObject({ requestsPerMinute: 9 });
    });

    it('answers 404 for an unknown team, a key that is not the team’s, and a model the team cannot use', async () => {
      const unknownTeam = await put('00000000-0000-4000-8000-000000000000', { limits: { requestsPerMinute: 1 } });
      expect(unknownTeam.status).toBe(404);
      expect(unknownTeam.body).toMatchObject({ code: 'not_found', param: 'id' });
      const otherTeamsKey = await put(b.teamId, { keys: [{ kind: 'token', id: a.token.id, limits: { requestsPerMinute: 1 } }] });
      expect(otherTeamsKey.status).toBe(404);
      expect(otherTeamsKey.body).toMatchObject({ code: 'not_found', param: 'keys[0].id' });
      const unknownModel = await put(b.teamId, { models: [{ model: 'no-such-model', limits: { requestsPerMinute: 1 } }] });
      expect(unknownModel.status).toBe(404);
      expect(unknownModel.body).toMatchObject({ code: 'model_not_found', param: 'models[0].model' });
      const twice = await put(b.teamId, { models: [{ model: 'visible', limits: {} }, { model: 'visible', limits: {} }] });
      expect(twice.status).toBe(400);
      expect(twice.body).toMatchObject({ code: 'validation_failed', param: 'models[1].model' });
    });
  });

  describe('admission of asynchronous jobs', () => {
    beforeEach(async () => {
      // Each test starts without jobs in flight (cancelled through the API: what they hold goes back) and without quotas.
      const queued = await t.pg.query(`SELECT id FROM jobs WHERE status = 'queued'`);
      for (const { id } of queued.rows as { id: string }[]) expect((await t.root(`/api/v1/jobs/${id}`, { method: 'DELETE' })).status).toBe(200);
      for (const team of [a, b]) await put(team.teamId, {});
    });

    it('max_queued_jobs: the place after the last is refused with 429 and Retry-After, writing no job; a cancelled job frees its place', async () => {
      await put(a.teamId, { limits: { maxQueuedJobs: 2 } });
      const first = await submit(a, 4);
      const second = await submit(a, 4);
      expect([first.status, second.status]).toEqual([202, 202]);
      const before = await jobCount(a.teamId);
      const third = await submit(a, 4);
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ code: 'rate_limit_exceeded', status: 429 });
      expect(third.body.detail).toContain('max_queued_jobs (2 queued jobs)');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await jobCount(a.teamId)).toBe(before);
      // The team sees its queue full.
      expect(((await a.member.call(`/api/v1/teams/${a.teamId}/quotas`)).body as Quotas).usage).toMatchObject({ queuedJobs: 2 });
      expect((await cancel(a, first.body.id)).status).toBe(200);
      expect((await submit(a, 4)).status).toBe(202);
    });

    it('max_concurrent_jobs does not refuse asynchronous jobs: they wait queued, their slots taken as they are dispatched', async () => {
      await put(a.teamId, { limits: { maxConcurrentJobs: 1, maxQueuedJobs: 10 } });
      const submitted = [await submit(a, 4), await submit(a, 4), await submit(a, 4)];
      expect(submitted.map((r) => r.status)).toEqual([202, 202, 202]);
      // No scheduler here: all three wait, holding queue places and no slot.
      expect(((await a.member.call(`/api/v1/teams/${a.teamId}/quotas`)).body as Quotas).usage).toMatchObject({ concurrentJobs: 0, queuedJobs: 3 });
      for (const r of submitted) await cancel(a, r.body.id);
      expect(((await a.member.call(`/api/v1/teams/${a.teamId}/quotas`)).body as Quotas).usage).toMatchObject({ concurrentJobs: 0, queuedJobs: 0 });
    });

    it('tokens_per_day: a reservation that reaches the limit exactly is admitted, one token more is refused', async () => {
      // Each request reserves 1 (the prompt 'hi') + max_tokens.
      await put(a.teamId, { limits: { tokensPerDay: 100 } });
      const first = await submit(a, 60);
      expect(first.status).toBe(202);
      expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('100');
      expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe('39');
      const over = await submit(a, 39); // 61 + 40 = 101 > 100
      expect(over.status).toBe(429);
      expect(over.body.detail).toContain('tokens_per_day');
      expect(over.body.detail).toContain('used 61, requested 40');
      expect(over.headers.get('x-ratelimit-remaining-tokens')).toBe('39');
      const exact = await submit(a, 38); // 61 + 39 = 100
      expect(exact.status).toBe(202);
      expect(exact.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
      expect((await submit(a, 1)).status).toBe(429);
      // A job cancelled before it ran used no token: its reservation comes back.
      await cancel(a, first.body.id);
      expect(((await a.member.call(`/api/v1/teams/${a.teamId}/quotas`)).body as Quotas).usage).toMatchObject({ tokensToday: 39 });
      expect((await submit(a, 60)).status).toBe(202);
    });

    it('a request larger than a token limit itself is refused without Retry-After (it can never pass)', async () => {
      await put(a.teamId, { limits: { tokensPerMinute: 10 } });
      const res = await submit(a, 20);
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBeNull();
      expect(res.body.detail).toMatch(/^Request too large for the team on tokens_per_minute \(10 tokens per minute\): requested 21\./);
    });

    it('requests_per_minute: x-ratelimit-*-requests count down, then 429 with Retry-After until the minute ends', async () => {
      await roomInMinute(20_000);
      await put(a.teamId, { limits: { requestsPerMinute: 3 }, keys: [{ kind: 'token', id: a.token.id, limits: { requestsPerMinute: 1 } }] });
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await submit(a, 1);
        expect(res.status).toBe(202);
        expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
        expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
        remaining.push(res.headers.get('x-ratelimit-remaining-requests'));
      }
      expect(remaining).toEqual(['2', '1', '0']);
      const refused = await submit(a, 1);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(refused.body.detail).toContain('for the team on requests_per_minute (3 requests per minute)');
    });

    it('a key quota refuses the key and not the team’s other keys', async () => {
      await roomInMinute(20_000);
      await put(b.teamId, { keys: [{ kind: 'keypair', id: await keypairId(b.admin.accessKey), limits: { requestsPerMinute: 1 } }] });
      expect((await submit(b, 1)).status).toBe(202);
      const second = await submit(b, 1);
      expect(second.status).toBe(429);
      expect(second.body.detail).toContain('for this key on requests_per_minute');
      // The member's own keypair is not limited.
      const byMember = await b.member.call('/api/v1/jobs', { method: 'POST', body: { model: 'visible', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 } });
      expect(byMember.status).toBe(202);
    });

    it("a model quota limits the team's requests for that model", async () => {
      await roomInMinute(20_000);
      await put(a.teamId, { models: [{ model: 'visible', limits: { requestsPerMinute: 1 } }] });
      expect((await submit(a, 1)).status).toBe(202);
      const second = await submit(a, 1);
      expect(second.status).toBe(429);
      expect(second.body.detail).toContain("for the team's use of this model on requests_per_minute (1 request per minute)");
      expect(second.headers.get('x-ratelimit-limit-requests')).toBe('1');
    });

    it('a submit repeated under its Idempotency-Key returns the first job, even over quota', async () => {
      await put(a.teamId, { limits: { maxQueuedJobs: 1 } });
      const first = await submit(a, 4, { 'idempotency-key': 'quota-repeat' });
      expect(first.status).toBe(202);
      const again = await submit(a, 4, { 'idempotency-key': 'quota-repeat' });
      expect(again.status).toBe(202);
      expect(again.body.id).toBe(first.body.id);
      expect((await submit(a, 4)).status).toBe(429);
    });
  });

  async function keypairId(accessKey: string): Promise<string> {
    return ((await t.root(`/api/v1/keypairs/${accessKey}`)).body as { id: string }).id;
  }
});
