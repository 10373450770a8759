import { InstanceType, findInstanceType } from './instance-types';
import { describePlacedNode, list, need, plural, size } from './format';
import { LabelSelector, Taint, Toleration, formatTaint, selectorMismatch, untoleratedTaint } from './node-match';

/** What one replica needs in GPU memory: `fixedBytes` + Σ layers = `totalBytes` (the estimator in libs/models produces it). */
export interface ReplicaRequirement {
  totalBytes: number;
  /** Bytes that are not per layer (compute buffers, output, overhead); they go on the replica's first GPU. */
  fixedBytes: number;
  layers: readonly { index: number; bytes: number }[];
  /**
   * What each further GPU holding layers of the replica pays on its own (its reserve and the
   * compute buffer of its layers; llama.cpp allocates both on every GPU it splits over). The
   * first GPU's share is in `fixedBytes`. Default 0.
   */
  perGpuBytes?: number;
}

export interface DeploymentResource {
  /** The most nodes the deployment may occupy; the plan uses fewer when fewer hold it. */
  count?: number;
  instanceType?: string;
  /** Node names (or ids) tried first, in this order. */
  preferredNodes?: readonly string[];
  labelSelector?: LabelSelector;
}

export type PlacementPolicy = 'binpack' | 'spread';
export type PlanNodeStatus = 'Ready' | 'NotReady' | 'Lost' | 'Pending';

export interface PlanNodeGpu {
  index: number;
  totalBytes: number;
  allocatedBytes: number;
}

export interface PlanNode {
  id: string;
  name: string;
  approved: boolean;
  status: PlanNodeStatus;
  cordoned: boolean;
  draining: boolean;
  labels: Readonly<Record<string, string>>;
  taints: readonly Taint[];
  instanceType?: string;
  gpus: readonly PlanNodeGpu[];
  capabilities: { spanningReplicas: boolean };
}

/** The owner team's quota and what it already uses. */
export interface TeamQuota {
  gpus: number;
  gpuMemoryBytes: number;
  usedGpus: number;
  usedGpuMemoryBytes: number;
}

export interface PlanDeploymentInput {
  requirement: ReplicaRequirement;
  replicas: number;
  resource: DeploymentResource;
  tolerations: readonly Toleration[];
  /** Defaults to binpack. */
  placement?: PlacementPolicy;
  nodes: readonly PlanNode[];
  /** null: the team has no quota. */
  quota: TeamQuota | null;
  /**
   * Node ids tried after `resource.preferredNodes` and before the policy's own order, with no
   * rule of their own (the scheduler passes the nodes that already hold the model's file).
   */
  favouredNodes?: readonly string[];
  instanceTypes: readonly InstanceType[];
}

export type PlanRuleId =
  | 'requirement'
  | 'instance-type'
  | 'candidates'
  | 'preferred-nodes'
  | 'capacity'
  | 'placement'
  | 'node-count'
  | 'instance-type-nodes'
  | 'spanning'
  | 'quota-gpus'
  | 'quota-memory';

export interface PlanRuleResult {
  rule: PlanRuleId;
  passed: boolean;
  /** `plan`: a failure makes the plan infeasible; `apply`: the plan stands (dry run) but cannot be applied. */
  blocks: 'plan' | 'apply';
  message: string;
}

export interface PlannedGpu {
  index: number;
  /** First and last layer index on this GPU; null when it holds only the fixed part. */
  layers: readonly [number, number] | null;
  bytes: number;
}

export interface PlannedNode {
  nodeId: string;
  name: string;
  gpus: PlannedGpu[];
}

export interface PlannedReplica {
  nodes: PlannedNode[];
}

export interface DeploymentPlan {
  /** Every `plan` rule passed. */
  feasible: boolean;
  /** Feasible, and every `apply` rule passed too (a spanning replica needs nodes that can run one). */
  applicable: boolean;
  /** Distinct nodes the plan occupies. */
  targetNodeCount: number;
  /** Failed rules' messages, then what the plan chose and why (fewer nodes than `count`, dry run only). */
  reasons: string[];
  rules: PlanRuleResult[];
  /** The replicas placed, in order; fewer than asked when placement failed. */
  replicas: PlannedReplica[];
}

