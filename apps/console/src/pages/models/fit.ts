/**
 * Per-node fit verdicts for the deploy dialog, with the numbers. The rules mirror the server's
 * planner (libs/scheduling planNodeOf / nodeIneligibility / fitReplica): a GPU's free memory is
 * its size less what Gridline promised on it or what it already uses, whichever is more; a node
 * is a candidate when approved, Ready, not cordoned or draining, with a GPU, matching the selector
 * and tolerating its taints; a replica fits on one node when its GPUs hold it by whole layers.
 * The server's dry-run plan stays the authority: these verdicts update as the user types.
 */
import type { components } from '../../api/schema';
import { formatBytes } from '../../components/format';

type S = components['schemas'];
export type FleetNode = Pick<S['NodeDto'], 'id' | 'name' | 'status' | 'approved' | 'cordoned' | 'draining' | 'revoked' | 'labels' | 'taints' | 'gpus'>;
export type Taint = S['TaintDto'];

/** What one replica needs, from GET /api/v1/models/{name}/requirements. */
export interface Need {
  totalBytes: number;
  layers: number;
  largestLayerBytes: number;
}

/** The GPU bytes stored deployments' plans promise on each node GPU (`nodeId/gpu`), as the planner counts them. */
export function promisedBytes(plans: readonly ({ replicas: { nodes: { nodeId: string; gpus: { index: number; bytes: number }[] }[] }[] } | null | undefined)[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const plan of plans) {
    for (const replica of plan?.replicas ?? []) {
      for (const node of replica.nodes) {
        for (const gpu of node.gpus) out.set(`${node.nodeId}/${gpu.index}`, (out.get(`${node.nodeId}/${gpu.index}`) ?? 0) + gpu.bytes);
      }
    }
  }
  return out;
}

/** Free bytes of each of the node's GPUs: total less max(promised, used), never below 0. */
export function freeGpuBytes(node: FleetNode, promised: ReadonlyMap<string, number> = new Map()): number[] {
  return node.gpus.map((g) => Math.max(0, g.totalMemoryBytes - Math.max(promised.get(`${node.id}/${g.index}`) ?? 0, g.totalMemoryBytes - g.freeMemoryBytes)));
}

export const formatTaint = (t: Taint): string => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;

/** Taints that keep new replicas off (NoSchedule, NoExecute); the dialog sets no tolerations. PreferNoSchedule never blocks. */
export const blockingTaints = (node: FleetNode): Taint[] => node.taints.filter((t) => t.effect !== 'PreferNoSchedule');

/** Why the node cannot take a new replica, or null when it is a candidate (the planner's order of reasons). */
export function ineligibility(node: FleetNode, matchLabels: Readonly<Record<string, string>> = {}): string | null {
  if (!node.approved || node.revoked) return 'not approved';
  if (node.cordoned) return 'cordoned';
  if (node.draining || node.status === 'Draining' || node.status === 'Drained') return 'draining';
  if (node.status !== 'Ready' && node.status !== 'Cordoned') return node.status;
  if (node.gpus.length === 0) return 'reports no GPU';
  for (const [key, value] of Object.entries(matchLabels)) {
    const labels = labelsOf(node);
    if (labels[key] !== value) return `label ${key}=${value} required, node has ${key in labels ? `${key}=${labels[key]}` : `no ${key}`}`;
  }
  const taint = blockingTaints(node)[0];
  return taint ? `taint ${formatTaint(taint)} not tolerated` : null;
}

/** The node's labels as the planner matches them: `gridline.dev/gpu` (its first GPU's name), then its own. */
export function labelsOf(node: Pick<FleetNode, 'labels' | 'gpus'>): Record<string, string> {
  return { ...(node.gpus[0] ? { 'gridline.dev/gpu': node.gpus[0].name } : {}), ...node.labels };
}

