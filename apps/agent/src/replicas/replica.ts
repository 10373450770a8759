import type { NodeGpu } from '@gridline/contract';
import type { RpcWorkerClient, RunnerClient, RunnerLoadedInfo } from '@gridline/runtime';
import type { ModelAnnouncement, PullReport, ReplicaReport, ReplicaSpec, ReplicaState } from '@gridline/scheduling';

/** One loaded (or loading) model on this node, in its own runner process. */
export interface Replica {
  id: string;
  model: string;
  origin: 'local' | 'control-plane';
  /** What the control plane asked for; null for the agent's own local model. */
  spec: ReplicaSpec | null;
  state: ReplicaState;
  reason: string | null;
  sha256: string | null;
  runner: RunnerClient | null;
  /** A worker of a spanning replica: its RPC server (behind the group's tunnel) instead of a runner. */
  worker: RpcWorkerClient | null;
  loaded: RunnerLoadedInfo | null;
  parallel: number;
  /** Jobs handed to the runner that have not ended (it queues those beyond its sequences). */
  inFlight: number;
  /** GPU bytes the replica holds, per GPU index (planned figures on simulated GPUs). */
  allocated: Map<number, number>;
  estimateBytes: number | null;
  memory: { gpuBytes: number; cpuBytes: number } | null;
  pull: PullReport | null;
  announcement?: ModelAnnouncement;
  /** Tokens generated since the last report, for tokens/s. */
  tokens: number;
  tokensSince: number;
  tokensPerSecond: number | null;
  restarts: number;
  /** Bumped on every (re)load and unload, so a stale async step can tell it lost the replica. */
  generation: number;
  release: (() => void) | null;
  restartTimer: NodeJS.Timeout | null;
}

export function reportOf(r: Replica, now: number): ReplicaReport {
  if (now > r.tokensSince) {
    r.tokensPerSecond = r.tokens > 0 || r.tokensPerSecond !== null ? Math.round((r.tokens * 1000 * 10) / (now - r.tokensSince)) / 10 : null;
    r.tokens = 0;
    r.tokensSince = now;
  }
  return {
    id: r.id,
    model: r.model,
    sha256: r.sha256,
    origin: r.origin,
    state: r.state,
    reason: r.reason,
    parallel: r.parallel,
    busySequences: Math.min(r.inFlight, r.parallel),
    queueDepth: Math.max(0, r.inFlight - r.parallel),
    tokensPerSecond: r.tokensPerSecond,
    gpuLayers: r.loaded?.gpuLayers ?? null,
    totalLayers: r.loaded?.totalLayers ?? null,
    gpuIndexes: [...r.allocated.keys()].sort((a, b) => a - b),
    pid: r.runner?.pid ?? r.worker?.pid ?? null,
    memory: r.memory ? { estimateBytes: r.estimateBytes, ...r.memory } : null,
    pull: r.state === 'Pulling' ? r.pull : null,
    ...(r.announcement && r.state === 'Ready' ? { announcement: r.announcement } : {}),
    ...(r.state === 'Failed' && r.restartTimer ? { restarting: true } : {}),
    ...(r.spec?.group ? { group: { id: r.spec.group.id, role: r.spec.group.role } } : {}),
    ...(r.loaded?.span ? { span: r.loaded.span } : {}),
  };
}

/**
 * Where a replica's planned bytes go on simulated GPUs: the first GPU with room, else spread
 * over GPUs in order (a split by layers, as llama.cpp would); null when the node has no room.
 */
export function placeOnSimulatedGpus(gpus: NodeGpu[], allocated: (index: number) => number, bytes: number): Map<number, number> | null {
  const free = gpus.map((g) => ({ index: g.index, free: Math.max(0, g.totalMemoryBytes - allocated(g.index)) }));
  const whole = free.find((g) => g.free >= bytes);
  if (whole) return new Map([[whole.index, bytes]]);
  if (free.reduce((s, g) => s + g.free, 0) < bytes) return null;
  const out = new Map<number, number>();
  let left = bytes;
  for (const g of free) {
    if (left <= 0) break;
    const take = Math.min(g.free, left);
    if (take > 0) out.set(g.index, take);
    left -= take;
  }
  return out;
}