/** Nodes needed to hold `needBytes` at `perNodeBytes` each: the ceiling, so an exact multiple needs exactly that many. */
export function nodesNeeded(needBytes: number, perNodeBytes: number): number {
  if (needBytes <= 0) return 0;
  if (perNodeBytes <= 0) return Infinity;
  return Math.ceil(needBytes / perNodeBytes);
}

/**
 * Why a node cannot take new replicas of this resource, or null when it is a candidate: approved,
 * Ready, neither cordoned nor draining, with a GPU, of the asked instance type, matching the
 * selector, every blocking taint tolerated.
 */
export function nodeIneligibility(node: PlanNode, resource: Pick<DeploymentResource, 'instanceType' | 'labelSelector'>, tolerations: readonly Toleration[]): string | null {
  if (!node.approved) return 'not approved';
  if (node.status !== 'Ready') return node.status;
  if (node.cordoned) return 'cordoned';
  if (node.draining) return 'draining';
  if (node.gpus.length === 0) return 'reports no GPU';
  const type = resource.instanceType;
  if (type && node.instanceType !== type) return node.instanceType ? `is ${node.instanceType}, not ${type}` : `reports no instance type, ${type} asked`;
  const label = selectorMismatch(resource.labelSelector, node.labels);
  if (label) return label;
  const taint = untoleratedTaint(node.taints, tolerations);
  return taint ? `taint ${formatTaint(taint)} not tolerated` : null;
}

interface Slice {
  /** Positions in the sorted layer list, or -1 when none. */
  first: number;
  last: number;
  bytes: number;
}

/**
 * Splits one replica over GPUs with these free bytes, in order, by whole layers: the fixed part
 * and the first layers on the first GPU, each GPU a contiguous run. First in proportion to free
 * memory (as llama.cpp's tensor split does), else filling each GPU in turn (which finds a split
 * whenever one exists in this order). Null when none exists.
 */
function splitLayers(layerBytes: readonly number[], fixedBytes: number, free: readonly number[], perGpuBytes = 0): Slice[] | null {
  const capacity = free.reduce((a, b) => a + b, 0);
  const total = layerBytes.reduce((a, b) => a + b, fixedBytes);
  if (free.length === 0 || total > capacity) return null;
  const fresh = (): Slice[] => free.map(() => ({ first: -1, last: -1, bytes: 0 }));
  const put = (s: Slice, i: number, bytes: number): void => {
    if (s.first < 0) s.first = i;
    s.last = i;
    s.bytes += bytes;
  };

  const proportional = fresh();
  proportional[0].bytes = fixedBytes;
  let g = 0;
  let done = fixedBytes;
  let capacityUpTo = free[0];
  layerBytes.forEach((bytes, i) => {
    while (g < free.length - 1 && done + bytes / 2 > (total * capacityUpTo) / capacity) capacityUpTo += free[++g];
    put(proportional[g], i, bytes);
    done += bytes;
  });
  proportional.forEach((s, k) => {
    if (k > 0 && s.first >= 0) s.bytes += perGpuBytes;
  });
  if (proportional.every((s, k) => s.bytes <= free[k])) return proportional;

  const filled = fresh();
  filled[0].bytes = fixedBytes;
  if (fixedBytes > free[0]) return null;
  g = 0;
  // A GPU taken into the split pays its own share first.
  const opening = (k: number) => (k > 0 && filled[k].first < 0 ? perGpuBytes : 0);
  for (let i = 0; i < layerBytes.length; i++) {
    while (filled[g].bytes + opening(g) + layerBytes[i] > free[g]) if (++g === free.length) return null;
    filled[g].bytes += opening(g);
    put(filled[g], i, layerBytes[i]);
  }
  return filled;
}

/** One GPU's free memory, as a replica is fitted over it. */
export interface FreeGpu {
  nodeId: string;
  nodeName: string;
  index: number;
  freeBytes: number;
}

/**
 * Where one replica goes over these GPUs, tried in the order given, by whole layers (see
 * `splitLayers`; GPUs without free memory are skipped), or null when no split fits. The one
 * fit rule: the planner, load on demand and eviction all place a replica through it.
 */
