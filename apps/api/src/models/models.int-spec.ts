import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LLAMA_PRESETS, MODEL_PRESETS, buildLlamaHeader, buildPresetHeader, buildTinyLlama, encodeGguf } from '@gridline/models';
import { signRequest } from '@gridline/auth';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';
import { rowCounts } from '../testing/row-counts';
import { TeamFixture, createTeamFixture } from '../testing/tenancy-fixture';

interface Model {
  name: string;
  headerOnly: boolean;
  sizeBytes: number;
  architecture: string;
  layers: number;
  contextLength: number;
  teamId: string | null;
}

/** A static file server with byte ranges, counting the bytes it sends. */
function rangeServer(dir: string): Promise<{ server: Server; base: string; sent: () => number }> {
  let sent = 0;
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    const [start, end] = m ? [Number(m[1]), Math.min(Number(m[2]), size - 1)] : [0, size - 1];
    res.writeHead(m ? 206 : 200, { 'content-length': end - start + 1, ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
    createReadStream(path, { start, end })
      .on('data', (c) => (sent += c.length))
      .pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent })));
}

describe('model catalog: registration from a GGUF header (in-process api, real Postgres)', () => {
  let t: ApiTestApp;
  let team: TeamFixture;
  const dir = mkdtempSync(join(tmpdir(), 'gl-models-'));
  const outside = mkdtempSync(join(tmpdir(), 'gl-outside-'));
  const tiny = encodeGguf(buildTinyLlama({ seed: 7 }));
  const file = (name: string, bytes: Buffer) => {
    writeFileSync(join(dir, name), bytes);
    return `file://${join(dir, name)}`;
  };

  beforeAll(async () => {
    t = await startApiTestApp({ GRIDLINE_MODEL_ROOTS: dir, GRIDLINE_MODEL_UPLOAD_MAX_BYTES: String(tiny.length + 4096) });
    team = await createTeamFixture(t, 'models-team');
  });

  afterAll(() => t?.close());

  const register = (body: Record<string, unknown>, caller = t.root) => caller('/api/v1/models', { method: 'POST', body });
  const problem = (r: { status: number; body: unknown }) => {
    const b = r.body as { code: string; detail: string; param?: string };
    return { status: r.status, code: b.code, param: b.param };
  };

  it('registers the tiny real model from a file:// source with the facts of its header', async () => {
    const res = await register({ name: 'tiny-real', source: file('tiny.gguf', tiny) });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'tiny-real', headerOnly: false, architecture: 'llama', sizeBytes: tiny.length, teamId: null });
    // The catalog card's facts: family, quantization (general.file_type 0 = F32) and tool support (its ChatML template takes no tools).
    expect((await t.root('/api/v1/models/tiny-real')).body).toMatchObject({ name: 'tiny-real', family: 'llama', quantization: 'F32', toolSupport: false });
  });

  it('registers a header-only 70B of real shape for planning, marked as never deployable', async () => {
    const header = encodeGguf(buildLlamaHeader(LLAMA_PRESETS['llama-3-70b']), { headerOnly: true });
    const res = await register({ name: 'llama-3-70b-shape', source: file('llama-3-70b.gguf', header) });
    expect(res.status).toBe(201);
    expect(res.body as Model).toMatchObject({ headerOnly: true, layers: 80, contextLength: 8192, sizeBytes: header.length, toolSupport: null });
  });

  it('reads only the header of an http(s) source that serves byte ranges', async () => {
    const big = encodeGguf(buildTinyLlama({ seed: 8 }));
    writeFileSync(join(outside, 'served.gguf'), big);
    const { server, base, sent } = await rangeServer(outside);
    try {
      const res = await register({ name: 'tiny-http', source: `${base}/served.gguf` });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ sizeBytes: big.length, headerOnly: false });
      expect(sent()).toBeLessThanOrEqual(1 << 20);
      expect(problem(await register({ name: 'missing-http', source: `${base}/nope.gguf` }))).toEqual({ status: 422, code: 'model_source_unreachable', param: 'source' });
    } finally {
      server.close();
    }
  });

  it('refuses truncated, incomplete, non-GGUF and out-of-place files with a 4xx naming the problem, and registers nothing', async () => {
    const before = await rowCounts(t.pg);
    const { metadata, tensors } = buildTinyLlama({ seed: 9 });
    const withoutKey = new Map(metadata);
    withoutKey.delete('llama.attention.head_count');
    const cases: [string, string, number, string, RegExp][] = [
      ['cut in its weights', file('cut-weights.gguf', tiny.subarray(0, tiny.length - 1000)), 422, 'invalid_model_file', /truncated: its header describes \d+ bytes, the file has \d+/],
      ['cut in its header', file('cut-header.gguf', tiny.subarray(0, 200)), 422, 'invalid_model_file', /ends inside its GGUF header/],
      ['missing a key llama.cpp needs', file('no-heads.gguf', encodeGguf({ metadata: withoutKey, tensors })), 422, 'invalid_model_file', /llama\.attention\.head_count is missing/],
      ['not a GGUF', file('model.safetensors', Buffer.from('{"__metadata__":{}}'.padEnd(4096, ' '))), 422, 'invalid_model_file', /not a GGUF file/],
      ['outside the model directories', `file://${join(outside, 'served.gguf')}`, 400, 'invalid_model_source', /GRIDLINE_MODEL_ROOTS/],
      ['an absent file', `file://${join(dir, 'absent.gguf')}`, 422, 'model_source_unreachable', /no file/],
      ['another scheme', 's3://bucket/model.gguf', 400, 'invalid_model_source', /file:\/\/ or http/],
    ];
    for (const [what, source, status, code, detail] of cases) {
      const res = await register({ name: `bad-${what.replace(/\W+/g, '-')}`, source });
      expect({ what, ...problem(res) }).toEqual({ what, status, code, param: 'source' });
      expect((res.body as { detail: string }).detail).toMatch(detail);
    }
    expect(await rowCounts(t.pg)).toEqual(before);
  });

  it('computes the requirements of a registered file as of its preset, and meets the published figure', async () => {
    const GiB = 1024 ** 3;
    const header = encodeGguf(buildPresetHeader(MODEL_PRESETS['llama-3.1-70b'], 'Q4_K_M'), { headerOnly: true });
    expect((await register({ name: 'llama-3.1-70b-q4km', source: file('llama-3.1-70b-q4km.gguf', header) })).status).toBe(201);
    const fromFile = await t.root('/api/v1/models/llama-3.1-70b-q4km/requirements?contextSize=2048');
    const fromPreset = await t.root('/api/v1/model-presets/llama-3.1-70b/requirements?quantization=Q4_K_M&contextSize=2048');
    expect([fromFile.status, fromPreset.status]).toEqual([200, 200]);
    const { model: _a, ...file70b } = fromFile.body as Record<string, unknown>;
    const { model: _b, ...preset70b } = fromPreset.body as Record<string, unknown>;
    expect(file70b).toEqual(preset70b);
    const r = fromFile.body as { weightsBytes: number; kvCacheBytes: number; computeBytes: number; overheadBytes: number; totalBytes: number; layers: number };
    expect(r.weightsBytes + r.kvCacheBytes + r.computeBytes + r.overheadBytes).toBe(r.totalBytes);
    expect(r.layers).toBe(80);
    // gguf-parser publishes 40.49 GiB for this file at a 2,048 context: within 5 % or 256 MiB.
    expect(Math.abs(r.totalBytes / GiB - 40.49)).toBeLessThan(Math.max(0.05 * 40.49, 0.25));

    const split = (await t.root('/api/v1/models/llama-3.1-70b-q4km/requirements?contextSize=2048&gpus=24,24')).body as { split: { fits: boolean; gpus: { layers: number[] }[] } };
    expect(split.split.fits).toBe(true);
    expect(split.split.gpus.map((g) => g.layers)).toEqual([[0, expect.any(Number)], [expect.any(Number), 79]]);
    const short = (await t.root('/api/v1/models/llama-3.1-70b-q4km/requirements?contextSize=2048&gpus=16,16')).body as { split: { fits: boolean; message: string } };
    expect(short.split).toMatchObject({ fits: false, message: expect.stringMatching(/GiB/) });
    expect((await t.root('/api/v1/model-presets')).body).toMatchObject({ items: expect.arrayContaining([expect.objectContaining({ name: 'qwen2.5-72b', layers: 80 })]) });
    expect((await t.root('/api/v1/model-presets/nope/requirements?quantization=Q4_K_M')).status).toBe(404);
  }, 60_000);

  it('takes an upload into the store (hashed as it streams, size-limited) and serves it back with byte ranges and its sha256', async () => {
    const signed = (method: string, path: string, extra: Record<string, string> = {}, contentType = 'application/octet-stream') => ({
      ...signRequest({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET, method, pathAndQuery: path, host: t.host, contentType }),
      ...extra,
    });
    const put = (name: string, body: Buffer, contentType = 'application/octet-stream') =>
      fetch(`${t.base}/api/v1/models/${name}/file`, { method: 'PUT', headers: signed('PUT', `/api/v1/models/${name}/file`, {}, contentType), body: new Uint8Array(body) });
    const sha = createHash('sha256').update(tiny).digest('hex');

    const up = await put('uploaded-tiny', tiny);
    expect(up.status).toBe(201);
    expect(await up.json()).toMatchObject({ name: 'uploaded-tiny', sha256: sha, sizeBytes: tiny.length, headerOnly: false });

    const part = await fetch(`${t.base}/api/v1/models/uploaded-tiny/file`, { headers: signed('GET', '/api/v1/models/uploaded-tiny/file', { range: 'bytes=100-199' }) });
    expect([part.status, part.headers.get('content-range'), part.headers.get('x-gridline-sha256')]).toEqual([206, `bytes 100-199/${tiny.length}`, sha]);
    expect(Buffer.from(await part.arrayBuffer()).equals(tiny.subarray(100, 200))).toBe(true);
    const whole = await fetch(`${t.base}/api/v1/models/uploaded-tiny/file`, { headers: signed('GET', '/api/v1/models/uploaded-tiny/file') });
    expect(createHash('sha256').update(Buffer.from(await whole.arrayBuffer())).digest('hex')).toBe(sha);

    // Refused uploads leave no file behind and no row.
    const before = await rowCounts(t.pg);
    const files = readdirSync(dir).length;
    const refusals = [
      [await put('cut-upload', tiny.subarray(0, tiny.length - 500)), 422],
      [await put('huge-upload', Buffer.concat([tiny, Buffer.alloc(8192)])), 413],
      [await put('json-upload', tiny, 'application/json'), 415],
      [await put('uploaded-tiny', tiny), 409],
    ] as const;
    expect(refusals.map(([r]) => r.status)).toEqual(refusals.map(([, s]) => s));
    expect(await rowCounts(t.pg)).toEqual(before);
    expect(readdirSync(dir).length).toBe(files);
    expect(readdirSync(join(dir, '.uploads'))).toEqual([]);
    const headerOnly = await fetch(`${t.base}/api/v1/models/llama-3-70b-shape/file`, { headers: signed('GET', '/api/v1/models/llama-3-70b-shape/file') });
    expect(headerOnly.status).toBe(409);
  });

  it('refuses a taken name with 409, and keeps a team model to its team', async () => {
    expect(problem(await register({ name: 'tiny-real', source: file('tiny-again.gguf', tiny) }))).toEqual({ status: 409, code: 'model_exists', param: 'name' });
    const own = await register({ name: 'team-tiny', source: file('team.gguf', tiny) }, team.admin.call);
    expect(own.status).toBe(201);
    expect((own.body as Model).teamId).toBe(team.teamId);
    const other = await createTeamFixture(t, 'other-models-team');
    expect((await other.admin.call('/api/v1/models/team-tiny')).status).toBe(404);
    expect(((await other.admin.call('/api/v1/models')).body as { items: Model[] }).items.map((m) => m.name)).toEqual(expect.arrayContaining(['tiny-real']));
    expect(((await other.admin.call('/api/v1/models')).body as { items: Model[] }).items.map((m) => m.name)).not.toContain('team-tiny');
    expect((await other.admin.call('/api/v1/models/tiny-real', { method: 'DELETE' })).status).toBe(404);
    expect((await team.member.call('/api/v1/models', { method: 'POST', body: { name: 'member-model', source: file('m.gguf', tiny) } })).status).toBe(403);
    expect((await team.admin.call('/api/v1/models/team-tiny', { method: 'DELETE' })).status).toBe(204);
  });
});
