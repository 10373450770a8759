import { mkdir, readdir, rename, rm, stat, statfs, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadBlob, sizeOf } from './blob-download';
import { ModelStoreError } from './model-store.errors';
import { PullProgress, StoreFetch, StoreItem } from './store-item';

export interface ModelStoreOptions {
  /** The store's directory (the agent's GRIDLINE_DATA_DIR/models). */
  root: string;
  /** Cap on the complete files kept (GRIDLINE_MODEL_STORE_MAX_BYTES). */
  maxBytes: number;
  fetch: StoreFetch;
  /** Free disk kept beyond what a download needs (default 256 MiB). */
  diskMarginBytes?: number;
  /** Least time between two progress reports of one download (default 250 ms). */
  progressIntervalMs?: number;
  /** Free bytes on the store's filesystem (default: statfs); tests replace it to play a full disk. */
  diskFree?: (root: string) => Promise<number>;
  /** The clock of last uses (default Date.now). */
  now?: () => number;
}

export interface EnsureOptions {
  onProgress?: (p: PullProgress) => void;
  /** Abandons this caller's wait; the download stops when no caller is left, keeping its partial. */
  signal?: AbortSignal;
}

interface Blob {
  sha256: string;
  path: string;
  sizeBytes: number;
  lastUsedMs: number;
}

/** One download of one file, however many callers wait for it. */
interface SharedDownload {
  promise: Promise<string>;
  settled: Promise<void>;
  controller: AbortController;
  listeners: Set<(p: PullProgress) => void>;
  callers: number;
  item: StoreItem;
  /** Its disk and cap were granted: what it has yet to write is taken. */
  hasRoom: boolean;
}

const SHA256 = /^[0-9a-f]{64}$/;
const BLOB_NAME = /^sha256-([0-9a-f]{64})$/;
const MiB = 1024 ** 2;

/**
 * The agent's model files, stored by content under `<root>/blobs/sha256-<hex>`. A file gets
 * that name only once its sha256 over every byte matched, so a path this store returns is
 * always a verified file. Downloads resume from `sha256-<hex>.partial`. Past `maxBytes`, or
 * when the disk is short, the least recently used files no replica pins are evicted; last
 * use is the file's mtime, touched on ensure, pin and unpin, so it survives restarts.
 */
