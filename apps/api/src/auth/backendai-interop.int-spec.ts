import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';

const CLIENT = join(__dirname, '..', '..', '..', '..', 'tools', 'interop', 'backendai_client.py');

/** A client written to Backend.AI's keypair scheme in Python, with hmac and hashlib only. */
describe('an independent Backend.AI-scheme client (Python, standard library only)', () => {
  let t: ApiTestApp;
  beforeAll(async () => {
    t = await startApiTestApp();
  });
  afterAll(() => t?.close());

  // Asynchronously: the api runs in this process and must keep serving while Python waits.
  const run = async (kase: string) =>
    (await promisify(execFile)('python3', [CLIENT, t.base, ROOT_ACCESS, ROOT_SECRET, kase], { encoding: 'utf8' })).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { status: number; body: Record<string, unknown> });

  it('gets 200 with a Gridline keypair', async () => {
    const [whoami, models] = await run('ok');
    expect(whoami).toMatchObject({ status: 200, body: { role: 'superadmin', credential: 'keypair', label: ROOT_ACCESS } });
    expect(models).toMatchObject({ status: 200, body: { object: 'list' } });
  });

  it('is refused with a wrong secret (401)', async () => {
    expect(await run('wrong-secret')).toEqual([{ case: 'wrong-secret', status: 401, body: expect.objectContaining({ code: 'signature_mismatch' }) }]);
  });

  it('is refused with a date 16 minutes off (400, Date/time sync error)', async () => {
    expect(await run('skewed-date')).toEqual([{ case: 'skewed-date', status: 400, body: expect.objectContaining({ title: 'Date/time sync error', code: 'date_sync_error' }) }]);
  });

  it('is refused without the version header (400)', async () => {
    expect(await run('no-version')).toEqual([{ case: 'no-version', status: 400, body: expect.objectContaining({ code: 'missing_version' }) }]);
  });

  it('is refused when it replays a request (401)', async () => {
    const [first, replay] = await run('replay');
    expect(first.status).toBe(200);
    expect(replay).toMatchObject({ status: 401, body: { code: 'replayed_request' } });
  });
});
