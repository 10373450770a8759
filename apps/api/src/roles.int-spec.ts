import { ApiTestApp, Caller, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from './testing/api-test-app';

type Res = { status: number; body: unknown };
type Problem = { status: number; code: string; detail: string; param?: string };
const items = (res: Res) => (res.body as { items: Record<string, unknown>[] }).items;
const problem = (res: Res) => res.body as Problem;

/**
 * Issue 8, "roles and oracles", against the real api. Each case was measured before the change
 * (the answer then is in the test's name) and shows the answer now. The bootstrap superadmin
 * is a member (team_admin) of the default team, so that team's admins used to see it.
 */
describe('team admins never read or change superadmins (real Postgres and Redis)', () => {
  let t: ApiTestApp;
  let rootId: string;
  let defaultTeam: string;
  let admin: { userId: string; call: Caller };
  let member: { userId: string; accessKey: string };
  let rootToken: string;

  const auditCount = async () => Number((await t.pg.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n);
  const rootRow = async () => (await t.pg.query('SELECT display_name, is_superadmin FROM users WHERE id = $1', [rootId])).rows[0] as { display_name: string; is_superadmin: boolean };

  beforeAll(async () => {
    t = await startApiTestApp();
    const me = (await t.root('/api/v1/users/me')).body as { id: string; teamId: string };
    rootId = me.id;
    defaultTeam = me.teamId;
    const person = async (role: 'team_admin' | 'member') => {
      const user = (await t.root('/api/v1/users', { method: 'POST', body: { email: `${role}@default.example`, displayName: role, teamId: defaultTeam, role } })).body as { id: string };
      const key = (await t.root('/api/v1/keypairs', { method: 'POST', body: { userId: user.id, teamId: defaultTeam } })).body as { accessKey: string; secretKey: string };
      return { userId: user.id, accessKey: key.accessKey, call: t.asKeypair(key.accessKey, key.secretKey) };
    };
    admin = await person('team_admin');
    member = await person('member');
    rootToken = ((await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'root-notebook', scope: 'management' } })).body as { id: string }).id;
  });

  afterAll(() => t?.close());

  it('the superadmin is a member of the default team, which the team admin administers', async () => {
    const members = items(await t.root(`/api/v1/teams/${defaultTeam}/members`));
    expect(members).toEqual(expect.arrayContaining([expect.objectContaining({ userId: rootId, role: 'team_admin' }), expect.objectContaining({ userId: admin.userId, role: 'team_admin' })]));
    expect((await admin.call('/api/v1/whoami')).body).toMatchObject({ role: 'team_admin', teamId: defaultTeam });
  });

  it('renaming the superadmin (was 200, renamed) is 404 and changes nothing', async () => {
    const before = await auditCount();
    const res = await admin.call(`/api/v1/users/${rootId}`, { method: 'PATCH', body: { displayName: 'pwned' } });
    expect(res.status).toBe(404);
    expect(problem(res)).toMatchObject({ code: 'not_found', param: 'id' });
    expect(await rootRow()).toEqual({ display_name: 'Gridline administrator', is_superadmin: true });
    expect(await auditCount()).toBe(before);
  });

  it('reading the superadmin (was 200) is 404, and no user list shows it', async () => {
    expect((await admin.call(`/api/v1/users/${rootId}`)).status).toBe(404);
    expect(JSON.stringify((await admin.call('/api/v1/users?limit=200')).body)).not.toContain(rootId);
    expect(items(await admin.call('/api/v1/users?email=admin@gridline.local'))).toEqual([]);
    // Its own team's other users it still reads and changes.
    expect((await admin.call(`/api/v1/users/${member.userId}`)).status).toBe(200);
    expect((await admin.call(`/api/v1/users/${member.userId}`, { method: 'PATCH', body: { displayName: 'member' } })).status).toBe(200);
  });

  it("listing the superadmin's keypair (was listed) shows nothing, and reading or changing it is 404", async () => {
    const list = await admin.call('/api/v1/keypairs?limit=200');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(ROOT_ACCESS);
    expect(items(await admin.call(`/api/v1/keypairs?userId=${rootId}`))).toEqual([]);
    expect(items(list).map((k) => k.accessKey)).toEqual(expect.arrayContaining([member.accessKey]));
    for (const [method, path, body] of [
      ['GET', `/api/v1/keypairs/${ROOT_ACCESS}`, undefined],
      ['PATCH', `/api/v1/keypairs/${ROOT_ACCESS}`, { isActive: false }],
      ['POST', `/api/v1/keypairs/${ROOT_ACCESS}/rotate`, { graceSeconds: 0 }],
      ['DELETE', `/api/v1/keypairs/${ROOT_ACCESS}`, undefined],
    ] as [string, string, unknown][]) {
      const res = await admin.call(path, { method, body });
      expect([method, path, res.status, problem(res).code]).toEqual([method, path, 404, 'not_found']);
    }
    expect((await t.asKeypair(ROOT_ACCESS, ROOT_SECRET)('/api/v1/whoami')).body).toMatchObject({ role: 'superadmin' });
  });

  it("the superadmin's tokens are neither listed nor readable nor revocable", async () => {
    expect(JSON.stringify((await admin.call('/api/v1/tokens?includeRevoked=true&limit=200')).body)).not.toContain(rootToken);
    expect((await admin.call(`/api/v1/tokens/${rootToken}`)).status).toBe(404);
    expect((await admin.call(`/api/v1/tokens/${rootToken}`, { method: 'DELETE' })).status).toBe(404);
    expect((await t.root(`/api/v1/tokens/${rootToken}`)).body).toMatchObject({ revokedAt: null });
  });

  it("editing the superadmin's membership (was 200, demoted) is 404; it is not listed, and it cannot be removed", async () => {
    const before = await auditCount();
    expect(JSON.stringify((await admin.call(`/api/v1/teams/${defaultTeam}/members?limit=200`)).body)).not.toContain(rootId);
    const demote = await admin.call(`/api/v1/teams/${defaultTeam}/members/${rootId}`, { method: 'PUT', body: { role: 'member' } });
    expect([demote.status, problem(demote).code, problem(demote).param]).toEqual([404, 'not_found', 'userId']);
    expect((await admin.call(`/api/v1/teams/${defaultTeam}/members/${rootId}`, { method: 'DELETE' })).status).toBe(404);
    expect(items(await t.root(`/api/v1/teams/${defaultTeam}/members`))).toEqual(expect.arrayContaining([expect.objectContaining({ userId: rootId, role: 'team_admin' })]));
    expect(await auditCount()).toBe(before);
  });

  it('the superadmin still reads and changes everything', async () => {
    expect((await t.root(`/api/v1/users/${rootId}`)).body).toMatchObject({ id: rootId, isSuperadmin: true });
    expect(JSON.stringify((await t.root('/api/v1/keypairs?limit=200')).body)).toContain(ROOT_ACCESS);
    expect((await t.root(`/api/v1/teams/${defaultTeam}/members/${admin.userId}`, { method: 'PUT', body: { role: 'team_admin' } })).status).toBe(200);
  });

  describe('expiry dates', () => {
    const past = () => new Date(Date.now() - 60_000).toISOString();
    const future = () => new Date(Date.now() + 3_600_000).toISOString();
    const rows = async () => Number((await t.pg.query('SELECT (SELECT count(*) FROM api_tokens) + (SELECT count(*) FROM keypairs) AS n')).rows[0].n);

    it('a token cannot be created already expired (was 201): 400 validation_failed naming expiresAt, nothing written', async () => {
      const n = await rows();
      for (const expiresAt of [past(), new Date().toISOString(), '2001-01-01T00:00:00Z']) {
        const res = await admin.call('/api/v1/tokens', { method: 'POST', body: { name: 'late', scope: 'inference', expiresAt } });
        expect(res.status).toBe(400);
        expect(problem(res)).toMatchObject({ code: 'validation_failed', param: 'expiresAt', detail: 'expiresAt: must be in the future' });
      }
      expect(await rows()).toBe(n);
      expect((await admin.call('/api/v1/tokens', { method: 'POST', body: { name: 'on-time', scope: 'inference', expiresAt: future() } })).status).toBe(201);
    });

    it('a keypair cannot be created or updated to an expiry in the past; null still means never', async () => {
      const n = await rows();
      const created = await admin.call('/api/v1/keypairs', { method: 'POST', body: { expiresAt: past() } });
      expect([created.status, problem(created).code, problem(created).param]).toEqual([400, 'validation_failed', 'expiresAt']);
      expect(await rows()).toBe(n);
      const updated = await admin.call(`/api/v1/keypairs/${member.accessKey}`, { method: 'PATCH', body: { expiresAt: past() } });
      expect([updated.status, problem(updated).param]).toEqual([400, 'expiresAt']);
      expect((await t.root(`/api/v1/keypairs/${member.accessKey}`)).body).toMatchObject({ isActive: true, expiresAt: null });
      expect((await admin.call(`/api/v1/keypairs/${member.accessKey}`, { method: 'PATCH', body: { expiresAt: future() } })).status).toBe(200);
      expect((await admin.call(`/api/v1/keypairs/${member.accessKey}`, { method: 'PATCH', body: { expiresAt: null } })).body).toMatchObject({ expiresAt: null });
    });
  });

  describe('error details quote no more than a short prefix of the input', () => {
    const huge = 'A'.repeat(10 * 1024);

    it('a 10 KB access key in the path is a 404 whose detail is short', async () => {
      const res = await admin.call(`/api/v1/keypairs/${huge}`);
      expect(res.status).toBe(404);
      expect(problem(res)).toMatchObject({ code: 'not_found', param: 'accessKey' });
      expect(problem(res).detail.length).toBeLessThan(100);
      expect(JSON.stringify(res.body).length).toBeLessThan(400);
    });

    it.each([
      ['GET', '/api/v1/users/', 'id'],
      ['GET', '/api/v1/jobs/', 'id'],
      ['DELETE', '/api/v1/tokens/', 'id'],
      ['PUT', '/api/v1/teams/00000000-0000-4000-8000-000000000000/members/', 'userId'],
    ])('%s %s{10 KB} is a 400 naming the parameter, quoting none of it', async (method, prefix, param) => {
      const res = await admin.call(`${prefix}${huge}`, { method, body: method === 'PUT' ? { role: 'member' } : undefined });
      expect(res.status).toBe(400);
      expect(problem(res)).toMatchObject({ code: 'validation_failed', param, detail: `${param} must be a UUID` });
      expect(JSON.stringify(res.body)).not.toContain('AAAA');
    });

    it('a 10 KB unknown path is a short 404 in either route family', async () => {
      const admin404 = await admin.call(`/api/v1/${huge}`);
      expect([admin404.status, problem(admin404).code]).toEqual([404, 'route_not_found']);
      expect(JSON.stringify(admin404.body).length).toBeLessThan(400);
      const openAi404 = await admin.call(`/v1/${huge}`);
      expect(openAi404.status).toBe(404);
      expect(openAi404.body).toMatchObject({ error: { code: 'route_not_found', type: 'invalid_request_error' } });
      expect(JSON.stringify(openAi404.body).length).toBeLessThan(400);
    });

    it('a long team name or e-mail is quoted as a prefix in a 409', async () => {
      const email = `${'x'.repeat(64)}@${'y'.repeat(60)}.example`;
      expect((await t.root('/api/v1/users', { method: 'POST', body: { email, displayName: 'x' } })).status).toBe(201);
      const dup = await t.root('/api/v1/users', { method: 'POST', body: { email, displayName: 'x' } });
      expect(problem(dup)).toMatchObject({ status: 409, code: 'email_taken', param: 'email' });
      expect(problem(dup).detail).not.toContain(email);
      expect(problem(dup).detail.length).toBeLessThan(140);
    });
  });
});
