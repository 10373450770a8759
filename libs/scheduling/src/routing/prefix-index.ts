/**
 * Identifies a prompt prefix: the hash of one block chained over every block before it, so two
 * prompts that share a block hash share the whole prefix up to that block (barring collisions).
 * A safe integer (53 bits) so that Map lookups stay on numbers and nothing is allocated per block.
 */
export type BlockHash = number;

/** 256 bytes ≈ 64 tokens: fine enough to tell system prompts apart, coarse enough to stay cheap. */
export const DEFAULT_BLOCK_BYTES = 256;
/** The KV-cache block size of llama.cpp and vLLM, for callers that have the token ids. */
export const DEFAULT_BLOCK_TOKENS = 16;

const utf8 = new TextEncoder();
const NONE: ReadonlySet<string> = new Set();

/**
 * Block hashes of a prompt: its UTF-8 bytes (or its token ids) cut into full blocks, a hash per
 * block. The hash runs on over the whole prompt instead of restarting at each block, which is
 * what chains it: the value at the end of block i depends on every byte before. A trailing
 * partial block is left out, as a KV cache keeps only full blocks.
 *
 * Two 32-bit lanes over 32-bit words (FNV-1a with a shift, and Murmur3's body) combined into 53
 * bits: about 1.5 ns a byte on a dev box (bench:routing), UTF-8 encoding included, where 64-bit
 * FNV over BigInt costs tens of times more. Not collision resistant: a crafted collision can only
 * tilt the affinity term, never the load term.
 */
export function promptBlockHashes(prompt: string | Uint8Array, blockBytes = DEFAULT_BLOCK_BYTES): BlockHash[] {
  if (!Number.isInteger(blockBytes) || blockBytes < 4 || blockBytes % 4 !== 0) throw new RangeError(`block size must be a positive multiple of 4 bytes, got ${blockBytes}`);
  return chainedHashes(littleEndianWords(typeof prompt === 'string' ? utf8.encode(prompt) : prompt), blockBytes / 4);
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The bytes as little-endian 32-bit words, so that every host computes the same hashes; a view, not a copy, where it can. */
function littleEndianWords(bytes: Uint8Array): Uint32Array {
  if (littleEndianHost && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const words = new Uint32Array(bytes.length >>> 2);
  for (let i = 0, j = 0; i < words.length; i++, j += 4) words[i] = bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24);
  return words;
}

/** Block hashes over token ids, one id per word; see {@link promptBlockHashes}. */
export function tokenBlockHashes(tokens: ArrayLike<number>, blockTokens = DEFAULT_BLOCK_TOKENS): BlockHash[] {
  if (!Number.isInteger(blockTokens) || blockTokens < 1) throw new RangeError(`block size must be a positive number of tokens, got ${blockTokens}`);
  return chainedHashes(Uint32Array.from(tokens), blockTokens);
}

function chainedHashes(words: Uint32Array, blockWords: number): BlockHash[] {
  const out: BlockHash[] = [];
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0, left = blockWords; i < words.length; i++) {
    const w = words[i];
    a = Math.imul(a ^ w, 0x01000193);
    a ^= a >>> 13;
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    b ^= k;
    b = (Math.imul((b << 13) | (b >>> 19), 5) + 0xe6546b64) | 0;
    if (--left === 0) {
      out.push((a >>> 0) * 0x200000 + (b >>> 11));
      left = blockWords;
    }
  }
  return out;
}

export interface PrefixIndexLimits {
  /** Blocks remembered per replica: about what its KV cache holds (2,048 × 256 B ≈ 128k tokens). */
  perReplica: number;
  /** Blocks remembered in all: bounds the scheduler's memory whatever the fleet size (~100 B each). */
  total: number;
}

export const DEFAULT_PREFIX_INDEX_LIMITS: PrefixIndexLimits = { perReplica: 2048, total: 262_144 };

interface Entry {
  readonly replica: ReplicaBlocks;
  readonly hash: BlockHash;
  /** Recorded as a prompt's first block: the replica is listed among the block's holders. */
  first: boolean;
}

interface ReplicaBlocks {
  readonly id: string;
  /** Insertion order is recency order: the first key is the least recently used. */
  readonly blocks: Map<BlockHash, Entry>;
}

