import { signingFetch } from '@gridline/auth';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';
import { Principal } from '../auth/principal';
import { QueueBoardSessions } from './queue-board-sessions';

type Problem = { status: number; code: string; detail: string; requestId: string };

/** bull-board at /admin/queues: superadmins only, by session cookie or credential (real Postgres and Redis). */
describe('the queue board', () => {
  let t: ApiTestApp;
  let member: { accessKey: string; secretKey: string };
  let memberToken: string;
  let rootToken: string;
  let root: Principal;

  const board = (path: string, init: RequestInit = {}) => fetch(`${t.base}/admin/queues${path}`, init);
  const asJson = async (res: Response) => ({ status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as Record<string, unknown> });
  const openSession = async (keys: { accessKey: string; secretKey: string }) => signingFetch(keys)(`${t.base}/api/v1/admin/queues/session`, { method: 'POST' });
  const cookieFrom = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0];
  const auditActions = async () => (await t.pg.query<{ action: string }>("SELECT action FROM audit_log WHERE action LIKE 'queue_board.%' ORDER BY created_at")).rows.map((r) => r.action);

  beforeAll(async () => {
    t = await startApiTestApp();
    const me = (await t.root('/api/v1/users/me')).body as { id: string; teamId: string };
    const user = (await t.root('/api/v1/users', { method: 'POST', body: { email: 'board@default.example', displayName: 'board', teamId: me.teamId, role: 'team_admin' } })).body as { id: string };
    member = (await t.root('/api/v1/keypairs', { method: 'POST', body: { userId: user.id, teamId: me.teamId } })).body as { accessKey: string; secretKey: string };
    memberToken = ((await t.asKeypair(member.accessKey, member.secretKey)('/api/v1/tokens', { method: 'POST', body: { name: 'board', scope: 'management' } })).body as { token: string }).token;
    rootToken = ((await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'root-board', scope: 'management' } })).body as { token: string }).token;
    const keypair = (await t.pg.query<{ id: string }>('SELECT id FROM keypairs WHERE access_key = $1', [ROOT_ACCESS])).rows[0];
    root = { userId: me.id, teamId: me.teamId, role: 'superadmin', credential: { kind: 'keypair', id: keypair.id, label: ROOT_ACCESS } };
  });

  afterAll(() => t?.close());

  it('refuses a request without a session cookie or credential (401 authentication_required)', async () => {
    for (const path of ['', '/', '/api/queues']) {
      const res = await asJson(await board(path));
      expect(res).toMatchObject({ status: 401, type: expect.stringContaining('application/problem+json'), body: { code: 'authentication_required' } });
    }
  });

  it('refuses a session to a team admin, and the board to its keypair and token (403 forbidden)', async () => {
    const before = await auditActions();
    const session = await openSession(member);
    expect(session.status).toBe(403);
    expect(((await session.json()) as Problem).code).toBe('forbidden');
    expect(session.headers.get('set-cookie')).toBeNull();
    expect(await auditActions()).toEqual(before);
    expect((await asJson(await signingFetch(member)(`${t.base}/admin/queues/api/queues`))).body.code).toBe('forbidden');
    expect(await asJson(await board('/api/queues', { headers: { authorization: `Bearer ${memberToken}` } }))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
  });

  it("opens a superadmin's session with a scoped HttpOnly, SameSite=Strict cookie, audited, and the board lists Gridline's queues", async () => {
    const session = await openSession({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET });
    expect(session.status).toBe(201);
    const body = (await session.json()) as { url: string; cookie: string; cookiePath: string; expiresAt: string };
    expect(body).toEqual({ url: '/admin/queues', cookie: 'gl_queue_board', cookiePath: '/admin/queues', expiresAt: expect.any(String) });
    const lifetime = new Date(body.expiresAt).getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(9 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(10 * 60_000);
    const setCookie = session.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^gl_queue_board=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+;/);
    expect(setCookie).toContain('Path=/admin/queues');
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    // Plain http here: not Secure (over https, or behind a proxy that says so, it is).
    expect(setCookie).not.toContain('Secure');
    expect(await auditActions()).toContain('queue_board.session_opened');

    const cookie = cookieFrom(session);
    const queues = await asJson(await board('/api/queues', { headers: { cookie } }));
    expect(queues.status).toBe(200);
    const names = (queues.body.queues as { name: string }[]).map((q) => q.name);
    expect(names).toContain('inference');
    const page = await board('', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    // The UI's own files come from beneath the board's path, so the cookie reaches them too.
    const baseHref = /<base href="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(baseHref).toBe('/admin/queues/');
    const script = new URL(/<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1] ?? '', `http://x${baseHref}`).pathname;
    expect(script).toMatch(/^\/admin\/queues\/static\//);
    expect((await fetch(`${t.base}${script}`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${t.base}${script}`)).status).toBe(401);
  });

  it('sets a Secure cookie behind an https proxy', async () => {
    const session = await signingFetch({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET })(`${t.base}/api/v1/admin/queues/session`, { method: 'POST', headers: { 'x-forwarded-proto': 'https' } });
    expect(session.status).toBe(201);
    expect(session.headers.get('set-cookie')).toContain('Secure');
  });

  it('refuses an altered cookie (queue_board_session_invalid) and an expired one (queue_board_session_expired)', async () => {
    const cookie = cookieFrom(await openSession({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET }));
    const [name, value] = cookie.split('=');
    const [claims, mac] = value.split('.');
    const decoded = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { e: number };
    const extended = Buffer.from(JSON.stringify({ ...decoded, e: decoded.e + 86_400 })).toString('base64url');
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [`${extended}.${mac}`, `${claims}.${flipped}`, claims, `${claims}.${mac}.x`, 'garbage']) {
      expect(await asJson(await board('/api/queues', { headers: { cookie: `${name}=${bad}` } }))).toMatchObject({ status: 401, body: { code: 'queue_board_session_invalid' } });
    }
    const sessions = t.app.get(QueueBoardSessions);
    const expired = sessions.issue(root, Date.now() - 11 * 60_000);
    expect(await asJson(await board('/api/queues', { headers: { cookie: `${name}=${expired.value}` } }))).toMatchObject({ status: 401, body: { code: 'queue_board_session_expired' } });
    // Still valid a minute before its end: the expiry is the only difference.
    const fresh = sessions.issue(root, Date.now() - 9 * 60_000);
    expect((await board('/api/queues', { headers: { cookie: `${name}=${fresh.value}` } })).status).toBe(200);
  });

  it("accepts a superadmin's bearer token or signature directly (curl)", async () => {
    expect((await board('/api/queues', { headers: { authorization: `Bearer ${rootToken}` } })).status).toBe(200);
    expect((await signingFetch({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET })(`${t.base}/admin/queues/api/queues`)).status).toBe(200);
    expect(await asJson(await board('/api/queues', { headers: { authorization: 'Bearer gl_not-a-token' } }))).toMatchObject({ status: 401, body: { code: 'invalid_token' } });
  });

  it('lets a session pause and resume a queue (audited), refuses cross-site writes and job edits', async () => {
    const cookie = cookieFrom(await openSession({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET }));
    const put = (path: string, headers: Record<string, string> = {}) => board(path, { method: 'PUT', headers: { cookie, ...headers } });
    expect(await asJson(await put('/api/queues/inference/pause', { origin: 'http://evil.example' }))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await asJson(await put('/api/queues/inference/obliterate'))).toMatchObject({ status: 403, body: { code: 'queue_board_action_refused' } });
    const before = (await auditActions()).filter((a) => a === 'queue_board.action').length;
    expect((await put('/api/queues/inference/pause', { origin: t.base })).status).toBeLessThan(300);
    const paused = await asJson(await board('/api/queues', { headers: { cookie } }));
    expect((paused.body.queues as { name: string; isPaused: boolean }[]).find((q) => q.name === 'inference')?.isPaused).toBe(true);
    expect((await put('/api/queues/inference/resume')).status).toBeLessThan(300);
    expect((await auditActions()).filter((a) => a === 'queue_board.action').length).toBe(before + 2);
  });

  it('refuses every write but the allowed ones, however the path is spelled (403 queue_board_action_refused)', async () => {
    const cookie = cookieFrom(await openSession({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET }));
    const send = (method: string, path: string) => board(path, { method, headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
    const refused: [string, string][] = [
      ['POST', '/api/queues/inference/add/'],
      ['POST', '/api/queues/inference/ADD'],
      ['PUT', '/api/queues/inference/OBLITERATE'],
      ['PUT', '/api/queues/inference/obliterate/'],
      ['PUT', '/api/queues/inference/empty'],
      ['PUT', '/api/queues/inference/Empty/'],
      ['PUT', '/api/queues/inference/%65mpty'],
      ['PATCH', '/api/queues/inference/some-job/update-data/'],
      ['PATCH', '/api/queues/inference/some-job/delay'],
      ['PATCH', '/api/queues/inference/some-job/priority'],
      ['PUT', '/api/queues/inference/some-job/clean'],
      ['PUT', '/api/queues/inference/clean/wait'],
      ['PUT', '/api/queues/inference/concurrency'],
      ['PUT', '/api/queues/inference/rate-limit'],
      ['PUT', '/api/queues/inference/job-schedulers/s/run'],
      ['DELETE', '/api/queues/inference'],
    ];
    for (const [method, path] of refused) {
      expect({ method, path, ...(await asJson(await send(method, path))) }).toMatchObject({ method, path, status: 403, body: { code: 'queue_board_action_refused' } });
    }
    // The allowed actions are matched the way bull-board routes them: any case, with a trailing slash.
    expect((await send('PUT', '/api/queues/inference/PAUSE/')).status).toBeLessThan(300);
    const queues = await asJson(await board('/api/queues', { headers: { cookie } }));
    expect((queues.body.queues as { name: string; isPaused: boolean }[]).find((q) => q.name === 'inference')?.isPaused).toBe(true);
    expect((await send('PUT', '/api/queues/inference/resume/')).status).toBeLessThan(300);
  });

  it("ends a session when its keypair is deactivated or its token revoked (within the recheck's seconds)", async () => {
    const me = (await t.root('/api/v1/users/me')).body as { id: string; teamId: string };
    const keys = (await t.root('/api/v1/keypairs', { method: 'POST', body: { userId: me.id, teamId: me.teamId } })).body as { accessKey: string; secretKey: string };
    const token = (await t.root('/api/v1/tokens', { method: 'POST', body: { name: 'board-revoked', scope: 'management' } })).body as { id: string; token: string };
    const keypairCookie = cookieFrom(await openSession(keys));
    const tokenSession = await fetch(`${t.base}/api/v1/admin/queues/session`, { method: 'POST', headers: { authorization: `Bearer ${token.token}` } });
    expect(tokenSession.status).toBe(201);
    const tokenCookie = cookieFrom(tokenSession);
    expect((await board('/api/queues', { headers: { cookie: keypairCookie } })).status).toBe(200);
    expect((await board('/api/queues', { headers: { cookie: tokenCookie } })).status).toBe(200);

    expect((await t.root(`/api/v1/keypairs/${keys.accessKey}`, { method: 'PATCH', body: { isActive: false } })).status).toBe(200);
    expect((await t.root(`/api/v1/tokens/${token.id}`, { method: 'DELETE' })).status).toBeLessThan(300);
    // Past the board's cache of a credential's standing (2 s).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await asJson(await board('/api/queues', { headers: { cookie: keypairCookie } }))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(await asJson(await board('/api/queues', { headers: { cookie: tokenCookie } }))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    // The root keypair's own session is unaffected.
    expect((await board('/api/queues', { headers: { cookie: cookieFrom(await openSession({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET })) } })).status).toBe(200);
  });
});
