import { ApiTestApp, Caller, startApiTestApp } from './testing/api-test-app';
import { TeamFixture, createTeamFixture } from './testing/tenancy-fixture';

type Res = { status: number; body: unknown };
const items = (res: Res) => (res.body as { items: Record<string, unknown>[] }).items;

describe('tenancy: teams never see each other (real Postgres and Redis)', () => {
  let t: ApiTestApp;
  let a: TeamFixture;
  let b: TeamFixture;
  let bKeypairOfAdmin: string;
  let bJob: string;

  beforeAll(async () => {
    t = await startApiTestApp();
    a = await createTeamFixture(t, 'alpha');
    b = await createTeamFixture(t, 'bravo');
    bKeypairOfAdmin = b.admin.accessKey;
    const job = await t.pg.query(
      `INSERT INTO jobs (team_id, kind, mode, model, status, request, deadline_at) VALUES ($1, 'chat', 'async', 'm', 'queued', '{}', now() + interval '1 hour') RETURNING id`,
      [b.teamId],
    );
    bJob = job.rows[0].id;
  });

  afterAll(() => t?.close());

  describe('principals of team A against ids of team B', () => {
    const routes = (): [string, string, unknown?][] => [
      ['GET', `/api/v1/teams/${b.teamId}`],
      ['GET', `/api/v1/teams/${b.teamId}/members`],
      ['PUT', `/api/v1/teams/${b.teamId}/members/${b.member.userId}`, { role: 'team_admin' }],
      ['DELETE', `/api/v1/teams/${b.teamId}/members/${b.member.userId}`],
      ['GET', `/api/v1/users/${b.member.userId}`],
      ['PATCH', `/api/v1/users/${b.member.userId}`, { displayName: 'pwned' }],
      ['GET', `/api/v1/keypairs/${bKeypairOfAdmin}`],
      ['PATCH', `/api/v1/keypairs/${bKeypairOfAdmin}`, { isActive: false }],
      ['POST', `/api/v1/keypairs/${bKeypairOfAdmin}/rotate`, { graceSeconds: 0 }],
      ['DELETE', `/api/v1/keypairs/${bKeypairOfAdmin}`],
      ['GET', `/api/v1/tokens/${b.token.id}`],
      ['DELETE', `/api/v1/tokens/${b.token.id}`],
      ['POST', '/api/v1/keypairs', { userId: b.member.userId }],
      ['POST', '/api/v1/tokens', { name: 'x', scope: 'inference', userId: b.member.userId }],
      ['GET', `/api/v1/jobs/${bJob}`],
      ['DELETE', `/api/v1/jobs/${bJob}`],
    ];

    it.each(['admin', 'member'] as const)('team A %s gets 404 (or 403 for a role it lacks) on every route naming a team B id, and B is unchanged', async (who) => {
      const call: Caller = a[who].call;
      for (const [method, path, body] of routes()) {
        const res = await call(path, { method, body });
        if (res.status !== 404 && res.status !== 403) throw new Error(`${who} ${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
        expect(JSON.stringify(res.body)).not.toContain('bravo');
      }
      // Nothing of B changed.
      const key = await t.root(`/api/v1/keypairs/${bKeypairOfAdmin}`);
      expect(key.body).toMatchObject({ isActive: true, expiresAt: null });
      expect((await t.root(`/api/v1/tokens/${b.token.id}`)).body).toMatchObject({ revokedAt: null });
      expect((await t.root(`/api/v1/users/${b.member.userId}`)).body).toMatchObject({ displayName: 'bravo member' });
      expect(items(await t.root(`/api/v1/teams/${b.teamId}/members`)).map((m) => m.role).sort()).toEqual(['member', 'team_admin']);
      expect((await t.root(`/api/v1/jobs/${bJob}`)).body).toMatchObject({ status: 'queued' });
    });

    it('team A cannot make credentials for team B by naming the team', async () => {
      expect((await a.admin.call('/api/v1/keypairs', { method: 'POST', body: { teamId: b.teamId } })).status).toBe(403);
      expect((await a.admin.call('/api/v1/tokens', { method: 'POST', body: { name: 'x', scope: 'inference', teamId: b.teamId } })).status).toBe(403);
    });

    it.each(['admin', 'member'] as const)('list filters of team A %s never return team B rows', async (who) => {
      const call = a[who].call;
      const lists = [
        `/api/v1/teams?name=bravo`,
        `/api/v1/teams`,
        `/api/v1/keypairs?userId=${b.member.userId}`,
        `/api/v1/keypairs`,
        `/api/v1/tokens?userId=${b.member.userId}&includeRevoked=true`,
        `/api/v1/tokens`,
        `/api/v1/users?email=bravo`,
        `/api/v1/users`,
        `/api/v1/audit`,
        `/api/v1/audit?actorUserId=${b.admin.userId}`,
        `/api/v1/jobs`,
        `/api/v1/jobs?model=m&status=queued`,
      ];
      for (const path of lists) {
        const res = await call(path);
        if (res.status === 403) continue; // a list the role may not read at all
        expect(res.status).toBe(200);
        const text = JSON.stringify(res.body);
        expect(text).not.toContain(b.teamId);
        expect(text).not.toContain(b.member.userId);
        expect(text).not.toContain(b.admin.userId);
        expect(text).not.toContain('bravo');
        expect(text).not.toContain(bJob);
      }
      // The superadmin sees every team's jobs.
      expect(JSON.stringify((await t.root('/api/v1/jobs')).body)).toContain(bJob);
    });

    it('a bearer token of team A sees only team A', async () => {
      const call = t.asToken(a.token.token);
      expect((await call(`/api/v1/tokens/${b.token.id}`)).status).toBe(404);
      expect(JSON.stringify((await call('/api/v1/keypairs')).body)).not.toContain(b.teamId);
    });
  });

  describe('roles', () => {
    const fresh = () => `x${Math.random().toString(36).slice(2, 10)}`;
    // [method, path, body, expected status for superadmin, team_admin, member]
    const table = (): [string, string, (() => unknown) | undefined, number, number, number][] => [
      ['GET', '/api/v1/teams', undefined, 200, 200, 200],
      ['POST', '/api/v1/teams', () => ({ name: fresh() }), 201, 403, 403],
      ['GET', `/api/v1/teams/${a.teamId}`, undefined, 200, 200, 200],
      ['PATCH', `/api/v1/teams/${a.teamId}`, () => ({ weight: 2 }), 200, 403, 403],
      ['GET', `/api/v1/teams/${a.teamId}/members`, undefined, 200, 200, 403],
      ['PUT', `/api/v1/teams/${a.teamId}/members/${a.member.userId}`, () => ({ role: 'member' }), 200, 200, 403],
      ['GET', '/api/v1/users', undefined, 200, 200, 403],
      ['GET', '/api/v1/users/me', undefined, 200, 200, 200],
      ['POST', '/api/v1/users', () => ({ email: `${fresh()}@alpha.example`, displayName: 'n', teamId: a.teamId }), 201, 201, 403],
      ['GET', `/api/v1/users/${a.member.userId}`, undefined, 200, 200, 200],
      ['GET', `/api/v1/users/${a.admin.userId}`, undefined, 200, 200, 404],
      ['PATCH', `/api/v1/users/${a.member.userId}`, () => ({ displayName: 'alpha member' }), 200, 200, 403],
      ['GET', '/api/v1/keypairs', undefined, 200, 200, 200],
      ['POST', '/api/v1/keypairs', () => ({ userId: a.member.userId, teamId: a.teamId }), 201, 201, 201],
      ['POST', '/api/v1/keypairs', () => ({ userId: a.admin.userId, teamId: a.teamId }), 201, 201, 403],
      ['GET', `/api/v1/keypairs/${a.admin.accessKey}`, undefined, 200, 200, 404],
      ['GET', `/api/v1/keypairs/${a.member.accessKey}`, undefined, 200, 200, 200],
      ['GET', '/api/v1/tokens', undefined, 200, 200, 200],
      ['POST', '/api/v1/tokens', () => ({ name: 'ci', scope: 'inference' }), 201, 201, 201],
      ['GET', `/api/v1/tokens/${a.token.id}`, undefined, 200, 200, 200],
      ['GET', '/api/v1/audit', undefined, 200, 200, 403],
      ['GET', '/api/v1/whoami', undefined, 200, 200, 200],
      ['GET', '/v1/models', undefined, 200, 200, 200],
    ];

    it('each route answers each role as documented', async () => {
      const callers: Caller[] = [t.root, a.admin.call, a.member.call];
      const failures: string[] = [];
      for (const [method, path, body, ...expected] of table()) {
        for (let i = 0; i < 3; i++) {
          const res = await callers[i](path, { method, body: body?.() });
          if (res.status !== expected[i]) failures.push(`${['superadmin', 'team_admin', 'member'][i]} ${method} ${path}: ${res.status} (expected ${expected[i]}) ${JSON.stringify(res.body)}`);
        }
      }
      expect(failures).toEqual([]);
    });

    it('each destructive route answers each role as documented (fresh targets per call)', async () => {
      const callers: [string, Caller][] = [
        ['superadmin', t.root],
        ['team_admin', a.admin.call],
        ['member', a.member.call],
      ];
      const freshTeam = async () => ((await t.root('/api/v1/teams', { method: 'POST', body: { name: fresh() } })).body as { id: string }).id;
      const freshUser = async () =>
        ((await t.root('/api/v1/users', { method: 'POST', body: { email: `${fresh()}@alpha.example`, displayName: 'f', teamId: a.teamId } })).body as { id: string }).id;
      const memberKey = async () => ((await a.member.call('/api/v1/keypairs', { method: 'POST', body: {} })).body as { accessKey: string }).accessKey;
      const adminKey = async () => ((await a.admin.call('/api/v1/keypairs', { method: 'POST', body: {} })).body as { accessKey: string }).accessKey;
      const memberToken = async () => ((await a.member.call('/api/v1/tokens', { method: 'POST', body: { name: 'f', scope: 'inference' } })).body as { id: string }).id;
      const rows: [string, string, () => Promise<string>, unknown, number[]][] = [
        ['DELETE', 'team', async () => `/api/v1/teams/${await freshTeam()}`, undefined, [204, 403, 403]],
        ['PATCH', 'team', async () => `/api/v1/teams/${await freshTeam()}`, { weight: 5 }, [200, 403, 403]],
        ['DELETE', 'user', async () => `/api/v1/users/${await freshUser()}`, undefined, [204, 403, 403]],
        ['DELETE', 'membership', async () => `/api/v1/teams/${a.teamId}/members/${await freshUser()}`, undefined, [204, 204, 403]],
        ['PUT', 'membership', async () => `/api/v1/teams/${a.teamId}/members/${await freshUser()}`, { role: 'team_admin' }, [200, 200, 403]],
        ['PATCH', "member's key", async () => `/api/v1/keypairs/${await memberKey()}`, { isActive: false }, [200, 200, 200]],
        ['PATCH', "admin's key", async () => `/api/v1/keypairs/${await adminKey()}`, { isActive: false }, [200, 200, 404]],
        ['POST', "rotate member's key", async () => `/api/v1/keypairs/${await memberKey()}/rotate`, { graceSeconds: 0 }, [201, 201, 201]],
        ['POST', "rotate admin's key", async () => `/api/v1/keypairs/${await adminKey()}/rotate`, { graceSeconds: 0 }, [201, 201, 404]],
        ['DELETE', "member's key", async () => `/api/v1/keypairs/${await memberKey()}`, undefined, [204, 204, 204]],
        ['DELETE', "admin's key", async () => `/api/v1/keypairs/${await adminKey()}`, undefined, [204, 204, 404]],
        ['DELETE', "member's token", async () => `/api/v1/tokens/${await memberToken()}`, undefined, [204, 204, 204]],
      ];
      const failures: string[] = [];
      for (const [method, what, target, body, expected] of rows) {
        for (let i = 0; i < callers.length; i++) {
          const res = await callers[i][1](await target(), { method, body });
          if (res.status !== expected[i]) failures.push(`${callers[i][0]} ${method} ${what}: ${res.status} (expected ${expected[i]}) ${JSON.stringify(res.body)}`);
        }
      }
      expect(failures).toEqual([]);
    });

    it('only superadmins delete users and teams or grant superadmin', async () => {
      const victim = await t.root('/api/v1/users', { method: 'POST', body: { email: 'victim@alpha.example', displayName: 'v', teamId: a.teamId } });
      const id = (victim.body as { id: string }).id;
      expect((await a.admin.call(`/api/v1/users/${id}`, { method: 'DELETE' })).status).toBe(403);
      expect((await a.admin.call(`/api/v1/users/${id}`, { method: 'PATCH', body: { isSuperadmin: true } })).status).toBe(403);
      expect((await a.admin.call('/api/v1/users', { method: 'POST', body: { email: 'boss@alpha.example', displayName: 'b', isSuperadmin: true } })).status).toBe(403);
      expect((await t.root(`/api/v1/users/${id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await t.root(`/api/v1/users/${id}`)).status).toBe(404);
    });

    it('an inference-scoped token reaches /v1 but no admin route', async () => {
      const made = await a.member.call('/api/v1/tokens', { method: 'POST', body: { name: 'sdk', scope: 'inference', models: ['m1'] } });
      const token = (made.body as { token: string }).token;
      const call = t.asToken(token);
      expect((await call('/v1/models')).status).toBe(200);
      const admin = await call('/api/v1/keypairs');
      expect([admin.status, (admin.body as { code: string }).code]).toEqual([403, 'insufficient_scope']);
      const chat = await call('/v1/chat/completions', { method: 'POST', body: { model: 'other', messages: [{ role: 'user', content: 'hi' }] } });
      expect([chat.status, (chat.body as { error: { code: string } }).error.code]).toEqual([403, 'model_not_allowed']);
    });
  });

  describe('no escalation to superadmin or past a token', () => {
    it("a team admin can neither mint nor manage a superadmin's credentials, even when the superadmin is in its team", async () => {
      const rootId = ((await t.root('/api/v1/whoami')).body as { userId: string }).userId;
      expect((await t.root(`/api/v1/teams/${a.teamId}/members/${rootId}`, { method: 'PUT', body: { role: 'member' } })).status).toBe(200);
      expect(items(await t.root(`/api/v1/teams/${a.teamId}/members`)).map((m) => m.userId)).toContain(rootId);
      expect(items(await a.admin.call(`/api/v1/teams/${a.teamId}/members`)).map((m) => m.userId)).not.toContain(rootId); // see roles.int-spec.ts

      expect((await a.admin.call('/api/v1/keypairs', { method: 'POST', body: { userId: rootId } })).status).toBe(404);
      expect((await a.admin.call('/api/v1/tokens', { method: 'POST', body: { name: 'x', scope: 'management', userId: rootId } })).status).toBe(404);

      const rootKey = (await t.root('/api/v1/keypairs', { method: 'POST', body: { teamId: a.teamId } })).body as { accessKey: string; secretKey: string };
      const rootTok = (await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'root', scope: 'management', teamId: a.teamId } })).body as { id: string; teamId: string };
      expect(rootTok.teamId).toBe(a.teamId);
      for (const [method, path, body] of [
        ['GET', `/api/v1/keypairs/${rootKey.accessKey}`, undefined],
        ['PATCH', `/api/v1/keypairs/${rootKey.accessKey}`, { isActive: false }],
        ['POST', `/api/v1/keypairs/${rootKey.accessKey}/rotate`, { graceSeconds: 0 }],
        ['DELETE', `/api/v1/keypairs/${rootKey.accessKey}`, undefined],
      ] as [string, string, unknown][]) {
        expect([method, path, (await a.admin.call(path, { method, body })).status]).toEqual([method, path, 404]);
      }
      expect(JSON.stringify((await a.admin.call('/api/v1/keypairs')).body)).not.toContain(rootKey.accessKey); // not even listed
      expect((await t.asKeypair(rootKey.accessKey, rootKey.secretKey)('/api/v1/whoami')).body).toMatchObject({ role: 'superadmin' });
      expect((await t.root(`/api/v1/tokens/${rootTok.id}`)).status).toBe(200);
      expect((await t.root(`/api/v1/teams/${a.teamId}/members/${rootId}`, { method: 'DELETE' })).status).toBe(204);
    });

    it('a bearer token cannot create or rotate credentials', async () => {
      const call = t.asToken(a.token.token);
      expect((await call('/api/v1/keypairs', { method: 'POST', body: {} })).status).toBe(403);
      expect((await call('/api/v1/tokens', { method: 'POST', body: { name: 'child', scope: 'management' } })).status).toBe(403);
      expect((await call(`/api/v1/keypairs/${a.member.accessKey}/rotate`, { method: 'POST', body: { graceSeconds: 10 } })).status).toBe(403);
    });

    it('a superadmin gets 404 for a credential in a team that does not exist', async () => {
      expect((await t.root('/api/v1/keypairs', { method: 'POST', body: { teamId: '00000000-0000-4000-8000-000000000000' } })).status).toBe(404);
      expect((await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'x', scope: 'inference', teamId: '00000000-0000-4000-8000-000000000000' } })).status).toBe(404);
    });

    it("a superadmin mints a token in the team it names, for that team's member, and the team's admin sees it there", async () => {
      const made = await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'for-b', scope: 'inference', userId: b.member.userId, teamId: b.teamId } });
      expect(made.status).toBe(201);
      const token = made.body as { id: string; teamId: string; userId: string; token: string };
      expect(token).toMatchObject({ teamId: b.teamId, userId: b.member.userId });
      expect(items(await b.admin.call('/api/v1/tokens')).map((x) => (x as { id: string }).id)).toContain(token.id);
      expect(items(await a.admin.call('/api/v1/tokens')).map((x) => (x as { id: string }).id)).not.toContain(token.id);
      // Without teamId the caller's own team is meant: B's member is not in it.
      expect((await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'no-team', scope: 'inference', userId: b.member.userId } })).status).toBe(404);
    });
  });

  describe('keypairs and tokens', () => {
    it('shows a secret once, stores it sealed, and never lists it', async () => {
      const made = await a.member.call('/api/v1/keypairs', { method: 'POST', body: {} });
      const { accessKey, secretKey } = made.body as { accessKey: string; secretKey: string };
      expect(secretKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
      expect(JSON.stringify((await a.member.call(`/api/v1/keypairs/${accessKey}`)).body)).not.toContain(secretKey);
      expect(JSON.stringify((await a.member.call('/api/v1/keypairs')).body)).not.toContain(secretKey);
      const row = (await t.pg.query('SELECT secret_sealed FROM keypairs WHERE access_key = $1', [accessKey])).rows[0] as { secret_sealed: string };
      expect(row.secret_sealed).not.toContain(secretKey);
      expect((await t.asKeypair(accessKey, secretKey)('/api/v1/whoami')).body).toMatchObject({ role: 'member', credential: 'keypair', label: accessKey });
    });

    it('rotation issues a new key and leaves the old one valid for the grace period only', async () => {
      const made = await a.member.call('/api/v1/keypairs', { method: 'POST', body: {} });
      const old = made.body as { accessKey: string; secretKey: string };
      const rotated = await a.member.call(`/api/v1/keypairs/${old.accessKey}/rotate`, { method: 'POST', body: { graceSeconds: 2 } });
      expect(rotated.status).toBe(201);
      const fresh = rotated.body as { accessKey: string; secretKey: string; userId: string };
      expect(fresh.accessKey).not.toBe(old.accessKey);
      expect(fresh.userId).toBe(a.member.userId);
      expect((await t.asKeypair(old.accessKey, old.secretKey)('/api/v1/whoami')).status).toBe(200);
      expect((await t.asKeypair(fresh.accessKey, fresh.secretKey)('/api/v1/whoami')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 3200));
      expect((await t.asKeypair(old.accessKey, old.secretKey)('/api/v1/whoami')).status).toBe(401);
      expect((await t.asKeypair(fresh.accessKey, fresh.secretKey)('/api/v1/whoami')).status).toBe(200);
    });

    it('disabling a key or revoking a token takes effect within one second', async () => {
      const made = (await a.member.call('/api/v1/keypairs', { method: 'POST', body: {} })).body as { accessKey: string; secretKey: string };
      const key = t.asKeypair(made.accessKey, made.secretKey);
      expect((await key('/api/v1/whoami')).status).toBe(200);
      expect((await a.admin.call(`/api/v1/keypairs/${made.accessKey}`, { method: 'PATCH', body: { isActive: false } })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await key('/api/v1/whoami')).status).toBe(401);

      const tok = (await a.member.call('/api/v1/tokens', { method: 'POST', body: { name: 'temp', scope: 'inference' } })).body as { id: string; token: string };
      expect((await t.asToken(tok.token)('/api/v1/whoami')).status).toBe(200);
      expect((await a.member.call(`/api/v1/tokens/${tok.id}`, { method: 'DELETE' })).status).toBe(204);
      await new Promise((r) => setTimeout(r, 1100));
      expect((await t.asToken(tok.token)('/api/v1/whoami')).status).toBe(401);
    });

    it('stores tokens as hashes only and shows a prefix to identify them', async () => {
      const tok = (await a.member.call('/api/v1/tokens', { method: 'POST', body: { name: 'hash', scope: 'inference' } })).body as { id: string; token: string; prefix: string };
      expect(tok.token.startsWith(tok.prefix)).toBe(true);
      const row = (await t.pg.query('SELECT token_hash, prefix FROM api_tokens WHERE id = $1', [tok.id])).rows[0] as { token_hash: string; prefix: string };
      expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
      const dump = JSON.stringify((await t.pg.query('SELECT * FROM api_tokens')).rows);
      expect(dump).not.toContain(tok.token);
    });

    it('refuses an expired token and a malformed one with 401', async () => {
      const tok = (await a.member.call('/api/v1/tokens', { method: 'POST', body: { name: 'old', scope: 'inference', expiresAt: new Date(Date.now() + 1000).toISOString() } })).body as { token: string };
      await new Promise((r) => setTimeout(r, 1200));
      expect((await t.asToken(tok.token)('/api/v1/whoami')).status).toBe(401);
      expect((await t.asToken('gl_nope')('/api/v1/whoami')).body).toMatchObject({ code: 'invalid_token' });
    });
  });

  describe('audit log', () => {
    it('records who changed what, with which key, from where; team admins see their team only', async () => {
      const before = new Date(Date.now() - 1000).toISOString();
      const made = await a.admin.call('/api/v1/tokens', { method: 'POST', body: { name: 'audited', scope: 'inference' }, headers: { 'x-request-id': 'audit-req-1' } });
      const tokenId = (made.body as { id: string }).id;
      const log = await a.admin.call(`/api/v1/audit?action=token.create&since=${encodeURIComponent(before)}`);
      expect(log.status).toBe(200);
      const entry = items(log).find((e) => e.targetId === tokenId);
      expect(entry).toMatchObject({ actorUserId: a.admin.userId, actorCredential: a.admin.accessKey, teamId: a.teamId, action: 'token.create', requestId: 'audit-req-1' });
      expect(entry?.ip).toBeTruthy();
      expect(JSON.stringify(entry)).not.toContain((made.body as { token: string }).token);
      const all = await t.root('/api/v1/audit?limit=200');
      expect(new Set(items(all).map((e) => e.teamId))).toEqual(expect.objectContaining({}));
      expect(items(all).some((e) => e.teamId === b.teamId)).toBe(true);
      expect(items(await a.admin.call('/api/v1/audit?limit=200')).every((e) => e.teamId === a.teamId)).toBe(true);
    });
  });

  describe('validation', () => {
    it.each([
      ['POST', '/api/v1/teams', { name: 'Bad Name!' }],
      ['POST', '/api/v1/users', { email: 'not-an-email', displayName: 'x' }],
      ['POST', '/api/v1/keypairs/AKIAIOSFODNN7EXAMPLE/rotate', { graceSeconds: -1 }],
      ['POST', '/api/v1/tokens', { name: 'x', scope: 'everything' }],
      ['GET', '/api/v1/keypairs?limit=1000', undefined],
      ['GET', '/api/v1/teams/not-a-uuid', undefined],
      ['POST', '/api/v1/tokens', { name: 'x', scope: 'inference', expiresAt: '2009-W05-4' }],
      ['POST', '/api/v1/keypairs', { expiresAt: '2030-01-31' }],
      ['GET', '/api/v1/audit?since=2009-123', undefined],
      ['GET', '/api/v1/users?offset=1e300', undefined],
      ['POST', '/api/v1/teams', { name: 'big', quotaGpus: 3e9 }],
      ['POST', '/api/v1/teams', { name: 'huge', quotaGpuMemoryBytes: 1e20 }],
    ])('%s %s with bad input answers 400 in the problem shape and changes nothing', async (method, path, body) => {
      const count = async () => Number((await t.pg.query('SELECT (SELECT count(*) FROM teams) + (SELECT count(*) FROM users) + (SELECT count(*) FROM keypairs) + (SELECT count(*) FROM api_tokens) AS n')).rows[0].n);
      const n = await count();
      const res = await t.root(path, { method, body });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ status: 400, code: 'validation_failed' });
      expect(await count()).toBe(n);
    });

    it('treats an empty keypair update as no change', async () => {
      const res = await a.member.call(`/api/v1/keypairs/${a.member.accessKey}`, { method: 'PATCH', body: {} });
      expect(res).toMatchObject({ status: 200, body: { accessKey: a.member.accessKey, isActive: true } });
    });

    it('answers a duplicate team or e-mail with 409', async () => {
      expect((await t.root('/api/v1/teams', { method: 'POST', body: { name: 'alpha' } })).body).toMatchObject({ status: 409, code: 'team_exists' });
      expect((await t.root('/api/v1/users', { method: 'POST', body: { email: 'member@alpha.example', displayName: 'dup' } })).body).toMatchObject({ status: 409, code: 'email_taken' });
    });

    it('pages lists', async () => {
      const first = await t.root('/api/v1/users?limit=2&offset=0');
      const second = await t.root('/api/v1/users?limit=2&offset=2');
      expect(items(first)).toHaveLength(2);
      expect((first.body as { total: number }).total).toBeGreaterThan(3);
      expect(items(second)[0].id).not.toBe(items(first)[0].id);
    });
  });
});