export class ModelStore {
  private readonly blobs: string;
  private readonly pins = new Map<string, number>();
  private readonly downloads = new Map<string, SharedDownload>();
  private readonly diskMarginBytes: number;
  private readonly progressIntervalMs: number;
  private readonly now: () => number;
  private readonly diskFree: (root: string) => Promise<number>;
  /** Space checks and evictions run one at a time, so two downloads never count the same free bytes. */
  private spaceLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ModelStoreOptions) {
    this.blobs = join(opts.root, 'blobs');
    this.diskMarginBytes = opts.diskMarginBytes ?? 256 * MiB;
    this.progressIntervalMs = opts.progressIntervalMs ?? 250;
    this.now = opts.now ?? Date.now;
    this.diskFree = opts.diskFree ?? statfsFree;
  }

  /** Where a verified file of this sha256 lives (whether or not it is there). */
  pathOf(sha256: string): string {
    return join(this.blobs, `sha256-${sha256}`);
  }

  /**
   * The local path of the verified file, downloaded (or resumed) when absent. Concurrent calls
   * for one sha256 share one download; each gets its progress.
   */
  async ensure(item: StoreItem, opts: EnsureOptions = {}): Promise<string> {
    checkItem(item);
    opts.signal?.throwIfAborted();
    let shared = this.downloads.get(item.sha256);
    // A download every caller abandoned is still closing its partial: wait, then start afresh.
    while (shared?.controller.signal.aborted) {
      await shared.settled;
      shared = this.downloads.get(item.sha256);
    }
    if (!shared) shared = this.startDownload(item);
    return this.join(shared, opts);
  }

  /** Marks a file in use by a loaded replica: never evicted until every pin is released. */
  pin(sha256: string): () => void {
    this.pins.set(sha256, (this.pins.get(sha256) ?? 0) + 1);
    void this.touch(sha256);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.pins.get(sha256) ?? 1) - 1;
      if (left > 0) this.pins.set(sha256, left);
      else this.pins.delete(sha256);
      // Last use is when the replica let go: it outranks files idle for longer.
      void this.touch(sha256);
    };
  }

  /** Removes least recently used unpinned files while the complete files exceed maxBytes; returns their paths. */
  evict(): Promise<string[]> {
    return this.exclusive(async () => {
      const blobs = await this.listBlobs();
      let bytes = sum(blobs);
      const removed: string[] = [];
      for (const blob of this.evictable(blobs)) {
        if (bytes <= this.opts.maxBytes) break;
        await rm(blob.path, { force: true });
        bytes -= blob.sizeBytes;
        removed.push(blob.path);
      }
      return removed;
    });
  }

  async freeDiskBytes(): Promise<number> {
    await mkdir(this.blobs, { recursive: true });
    return this.diskFree(this.opts.root);
  }

  /** sha256 of every complete file in the store (names only: cheap enough for each heartbeat). */
  async storedSha256s(): Promise<string[]> {
    return (await this.names()).flatMap((name) => BLOB_NAME.exec(name)?.[1] ?? []);
  }

  /** The complete files; `partialBytes` counts what unfinished downloads hold. */
  async usage(): Promise<{ files: number; bytes: number; partialBytes: number }> {
    const blobs = await this.listBlobs();
    let partialBytes = 0;
    for (const name of await this.names()) {
      if (name.endsWith('.partial')) partialBytes += await sizeOf(join(this.blobs, name));
    }
    return { files: blobs.length, bytes: sum(blobs), partialBytes };
  }

  private startDownload(item: StoreItem): SharedDownload {
    const shared: SharedDownload = {
      controller: new AbortController(),
      listeners: new Set(),
      callers: 0,
      item,
      hasRoom: false,
      promise: Promise.resolve(''),
      settled: Promise.resolve(),
    };
    shared.promise = this.fetchBlob(item, shared).finally(() => {
      if (this.downloads.get(item.sha256) === shared) this.downloads.delete(item.sha256);
    });
    shared.settled = shared.promise.then(
      () => undefined,
      () => undefined,
    );
    this.downloads.set(item.sha256, shared);
    return shared;
  }

  /** One caller's wait on a shared download; the last caller to abort stops it and waits for its partial to close. */
  private join(shared: SharedDownload, opts: EnsureOptions): Promise<string> {
    const { onProgress, signal } = opts;
    shared.callers++;
    if (onProgress) shared.listeners.add(onProgress);
    let left = false;
    const leave = () => {
      if (left) return false;
      left = true;
      if (onProgress) shared.listeners.delete(onProgress);
      return --shared.callers === 0;
    };
    return new Promise<string>((resolve, reject) => {
      const onAbort = () => {
        if (!leave()) return reject(signal?.reason);
        shared.controller.abort(signal?.reason);
        void shared.settled.then(() => reject(signal?.reason));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      shared.promise.then(
        (path) => {
          signal?.removeEventListener('abort', onAbort);
          leave();
          resolve(path);
        },
        (e: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          leave();
          reject(e);
        },
      );
    });
  }

  private async fetchBlob(item: StoreItem, shared: SharedDownload): Promise<string> {
    const path = this.pathOf(item.sha256);
    const existing = await sizeOf(path);
    if (existing === item.sizeBytes) {
      await this.touch(item.sha256);
      return path;
    }
    // A file of the wrong size under a verified name was damaged after the fact: fetch it again.
    if (existing > 0) await rm(path, { force: true });
    const partialPath = `${path}.partial`;
    await this.exclusive(async () => {
      await this.makeRoom(item, partialPath);
      shared.hasRoom = true;
    });
    await downloadBlob({
      item,
      partialPath,
      fetch: this.opts.fetch,
      signal: shared.controller.signal,
      progressIntervalMs: this.progressIntervalMs,
      onProgress: (p) => {
        for (const listener of shared.listeners) {
          try {
            listener(p);
          } catch {
            // One caller's faulty callback must not fail the others' download.
          }
        }
      },
    });
    await rename(partialPath, path);
    await this.touch(item.sha256);
    return path;
  }

  /**
   * Plans the evictions that give the download its disk (what is left to fetch plus the margin)
   * and keep the store under its cap, and makes them only when that is enough.
   */
  private async makeRoom(item: StoreItem, partialPath: string): Promise<void> {
    const partial = Math.min(await sizeOf(partialPath), item.sizeBytes);
    const needDisk = item.sizeBytes - partial + this.diskMarginBytes;
    const free = await this.freeDiskBytes();
    // Other downloads granted room will still write what they have not yet.
    let reserved = 0;
    let incoming = item.sizeBytes;
    for (const [sha, other] of this.downloads) {
      if (!other.hasRoom) continue;
      reserved += other.item.sizeBytes - Math.min(await sizeOf(`${this.pathOf(sha)}.partial`), other.item.sizeBytes);
      incoming += other.item.sizeBytes;
    }
    const blobs = await this.listBlobs();
    let stored = sum(blobs);
    let available = free - reserved;
    const chosen: Blob[] = [];
    for (const blob of this.evictable(blobs)) {
      if (available >= needDisk && stored + incoming <= this.opts.maxBytes) break;
      chosen.push(blob);
      available += blob.sizeBytes;
      stored -= blob.sizeBytes;
    }
    if (available < needDisk) {
      const pinned = sum(blobs.filter((b) => this.pins.has(b.sha256)));
      throw new ModelStoreError(
        'insufficient_disk',
        `${item.name}: needs ${needDisk} bytes of free disk (${item.sizeBytes - partial} to download + ${this.diskMarginBytes} margin); ` +
          `${Math.max(0, free - reserved)} are free${reserved > 0 ? ` after ${reserved} promised to other downloads` : ''} and ${sum(chosen)} more could be evicted${pinned > 0 ? ` (${pinned} are pinned by loaded replicas)` : ''}`,
      );
    }
    if (stored + incoming > this.opts.maxBytes) {
      throw new ModelStoreError(
        'insufficient_disk',
        `${item.name}: ${item.sizeBytes} bytes do not fit the store's cap of ${this.opts.maxBytes} bytes (GRIDLINE_MODEL_STORE_MAX_BYTES): ` +
          `${stored} bytes are pinned by loaded replicas${incoming > item.sizeBytes ? ` and ${incoming - item.sizeBytes} are being downloaded` : ''}`,
      );
    }
    for (const blob of chosen) await rm(blob.path, { force: true });
  }

  /** Unpinned complete files, least recently used first; one a caller is fetching is never among them. */
  private evictable(blobs: Blob[]): Blob[] {
    return blobs.filter((b) => !this.pins.has(b.sha256) && !this.downloads.has(b.sha256)).sort((a, b) => a.lastUsedMs - b.lastUsedMs);
  }

  private async listBlobs(): Promise<Blob[]> {
    const blobs: Blob[] = [];
    for (const name of await this.names()) {
      const m = BLOB_NAME.exec(name);
      if (!m) continue;
      const path = join(this.blobs, name);
      const s = await stat(path).catch(() => null);
      if (s?.isFile()) blobs.push({ sha256: m[1], path, sizeBytes: s.size, lastUsedMs: s.mtimeMs });
    }
    return blobs;
  }

  private async names(): Promise<string[]> {
    return readdir(this.blobs).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
  }

  private async touch(sha256: string): Promise<void> {
    const at = new Date(this.now());
    await utimes(this.pathOf(sha256), at, at).catch(() => undefined);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.spaceLock.then(work, work);
    this.spaceLock = run.catch(() => undefined);
    return run;
  }
}

function checkItem(item: StoreItem): void {
  if (!SHA256.test(item.sha256)) throw new ModelStoreError('invalid_item', `${item.name}: sha256 must be 64 lowercase hex digits`);
  if (!Number.isSafeInteger(item.sizeBytes) || item.sizeBytes <= 0) throw new ModelStoreError('invalid_item', `${item.name}: sizeBytes must be a positive integer`);
  if (!URL.canParse(item.url)) throw new ModelStoreError('invalid_item', `${item.name}: url must be an absolute URL`);
}

async function statfsFree(root: string): Promise<number> {
  const s = await statfs(root);
  return s.bavail * s.bsize;
}

function sum(blobs: Blob[]): number {
  return blobs.reduce((n, b) => n + b.sizeBytes, 0);
}
