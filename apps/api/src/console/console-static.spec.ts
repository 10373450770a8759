import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { mountConsole } from './console-static';

@Module({})
class EmptyModule {}

async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const app = await NestFactory.create<NestExpressApplication>(EmptyModule, { logger: false });
  mountConsole(app, dir);
  await app.listen(0, '127.0.0.1');
  return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), close: () => app.close() };
}

describe('the console at /console', () => {
  const built = mkdtempSync(join(tmpdir(), 'gl-console-static-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(join(built, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(built, 'assets', 'index-abc123.js'), 'console.log(1)');
  let server: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    server = await serve(built);
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers every page path with the app (deep links and reloads), never cached, under its own policy', async () => {
    for (const path of ['/console', '/console/', '/console/deployments/7c1f', '/console/nodes?status=Ready']) {
      const res = await fetch(`${server.url}${path}`);
      expect({ path, status: res.status, body: await res.text() }).toEqual({ path, status: 200, body: '<!doctype html><div id="root"></div>' });
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
  });

  it('serves hashed assets for good, and a missing asset as 404, not as the app', async () => {
    const js = await fetch(`${server.url}/console/assets/index-abc123.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toMatch(/immutable/);
    const missing = await fetch(`${server.url}/console/assets/index-gone.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
  });

  it('says how to build the console when it is not built', async () => {
    const bare = await serve(mkdtempSync(join(tmpdir(), 'gl-console-none-')));
    try {
      const res = await fetch(`${bare.url}/console/nodes`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await res.json()).toMatchObject({ code: 'console_not_built', detail: expect.stringContaining('npm run build') });
    } finally {
      await bare.close();
    }
  });
});