export function fitReplica(req: ReplicaRequirement, gpus: readonly FreeGpu[]): PlannedReplica | null {
  const layers = [...req.layers].sort((a, b) => a.index - b.index);
  const usable = gpus.filter((g) => g.freeBytes > 0);
  const split = splitLayers(layers.map((l) => l.bytes), req.fixedBytes, usable.map((g) => g.freeBytes), req.perGpuBytes);
  if (!split) return null;
  const replica: PlannedReplica = { nodes: [] };
  split.forEach((slice, i) => {
    if (slice.bytes === 0) return;
    const gpu = usable[i];
    let planned = replica.nodes.find((p) => p.nodeId === gpu.nodeId);
    if (!planned) replica.nodes.push((planned = { nodeId: gpu.nodeId, name: gpu.nodeName, gpus: [] }));
    planned.gpus.push({ index: gpu.index, layers: slice.first < 0 ? null : [layers[slice.first].index, layers[slice.last].index], bytes: slice.bytes });
  });
  return replica;
}

/** A node's GPUs with what is free on each (total less allocated, never below 0), in the node's order. */
export function freeGpusOf(node: PlanNode): FreeGpu[] {
  return node.gpus.map((g) => ({ nodeId: node.id, nodeName: node.name, index: g.index, freeBytes: Math.max(0, g.totalBytes - g.allocatedBytes) }));
}

/** Position of a node among the preferred ones (name or id), or after them all. */
export function preferenceRank(preferred: readonly string[], node: PlanNode): number {
  const i = preferred.findIndex((p) => p === node.name || p === node.id);
  return i < 0 ? preferred.length : i;
}

const byName = (a: PlanNode, b: PlanNode): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Binpack order: preferred nodes first (in their order), then the fullest (least free), then by name. */
export function binpackOrder(preferred: readonly string[], freeBytesOf: (n: PlanNode) => number): (a: PlanNode, b: PlanNode) => number {
  return (a, b) => preferenceRank(preferred, a) - preferenceRank(preferred, b) || freeBytesOf(a) - freeBytesOf(b) || byName(a, b);
}

interface Placement {
  replicas: PlannedReplica[];
  /** Replica numbers (1-based) that span nodes. */
  spanning: number[];
}

const gpuKey = (nodeId: string, index: number): string => `${nodeId}/${index}`;

/**
 * Places the replicas one by one over the candidates, never committing more than a GPU's free
 * memory across the replicas of this plan. A replica goes on one node when one holds it (binpack:
 * the fullest that fits; spread: the node with fewest replicas of this plan, then the emptiest),
 * else over the fewest nodes taken emptiest first. Preferred nodes come first either way. At most
 * `maxNodes` distinct nodes.
 */
