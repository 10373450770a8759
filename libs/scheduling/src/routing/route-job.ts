import { type ReplicaView, idlerOrFirst } from './pick-replica';
import type { BlockHash, PrefixIndex } from './prefix-index';

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

/** Scores closer than this are a tie: the same inputs reached through different float paths. */
const TIE = 1e-9;

/**
 * Chooses the replica for one job among the ready replicas of its model with a free sequence,
 * by the score of {@link RoutingWeights}. Equal scores go to the idler replica (fewer in flight),
 * then by node and replica id, so the choice is deterministic. Returns null when no sequence is
 * free: the job waits in its queue rather than overloading a node.
 *
 * Pass the replicas of the job's model only (a {@link RoutingView}) to keep the decision in
 * microseconds on a large fleet; other models are skipped either way.
 */
export function routeJob(replicas: readonly ReplicaView[], job: RouteRequest, index?: PrefixIndex, weights: Readonly<RoutingWeights> = DEFAULT_ROUTING_WEIGHTS): RouteDecision | null {
  if (!(weights.load > 0)) throw new RangeError('routing needs a positive load weight: affinity alone piles jobs onto one replica');
  const blocks = job.blocks ?? [];
  // Without blocks, an index or an affinity weight the score is the load term alone: skip the lookups.
  const prefixes = blocks.length > 0 && weights.affinity !== 0 ? index : undefined;
  let best: RouteDecision | null = null;
  for (const r of replicas) {
    if (r.model !== job.model || !r.ready || r.inFlight >= r.slots) continue;
    const matched = prefixes ? prefixes.matchedBlocks(r.replicaId, blocks) : 0;
    const affinity = matched > 0 ? (weights.affinity * matched) / blocks.length : 0;
    const score = affinity - (weights.load * r.inFlight) / r.slots - weights.queue * (r.queueDepth ?? 0);
    if (!best || isBetter(score, r, best)) best = { replica: r, matchedBlocks: matched, score };
  }
  return best;
}

function isBetter(score: number, r: ReplicaView, best: RouteDecision): boolean {
  if (score > best.score + TIE) return true;
  if (score < best.score - TIE) return false;
  return idlerOrFirst(r, best.replica);
}
