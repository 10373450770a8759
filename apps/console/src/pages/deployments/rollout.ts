/**
 * What the Deployments page computes from the api's deployment records: the nodes a deployment
 * runs on, its condition history newest first, colours, and the scale request. Plain data (no
 * React), unit-tested beside the page.
 */

export interface ConditionLike {
  type: string;
  status: boolean;
  reason: string;
  message: string;
  at: string;
}

export interface ReplicaStatusLike {
  id: string;
  nodeId: string;
  nodeName: string;
  state: string;
  members?: { nodeId: string; nodeName: string }[];
}

export interface DeploymentLike {
  replicas: number;
  minReplicas: number | null;
  readyReplicas: number;
  conditions: ConditionLike[];
  status: { desiredReplicas: number; replicas: ReplicaStatusLike[] } | null;
}

/** The nodes a deployment's replicas are on (spanning replicas count every member's node), by name, each once. */
export function nodesOf(d: { status: { replicas: ReplicaStatusLike[] } | null }): { id: string; name: string }[] {
  const seen = new Map<string, string>();
  for (const r of d.status?.replicas ?? []) {
    const members = r.members?.length ? r.members : [{ nodeId: r.nodeId, nodeName: r.nodeName }];
    for (const m of members) seen.set(m.nodeId, m.nodeName);
  }
  return [...seen].map(([id, name]) => ({ id, name })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Replicas wanted now: what the scheduler last observed, else the spec. */
export function desiredOf(d: Pick<DeploymentLike, 'replicas' | 'status'>): number {
  return d.status?.desiredReplicas ?? d.replicas;
}

/** The conditions as the scheduler appended them, newest first; the newest is the deployment's state now. */
export function conditionHistory<C extends ConditionLike>(conditions: C[]): (C & { current: boolean })[] {
  return conditions
    .map((c, i) => ({ c, i }))
    .sort((a, b) => Date.parse(b.c.at) - Date.parse(a.c.at) || b.i - a.i)
    .map(({ c }, k) => ({ ...c, current: k === 0 }));
}

export function phaseColor(phase: string): string {
  switch (phase) {
    case 'Ready':
      return 'green';
    case 'Degraded':
      return 'orange';
    case 'Failed':
      return 'red';
    case 'Loading':
    case 'Placed':
      return 'blue';
    default:
      return 'gray';
  }
}

export function replicaStateColor(state: string): string {
  if (state === 'Ready') return 'green';
  if (state === 'Failed' || state === 'Lost') return 'red';
  if (state === 'Degraded' || state === 'Unloading') return 'orange';
  return 'blue';
}

/** Event reasons that mean something went wrong, shown in red. */
const WARNINGS = new Set(['Unschedulable', 'ReplicaLost', 'LoadFailed', 'Evicted']);
export const isWarning = (reason: string): boolean => WARNINGS.has(reason);

export const MAX_REPLICAS = 64;

/** The PATCH body that scales to `wanted`, or why not (the api checks again, against the fleet). */
export function scaleRequest(d: Pick<DeploymentLike, 'replicas' | 'minReplicas'>, wanted: number | string): { body: { replicas: number } } | { problem: string } {
  const n = typeof wanted === 'number' ? wanted : Number(wanted);
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) return { problem: `replicas: a whole number from 1 to ${MAX_REPLICAS}` };
  if (n === d.replicas) return { problem: `already ${n} replica(s)` };
  if (d.minReplicas !== null && n < d.minReplicas) return { problem: `replicas: at least minReplicas (${d.minReplicas})` };
  return { body: { replicas: n } };
}

/** kubectl's age: 45s, 12m, 3h, 2d. */
export function age(iso: string, now: number = Date.now()): string {
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
