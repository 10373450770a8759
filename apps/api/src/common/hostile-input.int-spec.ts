import { signRequest } from '@gridline/auth';
import { IdentityRepository } from '@gridline/db';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';
import { rowCounts } from '../testing/row-counts';

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; param: string | null; message: string } };
}

/** The inputs that used to give 500s, minutes of validation or unbounded memory, each with its new answer. */
describe('hostile input (in-process api, real Postgres and Redis)', () => {
  let t: ApiTestApp;

  beforeAll(async () => {
    t = await startApiTestApp();
  });

  afterAll(() => t?.close());

  /** A signed request with a raw body and content type, as an attacker with a valid keypair sends it. */
  async function send(method: string, path: string, body: string | undefined, contentType = 'application/json'): Promise<Answer> {
    const headers = signRequest({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET, method, pathAndQuery: path, host: t.host, contentType });
    const res = await fetch(`${t.base}${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
  }
  const chat = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content }], ...extra });
  const code = (a: Answer) => a.body.error?.code ?? a.body.code;
  const param = (a: Answer) => a.body.error?.param ?? a.body.param;

  it('refuses a body of 300,000 unknown keys at the scan, with a short answer, while other requests are served', async () => {
    const keys = Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`k${i}`, 1]));
    const body = JSON.stringify({ model: 'tiny', messages: [], ...keys });
    expect(body.length).toBeGreaterThan(3_000_000);
    const attacks = Array.from({ length: 3 }, () => send('POST', '/v1/chat/completions', body));
    const health = Array.from({ length: 20 }, () => fetch(`${t.base}/healthz`).then((r) => r.status));
    const answers = await Promise.all(attacks);
    expect(await Promise.all(health)).toEqual(Array(20).fill(200));
    for (const a of answers) {
      expect([a.status, code(a)]).toEqual([400, 'too_many_keys']);
      expect(JSON.stringify(a.body).length).toBeLessThan(400);
    }
  });

  it('refuses arrays nested 5,000 deep with 400 nesting_too_deep, not a stack overflow', async () => {
    const deep = `{"model":"tiny","messages":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const a = await send('POST', '/v1/chat/completions', deep);
    expect([a.status, code(a), param(a)]).toEqual([400, 'nesting_too_deep', 'messages[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]']);
  });

  it('answers every input that used to be a 500 with a 4xx naming the field, and writes nothing', async () => {
    const before = await rowCounts(t.pg);
    const cases: [string, Promise<Answer>, number, string, string | null][] = [
      ['NUL in content', send('POST', '/v1/chat/completions', chat('a\u0000b')), 400, 'invalid_text', 'messages[0].content'],
      ['lone surrogate in content', send('POST', '/v1/chat/completions', '{"model":"tiny","messages":[{"role":"user","content":"a\\ud800b"}]}'), 400, 'invalid_text', 'messages[0].content'],
      ['NUL in model', send('POST', '/v1/chat/completions', JSON.stringify({ model: 'ti\u0000ny', messages: [{ role: 'user', content: 'hi' }] })), 400, 'invalid_text', 'model'],
      ['NUL in stop', send('POST', '/v1/chat/completions', chat('hi', { stop: ['\u0000'] })), 400, 'invalid_text', 'stop[0]'],
      ['NUL in a job prompt', send('POST', '/api/v1/jobs', JSON.stringify({ model: 'tiny', prompt: 'x\u0000' })), 400, 'invalid_text', 'prompt'],
      ['NUL in a display name', send('POST', '/api/v1/users', JSON.stringify({ email: 'nul@example.com', displayName: 'N\u0000' })), 400, 'invalid_text', 'displayName'],
      ['NUL in a team name', send('POST', '/api/v1/teams', JSON.stringify({ name: 'team\u0000' })), 400, 'invalid_text', 'name'],
      ['NUL in a token name', send('POST', '/api/v1/tokens', JSON.stringify({ name: 't\u0000', scope: 'inference' })), 400, 'invalid_text', 'name'],
      ['NUL in a token model list', send('POST', '/api/v1/tokens', JSON.stringify({ name: 't', scope: 'inference', models: ['m\u0000'] })), 400, 'invalid_text', 'models[0]'],
      ['NUL in a query filter', send('GET', '/api/v1/teams?name=%00', undefined), 400, 'invalid_text', 'name'],
      ['NUL in a path', send('GET', '/api/v1/keypairs/AK%00', undefined), 400, 'invalid_text', null],
      ['latin1 charset', send('POST', '/v1/chat/completions', chat('hi'), 'application/json; charset=latin1'), 415, 'unsupported_media_type', null],
      ['not JSON at all', send('POST', '/api/v1/teams', 'name=x', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type', null],
      ['invalid UTF-8', send('POST', '/api/v1/teams', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]) as unknown as string), 400, 'invalid_text', null],
      ['an admin body over 64 KiB', send('POST', '/api/v1/teams', JSON.stringify({ name: 'x'.repeat(70_000) })), 413, 'payload_too_large', null],
    ];
    for (const [name, pending, status, expected, field] of cases) {
      const a = await pending;
      expect({ name, status: a.status, code: code(a), param: param(a) ?? null }).toEqual({ name, status, code: expected, param: field });
    }
    expect(await rowCounts(t.pg)).toEqual(before);
  });

  it('quotes no more than a short prefix of the input in any error', async () => {
    const long = 'x'.repeat(10_000);
    const answers = [
      await send('POST', '/v1/chat/completions', JSON.stringify({ model: long, messages: [{ role: 'user', content: 'hi' }] })),
      await send('POST', '/v1/chat/completions', JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'hi' }], [long]: 1 })),
      await send('GET', `/api/v1/keypairs/${long}`, undefined),
    ];
    for (const a of answers) {
      expect(a.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(a.body).length).toBeLessThan(600);
    }
  });

  it('answers an unknown access key exactly as a wrong signature, and looks up neither a malformed nor a repeated unknown key', async () => {
    const identity = t.app.get(IdentityRepository);
    const lookups = jest.spyOn(identity, 'findActiveCredential');
    const call = async (accessKey: string, secretKey: string) => {
      const headers = signRequest({ accessKey, secretKey, method: 'GET', pathAndQuery: '/v1/models', host: t.host });
      const res = await fetch(`${t.base}/v1/models`, { headers });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const unknown = await call('AKIAZZZZZZZZZZZZZZZZ', ROOT_SECRET);
    const wrong = await call(ROOT_ACCESS, 'W'.repeat(40));
    expect(unknown).toEqual(wrong);
    expect(unknown.status).toBe(401);

    lookups.mockClear();
    for (let i = 0; i < 50; i++) await call(`AKIA${'Q'.repeat(15_000)}${i}`, ROOT_SECRET);
    for (let i = 0; i < 20; i++) await call('AKIAZZZZZZZZZZZZZZZZ', ROOT_SECRET);
    expect(lookups).not.toHaveBeenCalled();
    lookups.mockRestore();
  });
});
