import { ApiTestApp, startApiTestApp } from '../testing/api-test-app';

/** `GET /metrics` in production: not served without a token unless made public (real Postgres and Redis). */
describe('the api /metrics in production', () => {
  let hidden: ApiTestApp;
  let open: ApiTestApp;

  beforeAll(async () => {
    hidden = await startApiTestApp({ NODE_ENV: 'production' });
    open = await startApiTestApp({ NODE_ENV: 'production', GRIDLINE_METRICS_PUBLIC: 'true' });
  });

  afterAll(async () => {
    await hidden?.close();
    await open?.close();
  });

  it('answers 404 metrics_not_exposed without GRIDLINE_METRICS_TOKEN, even to a bearer', async () => {
    for (const headers of [{}, { authorization: 'Bearer anything' }] as Record<string, string>[]) {
      const res = await fetch(`${hidden.base}/metrics`, { headers });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { code: string }).code).toBe('metrics_not_exposed');
    }
  });

  it('serves it to anyone with GRIDLINE_METRICS_PUBLIC=true', async () => {
    const res = await fetch(`${open.base}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE gridline_http_requests_total counter');
  });
});