function place(req: ReplicaRequirement, replicas: number, nodes: readonly PlanNode[], preferred: readonly string[], policy: PlacementPolicy, maxNodes: number): Placement {
  const free = new Map(nodes.flatMap((n) => freeGpusOf(n).map((g) => [gpuKey(n.id, g.index), g.freeBytes] as const)));
  const count = new Map<string, number>();
  const rank = (n: PlanNode): number => preferenceRank(preferred, n);
  const freeOf = (n: PlanNode): number => n.gpus.reduce((a, g) => a + (free.get(gpuKey(n.id, g.index)) ?? 0), 0);
  /** The GPUs of these nodes with what is still free on each, in node then GPU order. */
  const gpusOf = (ns: readonly PlanNode[]): FreeGpu[] =>
    ns.flatMap((n) => n.gpus.map((g) => ({ nodeId: n.id, nodeName: n.name, index: g.index, freeBytes: free.get(gpuKey(n.id, g.index)) ?? 0 })));
  const binpack = binpackOrder(preferred, freeOf);

  const out: Placement = { replicas: [], spanning: [] };
  for (let r = 1; r <= replicas; r++) {
    const allowed = nodes.filter((n) => count.has(n.id) || count.size < maxNodes);

    const single = allowed
      .flatMap((n) => {
        const planned = fitReplica(req, gpusOf([n]));
        return planned ? [{ n, planned }] : [];
      })
      .sort((a, b) =>
        policy === 'spread'
          ? (count.get(a.n.id) ?? 0) - (count.get(b.n.id) ?? 0) || rank(a.n) - rank(b.n) || freeOf(b.n) - freeOf(a.n) || byName(a.n, b.n)
          : binpack(a.n, b.n),
      );
    // Nodes that can run a spanning replica first, alone; then every node.
    const spanOver = (pool: readonly PlanNode[]): PlannedReplica | null => {
      const order = pool.filter((n) => freeOf(n) > 0).sort((a, b) => rank(a) - rank(b) || freeOf(b) - freeOf(a) || byName(a, b));
      for (let k = 2; k <= order.length; k++) {
        const prefix = order.slice(0, k);
        if (count.size + prefix.filter((n) => !count.has(n.id)).length > maxNodes) break;
        const planned = fitReplica(req, gpusOf(prefix));
        if (planned) return planned;
      }
      return null;
    };
    const replica = single[0]?.planned ?? spanOver(allowed.filter((n) => n.capabilities.spanningReplicas)) ?? spanOver(allowed);
    if (!replica) break;

    for (const p of replica.nodes) {
      for (const g of p.gpus) free.set(gpuKey(p.nodeId, g.index), (free.get(gpuKey(p.nodeId, g.index)) ?? 0) - g.bytes);
      count.set(p.nodeId, (count.get(p.nodeId) ?? 0) + 1);
    }
    if (replica.nodes.length > 1) out.spanning.push(r);
    out.replicas.push(replica);
  }
  return out;
}

const distinctNodes = (p: Placement): string[] => [...new Set(p.replicas.flatMap((r) => r.nodes.map((n) => n.nodeId)))];
const gpusOf = (p: Placement): number => new Set(p.replicas.flatMap((r) => r.nodes.flatMap((n) => n.gpus.map((g) => `${n.nodeId}/${g.index}`)))).size;

/** "2 nodes × 2 GPUs × 48 GiB = 192 GiB, 60.5 GiB already allocated", nodes grouped by shape. */
function describeCapacity(nodes: readonly PlanNode[]): string {
  const groups = new Map<string, { nodes: number; text: (n: number) => string }>();
  for (const node of nodes) {
    const sizes = node.gpus.map((g) => g.totalBytes);
    const uniform = sizes.every((s) => s === sizes[0]);
    const key = uniform ? `${sizes.length}×${sizes[0]}` : sizes.join('+');
    const shape = uniform ? `${plural(sizes.length, 'GPU')} × ${size(sizes[0])}` : `GPUs of ${sizes.map(size).join(' + ')}`;
    const g = groups.get(key) ?? { nodes: 0, text: (n: number) => `${plural(n, 'node')} × ${shape}` };
    g.nodes++;
    groups.set(key, g);
  }
  const total = nodes.reduce((a, n) => a + n.gpus.reduce((b, g) => b + g.totalBytes, 0), 0);
  const allocated = nodes.reduce((a, n) => a + n.gpus.reduce((b, g) => b + Math.min(g.allocatedBytes, g.totalBytes), 0), 0);
  return `${[...groups.values()].map((g) => g.text(g.nodes)).join(' + ')} = ${size(total)}, ${size(allocated)} already allocated`;
}

