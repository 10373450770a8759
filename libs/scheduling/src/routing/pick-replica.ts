/** One loaded copy of a model on a node, as the router sees it. */
export interface ReplicaView {
  nodeId: string;
  replicaId: string;
  model: string;
  ready: boolean;
  /** Parallel sequences the replica was loaded with. */
  slots: number;
  inFlight: number;
  /** Jobs already sent to the replica and not yet admitted to a sequence (absent: 0). */
  queueDepth?: number;
}

/**
 * Chooses the replica for one job: ready replicas of the model with a free slot; idle ones
 * first, then the least in-flight; ties broken by node and replica id so the choice is deterministic.
 * Returns null when every replica is busy or none exists (the job waits in its queue).
 */
export function pickReplica(replicas: readonly ReplicaView[], model: string): ReplicaView | null {
  let best: ReplicaView | null = null;
  for (const r of replicas) {
    if (r.model !== model || !r.ready || r.inFlight >= r.slots) continue;
    if (!best || idlerOrFirst(r, best)) best = r;
  }
  return best;
}

/** The load-only order, shared with `routeJob`'s ties: fewer in flight, then node id, then replica id. */
export function idlerOrFirst(r: ReplicaView, than: ReplicaView): boolean {
  return r.inFlight < than.inFlight || (r.inFlight === than.inFlight && (r.nodeId < than.nodeId || (r.nodeId === than.nodeId && r.replicaId < than.replicaId)));
}
