import { describePlacedNode, list, need, plural, size } from './format';
import { Toleration } from './node-match';
import { DeploymentResource, FreeGpu, PlanNode, PlannedReplica, ReplicaRequirement, binpackOrder, fitReplica, freeGpusOf, nodeIneligibility } from './plan-deployment';

/** A replica loaded (or loading) on a node, as load on demand and idle unloading see it. */
export interface ResidentReplica {
  id: string;
  nodeId: string;
  model: string;
  /** What it holds on each GPU of its node; already counted in that node's `PlanNode.gpus[].allocatedBytes`. */
  gpus: readonly { index: number; bytes: number }[];
  inFlight: number;
  /** When it last served a job, in ms since the epoch. */
  lastUsedAt: number;
  /** Kept loaded whatever its idleness. */
  pinned: boolean;
  /** Not loaded yet: its load is paid for and its callers wait on it. */
  loading: boolean;
}

export interface LoadOnDemandInput {
  /** The model to load; its own idle replicas are never evicted for it (a request would rather use them). */
  model: string;
  requirement: ReplicaRequirement;
  nodes: readonly PlanNode[];
  /** Every replica resident on the nodes, whatever the node; those of other nodes are ignored. */
  resident: readonly ResidentReplica[];
  resource?: Pick<DeploymentResource, 'instanceType' | 'labelSelector' | 'preferredNodes'>;
  tolerations?: readonly Toleration[];
}

export interface LoadOnDemandPlacement {
  nodeId: string;
  /** Where the replica's layers go, on the node's memory once `evict` is unloaded. */
  planned: PlannedReplica;
  /** Replica ids to unload first, least recently used first; empty when it fits as is. */
  evict: string[];
  reason: string;
}

export interface LoadOnDemandRefusal {
  nodeId: null;
  /** Each node and why it cannot take the replica, with the numbers. */
  reason: string;
}

export type LoadOnDemandResult = LoadOnDemandPlacement | LoadOnDemandRefusal;

/**
 * The most eviction sets examined on one node before settling for the least recently used ones:
 * the fewest-evictions search is exponential in the idle replicas of a node, and the scheduler's
 * event loop must not stall on a node crowded with small ones. A fit costs a few µs (80 layers,
 * 8 GPUs), so a node's search stays within tens of ms.
 */
export const EVICTION_SEARCH_LIMIT = 10_000;

/**
 * Where to load one replica of a model now, on one node, among the nodes that `planDeployment`
 * would take (same filters, same whole-layer fit):
 *
 * 1. A node that holds it without evicting anything, in binpack order (preferred nodes first,
 *    then the fullest, then by name).
 * 2. Else a node that holds it once some of its idle replicas are unloaded. Only replicas with no
 *    job in flight, not pinned, not loading and not of this model may go. Least disruption
 *    decides: the fewest evictions; then the set whose most recently used member was used longest
 *    ago (then its next most recent, and so on: least recently used first); then binpack order.
 *    The fit is checked GPU by GPU, so freed memory counts only on the GPU it is freed on.
 *
 * A refusal (`nodeId: null`) says, node by node, why none can. Commit a placement through the
 * `GpuLedger`: release the evicted ids, then reserve `planned`; a refused reserve means the
 * snapshot was stale, so plan again.
 */
export function planLoadOnDemand(input: LoadOnDemandInput): LoadOnDemandResult {
  const { requirement: req, resource = {}, tolerations = [] } = input;
  const candidates = input.nodes.filter((n) => nodeIneligibility(n, resource, tolerations) === null);
  const binpack = binpackOrder(resource.preferredNodes ?? [], totalFree);

  const asIs = candidates.flatMap((node) => {
    const planned = fitReplica(req, freeGpusOf(node));
    return planned ? [{ node, planned, evict: [] }] : [];
  });
  const fits = asIs.sort((a, b) => binpack(a.node, b.node))[0];
  if (fits) return placement(fits, `fits without evicting: ${describeReplica(fits.planned)}`);

  const options = candidates.flatMap((node) => {
    const option = cheapestEviction(req, node, evictableOn(node, input));
    return option ? [option] : [];
  });
  const best = options.sort((a, b) => a.evict.length - b.evict.length || newestUseFirst(a.evict, b.evict) || binpack(a.node, b.node))[0];
  if (best) return placement(best, `no node holds it as is; fits after evicting ${plural(best.evict.length, 'idle replica')} (${best.evict.map(describeResident).join(', ')}): ${describeReplica(best.planned)}`);
  return { nodeId: null, reason: refusal(input) };
}