function checkRequirement(input: PlanDeploymentInput): PlanRuleResult {
  const { requirement: req, replicas, resource } = input;
  const layerSum = req.layers.reduce((a, l) => a + l.bytes, 0);
  const problems: string[] = [];
  if (!Number.isInteger(replicas) || replicas < 1) problems.push(`replicas must be a whole number ≥ 1, got ${replicas}`);
  if (resource.count !== undefined && (!Number.isInteger(resource.count) || resource.count < 1)) problems.push(`count must be a whole number ≥ 1, got ${resource.count}`);
  if (req.fixedBytes < 0 || (req.perGpuBytes ?? 0) < 0 || req.layers.some((l) => l.bytes < 0)) problems.push('bytes must not be negative');
  if (new Set(req.layers.map((l) => l.index)).size !== req.layers.length) problems.push('layer indices repeat');
  if (layerSum + req.fixedBytes !== req.totalBytes) problems.push(`layers ${layerSum} B + fixed ${req.fixedBytes} B ≠ total ${req.totalBytes} B`);
  return problems.length > 0
    ? { rule: 'requirement', passed: false, blocks: 'plan', message: `invalid requirement: ${problems.join('; ')}` }
    : {
        rule: 'requirement',
        passed: true,
        blocks: 'plan',
        message: `${need(req.totalBytes)} per replica (${plural(req.layers.length, 'layer')} ${need(layerSum)} + fixed ${need(req.fixedBytes)}) × ${plural(replicas, 'replica')}`,
      };
}

/**
 * Plans a deployment against the fleet: every rule with its verdict and numbers, and where each
 * replica's layers go. Pure: the caller brings the nodes, quota and instance types.
 */
