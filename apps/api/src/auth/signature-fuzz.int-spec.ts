import { request as httpRequest } from 'node:http';
import { computeSignature } from '@gridline/auth';
import { seededRandom } from '@gridline/models';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';

interface RawRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: string;
}

function send(t: ApiTestApp, r: RawRequest): Promise<{ status: number; body: string }> {
  const { port } = new URL(t.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: Number(port), method: r.method, path: r.path, setHost: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const [k, v] of r.headers) req.setHeader(k, v);
    req.end(r.body);
  });
}

let tick = 0;
/** A correctly signed token-creation request with a unique date (so each is a fresh signature). */
function signed(t: ApiTestApp, overrides: Partial<{ now: number }> = {}): RawRequest {
  const date = new Date((overrides.now ?? Date.now()) + tick++).toISOString().replace('Z', '+00:00');
  const path = '/api/v1/tokens?source=fuzz';
  const input = { method: 'POST', pathAndQuery: path, date, host: t.host, contentType: 'application/json', version: 'v9.20250722' };
  const signature = computeSignature(ROOT_SECRET, input);
  return {
    method: 'POST',
    path,
    headers: [
      ['Host', t.host],
      ['Date', date],
      ['X-BackendAI-Version', 'v9.20250722'],
      ['Content-Type', 'application/json'],
      ['Authorization', `BackendAI signMethod=HMAC-SHA256, credential=${ROOT_ACCESS}:${signature}`],
    ],
    body: JSON.stringify({ name: 'fuzz', scope: 'inference' }),
  };
}

const set = (r: RawRequest, name: string, value: string): RawRequest => ({
  ...r,
  headers: r.headers.map(([k, v]) => [k, k.toLowerCase() === name.toLowerCase() ? value : v] as [string, string]),
});
const header = (r: RawRequest, name: string) => r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1] ?? '';

/** Changes to what the signature covers: refused even when the original was never sent. */
const covered: Record<string, (r: RawRequest, rnd: () => number) => RawRequest> = {
  method: (r, rnd) => ({ ...r, method: ['PUT', 'PATCH', 'DELETE', 'GET'][Math.floor(rnd() * 4)], body: r.method === 'GET' ? '' : r.body }),
  path: (r, rnd) => ({ ...r, path: ['/api/v1/tokens/?source=fuzz', '/api/v1/Tokens?source=fuzz', '/api/v1/%74okens?source=fuzz', '/api//v1/tokens?source=fuzz'][Math.floor(rnd() * 4)] }),
  query: (r, rnd) => ({ ...r, path: ['/api/v1/tokens?source=fuzy', '/api/v1/tokens?source=fuzz&x=1', '/api/v1/tokens', '/api/v1/tokens?x=1&source=fuzz'][Math.floor(rnd() * 4)] }),
  host: (r, rnd) => set(r, 'Host', [`localhost:${new URL(`http://${header(r, 'Host')}`).port}`, '127.0.0.1', 'evil.example.com', header(r, 'Host').toUpperCase() + '.'][Math.floor(rnd() * 4)]),
  date: (r, rnd) => {
    const at = Date.parse(header(r, 'Date'));
    const shifted = new Date(at + (rnd() < 0.5 ? -1000 : 1000)).toISOString().replace('Z', '+00:00');
    const otherZone = new Date(at + 9 * 3600_000).toISOString().replace('Z', '+09:00');
    return set(r, 'Date', rnd() < 0.5 ? shifted : otherZone);
  },
  'content-type': (r) => set(r, 'Content-Type', 'text/plain'),
  version: (r) => set(r, 'X-BackendAI-Version', 'v9.20240101'),
  'access key': (r) => set(r, 'Authorization', header(r, 'Authorization').replace(ROOT_ACCESS, ROOT_ACCESS.toLowerCase())),
  'value casing': (r) => set(r, 'X-BackendAI-Version', 'V9.20250722'),
};

/** Changes outside the signature: only replay protection stops them, once the original was used. */
const uncovered: Record<string, (r: RawRequest, rnd: () => number) => RawRequest> = {
  body: (r, rnd) => ({ ...r, body: JSON.stringify({ name: `evil-${Math.floor(rnd() * 1e6)}`, scope: 'management' }) }),
  'header order': (r, rnd) => ({ ...r, headers: [...r.headers].sort(() => rnd() - 0.5) }),
  'header name casing': (r) => ({ ...r, headers: r.headers.map(([k, v]) => [k.toUpperCase(), v] as [string, string]) }),
  'signature hex casing': (r) => set(r, 'Authorization', header(r, 'Authorization').replace(/:([0-9a-f]{64})$/, (_m, s: string) => `:${s.toUpperCase()}`)),
};

describe('mutated signed requests are never accepted', () => {
  let t: ApiTestApp;
  const tokenCount = async () => Number((await t.pg.query('SELECT count(*)::int AS n FROM api_tokens')).rows[0].n);

  beforeAll(async () => {
    t = await startApiTestApp();
  });
  afterAll(() => t?.close());

  it('accepts the unmodified request (the baseline is valid)', async () => {
    const res = await send(t, signed(t));
    expect(res.status).toBe(201);
  });

  it('refuses 300 random mutations of what the signature covers, never seen before', async () => {
    const rnd = seededRandom(20261122);
    const names = Object.keys(covered);
    const before = await tokenCount();
    const accepted: string[] = [];
    for (let i = 0; i < 300; i++) {
      const name = names[Math.floor(rnd() * names.length)];
      const mutated = covered[name](signed(t), rnd);
      const res = await send(t, mutated);
      if (res.status < 400 || res.status >= 500) accepted.push(`${name}: ${res.status} ${mutated.method} ${mutated.path} ${res.body}`);
    }
    expect(accepted).toEqual([]);
    expect(await tokenCount()).toBe(before);
  });

  it('refuses changes outside the signature (body, header order and casing) once the original was used', async () => {
    const rnd = seededRandom(7);
    const before = await tokenCount();
    const failures: string[] = [];
    for (let i = 0; i < 40; i++) {
      const original = signed(t);
      expect((await send(t, original)).status).toBe(201);
      for (const [name, mutate] of Object.entries(uncovered)) {
        const res = await send(t, mutate(original, rnd));
        if (res.status !== 401 || !res.body.includes('replayed_request')) failures.push(`${name}: ${res.status} ${res.body}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await tokenCount()).toBe(before + 40);
  });
});
