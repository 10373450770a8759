import type { NodeRecord, ReplicaRecord } from '@gridline/db';
import type { BeatReplica, NodeBeat, ReplicaReport } from '@gridline/scheduling';
import { NodeDto, PresentedNodeStatus, ReplicaDto } from './dto/node.dto';

/** What the status and routing's view of a node are made of (a heartbeat has it without reading the whole row). */
export type NodeState = Pick<NodeRecord, 'id' | 'status' | 'approved' | 'cordoned' | 'draining' | 'revokedAt' | 'lastHeartbeatAt' | 'inventory' | 'replicaReports' | 'runningJobs'>;

export interface NodeTiming {
  timeoutMs: number;
  lostMs: number;
}

/**
 * The status a user sees, from what is stored: approval first, then liveness (a silence the
 * scheduler has not marked yet counts too), then the admin's flags and the agent's shutdown.
 */
export function presentStatus(n: NodeState, now: number, t: NodeTiming): { status: PresentedNodeStatus; reason: string | null } {
  const silentMs = now - n.lastHeartbeatAt.getTime();
  const silence = `no heartbeat for ${Math.round(silentMs / 1000)} s`;
  if (n.revokedAt) return { status: silentMs > t.lostMs ? 'Lost' : 'NotReady', reason: 'the node credential was revoked' };
  if (!n.approved) return { status: 'Pending', reason: 'waiting for an admin to approve the node' };
  if (n.status === 'Lost' || silentMs > t.lostMs) return { status: 'Lost', reason: silence };
  if (n.status === 'NotReady' || silentMs > t.timeoutMs) return { status: 'NotReady', reason: silence };
  if (n.draining) {
    const replicas = (n.replicaReports as ReplicaReport[]).length;
    const jobs = n.runningJobs.length;
    if (replicas === 0 && jobs === 0) return { status: 'Drained', reason: 'drained by an admin: no replica loaded and no job running; it can be removed' };
    return { status: 'Draining', reason: `drained by an admin: no new jobs or replicas; ${replicas} replica(s) and ${jobs} job(s) left` };
  }
  if (n.inventory.shuttingDown) return { status: 'Draining', reason: 'the agent is shutting down' };
  if (n.cordoned) return { status: 'Cordoned', reason: 'cordoned by an admin: no new jobs or replicas' };
  return { status: 'Ready', reason: null };
}

export const isSchedulable = (n: NodeState, now: number, t: NodeTiming): boolean => presentStatus(n, now, t).status === 'Ready';

const reportsOf = (n: NodeState) => n.replicaReports as ReplicaReport[];

/** Replicas as users see them: what the control plane wants, joined with what the agent reports. */
export function presentReplicas(n: NodeRecord, wanted: ReplicaRecord[]): ReplicaDto[] {
  const reports = new Map(reportsOf(n).map((r) => [r.id, r]));
  const out: ReplicaDto[] = wanted.map((w) => view(reports.get(w.id), { id: w.id, model: w.modelName, origin: 'control-plane', desired: w.desired, settings: { ...w.settings }, parallel: w.settings.parallel, estimateBytes: w.estimateBytes }));
  const known = new Set(wanted.map((w) => w.id));
  for (const r of reportsOf(n)) {
    if (!known.has(r.id)) out.push(view(r, { id: r.id, model: r.model, origin: r.origin, desired: r.origin === 'local' ? 'Loaded' : 'Unloaded', settings: null, parallel: r.parallel, estimateBytes: null }));
  }
  return out;
}

function view(r: ReplicaReport | undefined, base: { id: string; model: string; origin: string; desired: string; settings: Record<string, unknown> | null; parallel: number; estimateBytes: number | null }): ReplicaDto {
  return {
    id: base.id,
    model: base.model,
    origin: base.origin,
    desired: base.desired,
    state: r?.state ?? 'Pending',
    reason: r?.reason ?? null,
    settings: base.settings,
    parallel: r?.parallel ?? base.parallel,
    busySequences: r?.busySequences ?? 0,
    queueDepth: r?.queueDepth ?? 0,
    tokensPerSecond: r?.tokensPerSecond ?? null,
    gpuLayers: r?.gpuLayers ?? null,
    totalLayers: r?.totalLayers ?? null,
    gpuIndexes: r?.gpuIndexes ?? [],
    pid: r?.pid ?? null,
    memory: r?.memory ? { estimateBytes: r.memory.estimateBytes ?? base.estimateBytes, gpuBytes: r.memory.gpuBytes, cpuBytes: r.memory.cpuBytes } : null,
    pull: r?.pull ?? null,
    ...(r?.group ? { group: r.group } : {}),
    ...(r?.span ? { span: r.span } : {}),
  };
}

export function toNodeDto(n: NodeRecord, wanted: ReplicaRecord[], now: number, t: NodeTiming): NodeDto {
  const { status, reason } = presentStatus(n, now, t);
  const inv = n.inventory;
  return {
    id: n.id,
    name: n.name,
    status,
    reason,
    approved: n.approved,
    cordoned: n.cordoned,
    draining: n.draining,
    revoked: n.revokedAt !== null,
    schedulable: status === 'Ready',
    labels: n.labels,
    taints: n.taints,
    gpus: n.gpus,
    inventory: {
      agentVersion: n.agentVersion,
      backend: n.backend,
      llamaCppVersion: inv.llamaCppVersion ?? null,
      cpuCores: inv.cpuCores ?? 0,
      totalMemoryBytes: n.totalMemoryBytes,
      freeMemoryBytes: n.freeMemoryBytes,
      diskFreeBytes: inv.diskFreeBytes ?? null,
      capabilities: inv.capabilities ?? [],
      platform: inv.platform ?? 'unknown',
      arch: inv.arch ?? 'unknown',
      queueDepth: inv.queueDepth ?? 0,
      tokensPerSecond: inv.tokensPerSecond ?? null,
    },
    replicas: presentReplicas(n, wanted),
    runningJobs: n.runningJobs,
    lastHeartbeatAt: n.lastHeartbeatAt.toISOString(),
    registeredAt: n.registeredAt.toISOString(),
  };
}

/** What routing needs to know about a node: Ready replicas the control plane still wants (or the agent's own). */
export function beatOf(n: NodeState, wanted: Pick<ReplicaRecord, 'id' | 'desired' | 'settings'>[], now: number, t: NodeTiming, withJobs: boolean): NodeBeat {
  const unwanted = new Set(wanted.filter((w) => w.desired === 'Unloaded').map((w) => w.id));
  const contextOf = new Map(wanted.map((w) => [w.id, w.settings.contextSize]));
  // A worker of a spanning replica holds layers for its leader and serves no job itself.
  const replicas: BeatReplica[] = reportsOf(n)
    .filter((r) => !unwanted.has(r.id) && r.group?.role !== 'worker')
    .map((r) => {
      const context = contextOf.get(r.id) ?? r.announcement?.contextTokens;
      return { id: r.id, model: r.model, parallel: r.parallel, ready: r.state === 'Ready', ...(context ? { cacheTokens: context * r.parallel } : {}) };
    });
  return { nodeId: n.id, at: now, schedulable: isSchedulable(n, now, t), replicas, ...(withJobs ? { runningJobs: n.runningJobs } : {}) };
}