export function planDeployment(input: PlanDeploymentInput): DeploymentPlan {
  const { requirement: req, replicas, resource, quota } = input;
  const policy = input.placement ?? 'binpack';
  const rules: PlanRuleResult[] = [];
  const notes: string[] = [];
  const rule = (id: PlanRuleId, passed: boolean, message: string, blocks: 'plan' | 'apply' = 'plan'): void => {
    rules.push({ rule: id, passed, blocks, message });
  };
  const finish = (placement: Placement | null): DeploymentPlan => {
    const feasible = rules.every((r) => r.passed || r.blocks === 'apply');
    return {
      feasible,
      applicable: feasible && rules.every((r) => r.passed),
      targetNodeCount: placement ? distinctNodes(placement).length : 0,
      reasons: [...rules.filter((r) => !r.passed).map((r) => r.message), ...notes],
      rules,
      replicas: placement?.replicas ?? [],
    };
  };

  const requirement = checkRequirement(input);
  rules.push(requirement);
  if (!requirement.passed) return finish(null);

  // Instance type
  const typeName = resource.instanceType;
  const type = typeName ? findInstanceType(input.instanceTypes, typeName) : null;
  if (!typeName) rule('instance-type', true, 'no instance type asked');
  else if (!type) rule('instance-type', false, `unknown instance type ${typeName}: see GET /api/v1/instance-types`);
  else rule('instance-type', true, `${typeName}: ${plural(type.gpuCount, 'GPU')} × ${size(type.gpuMemoryBytes)} (${type.gpuModel})`);

  // Candidates
  const verdicts = input.nodes.map((node) => ({ node, why: nodeIneligibility(node, input.resource, input.tolerations) }));
  const candidates = verdicts.filter((v) => v.why === null).map((v) => v.node);
  const rejected = verdicts.filter((v) => v.why !== null).map((v) => `${v.node.name}: ${v.why}`);
  if (candidates.length === 0) rule('candidates', false, `no candidate node among ${plural(input.nodes.length, 'node')}${rejected.length ? ` (${list(rejected)})` : ''}`);
  else rule('candidates', true, `${candidates.length} of ${plural(input.nodes.length, 'node')} are candidates${rejected.length ? ` (${list(rejected)})` : ''}`);

  // Preferred nodes
  const preferred = resource.preferredNodes ?? [];
  if (preferred.length === 0) rule('preferred-nodes', true, 'no preferred nodes');
  else {
    const bad = preferred.flatMap((p) => {
      const v = verdicts.find((x) => x.node.name === p || x.node.id === p);
      return !v ? [`${p}: does not exist`] : v.why ? [`${p}: ${v.why}`] : [];
    });
    if (bad.length) rule('preferred-nodes', false, `preferred nodes unusable: ${list(bad)}`);
    else rule('preferred-nodes', true, `preferred nodes ${preferred.join(', ')} are candidates, tried first`);
  }

  // Placement: within `count` nodes; when that fails, without the cap, to tell the cap from the fleet.
  const cap = resource.count ?? Infinity;
  // Nodes that hold the model's file come right after the admin's preferred ones: no download.
  const order = [...preferred, ...(input.favouredNodes ?? []).filter((f) => !preferred.includes(f))];
  const capped = place(req, replicas, candidates, order, policy, cap);
  const complete = (p: Placement): boolean => p.replicas.length === replicas;
  const uncapped = complete(capped) || cap === Infinity ? capped : place(req, replicas, candidates, order, policy, Infinity);
  const final = complete(capped) ? capped : uncapped;
  const usedIds = distinctNodes(final);

  // Capacity: the nodes used when placed, else every candidate.
  const totalNeed = replicas * req.totalBytes;
  const pool = complete(final) ? candidates.filter((n) => usedIds.includes(n.id)) : candidates;
  const poolFree = pool.reduce((a, n) => a + n.gpus.reduce((b, g) => b + Math.max(0, g.totalBytes - g.allocatedBytes), 0), 0);
  const largestGpu = Math.max(0, ...pool.flatMap((n) => n.gpus.map((g) => g.totalBytes)));
  const gpusNeeded = nodesNeeded(totalNeed, largestGpu);
  const poolGpus = pool.reduce((a, n) => a + n.gpus.length, 0);
  const needText = `needs ${need(totalNeed)}${replicas > 1 ? ` (${replicas} × ${need(req.totalBytes)})` : ''} on ≥ ${plural(gpusNeeded, 'GPU')}`;
  if (pool.length === 0) rule('capacity', false, `insufficient GPU memory: ${needText}, no candidate node`);
  else if (poolFree < totalNeed) rule('capacity', false, `insufficient GPU memory: ${needText}, ${describeCapacity(pool)}`);
  else if (poolGpus < gpusNeeded) rule('capacity', false, `too few GPUs: ${needText}, ${describeCapacity(pool)}`);
  else rule('capacity', true, `enough GPU memory: ${needText}, ${describeCapacity(pool)}`);

  // Placement by whole layers
  const describe = (p: PlannedReplica, i: number): string =>
    `replica ${i + 1} ${p.nodes.length > 1 ? 'spans' : 'on'} ${p.nodes.map(describePlacedNode).join(' + ')}`;
  if (complete(final)) rule('placement', true, `${plural(replicas, 'replica')} placed by whole layers (fixed ${need(req.fixedBytes)} on each replica's first GPU${req.perGpuBytes ? `, ${need(req.perGpuBytes)} on each further one` : ''}): ${final.replicas.map(describe).join('; ')}`);
  else {
    const largestLayer = Math.max(0, ...req.layers.map((l) => l.bytes));
    const freeGpus = candidates.flatMap((n) => n.gpus.map((g) => ({ n, g, free: Math.max(0, g.totalBytes - g.allocatedBytes) })));
    const best = freeGpus.sort((a, b) => b.free - a.free)[0];
    rule(
      'placement',
      false,
      `${final.replicas.length} of ${plural(replicas, 'replica')} placed: replica ${final.replicas.length + 1} (${need(req.totalBytes)}, largest layer ${need(largestLayer)}) fits on no node or set of nodes` +
        (best ? `; most free on one GPU: ${size(best.free)} (${best.n.name} GPU ${best.g.index})` : ''),
    );
  }

  // Node count
  if (resource.count === undefined) rule('node-count', true, `no count asked: uses ${plural(usedIds.length, 'node')}`);
  else if (complete(capped)) {
    const used = distinctNodes(capped).length;
    if (used < resource.count) {
      const why = `uses ${used} of the ${plural(resource.count, 'node')} count allows: ${replicas === 1 ? 'the replica' : `the ${replicas} replicas`} (${need(totalNeed)}) fit${replicas === 1 ? 's' : ''} on ${plural(used, 'node')}${policy === 'spread' && replicas < resource.count ? `, one replica per node` : ''}`;
      rule('node-count', true, why);
      notes.push(why);
    } else rule('node-count', true, `uses ${plural(used, 'node')}, count ${resource.count}`);
  } else if (complete(uncapped)) rule('node-count', false, `too few nodes allowed: needs ${plural(usedIds.length, 'node')}, count ${resource.count}`);
  else rule('node-count', true, `count ${resource.count} is not what stops the plan (see placement)`);

  // Nodes of the asked instance type: the fewest fresh nodes of the table's shape that hold every replica.
  if (!typeName) rule('instance-type-nodes', true, 'no instance type asked');
  else if (!type) rule('instance-type-nodes', false, `cannot size nodes of unknown instance type ${typeName}`);
  else {
    const perNode = type.gpuCount * type.gpuMemoryBytes;
    const fresh = (k: number): PlanNode[] =>
      Array.from({ length: k }, (_, i) => ({
        id: `${i}`, name: `${i}`, approved: true, status: 'Ready', cordoned: false, draining: false, labels: {}, taints: [],
        gpus: Array.from({ length: type.gpuCount }, (_, index) => ({ index, totalBytes: type.gpuMemoryBytes, allocatedBytes: 0 })),
        capabilities: { spanningReplicas: true },
      }));
    const lower = Math.max(1, nodesNeeded(totalNeed, perNode));
    // Every layer and the fixed part fit a GPU: then filling GPUs in turn always ends within this bound.
    const fits = Math.max(req.fixedBytes, ...req.layers.map((l) => l.bytes)) <= type.gpuMemoryBytes;
    const upper = fits ? lower + replicas * nodesNeeded(req.layers.length + 1, type.gpuCount) : 0;
    let needed: number | null = null;
    for (let k = lower; k <= upper && needed === null; k++) {
      if (complete(place(req, replicas, fresh(k), [], 'binpack', Infinity))) needed = k;
    }
    const ready = candidates.length;
    if (needed === null) rule('instance-type-nodes', false, `${typeName} cannot hold the model: a GPU of ${size(type.gpuMemoryBytes)} is smaller than one layer or the fixed ${need(req.fixedBytes)}`);
    else {
      const text = `needs ${needed} × ${typeName} (${need(totalNeed)} at ${size(perNode)} per node), ${ready} Ready`;
      if (ready >= needed) rule('instance-type-nodes', true, text);
      else rule('instance-type-nodes', false, `${text}: add ${needed - ready}`);
    }
  }

  // Spanning replicas need nodes that can run one.
  if (final.spanning.length === 0) rule('spanning', true, 'no replica spans nodes', 'apply');
  else {
    const spanIds = new Set(final.spanning.flatMap((r) => final.replicas[r - 1].nodes.map((n) => n.nodeId)));
    const spanNodes = candidates.filter((c) => spanIds.has(c.id));
    const unable = [...new Set(spanNodes.filter((n) => !n.capabilities.spanningReplicas).map((n) => n.name))];
    const what = `${final.spanning.length === 1 ? `replica ${final.spanning[0]} spans` : `replicas ${final.spanning.join(', ')} span`} nodes (no single node holds ${need(req.totalBytes)})`;
    if (unable.length === 0) rule('spanning', true, `${what}; every node used can run a spanning replica`, 'apply');
    else {
      rule('spanning', false, `${what}; ${unable.join(', ')} cannot run a spanning replica yet: dry run only`, 'apply');
    }
  }

  // The owner team's quota
  const planGpus = gpusOf(final);
  const partial = complete(final) ? '' : ' (placed replicas only)';
  if (!quota) {
    rule('quota-gpus', true, 'no GPU quota set');
    rule('quota-memory', true, 'no GPU memory quota set');
  } else {
    const g = quota.usedGpus + planGpus;
    rule('quota-gpus', g <= quota.gpus, `GPU quota${g > quota.gpus ? ' exceeded' : ''}: ${quota.usedGpus} used + ${planGpus} planned${partial} = ${g} ${g > quota.gpus ? '>' : 'of'} ${quota.gpus}`);
    const m = quota.usedGpuMemoryBytes + totalNeed;
    rule('quota-memory', m <= quota.gpuMemoryBytes, `GPU memory quota${m > quota.gpuMemoryBytes ? ' exceeded' : ''}: ${size(quota.usedGpuMemoryBytes)} used + ${need(totalNeed)} planned = ${need(m)} ${m > quota.gpuMemoryBytes ? '>' : 'of'} ${size(quota.gpuMemoryBytes)}`);
  }

  return finish(final);
}
