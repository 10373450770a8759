import { Hash, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { ModelStoreError } from './model-store.errors';
import { PullProgress, StoreFetch, StoreItem } from './store-item';

export interface BlobDownload {
  item: StoreItem;
  /** Where the bytes accumulate; only a verified file leaves it (the caller renames it). */
  partialPath: string;
  fetch: StoreFetch;
  signal: AbortSignal;
  onProgress: (p: PullProgress) => void;
  progressIntervalMs: number;
}

/**
 * Brings `partialPath` to the whole file and checks its sha256 over every byte, the ones an
 * earlier, interrupted download left included. Resumes with `Range`; a server that ignores it
 * (200) starts the file over. Network errors and aborts leave the partial for the next try;
 * a wrong size or checksum deletes it, since resuming it could never succeed.
 */
export async function downloadBlob(d: BlobDownload): Promise<void> {
  const { item, partialPath } = d;
  let offset = await sizeOf(partialPath);
  if (offset > item.sizeBytes) {
    await rm(partialPath, { force: true });
    offset = 0;
  }
  const hash = createHash('sha256');
  if (offset === item.sizeBytes) {
    // A download that ended just before its rename: nothing left to fetch, only to verify.
    await hashFile(partialPath, offset, hash);
    report(d, offset, offset, performance.now(), 0);
    return verify(d, hash);
  }

  const res = await request(d, offset);
  const resumed = res.status === 206 ? offset : 0;
  if (resumed > 0) await hashFile(partialPath, resumed, hash);
  const file = await open(partialPath, resumed > 0 ? 'a' : 'w', 0o640);
  const started = performance.now();
  let received = 0;
  let reported = started;
  try {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read().catch((e: unknown) => {
        throw failure(d, 'the download was interrupted', e);
      });
      if (done) break;
      if (resumed + received + value.length > item.sizeBytes) {
        await reader.cancel().catch(() => undefined);
        throw await refuse(d, 'size_mismatch', `${item.name}: the server sent more than the ${item.sizeBytes} bytes expected`);
      }
      await file.write(value);
      hash.update(value);
      received += value.length;
      const now = performance.now();
      if (now - reported >= d.progressIntervalMs) {
        reported = now;
        report(d, resumed + received, resumed, started, received);
      }
      if (d.signal.aborted) {
        await reader.cancel().catch(() => undefined);
        throw d.signal.reason;
      }
    }
  } finally {
    await file.close();
  }
  if (resumed + received !== item.sizeBytes) {
    throw await refuse(d, 'size_mismatch', `${item.name}: the server sent ${resumed + received} bytes, expected ${item.sizeBytes}`);
  }
  report(d, item.sizeBytes, resumed, started, received);
  return verify(d, hash);
}

/** The GET, its status and its announced size checked before a byte is written. */
async function request(d: BlobDownload, offset: number): Promise<Response> {
  const { item } = d;
  let res: Response;
  try {
    res = await d.fetch(item.url, { headers: offset > 0 ? { range: `bytes=${offset}-` } : {}, signal: d.signal });
  } catch (e) {
    throw failure(d, 'the request failed', e);
  }
  if (res.status === 416) {
    // The server's file ends before our partial does: it is not the file we were told of.
    throw await refuse(d, 'size_mismatch', `${item.name}: the server has fewer than the ${offset} bytes already downloaded (expected ${item.sizeBytes})`, res);
  }
  if (res.status !== 200 && res.status !== 206) {
    const code = await problemCode(res);
    throw new ModelStoreError('download_failed', `${item.name}: ${where(item.url)} answered ${res.status}${code ? ` (${code})` : ''}`);
  }
  const served = res.headers.get('x-gridline-sha256');
  if (served && served.toLowerCase() !== item.sha256) {
    throw await refuse(d, 'checksum_mismatch', `${item.name}: the server serves sha256 ${served}, expected ${item.sha256}`, res);
  }
  const total = res.status === 206 ? rangeTotal(res, offset) : contentLength(res);
  if (total === 'bad-range') {
    await res.body?.cancel();
    throw new ModelStoreError('download_failed', `${item.name}: the server answered a range other than bytes=${offset}- (${res.headers.get('content-range')})`);
  }
  if (total !== null && total !== item.sizeBytes) {
    throw await refuse(d, 'size_mismatch', `${item.name}: the server's file has ${total} bytes, expected ${item.sizeBytes}`, res);
  }
  if (!res.body) throw new ModelStoreError('download_failed', `${item.name}: ${where(item.url)} answered without a body`);
  return res;
}

function rangeTotal(res: Response, offset: number): number | null | 'bad-range' {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  if (!m || Number(m[1]) !== offset) return 'bad-range';
  return m[3] === '*' ? null : Number(m[3]);
}

function contentLength(res: Response): number | null {
  const length = res.headers.get('content-length');
  return length === null ? null : Number(length);
}

async function verify(d: BlobDownload, hash: Hash): Promise<void> {
  const actual = hash.digest('hex');
  if (actual !== d.item.sha256) {
    throw await refuse(d, 'checksum_mismatch', `${d.item.name}: the downloaded file's sha256 is ${actual}, expected ${d.item.sha256}; it was deleted`);
  }
}

/** A refusal no retry of these bytes could fix: the partial goes. */
async function refuse(d: BlobDownload, code: 'size_mismatch' | 'checksum_mismatch', message: string, res?: Response): Promise<ModelStoreError> {
  await res?.body?.cancel().catch(() => undefined);
  await rm(d.partialPath, { force: true });
  return new ModelStoreError(code, message);
}

/** Aborts propagate as the caller's reason; anything else is a network failure, resumable. */
function failure(d: BlobDownload, what: string, cause: unknown): unknown {
  if (d.signal.aborted) return d.signal.reason;
  const why = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
  return new ModelStoreError('download_failed', `${d.item.name}: ${what} (${where(d.item.url)}: ${why})`, { cause });
}

function report(d: BlobDownload, bytes: number, resumed: number, started: number, received: number): void {
  const seconds = (performance.now() - started) / 1000;
  const total = d.item.sizeBytes;
  d.onProgress({
    name: d.item.name,
    sha256: d.item.sha256,
    bytes,
    totalBytes: total,
    percent: total > 0 ? (bytes / total) * 100 : 100,
    bytesPerSecond: seconds > 0 ? received / seconds : 0,
    resumedFromBytes: resumed,
  });
}

async function problemCode(res: Response): Promise<string | null> {
  try {
    const body = (await res.json()) as { code?: unknown };
    return typeof body.code === 'string' ? body.code : null;
  } catch {
    return null;
  }
}

/** A URL for messages: a signed URL's query (its credentials) stays out of them. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'the model URL';
  }
}

/** A file's size, 0 when it does not exist. */
export async function sizeOf(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    () => 0,
  );
}

async function hashFile(path: string, bytes: number, hash: Hash): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { end: bytes - 1 })) hash.update(chunk as Buffer);
}
