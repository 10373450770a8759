import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signingFetch } from '@gridline/auth';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { ApiProcess, startApiProcess } from '@gridline/testing';
import { ModelStore } from './model-store';
import { ModelStoreError } from './model-store.errors';
import { PullProgress, StoreFetch, StoreItem } from './store-item';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('model store: pulls from the real api (catalog upload, signed GET with Range)', () => {
  let api: ApiProcess;
  let signed: StoreFetch;
  let item: StoreItem;
  // A real GGUF of about 8 MB: large enough to be cut halfway through.
  const gguf = encodeGguf(buildTinyLlama({ seed: 11, embedding: 256, feedForward: 1024, layers: 2 }));

  beforeAll(async () => {
    api = await startApiProcess({ GRIDLINE_MODEL_ROOTS: mkdtempSync(join(tmpdir(), 'gl-api-models-')) });
    signed = signingFetch(api.root);
    const put = await signed(`${api.base}/api/v1/models/store-tiny/file`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(gguf) });
    expect(put.status).toBe(201);
    const model = (await put.json()) as { name: string; sha256: string; sizeBytes: number };
    expect(model).toMatchObject({ sha256: sha256(gguf), sizeBytes: gguf.length });
    item = { name: model.name, sha256: model.sha256, sizeBytes: model.sizeBytes, url: `${api.base}/api/v1/models/${model.name}/file` };
  });

  afterAll(() => api?.stop());

  /** A store in a fresh directory whose requests are signed by the api's root keypair and counted. */
  const newStore = () => {
    const requests: Array<string | null> = [];
    const fetch: StoreFetch = (url, init) => {
      requests.push(new Headers(init?.headers).get('range'));
      return signed(url, init);
    };
    const root = mkdtempSync(join(tmpdir(), 'gl-agent-store-'));
    return { store: new ModelStore({ root, maxBytes: 1024 ** 3, fetch, progressIntervalMs: 0 }), root, requests };
  };

  /** Starts a pull and aborts it once half the file is on disk; resolves to what the abort left. */
  async function interruptHalfway(store: ModelStore): Promise<string> {
    const ac = new AbortController();
    const cut = new Error('cut halfway');
    const pull = store.ensure(item, { signal: ac.signal, onProgress: (p) => p.bytes >= item.sizeBytes / 2 && ac.abort(cut) });
    await expect(pull).rejects.toBe(cut);
    return `${store.pathOf(item.sha256)}.partial`;
  }

  it('resumes an interrupted download with Range and ends with the catalog sha256', async () => {
    const { store, requests } = newStore();
    const partial = await interruptHalfway(store);
    const left = readFileSync(partial).length;
    expect(left).toBeGreaterThanOrEqual(item.sizeBytes / 2);
    expect(left).toBeLessThan(item.sizeBytes);
    expect(existsSync(store.pathOf(item.sha256))).toBe(false);

    const progress: PullProgress[] = [];
    const path = await store.ensure(item, { onProgress: (p) => progress.push(p) });
    expect(requests).toEqual([null, `bytes=${left}-`]);
    expect(progress[0].resumedFromBytes).toBe(left);
    expect(progress.at(-1)).toMatchObject({ bytes: item.sizeBytes, totalBytes: item.sizeBytes, percent: 100, resumedFromBytes: left });
    expect(sha256(readFileSync(path))).toBe(item.sha256);
    expect(existsSync(partial)).toBe(false);
  });

  it('refuses a corrupted partial with checksum_mismatch, leaves nothing loadable, then downloads cleanly', async () => {
    const { store, root } = newStore();
    const partial = await interruptHalfway(store);
    const bytes = readFileSync(partial);
    for (let i = 1000; i < 1016; i++) bytes[i] ^= 0xff;
    writeFileSync(partial, bytes);

    const refused = await store.ensure(item).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModelStoreError);
    expect(refused).toMatchObject({ code: 'checksum_mismatch' });
    expect(existsSync(store.pathOf(item.sha256))).toBe(false);
    expect(readdirSync(join(root, 'blobs'))).toEqual([]);

    const progress: PullProgress[] = [];
    const path = await store.ensure(item, { onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)?.resumedFromBytes).toBe(0);
    expect(sha256(readFileSync(path))).toBe(item.sha256);
  });

  it('shares one download between two concurrent ensure() calls of one file', async () => {
    const { store, requests } = newStore();
    const seen: [number, number] = [0, 0];
    const [a, b] = await Promise.all([store.ensure(item, { onProgress: () => seen[0]++ }), store.ensure(item, { onProgress: () => seen[1]++ })]);
    expect(a).toBe(b);
    expect(requests).toEqual([null]);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[1]).toBe(seen[0]);
    expect(sha256(readFileSync(a))).toBe(item.sha256);
  });
});
