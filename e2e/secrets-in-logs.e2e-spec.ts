import { signRequest, signingFetch } from '@gridline/auth';
import { startApiProcess } from '@gridline/testing';

/** Runs a full admin and inference-auth flow against the built api at the most verbose log level, then searches its output. */
describe('secrets and tokens never reach a log line', () => {
  it('keeps every secret, token, signature and the master key out of the api output', async () => {
    const { api, base, host, root, masterKey, stop } = await startApiProcess({ LOG_LEVEL: 'trace' });
    const secrets: string[] = [root.secretKey, masterKey];
    try {
      const signatures: string[] = [];
      const asRoot = signingFetch(root, async (input, init) => {
        const auth = new Headers(init?.headers).get('authorization') ?? '';
        signatures.push(auth.split(':').pop() ?? '');
        return fetch(input, init);
      });
      const post = async (f: typeof asRoot, path: string, body: unknown) =>
        (await (await f(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as Record<string, string>;

      const team = await post(asRoot, '/api/v1/teams', { name: 'logtest' });
      const user = await post(asRoot, '/api/v1/users', { email: 'log@example.com', displayName: 'Log', teamId: team.id, role: 'team_admin' });
      const key = await post(asRoot, '/api/v1/keypairs', { userId: user.id, teamId: team.id });
      secrets.push(key.secretKey);
      const asUser = signingFetch({ accessKey: key.accessKey, secretKey: key.secretKey });
      const token = await post(asUser, '/api/v1/tokens', { name: 'log', scope: 'management' });
      secrets.push(token.token);
      const rotated = await post(asUser, `/api/v1/keypairs/${key.accessKey}/rotate`, { graceSeconds: 60 });
      secrets.push(rotated.secretKey);

      // Use every credential, successfully and not.
      expect((await fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${token.token}` } })).status).toBe(200);
      expect((await fetch(`${base}/api/v1/whoami`, { headers: { authorization: `Bearer ${token.token.slice(0, -2)}xx` } })).status).toBe(401);
      expect((await signingFetch({ accessKey: rotated.accessKey, secretKey: rotated.secretKey })(`${base}/api/v1/whoami`)).status).toBe(200);
      expect((await signingFetch({ accessKey: key.accessKey, secretKey: 'x'.repeat(40) })(`${base}/api/v1/whoami`)).status).toBe(401);
      const replayed = signRequest({ ...root, method: 'GET', pathAndQuery: '/api/v1/whoami', host });
      signatures.push(replayed.Authorization.split(':').pop() ?? '');
      await fetch(`${base}/api/v1/whoami`, { headers: replayed });
      expect((await fetch(`${base}/api/v1/whoami`, { headers: replayed })).status).toBe(401);
      expect((await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' }, body: '{"model":' })).status).toBe(400);

      // The queue board's session cookie is a credential too: as set, and as sent back.
      const session = await asRoot(`${base}/api/v1/admin/queues/session`, { method: 'POST' });
      const boardCookie = (session.headers.get('set-cookie') ?? '').split(';')[0];
      secrets.push(boardCookie.split('=')[1] ?? '');
      expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { cookie: boardCookie } })).status).toBe(200);
      expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: `Bearer ${token.token}` } })).status).toBe(403);

      await new Promise((r) => setTimeout(r, 300));
      const output = api.output;
      // The capture is real: requests were logged, with the access keys that identify callers.
      expect(output).toContain('"url":"/api/v1/whoami"');
      expect(output).toContain('[redacted]');
      for (const s of [...secrets, ...signatures.filter(Boolean)]) {
        expect(s.length).toBeGreaterThan(20);
        if (output.includes(s)) throw new Error(`a secret reached the logs: ${s.slice(0, 6)}…`);
      }
      expect(output).not.toMatch(/Bearer gl_/);
      expect(output).not.toMatch(/gl_[A-Za-z0-9_-]{43}/);
    } finally {
      await stop();
    }
  }, 60_000);
});