/**
 * The replicas to unload for idleness, least recently used first: idle longer than their own
 * idle time (`idleMsFor`; Infinity keeps a replica), no job in flight, not pinned, not loading.
 */
export function idleReplicas(resident: readonly ResidentReplica[], now: number, idleMsFor: (r: ResidentReplica) => number): ResidentReplica[] {
  return resident.filter((r) => whyKept(r) === null && now - r.lastUsedAt > idleMsFor(r)).sort(leastRecentlyUsed);
}

interface Option {
  node: PlanNode;
  planned: PlannedReplica;
  /** Least recently used first. */
  evict: ResidentReplica[];
}

function placement({ node, planned, evict }: Option, why: string): LoadOnDemandPlacement {
  return { nodeId: node.id, planned, evict: evict.map((r) => r.id), reason: `${node.name}: ${why}` };
}

/** Why a replica must stay loaded whatever the need, or null when it may be unloaded. */
function whyKept(r: ResidentReplica): string | null {
  if (r.inFlight > 0) return `${plural(r.inFlight, 'job')} in flight`;
  if (r.pinned) return 'pinned';
  if (r.loading) return 'loading';
  return null;
}

function whyKeptFor(r: ResidentReplica, model: string): string | null {
  return whyKept(r) ?? (r.model === model ? `a replica of ${model} itself` : null);
}

const leastRecentlyUsed = (a: ResidentReplica, b: ResidentReplica): number => a.lastUsedAt - b.lastUsedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The node's replicas that may be evicted for this model, least recently used first. */
function evictableOn(node: PlanNode, input: LoadOnDemandInput): ResidentReplica[] {
  return input.resident.filter((r) => r.nodeId === node.id && whyKeptFor(r, input.model) === null).sort(leastRecentlyUsed);
}

/** Orders two eviction sets of one size: the one whose most recent use is older first, then the next most recent, and so on. */
function newestUseFirst(a: readonly ResidentReplica[], b: readonly ResidentReplica[]): number {
  const recent = (rs: readonly ResidentReplica[]) => rs.map((r) => r.lastUsedAt).sort((x, y) => y - x);
  const [ra, rb] = [recent(a), recent(b)];
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
  return 0;
}

const totalFree = (node: PlanNode): number => freeGpusOf(node).reduce((a, g) => a + g.freeBytes, 0);
const bytesOf = (r: ResidentReplica): number => r.gpus.reduce((a, g) => a + g.bytes, 0);

/** The node's GPUs with what would be free once these replicas are unloaded: each frees its bytes on its own GPUs only. */
function freeAfter(node: PlanNode, evicted: readonly ResidentReplica[]): FreeGpu[] {
  return node.gpus.map((g) => {
    const freed = evicted.reduce((a, r) => a + r.gpus.filter((rg) => rg.index === g.index).reduce((b, rg) => b + rg.bytes, 0), 0);
    return { nodeId: node.id, nodeName: node.name, index: g.index, freeBytes: Math.min(g.totalBytes, Math.max(0, g.totalBytes - g.allocatedBytes + freed)) };
  });
}

