import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { signRequest, signingFetch } from '@gridline/auth';
import { ApiTestApp, ROOT_ACCESS as ACCESS, ROOT_SECRET as SECRET, startApiTestApp } from './testing/api-test-app';

describe('api (in-process, real Postgres and Redis)', () => {
  let t: ApiTestApp;
  let base: string;
  const signed = signingFetch({ accessKey: ACCESS, secretKey: SECRET });

  beforeAll(async () => {
    t = await startApiTestApp();
    base = t.base;
  });

  afterAll(() => t?.close());

  const rawSigned = (path: string, opts: { now?: Date; secret?: string; method?: string } = {}) =>
    signRequest({ accessKey: ACCESS, secretKey: opts.secret ?? SECRET, method: opts.method ?? 'GET', pathAndQuery: path, host: new URL(base).host, now: opts.now });

  it('created the database, applied the migrations and bootstrapped the keypair from the environment, sealed', async () => {
    const { rows } = await t.pg.query('SELECT k.access_key, k.secret_sealed, u.is_superadmin FROM keypairs k JOIN users u ON u.id = k.user_id');
    expect(rows).toHaveLength(1);
    expect(rows[0].access_key).toBe(ACCESS);
    expect(rows[0].is_superadmin).toBe(true);
    expect(rows[0].secret_sealed).not.toContain(SECRET);
    expect(rows[0].secret_sealed).toMatch(/^v1\./);
  });

  it('answers liveness and readiness without authentication', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers readiness with 503 not_ready naming each dependency that did not answer, and recovers', async () => {
    const ping = jest.spyOn(t.app.get(Redis), 'ping').mockRejectedValueOnce(new Error('connection lost'));
    const redisDown = await fetch(`${base}/readyz`);
    expect(redisDown.status).toBe(503);
    expect(redisDown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await redisDown.json()).toMatchObject({ status: 503, code: 'not_ready', detail: 'not ready: redis is unreachable', checks: { postgres: 'ok', redis: 'unreachable' } });

    ping.mockRejectedValueOnce(new Error('connection lost'));
    const query = jest.spyOn(t.app.get(DataSource), 'query').mockRejectedValueOnce(new Error('terminating connection'));
    const bothDown = (await (await fetch(`${base}/readyz`)).json()) as { detail: string; checks: unknown };
    expect(bothDown).toMatchObject({ detail: 'not ready: postgres and redis are unreachable', checks: { postgres: 'unreachable', redis: 'unreachable' } });
    expect(JSON.stringify(bothDown)).not.toContain('terminating connection');
    ping.mockRestore();
    query.mockRestore();

    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('serves a signed GET /v1/models in OpenAI list shape', async () => {
    const res = await signed(`${base}/v1/models`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'list', data: [] });
  });

  it('refuses an unsigned request with 401 in OpenAI error shape', async () => {
    const res = await fetch(`${base}/v1/models`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { message: 'Authentication required', type: 'authentication_error', param: null, code: 'authentication_required' } });
  });

  it('refuses a wrong secret (401), a date 16 minutes off (400), a missing version (400) and a replay (401)', async () => {
    const wrong = await fetch(`${base}/v1/models`, { headers: rawSigned('/v1/models', { secret: 'W'.repeat(40) }) });
    expect([wrong.status, ((await wrong.json()) as { error: { code: string } }).error.code]).toEqual([401, 'signature_mismatch']);

    const skewed = await fetch(`${base}/v1/models`, { headers: rawSigned('/v1/models', { now: new Date(Date.now() - 16 * 60_000) }) });
    const skewedBody = (await skewed.json()) as { error: { code: string; message: string } };
    expect([skewed.status, skewedBody.error.code]).toEqual([400, 'date_sync_error']);

    const { 'X-BackendAI-Version': _v, ...noVersion } = rawSigned('/v1/models');
    const missing = await fetch(`${base}/v1/models`, { headers: noVersion });
    expect([missing.status, ((await missing.json()) as { error: { code: string } }).error.code]).toEqual([400, 'missing_version']);

    const once = rawSigned('/v1/models');
    expect((await fetch(`${base}/v1/models`, { headers: once })).status).toBe(200);
    const replay = await fetch(`${base}/v1/models`, { headers: once });
    expect([replay.status, ((await replay.json()) as { error: { code: string } }).error.code]).toEqual([401, 'replayed_request']);
  });

  it('answers errors outside /v1 as application/problem+json with a stable code and the request id', async () => {
    const res = await signed(`${base}/api/v1/nothing-here`, { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 404, code: 'route_not_found', requestId: 'req-123' });
  });

  it('refuses an unknown model with 404 model_not_found and creates no job', async () => {
    const res = await signed(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { message: "The model 'no-such-model' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
    expect((await t.pg.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n).toBe(0);
  });

  it.each([
    ['no messages', { model: 'm', messages: [] }],
    ['an unknown role', { model: 'm', messages: [{ role: 'robot', content: 'x' }] }],
    ['a temperature above 2', { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }],
    ['an unknown field', { model: 'm', messages: [{ role: 'user', content: 'x' }], frobnicate: true }],
    ['n = 0', { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 0 }],
  ])('refuses %s with 400 validation_failed and creates no job', async (_what, body) => {
    const res = await signed(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({ code: 'validation_failed', type: 'invalid_request_error' });
    expect((await t.pg.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n).toBe(0);
  });

  it('refuses a body that is not JSON with 400 invalid_json', async () => {
    const res = await signed(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });

  it('publishes the OpenAPI document with the HMAC security scheme', async () => {
    const doc = (await (await fetch(`${base}/docs-json`)).json()) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/chat/completions', '/v1/models', '/healthz', '/readyz']));
    expect(doc.components.securitySchemes.hmac).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });
});