export interface FitVerdict {
  node: string;
  needBytes: number;
  /** Free GPU bytes on the node, all GPUs together. */
  freeBytes: number;
  /** GPUs of the node the replica uses when it fits (1: on one GPU). */
  gpusUsed: number;
  fits: boolean;
  /** freeBytes − needBytes: the room left when it fits, the shortfall (negative) when not. */
  marginBytes: number;
  /** Why it does not fit although the memory adds up (whole layers), or null. */
  why: string | null;
}

/**
 * Whether one replica fits on the node's free GPU memory. On one GPU when one holds it; else split
 * over the node's GPUs by whole layers, each GPU a contiguous run filled in turn, the part that is
 * not per layer on the first (every layer counted at the largest layer's size: the verdict never
 * says "fits" where the planner would not).
 */
export function fitOnNode(node: FleetNode, need: Need, promised: ReadonlyMap<string, number> = new Map()): FitVerdict {
  const free = freeGpuBytes(node, promised);
  const freeBytes = free.reduce((a, b) => a + b, 0);
  const base = { node: node.name, needBytes: need.totalBytes, freeBytes, marginBytes: freeBytes - need.totalBytes };
  if (free.some((f) => f >= need.totalBytes)) return { ...base, gpusUsed: 1, fits: true, why: null };
  if (freeBytes < need.totalBytes || free.length < 2) return { ...base, gpusUsed: 0, fits: false, why: null };
  const layer = need.largestLayerBytes;
  const fixed = Math.max(0, need.totalBytes - need.layers * layer);
  const order = [...free].sort((a, b) => b - a);
  let left = need.layers;
  let used = 0;
  for (let g = 0; g < order.length && left > 0; g++) {
    const room = order[g] - (g === 0 ? fixed : 0);
    if (room < 0) break;
    const take = layer > 0 ? Math.min(left, Math.floor(room / layer)) : left;
    if (take > 0) used++;
    left -= take;
  }
  if (left === 0) return { ...base, gpusUsed: used, fits: true, why: null };
  return { ...base, gpusUsed: 0, fits: false, why: `the memory adds up, but ${left} of ${need.layers} layers (up to ${formatBytes(layer)} each) find no GPU by whole layers` };
}

/** "needs 1.2 GiB, node has 46.8 GiB free → fits (45.6 GiB to spare)" (binary units as everywhere in the console) — the words the dialog shows. */
export function describeFit(v: FitVerdict): string {
  const head = `needs ${formatBytes(v.needBytes)}, ${v.node} has ${formatBytes(v.freeBytes)} free`;
  if (v.fits) return `${head} → fits${v.gpusUsed > 1 ? ` over ${v.gpusUsed} GPUs by whole layers` : ''} (${formatBytes(v.marginBytes)} to spare)`;
  if (v.why) return `${head} → does not fit: ${v.why}`;
  return `${head} → does not fit (${formatBytes(-v.marginBytes)} short)`;
}

/** Nodes of the fleet that could hold one replica now: candidates (no selector) whose free memory fits it. */
export function nodesThatFit(nodes: readonly FleetNode[], need: Need, promised: ReadonlyMap<string, number> = new Map()): FitVerdict[] {
  return nodes.filter((n) => ineligibility(n) === null).map((n) => fitOnNode(n, need, promised)).filter((v) => v.fits);
}

/** "2 × NVIDIA L4 (24.0 GiB each)": a node's GPUs, alike ones counted together. */
export function gpuSummary(gpus: readonly { name: string; totalMemoryBytes: number }[]): string {
  if (gpus.length === 0) return 'no GPU';
  const groups = new Map<string, number>();
  for (const g of gpus) {
    const key = `${g.name}|${g.totalMemoryBytes}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()]
    .map(([key, n]) => {
      const [name, bytes] = key.split('|');
      return n > 1 ? `${n} × ${name} (${formatBytes(Number(bytes))} each)` : `${name} (${formatBytes(Number(bytes))})`;
    })
    .join(', ');
}
