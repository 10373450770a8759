import { LRUCache } from 'lru-cache';

export interface BoundedCacheOptions<V> {
  /** Bytes the cache may hold, keys and values together (an estimate, never exceeded). */
  maxBytes: number;
  /** How long a found value is reused. */
  ttlMs: number;
  /** How long an absence (null) is remembered; repeated misses then cost no lookup. */
  negativeTtlMs: number;
  /** Bytes one value takes (keys are counted by the cache). */
  sizeOf(value: V): number;
}

/** Entries hold null too (lru-cache refuses null values). */
interface Entry<V> {
  value: V | null;
  /** When the value was loaded (ms, monotonic). */
  loadedAt: number;
}

/** Fixed cost of an entry beyond its key and value: the LRU's own bookkeeping. */
const ENTRY_OVERHEAD = 64;

/**
 * A read-through cache bounded by bytes, not by count: hostile keys (15 KB access keys, say)
 * evict each other instead of growing the process. Misses are cached too, concurrent loads of
 * one key share a single lookup, and a failed lookup is not cached.
 */
export class BoundedCache<V extends object> {
  private readonly lru: LRUCache<string, Entry<V>>;
  private readonly inflight = new Map<string, Promise<V | null>>();

  constructor(private readonly options: BoundedCacheOptions<V>) {
    this.lru = new LRUCache<string, Entry<V>>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry, key) => ENTRY_OVERHEAD + 2 * key.length + (entry.value === null ? 0 : options.sizeOf(entry.value)),
      ttlAutopurge: false,
    });
  }

  /**
   * The value under `key`, loaded when absent or expired. `maxAgeMs` is for a caller that needs
   * a found value fresher than the ttl: one loaded longer ago is loaded again (a remembered
   * absence keeps its own ttl).
   */
  async get(key: string, load: () => Promise<V | null>, maxAgeMs = Infinity): Promise<V | null> {
    const hit = this.lru.get(key);
    if (hit && (hit.value === null || performance.now() - hit.loadedAt <= maxAgeMs)) return hit.value;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const loadedAt = performance.now();
    const loading = load()
      .then((value) => {
        this.lru.set(key, { value, loadedAt }, { ttl: value === null ? this.options.negativeTtlMs : this.options.ttlMs });
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, loading);
    return loading;
  }

  /** Forgets `key`: the next lookup loads it. */
  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Forgets every key. */
  clear(): void {
    this.lru.clear();
  }

  /** Bytes held now (for tests and metrics). */
  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