/**
 * An approximate, bounded index of the prompt prefixes recently routed to each replica: what is
 * probably still in its KV cache. Least recently used blocks go first, per replica and overall.
 *
 * Every replica's set stays prefix-closed: `record` touches a prompt's blocks last to first, so a
 * block is never more recent than the block before it in its chain and eviction takes a chain's
 * tail first. That is what lets `matchedBlocks` binary-search instead of walking every block.
 */
export class PrefixIndex {
  private readonly replicas = new Map<string, ReplicaBlocks>();
  /** All entries, least recently used first. */
  private readonly lru = new Set<Entry>();
  /** Replicas by the first block they hold, so routing looks up only the few that share a prompt's start. */
  private readonly holders = new Map<BlockHash, Set<string>>();

  constructor(readonly limits: PrefixIndexLimits = DEFAULT_PREFIX_INDEX_LIMITS) {
    for (const [k, v] of Object.entries(limits)) if (!Number.isInteger(v) || v < 1) throw new RangeError(`prefix index limit ${k} must be a positive integer, got ${v}`);
  }

  /** Blocks held in all replicas. */
  get size(): number {
    return this.lru.size;
  }

  /** Blocks held for one replica. */
  sizeOf(replicaId: string): number {
    return this.replicas.get(replicaId)?.blocks.size ?? 0;
  }

  /**
   * Notes that the prompt with these block hashes was sent to the replica. `capacityBlocks`: what
   * the replica's cache holds, when known (below the index's own per-replica limit): remembering
   * more would make every replica look as if it held every prompt it was ever sent.
   */
  record(replicaId: string, hashes: readonly BlockHash[], capacityBlocks = Infinity): void {
    if (hashes.length === 0) return;
    let replica = this.replicas.get(replicaId);
    if (!replica) this.replicas.set(replicaId, (replica = { id: replicaId, blocks: new Map() }));
    for (let i = hashes.length - 1; i >= 0; i--) {
      const hash = hashes[i];
      let entry = replica.blocks.get(hash);
      if (entry) {
        replica.blocks.delete(hash);
        this.lru.delete(entry);
      } else entry = { replica, hash, first: false };
      if (i === 0 && !entry.first) {
        entry.first = true;
        const ids = this.holders.get(hash);
        if (ids) ids.add(replicaId);
        else this.holders.set(hash, new Set([replicaId]));
      }
      replica.blocks.set(hash, entry);
      this.lru.add(entry);
    }
    const limit = Math.max(1, Math.min(this.limits.perReplica, Math.floor(capacityBlocks)));
    while (replica.blocks.size > limit) this.evict(replica.blocks.values().next().value as Entry);
    while (this.lru.size > this.limits.total) this.evict(this.lru.values().next().value as Entry);
  }

  /** How many leading blocks of a prompt the replica has (probably) seen. */
  matchedBlocks(replicaId: string, hashes: readonly BlockHash[]): number {
    const blocks = this.replicas.get(replicaId)?.blocks;
    if (!blocks || hashes.length === 0 || !blocks.has(hashes[0])) return 0;
    // Invariant: blocks [0, lo) are held; block hi is not (or lies past the end).
    let lo = 1;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (blocks.has(hashes[mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The replicas that hold a prompt's first block: the only ones where `matchedBlocks` can be
   * above 0 (the sets are prefix-closed). Of every model: filter by the job's.
   */
  replicasWithPrefix(hashes: readonly BlockHash[]): ReadonlySet<string> {
    return (hashes.length > 0 && this.holders.get(hashes[0])) || NONE;
  }

  /** Drops everything known of a replica (it was unloaded or its node was lost). */
  forget(replicaId: string): void {
    const replica = this.replicas.get(replicaId);
    if (!replica) return;
    for (const entry of replica.blocks.values()) {
      this.lru.delete(entry);
      if (entry.first) this.dropHolder(entry);
    }
    this.replicas.delete(replicaId);
  }

  private evict(entry: Entry): void {
    this.lru.delete(entry);
    const { blocks, id } = entry.replica;
    blocks.delete(entry.hash);
    if (entry.first) this.dropHolder(entry);
    if (blocks.size === 0) this.replicas.delete(id);
  }

  private dropHolder({ hash, replica }: Entry): void {
    const ids = this.holders.get(hash);
    ids?.delete(replica.id);
    if (ids?.size === 0) this.holders.delete(hash);
  }
}
