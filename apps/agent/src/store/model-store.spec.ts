import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore, ModelStoreOptions } from './model-store';
import { ModelStoreError } from './model-store.errors';
import { PullProgress, StoreFetch, StoreItem } from './store-item';

interface Served {
  ignoreRange?: boolean;
  /** The body breaks (a network error) after this many bytes. */
  failAfter?: number;
  /** Announce this content length instead of the true one. */
  announce?: number;
}

/** A fetch over in-memory files with byte ranges, recording the Range of each request. */
function files(contents: Map<string, Buffer>, served: Served = {}) {
  const requests: Array<{ url: string; range: string | null }> = [];
  const fetch: StoreFetch = async (url, init) => {
    const range = new Headers(init?.headers).get('range');
    requests.push({ url, range });
    const bytes = contents.get(url);
    if (!bytes) return new Response('{"code":"not_found"}', { status: 404 });
    const m = served.ignoreRange ? null : /^bytes=(\d+)-$/.exec(range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start >= bytes.length) return new Response(null, { status: 416 });
    const body = bytes.subarray(start);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (served.failAfter !== undefined && start + sent >= served.failAfter) return c.error(new Error('socket hang up'));
        const end = Math.min(body.length, sent + 1024, served.failAfter === undefined ? Infinity : served.failAfter - start);
        c.enqueue(new Uint8Array(body.subarray(sent, end)));
        sent = end;
        if (sent === body.length) c.close();
      },
    });
    const headers: Record<string, string> = { 'content-length': String(served.announce ?? body.length) };
    if (m) headers['content-range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    return new Response(stream, { status: m ? 206 : 200, headers });
  };
  return { fetch, requests };
}

