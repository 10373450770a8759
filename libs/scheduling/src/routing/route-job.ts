import { type ReplicaView, idlerOrFirst } from './pick-replica';
import type { BlockHash, PrefixIndex } from './prefix-index';
import { RoutingView } from './routing-view';

/**
 * Weights of the routing score:
 *
 *   score = affinity × matchedBlocks / totalBlocks − load × inFlight / slots − queue × queueDepth
 *
 * The load term is always there (`load` must be > 0): llm-d measured prefix affinity without a
 * load term collapsing to about 55 % success, every request of a popular system prompt piling
 * onto the one replica that had seen it. With the defaults the affine replica wins while its
 * extra load (as a fraction of its slots) is under half its extra matched fraction: a full
 * match on a replica 1 of 4 busy beats an idle replica with no match; at 2 of 4 it ties and the
 * idle replica wins; at 3 of 4 the idle replica wins outright.
 */
export interface RoutingWeights {
  affinity: number;
  load: number;
  /** Per job already sent to the replica and not yet admitted to a sequence. */
  queue: number;
}

export const DEFAULT_ROUTING_WEIGHTS: Readonly<RoutingWeights> = { affinity: 1, load: 2, queue: 0.5 };

export interface RouteRequest {
  model: string;
  /** The prompt's chained block hashes ({@link promptBlockHashes}); empty or absent: load only. */
  blocks?: readonly BlockHash[];
}

export interface RouteDecision {
  replica: ReplicaView;
  /** Leading prompt blocks the replica has probably cached, for the decision's event. */
  matchedBlocks: number;
  score: number;
}

const TIE = 1e-9;
const NO_HOLDERS: ReadonlySet<string> = new Set();

/**
 * Chooses the replica for one job among the ready replicas of its model with a free sequence,
 * by the score of {@link RoutingWeights}. Equal scores go to the idler replica (fewer in flight),
 * then by node and replica id, so the choice is deterministic. Returns null when no sequence is
 * free: the job waits in its queue rather than overloading a node.
 *
 * Over a {@link RoutingView} the decision scans the model's replicas for load alone, then scores
 * the few replicas that hold the prompt's first block with their affinity (a replica scored
 * twice keeps its better score), so it costs no index lookup per replica. A plain array works
 * too (other models are skipped) at the cost of a scan of the whole array.
 */
export function routeJob(replicas: readonly ReplicaView[] | RoutingView, job: RouteRequest, index?: PrefixIndex, weights: Readonly<RoutingWeights> = DEFAULT_ROUTING_WEIGHTS): RouteDecision | null {
  if (!(weights.load > 0)) throw new RangeError('routing needs a positive load weight: affinity alone piles jobs onto one replica');
  if (!(weights.affinity >= 0 && weights.queue >= 0)) throw new RangeError('routing weights cannot be negative');
  const blocks = job.blocks ?? [];
  // Without blocks, an index or an affinity weight the score is the load term alone: no lookups.
  const prefixes = blocks.length > 0 && weights.affinity > 0 ? index : undefined;
  const holders = prefixes?.replicasWithPrefix(blocks) ?? NO_HOLDERS;
  let best: ReplicaView | null = null;
  let bestScore = 0;
  let bestMatched = 0;
  /** Scores a replica of the job's model (the callers check the model: the view's lists need not). */
  const offer = (r: ReplicaView, holder: boolean): void => {
    if (!r.ready || r.inFlight >= r.slots) return;
    const load = (weights.load * r.inFlight) / r.slots + weights.queue * (r.queueDepth ?? 0);
    // The affinity term is at most `weights.affinity`: look the prefix up only where it could win.
    const matchedBlocks = prefixes && holder && (!best || weights.affinity - load >= bestScore - TIE) ? prefixes.matchedBlocks(r.replicaId, blocks) : 0;
    const score = (weights.affinity * matchedBlocks) / Math.max(blocks.length, 1) - load;
    // Scores closer than TIE are equal: the same inputs reached through different float paths.
    if (!best || score > bestScore + TIE || (score >= bestScore - TIE && idlerOrFirst(r, best))) {
      best = r;
      bestScore = score;
      bestMatched = matchedBlocks;
    }
  };
  if (replicas instanceof RoutingView) {
    // Comparing model names costs as much as the rest of the score: the view's list is the model's.
    for (const r of replicas.replicasOf(job.model)) offer(r, false);
    for (const id of holders) {
      const r = replicas.get(id);
      if (r?.model === job.model) offer(r, true);
    }
  } else {
    const anyHolder = holders.size > 0;
    for (const r of replicas) if (r.model === job.model) offer(r, anyHolder && holders.has(r.replicaId));
  }
  return best ? { replica: best, matchedBlocks: bestMatched, score: bestScore } : null;
}
