import type { PlanNode, PlanNodeStatus, ReplicaRequirement } from './plan-deployment';
import type { Taint } from './node-match';
import { spanningRelease } from '../rpc/replica-group';

/** A node as the control plane stores it: what placement needs of it (the api's validation and the scheduler's placement read the same). */
export interface FleetNode {
  id: string;
  name: string;
  approved: boolean;
  revokedAt: Date | null;
  status: PlanNodeStatus;
  cordoned: boolean;
  draining: boolean;
  backend: string;
  gpus: readonly { index: number; name: string; totalMemoryBytes: number; freeMemoryBytes: number }[];
  labels: Readonly<Record<string, string>>;
  taints: readonly Taint[];
  /**
   * What the agent last reported: `shuttingDown` (no new replica goes there), and the capabilities
   * and tunnel address that let it run spanning replicas.
   */
  inventory: { shuttingDown?: boolean; capabilities?: readonly string[]; rpc?: { address: string; ports: [number, number] } };
}

/**
 * Kubernetes' well-known label for a node's instance type (`Standard_NC24ads_A100_v4`, `p4d.24xlarge`):
 * an admin sets it (`PATCH /api/v1/nodes/{id}`, or the agent's GRIDLINE_NODE_LABELS at install),
 * and a deployment's `resource.instanceType` selects the nodes that carry it.
 */
export const INSTANCE_TYPE_LABEL = 'node.kubernetes.io/instance-type';

/**
 * A node as the planner sees it: approval, admins' flags, labels (with the backend and GPU name
 * as well-known labels) and taints. A GPU's allocated memory is what Gridline promised on it
 * (`promisedBytes`) or what it already uses, whichever is more: a replica placed but not loaded
 * yet counts, and so does memory used by something else.
 */
export function planNodeOf(n: FleetNode, promisedBytes: (gpuIndex: number) => number): PlanNode {
  return {
    id: n.id,
    name: n.name,
    approved: n.approved && !n.revokedAt,
    status: n.status,
    cordoned: n.cordoned,
    draining: n.draining || !!n.inventory.shuttingDown,
    labels: { 'gridline.dev/backend': n.backend, ...(n.gpus[0] ? { 'gridline.dev/gpu': n.gpus[0].name } : {}), ...n.labels },
    taints: n.taints,
    instanceType: n.labels[INSTANCE_TYPE_LABEL] || undefined,
    gpus: n.gpus.map((g) => ({ index: g.index, totalBytes: g.totalMemoryBytes, allocatedBytes: Math.max(promisedBytes(g.index), g.totalMemoryBytes - g.freeMemoryBytes) })),
    capabilities: { spanningReplicas: spanningRelease(n.inventory) !== null },
  };
}

/** The memory estimate (libs/models' MemoryRequirements) as placement takes it. */
export function replicaRequirementOf(r: { totalBytes: number; fixedBytes: number; perGpu: { baseBytes: number }; layers: readonly { index: number; bytes: number }[] }): ReplicaRequirement {
  // llama.cpp gives every GPU of a split its own reserve and compute buffer.
  return { totalBytes: r.totalBytes, fixedBytes: r.fixedBytes, perGpuBytes: r.perGpu.baseBytes, layers: r.layers.map((l) => ({ index: l.index, bytes: l.bytes })) };
}