const item = (name: string, bytes: Buffer): StoreItem => ({
  name,
  sha256: createHash('sha256').update(bytes).digest('hex'),
  sizeBytes: bytes.length,
  url: `http://control.test/api/v1/models/${name}/file`,
});

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof ModelStoreError)) throw new Error(`expected a ModelStoreError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}

describe('ModelStore', () => {
  const a = randomBytes(10_000);
  const b = randomBytes(10_000);
  const c = randomBytes(10_000);
  const contents = new Map([a, b, c].map((bytes, i) => [item(`m${i}`, bytes).url, bytes]));
  const [A, B, C] = [item('m0', a), item('m1', b), item('m2', c)];
  let root: string;
  let clock: number;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gl-store-'));
    clock = 1_700_000_000_000;
  });

  const store = (over: Partial<ModelStoreOptions> = {}, served: Served = {}) => {
    const http = files(contents, served);
    const s = new ModelStore({ root, maxBytes: 1e9, fetch: http.fetch, diskMarginBytes: 0, progressIntervalMs: 0, now: () => (clock += 1000), ...over });
    return { s, requests: http.requests };
  };
  const partialOf = (i: StoreItem) => join(root, 'blobs', `sha256-${i.sha256}.partial`);
  const blobNames = () => readdirSync(join(root, 'blobs')).sort();

  it('downloads a file under its sha256, verified, and serves it from disk after', async () => {
    const { s, requests } = store();
    const progress: PullProgress[] = [];
    const path = await s.ensure(A, { onProgress: (p) => progress.push(p) });
    expect(path).toBe(join(root, 'blobs', `sha256-${A.sha256}`));
    expect(readFileSync(path).equals(a)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ name: 'm0', bytes: a.length, totalBytes: a.length, percent: 100, resumedFromBytes: 0 });
    expect(await s.ensure(A)).toBe(path);
    expect(requests).toHaveLength(1);
    expect(await s.usage()).toEqual({ files: 1, bytes: a.length, partialBytes: 0 });
  });

  it('resumes a partial download with Range and checks the sha256 over the whole file', async () => {
    mkdirSync(join(root, 'blobs'));
    writeFileSync(partialOf(A), a.subarray(0, 4000));
    const { s, requests } = store();
    const progress: PullProgress[] = [];
    const path = await s.ensure(A, { onProgress: (p) => progress.push(p) });
    expect(requests.map((r) => r.range)).toEqual(['bytes=4000-']);
    expect(progress.at(-1)).toMatchObject({ bytes: a.length, resumedFromBytes: 4000 });
    expect(readFileSync(path).equals(a)).toBe(true);
    expect(existsSync(partialOf(A))).toBe(false);
  });

  it('starts over when the server ignores Range (200)', async () => {
    mkdirSync(join(root, 'blobs'));
    writeFileSync(partialOf(A), Buffer.alloc(4000));
    const { s } = store({}, { ignoreRange: true });
    const progress: PullProgress[] = [];
    const path = await s.ensure(A, { onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toMatchObject({ bytes: a.length, resumedFromBytes: 0 });
    expect(readFileSync(path).equals(a)).toBe(true);
  });

  it('refuses a corrupt partial with checksum_mismatch, keeps nothing, and downloads cleanly next time', async () => {
    mkdirSync(join(root, 'blobs'));
    const corrupt = Buffer.from(a.subarray(0, 4000));
    corrupt[17] ^= 0xff;
    writeFileSync(partialOf(A), corrupt);
    const { s } = store();
    const e = await refusal(s.ensure(A));
    expect(e.code).toBe('checksum_mismatch');
    expect(e.message).toContain(A.sha256);
    expect(blobNames()).toEqual([]);
    expect(readFileSync(await s.ensure(A)).equals(a)).toBe(true);
  });

  it('refuses a server whose file length disagrees with sizeBytes (size_mismatch), before writing', async () => {
    const { s } = store({}, { announce: a.length + 1 });
    const e = await refusal(s.ensure(A));
    expect(e).toMatchObject({ code: 'size_mismatch' });
    expect(e.message).toContain(`${a.length + 1} bytes, expected ${a.length}`);
    expect(blobNames()).toEqual([]);
  });

  it('refuses a server that has fewer bytes than the partial (416) with size_mismatch and drops the partial', async () => {
    const short = a.subarray(0, 3000);
    const http = files(new Map([[A.url, short]]));
    mkdirSync(join(root, 'blobs'));
    writeFileSync(partialOf(A), a.subarray(0, 4000));
    const s = new ModelStore({ root, maxBytes: 1e9, fetch: http.fetch, diskMarginBytes: 0 });
    expect((await refusal(s.ensure(A))).code).toBe('size_mismatch');
    expect(blobNames()).toEqual([]);
  });

  it('keeps the partial after a network error (download_failed) and resumes it on the next ensure', async () => {
    const broken = store({}, { failAfter: 6000 });
    const e = await refusal(broken.s.ensure(A));
    expect(e.code).toBe('download_failed');
    expect(e.message).toContain('socket hang up');
    expect(readFileSync(partialOf(A)).equals(a.subarray(0, 6000))).toBe(true);
    const { s, requests } = store();
    expect(readFileSync(await s.ensure(A)).equals(a)).toBe(true);
    expect(requests[0].range).toBe('bytes=6000-');
  });

  it('names the status and problem code of a refused request, never the query of a signed URL', async () => {
    const { s } = store();
    const e = await refusal(s.ensure({ ...A, url: 'http://control.test/absent?signature=secret' }));
    expect(e).toMatchObject({ code: 'download_failed', message: 'm0: http://control.test/absent answered 404 (not_found)' });
  });

  it('refuses an item without a lowercase hex sha256, a positive size or an absolute URL', async () => {
    const { s, requests } = store();
    for (const bad of [{ ...A, sha256: A.sha256.toUpperCase() }, { ...A, sizeBytes: 0 }, { ...A, url: '/api/v1/models/m0/file' }]) {
      expect((await refusal(s.ensure(bad))).code).toBe('invalid_item');
    }
    expect(requests).toHaveLength(0);
  });

  it('shares one download between concurrent callers; one caller giving up does not stop the other', async () => {
    const { s, requests } = store();
    const quitter = new AbortController();
    const seen = { first: 0, second: 0 };
    const first = s.ensure(A, { onProgress: () => seen.first++ });
    const second = s.ensure(A, {
      signal: quitter.signal,
      onProgress: () => {
        seen.second++;
        quitter.abort(new Error('replica cancelled'));
      },
    });
    await expect(second).rejects.toThrow('replica cancelled');
    expect(readFileSync(await first).equals(a)).toBe(true);
    expect(requests).toHaveLength(1);
    expect(seen.second).toBe(1);
    expect(seen.first).toBeGreaterThan(1);
  });

  it('stops the download when its only caller aborts, leaving the partial for the next ensure', async () => {
    const { s, requests } = store();
    const ac = new AbortController();
    const aborted = s.ensure(A, { signal: ac.signal, onProgress: (p) => p.bytes >= 5000 && ac.abort(new Error('stop')) });
    await expect(aborted).rejects.toThrow('stop');
    expect(readFileSync(partialOf(A)).equals(a.subarray(0, 5120))).toBe(true);
    const progress: PullProgress[] = [];
    expect(readFileSync(await s.ensure(A, { onProgress: (p) => progress.push(p) })).equals(a)).toBe(true);
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=5120-']);
    expect(progress.at(-1)?.resumedFromBytes).toBe(5120);
  });

  describe('eviction', () => {
    it('evicts the least recently used unpinned files past maxBytes, before a download', async () => {
      const { s } = store({ maxBytes: 25_000 });
      await s.ensure(A);
      await s.ensure(B);
      await s.ensure(A); // A is now more recent than B
      await s.ensure(C);
      expect(blobNames()).toEqual([`sha256-${A.sha256}`, `sha256-${C.sha256}`].sort());
    });

    it('never evicts a pinned file; pins are counted, and unpinning twice releases once', async () => {
      const { s } = store({ maxBytes: 25_000 });
      await s.ensure(A);
      const unpin1 = s.pin(A.sha256);
      const unpin2 = s.pin(A.sha256);
      unpin1();
      unpin1();
      await s.ensure(B);
      await s.ensure(C); // A (oldest) is still held by the second replica: B goes
      expect(blobNames()).toEqual([`sha256-${A.sha256}`, `sha256-${C.sha256}`].sort());
      unpin2();
      // A's last use is now its unpin, later than C's download: C is the oldest.
      expect(await s.ensure(B)).toBe(s.pathOf(B.sha256));
      expect(blobNames()).toEqual([`sha256-${A.sha256}`, `sha256-${B.sha256}`].sort());
    });

    it('evict() removes least recently used unpinned files while the store exceeds maxBytes', async () => {
      const big = store({ maxBytes: 1e9 });
      await big.s.ensure(A);
      await big.s.ensure(B);
      await big.s.ensure(C);
      const { s } = store({ maxBytes: 20_000 });
      const unpin = s.pin(A.sha256);
      expect(await s.evict()).toEqual([s.pathOf(B.sha256)]);
      expect(await s.usage()).toMatchObject({ files: 2, bytes: 20_000 });
      expect(await s.evict()).toEqual([]);
      unpin();
      // A was in use until now: C, idle since its download, is the least recently used.
      const smaller = store({ maxBytes: 10_000 });
      expect(await smaller.s.evict()).toEqual([s.pathOf(C.sha256)]);
    });

    it('refuses with insufficient_disk, evicting nothing, when even evicting every unpinned file would not make room', async () => {
      let free = 1e9;
      const { s } = store({ diskFree: async () => free, diskMarginBytes: 5000 });
      await s.ensure(A);
      await s.ensure(B);
      const unpin = s.pin(A.sha256);
      free = 4000;
      const e = await refusal(s.ensure(C));
      expect(e.code).toBe('insufficient_disk');
      expect(e.message).toBe(
        'm2: needs 15000 bytes of free disk (10000 to download + 5000 margin); 4000 are free and 10000 more could be evicted (10000 are pinned by loaded replicas)',
      );
      expect(blobNames()).toEqual([`sha256-${A.sha256}`, `sha256-${B.sha256}`].sort());
      unpin();
    });

    it('evicts to make disk room when that is enough, and counts the partial bytes already on disk', async () => {
      let free = 1e9;
      const { s } = store({ diskFree: async () => free, diskMarginBytes: 5000 });
      await s.ensure(A);
      await s.ensure(B);
      const unpin = s.pin(B.sha256);
      free = 8000;
      writeFileSync(partialOf(C), c.subarray(0, 2000));
      // Needs 8000 + 5000: evicting A (10000) gives 18000.
      await s.ensure(C);
      expect(blobNames()).toEqual([`sha256-${B.sha256}`, `sha256-${C.sha256}`].sort());
      free = 0;
      expect((await refusal(s.ensure(A))).message).toContain('needs 15000 bytes of free disk (10000 to download + 5000 margin); 0 are free and 10000 more could be evicted');
      unpin();
    });

    it('counts the bytes another download in flight has yet to write as taken', async () => {
      let release!: () => void;
      let asked!: () => void;
      const stalled = new Promise<void>((r) => (release = r));
      const requested = new Promise<void>((r) => (asked = r));
      const http = files(contents);
      const fetch: StoreFetch = async (url, init) => {
        if (url !== A.url) return http.fetch(url, init);
        asked();
        await stalled;
        return http.fetch(url, init);
      };
      const { s } = store({ fetch, diskFree: async () => 15_000, diskMarginBytes: 0 });
      const first = s.ensure(A);
      await requested; // A has its room and waits on the server
      const e = await refusal(s.ensure(B));
      expect(e.message).toBe('m1: needs 10000 bytes of free disk (10000 to download + 0 margin); 5000 are free after 10000 promised to other downloads and 0 more could be evicted');
      release();
      expect(readFileSync(await first).equals(a)).toBe(true);
    });

    it('refuses a file that cannot fit the cap beside the pinned ones', async () => {
      const { s } = store({ maxBytes: 15_000 });
      await s.ensure(A);
      const unpin = s.pin(A.sha256);
      const e = await refusal(s.ensure(B));
      expect(e).toEqual({ code: 'insufficient_disk', message: "m1: 10000 bytes do not fit the store's cap of 15000 bytes (GRIDLINE_MODEL_STORE_MAX_BYTES): 10000 bytes are pinned by loaded replicas" });
      unpin();
      await s.ensure(B);
      expect(blobNames()).toEqual([`sha256-${B.sha256}`]);
    });
  });

  it('reports free disk from the filesystem', async () => {
    const { s } = store({ diskFree: undefined });
    expect(await s.freeDiskBytes()).toBeGreaterThan(0);
  });
});
