/**
 * One deployment's reconciliation as a pure decision: from the replicas the control plane placed
 * for it (each with its node's state, its reported state and its load) and the jobs waiting for
 * its model, what to forget, what to unload, how many replicas to place, and the phase to show.
 */

export type ObservedNodeStatus = 'Pending' | 'Ready' | 'NotReady' | 'Lost' | 'Gone';

export interface ObservedReplica {
  id: string;
  nodeId: string;
  nodeName: string;
  /** `Gone`: the node was deleted or revoked; nothing will report the replica again. */
  nodeStatus: ObservedNodeStatus;
  /** The node is drained by an admin or shutting down: its replicas move elsewhere. */
  nodeLeaving: boolean;
  /**
   * What the node last reported (Pulling, Loading, Ready, Failed, Unloading), null before its first
   * report; `Degraded` for a replica spanning nodes that lost a member (it is being repaired).
   */
  state: string | null;
  reason: string | null;
  inFlight: number;
  /** When it last took or ended a job (ms); its placement time if never. */
  lastUsedAt: number;
}

export interface DeploymentScale {
  replicas: number;
  /** null: all `replicas` always loaded; otherwise the floor kept loaded while idle. */
  minReplicas: number | null;
  idleMs: number;
}

export interface ReplicaDecision {
  id: string;
  nodeId: string;
  reason: 'ReplicaLost' | 'LoadFailed' | 'Drained' | 'ScaledDown' | 'IdleUnloaded';
  message: string;
}

export interface ReconcileDecision {
  /** Replicas wanted now. */
  desired: number;
  /** Rows to drop: their node is gone for good (Lost, deleted, revoked). */
  forget: ReplicaDecision[];
  /** Replicas to ask to unload (failed loads, drained nodes, scale-down, idleness). */
  unload: ReplicaDecision[];
  /** Nodes where a load of this deployment just failed: keep off them for a while. */
  failedOn: string[];
  /** New replicas to place. */
  place: number;
  /** Replicas that count towards `desired` after this decision. */
  kept: ObservedReplica[];
}

const isIdle = (r: ObservedReplica, now: number, idleMs: number) => r.inFlight === 0 && r.state === 'Ready' && now - r.lastUsedAt >= idleMs;
const isLoading = (r: ObservedReplica) => r.state === null || r.state === 'Pulling' || r.state === 'Loading';

/**
 * The rules, in order:
 * 1. A replica whose node is Lost or gone is forgotten (its jobs are the sweeper's): placed again.
 * 2. A replica whose load failed is unloaded and its node avoided for a while: placed again elsewhere.
 * 3. A replica on a leaving node no longer counts (a replacement is placed at once) and is unloaded
 *    once its jobs in flight are done. A NotReady node's replicas still count: it may come back.
 * 4. Desired: `replicas`; on demand (`minReplicas` set), the replicas in use (in flight, used within
 *    `idleMs`, or still loading), at least `minReplicas`, plus one when jobs wait and none is loading,
 *    at most `replicas`.
 * 5. Beyond desired, replicas with nothing in flight are unloaded: on demand the idle ones first (desired
 *    counts every other one, loading included, as in use), then still loading, then least recently used.
 *    A replica with jobs in flight is never unloaded; it waits until they end.
 */