/**
 * The fewest evictions (from `evictable`, least recently used first) after which the replica
 * fits on the node, least recently used among sets of that size; null when evicting them all is
 * not enough. Sets of each size are tried in colex order over the LRU list, so the first set
 * that fits is the least recently used one; a set that cannot free enough in sum is passed over
 * without fitting. Past `EVICTION_SEARCH_LIMIT` sets: the shortest least-recently-used prefix
 * that fits, which may evict more than needed.
 */
function cheapestEviction(req: ReplicaRequirement, node: PlanNode, evictable: readonly ResidentReplica[]): Option | null {
  const fitAfter = (evict: ResidentReplica[]): Option | null => {
    const planned = fitReplica(req, freeAfter(node, evict));
    return planned ? { node, planned, evict } : null;
  };
  if (evictable.length === 0 || !fitAfter([...evictable])) return null;
  const freeNow = totalFree(node);
  const enoughInSum = (bytes: readonly number[]): boolean => freeNow + bytes.reduce((a, b) => a + b, 0) >= req.totalBytes;
  const largestFirst = evictable.map(bytesOf).sort((a, b) => b - a);
  let examined = 0;
  for (let k = 1; k <= evictable.length; k++) {
    // No set of k frees enough in sum: skip the size without enumerating it.
    if (!enoughInSum(largestFirst.slice(0, k))) continue;
    for (const picks of colexCombinations(evictable.length, k)) {
      if (++examined > EVICTION_SEARCH_LIMIT) return leastRecentlyUsedPrefix(evictable, fitAfter);
      const evict = picks.map((i) => evictable[i]);
      const option = enoughInSum(evict.map(bytesOf)) ? fitAfter(evict) : null;
      if (option) return option;
    }
  }
  return null;
}

function leastRecentlyUsedPrefix(evictable: readonly ResidentReplica[], fitAfter: (evict: ResidentReplica[]) => Option | null): Option | null {
  for (let k = 1; k <= evictable.length; k++) {
    const option = fitAfter(evictable.slice(0, k));
    if (option) return option;
  }
  return null;
}

/** The k-subsets of 0…n-1 in colex order: by largest member, then the next largest, and so on. */
function* colexCombinations(n: number, k: number): Generator<number[]> {
  const c = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield [...c];
    let j = 0;
    while (j < k && c[j] + 1 === (j + 1 < k ? c[j + 1] : n)) j++;
    if (j === k) return;
    c[j]++;
    for (let i = 0; i < j; i++) c[i] = i;
  }
}

const describeReplica = (planned: PlannedReplica): string => planned.nodes.map(describePlacedNode).join(' + ');
const describeResident = (r: ResidentReplica): string => `${r.id}: ${r.model}, ${size(bytesOf(r))}, last used ${new Date(r.lastUsedAt).toISOString()}`;

/** Every node and why it cannot take the replica, even after evicting what may go. */
function refusal(input: LoadOnDemandInput): string {
  const { requirement: req, resource = {}, tolerations = [] } = input;
  const head = `cannot load ${input.model} (${need(req.totalBytes)}) on any of ${plural(input.nodes.length, 'node')}`;
  const nodes = input.nodes.map((node) => {
    const why = nodeIneligibility(node, resource, tolerations);
    if (why) return `${node.name}: ${why}`;
    const resident = input.resident.filter((r) => r.nodeId === node.id);
    const evictable = resident.filter((r) => whyKeptFor(r, input.model) === null);
    const kept = resident.flatMap((r) => {
      const reason = whyKeptFor(r, input.model);
      return reason ? [`${r.id} (${reason})`] : [];
    });
    const free = totalFree(node);
    const freeable = evictable.reduce((a, r) => a + bytesOf(r), 0);
    const short = free + freeable < req.totalBytes ? 'not enough' : 'enough in sum, but no split by whole layers fits its GPUs';
    return `${node.name}: ${size(free)} free + ${size(freeable)} from ${plural(evictable.length, 'idle replica')}, ${short}${kept.length ? `; kept: ${kept.join(', ')}` : ''}`;
  });
  return nodes.length ? `${head}: ${list(nodes)}` : head;
}