export function reconcileDeployment(scale: DeploymentScale, replicas: readonly ObservedReplica[], waitingJobs: number, now: number): ReconcileDecision {
  const forget: ReplicaDecision[] = [];
  const unload: ReplicaDecision[] = [];
  const failedOn: string[] = [];
  const kept: ObservedReplica[] = [];
  for (const r of replicas) {
    if (r.nodeStatus === 'Lost' || r.nodeStatus === 'Gone') {
      forget.push({ id: r.id, nodeId: r.nodeId, reason: 'ReplicaLost', message: `node ${r.nodeName} is ${r.nodeStatus === 'Lost' ? 'Lost' : 'gone'}: the replica is placed again` });
    } else if (r.state === 'Failed') {
      unload.push({ id: r.id, nodeId: r.nodeId, reason: 'LoadFailed', message: `the load on ${r.nodeName} failed${r.reason ? ` (${r.reason})` : ''}: retrying on another node` });
      failedOn.push(r.nodeId);
    } else if (r.nodeLeaving) {
      if (r.inFlight === 0) unload.push({ id: r.id, nodeId: r.nodeId, reason: 'Drained', message: `node ${r.nodeName} is draining: the replica is unloaded (a replacement is placed elsewhere)` });
    } else {
      kept.push(r);
    }
  }
  let desired = scale.replicas;
  const onDemand = scale.minReplicas !== null;
  if (onDemand) {
    const inUse = kept.filter((r) => !isIdle(r, now, scale.idleMs)).length;
    desired = Math.max(scale.minReplicas ?? 0, inUse);
    if (waitingJobs > 0 && !kept.some(isLoading)) desired = Math.max(desired, kept.length + 1);
    desired = Math.min(desired, scale.replicas);
  }
  if (kept.length > desired) {
    // Loading first would unload the replica demand just asked for and keep the idle one: placed again next pass, and again.
    const idleFirst = (r: ObservedReplica) => onDemand && isIdle(r, now, scale.idleMs);
    const candidates = kept
      .filter((r) => r.inFlight === 0)
      .sort((a, b) => Number(idleFirst(b)) - Number(idleFirst(a)) || Number(isLoading(b)) - Number(isLoading(a)) || a.lastUsedAt - b.lastUsedAt || a.id.localeCompare(b.id))
      .slice(0, kept.length - desired);
    for (const r of candidates) {
      const idle = onDemand && isIdle(r, now, scale.idleMs);
      unload.push({
        id: r.id,
        nodeId: r.nodeId,
        reason: idle ? 'IdleUnloaded' : 'ScaledDown',
        message: idle ? `idle for ${Math.round((now - r.lastUsedAt) / 1000)} s on ${r.nodeName}: unloaded` : `${kept.length} replicas for ${desired} wanted: unloaded from ${r.nodeName}`,
      });
    }
    const gone = new Set(candidates.map((r) => r.id));
    return { desired, forget, unload, failedOn, place: 0, kept: kept.filter((r) => !gone.has(r.id)) };
  }
  return { desired, forget, unload, failedOn, place: desired - kept.length, kept };
}

export interface PhaseInput {
  desired: number;
  kept: readonly ObservedReplica[];
  /** Why replicas could not be placed this pass (null: all placed). */
  unschedulable: string | null;
  /** Loads that failed in a row without one succeeding. */
  consecutiveFailures: number;
  onDemand: boolean;
}

export interface DeploymentPhaseView {
  phase: 'Pending' | 'Placed' | 'Loading' | 'Ready' | 'Degraded' | 'Failed';
  reason: string;
  message: string;
  readyReplicas: number;
}

/** How many loads may fail in a row before a deployment shows Failed (it keeps retrying). */
export const FAILED_AFTER_LOADS = 3;

/** The phase a deployment shows, with a stable reason and a sentence. */
export function deploymentPhase(p: PhaseInput): DeploymentPhaseView {
  const ready = p.kept.filter((r) => r.state === 'Ready' && r.nodeStatus === 'Ready').length;
  const loading = p.kept.filter(isLoading).length;
  const of = `${ready} of ${p.desired} replica(s) ready`;
  if (p.desired === 0) return { phase: 'Ready', reason: 'OnDemand', message: 'no replica loaded: one loads when a job arrives', readyReplicas: 0 };
  if (ready >= p.desired) return { phase: 'Ready', reason: 'AllReplicasReady', message: of, readyReplicas: ready };
  // A replica spanning nodes that lost a member: being repaired, not failing.
  const degraded = p.kept.filter((r) => r.state === 'Degraded');
  if (degraded.length > 0) return { phase: 'Degraded', reason: 'MemberLost', message: `${of}; ${degraded.map((r) => r.reason ?? 'a member was lost').join('; ')}`, readyReplicas: ready };
  if (p.consecutiveFailures >= FAILED_AFTER_LOADS && ready === 0) return { phase: 'Failed', reason: 'LoadsFailing', message: `${p.consecutiveFailures} loads failed in a row; retrying with backoff`, readyReplicas: 0 };
  if (ready > 0) return { phase: 'Degraded', reason: p.unschedulable ? 'Unschedulable' : 'ReplicasNotReady', message: `${of}${p.unschedulable ? `; ${p.unschedulable}` : loading ? `; ${loading} loading` : ''}`, readyReplicas: ready };
  if (p.unschedulable && p.kept.length === 0) return { phase: 'Pending', reason: 'Unschedulable', message: p.unschedulable, readyReplicas: 0 };
  if (loading > 0 && p.kept.some((r) => r.state !== null)) return { phase: 'Loading', reason: 'ReplicasLoading', message: `${loading} replica(s) pulling or loading`, readyReplicas: 0 };
  if (p.kept.length > 0) return { phase: 'Placed', reason: 'ReplicasPlaced', message: `${p.kept.length} replica(s) placed; waiting for their nodes`, readyReplicas: 0 };
  // None kept and nothing unschedulable: this pass placed all `desired` (new rows are not in `kept` yet).
  return { phase: 'Placed', reason: p.onDemand ? 'LoadOnDemand' : 'ReplicasPlaced', message: `${p.desired} replica(s) placed; waiting for their nodes`, readyReplicas: 0 };
}
