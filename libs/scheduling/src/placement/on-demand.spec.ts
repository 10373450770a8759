import { GpuLedger } from './gpu-ledger';
import { EVICTION_SEARCH_LIMIT, LoadOnDemandInput, LoadOnDemandPlacement, LoadOnDemandResult, ResidentReplica, idleReplicas, planLoadOnDemand } from './on-demand';
import { PlanNode, ReplicaRequirement } from './plan-deployment';

const GiB = 1024 ** 3;

/** `layers` equal layers plus `fixedGiB` fixed, `totalGiB` in all; the sum is exact. */
function req(totalGiB: number, layers: number, fixedGiB = 0): ReplicaRequirement {
  const layerBytes = Math.round(((totalGiB - fixedGiB) * GiB) / layers);
  const totalBytes = Math.round(totalGiB * GiB);
  return { totalBytes, fixedBytes: totalBytes - layers * layerBytes, layers: Array.from({ length: layers }, (_, index) => ({ index, bytes: layerBytes })) };
}

/** An idle, unpinned, loaded replica of `gib` GiB on GPU 0 of `node` (other GPUs via `gpus`). */
function replica(id: string, node: string, gib: number, extra: Partial<ResidentReplica> = {}): ResidentReplica {
  return { id, nodeId: `id-${node}`, model: `model-${id}`, gpus: [{ index: 0, bytes: gib * GiB }], inFlight: 0, lastUsedAt: 0, pinned: false, loading: false, ...extra };
}

/**
 * A Ready, approved node with GPUs of these sizes (GiB); each GPU's allocated bytes are what the
 * given replicas hold on it plus `outsideGiB` (memory the scheduler does not own).
 */
function node(name: string, gpuGiB: number[], residents: readonly ResidentReplica[], extra: Partial<PlanNode> & { outsideGiB?: number[] } = {}): PlanNode {
  const { outsideGiB = [], ...rest } = extra;
  const id = `id-${name}`;
  const held = (index: number): number =>
    residents.filter((r) => r.nodeId === id).reduce((a, r) => a + r.gpus.filter((g) => g.index === index).reduce((b, g) => b + g.bytes, 0), 0);
  return {
    id, name, approved: true, status: 'Ready', cordoned: false, draining: false, labels: {}, taints: [],
    gpus: gpuGiB.map((gib, index) => ({ index, totalBytes: gib * GiB, allocatedBytes: (outsideGiB[index] ?? 0) * GiB + held(index) })),
    capabilities: { spanningReplicas: false },
    ...rest,
  };
}

function load(input: Partial<LoadOnDemandInput> & Pick<LoadOnDemandInput, 'requirement' | 'nodes' | 'resident'>): LoadOnDemandResult {
  return planLoadOnDemand({ model: 'llama', ...input });
}

function placed(result: LoadOnDemandResult): LoadOnDemandPlacement {
  if (result.nodeId === null) throw new Error(`expected a placement, got: ${result.reason}`);
  return result;
}

const gpuBytes = (p: LoadOnDemandPlacement) => p.planned.nodes.flatMap((n) => n.gpus.map((g) => [g.index, g.bytes / GiB]));

describe('planLoadOnDemand: without eviction', () => {
  it('takes a node where the replica fits as is over one where it would have to evict, the fullest first (binpack)', () => {
    const resident = [replica('old', 'a', 20), replica('busy', 'b', 10, { inFlight: 1 })];
    const nodes = [node('a', [24], resident), node('b', [24], resident), node('c', [24], resident)];
    const result = placed(load({ requirement: req(8, 8), nodes, resident }));
    expect(result).toEqual({
      nodeId: 'id-b',
      planned: { nodes: [{ nodeId: 'id-b', name: 'b', gpus: [{ index: 0, layers: [0, 7], bytes: 8 * GiB }] }] },
      evict: [],
      reason: 'b: fits without evicting: b (GPU 0: layers 0–7, 8 GiB)',
    });
  });

  it('tries preferred nodes first, as planDeployment does', () => {
    const nodes = [node('a', [24], [], { outsideGiB: [10] }), node('b', [24], [])];
    expect(placed(load({ requirement: req(8, 8), nodes, resident: [] })).nodeId).toBe('id-a');
    expect(placed(load({ requirement: req(8, 8), nodes, resident: [], resource: { preferredNodes: ['b'] } })).nodeId).toBe('id-b');
  });

  it('splits a replica over the GPUs of one node by whole layers', () => {
    const result = placed(load({ requirement: req(40, 40), nodes: [node('a', [24, 24], [], { outsideGiB: [4, 4] })], resident: [] }));
    expect(gpuBytes(result)).toEqual([[0, 20], [1, 20]]);
    expect(result.planned.nodes[0].gpus.map((g) => g.layers)).toEqual([[0, 19], [20, 39]]);
  });
});

describe('planLoadOnDemand: filters as planDeployment applies them', () => {
  const empty = (name: string, extra: Partial<PlanNode> = {}) => node(name, [24], [], extra);
  const refused = [
    empty('cordoned', { cordoned: true }),
    empty('draining', { draining: true }),
    empty('lost', { status: 'Lost' }),
    empty('new', { approved: false }),
    empty('tainted', { taints: [{ key: 'gpu', value: 'reserved', effect: 'NoSchedule' }] }),
    empty('h100', { instanceType: 'Standard_NC40ads_H100_v5' }),
  ];

  it('loads on no node the planner would refuse, and names why each was refused', () => {
    const result = load({ requirement: req(8, 8), nodes: refused, resident: [], resource: { instanceType: 'Standard_NC24ads_A100_v4' } });
    expect(result).toEqual({
      nodeId: null,
      reason:
        'cannot load llama (8.0 GiB) on any of 6 nodes: cordoned: cordoned; ' +
        'draining: draining; lost: Lost; new: not approved; tainted: reports no instance type, Standard_NC24ads_A100_v4 asked; ' +
        'h100: is Standard_NC40ads_H100_v5, not Standard_NC24ads_A100_v4',
    });
    expect(load({ requirement: req(8, 8), nodes: refused.slice(0, 5), resident: [] }).reason).toBe(
      'cannot load llama (8.0 GiB) on any of 5 nodes: cordoned: cordoned; draining: draining; lost: Lost; new: not approved; tainted: taint gpu=reserved:NoSchedule not tolerated',
    );
  });

  it('takes a tainted node once the taint is tolerated', () => {
    const result = load({ requirement: req(8, 8), nodes: refused.slice(0, 5), resident: [], tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    expect(placed(result).nodeId).toBe('id-tainted');
  });

  it('takes only nodes matching the label selector', () => {
    const nodes = [empty('plain'), empty('gold', { labels: { tier: 'gold' }, gpus: [{ index: 0, totalBytes: 80 * GiB, allocatedBytes: 0 }] })];
    const selector = { matchLabels: { tier: 'gold' } };
    expect(placed(load({ requirement: req(8, 8), nodes, resident: [] })).nodeId).toBe('id-plain');
    expect(placed(load({ requirement: req(8, 8), nodes, resident: [], resource: { labelSelector: selector } })).nodeId).toBe('id-gold');
    expect(load({ requirement: req(8, 8), nodes: nodes.slice(0, 1), resident: [], resource: { labelSelector: selector } }).reason).toBe(
      'cannot load llama (8.0 GiB) on any of 1 node: plain: label tier=gold required, node has no tier',
    );
  });
});

describe('planLoadOnDemand: eviction', () => {
  it('evicts the least recently used idle replica, then the next', () => {
    const resident = [replica('r3', 'a', 8, { lastUsedAt: 300 }), replica('r1', 'a', 8, { lastUsedAt: 100 }), replica('r2', 'a', 8, { lastUsedAt: 200 })];
    const nodes = [node('a', [24], resident)];
    expect(placed(load({ requirement: req(8, 8), nodes, resident })).evict).toEqual(['r1']);
    expect(placed(load({ requirement: req(16, 16), nodes, resident })).evict).toEqual(['r1', 'r2']);
    expect(placed(load({ requirement: req(24, 24), nodes, resident })).evict).toEqual(['r1', 'r2', 'r3']);
  });

  it('says what it evicts and where the replica goes', () => {
    const resident = [replica('r1', 'a', 20, { model: 'mistral', lastUsedAt: Date.UTC(2025, 0, 2, 3, 4, 5) })];
    const result = placed(load({ requirement: req(8, 8), nodes: [node('a', [24], resident)], resident }));
    expect(result.reason).toBe('a: no node holds it as is; fits after evicting 1 idle replica (r1: mistral, 20 GiB, last used 2025-01-02T03:04:05.000Z): a (GPU 0: layers 0–7, 8 GiB)');
  });

  it('evicts one big replica rather than two small ones, even a more recently used one: fewest evictions first', () => {
    const resident = [replica('big', 'a', 12, { lastUsedAt: 3000 }), replica('small1', 'a', 6, { lastUsedAt: 1000 }), replica('small2', 'a', 6, { lastUsedAt: 2000 })];
    const nodes = [node('a', [24], resident)];
    expect(placed(load({ requirement: req(10, 10), nodes, resident })).evict).toEqual(['big']);
    // When one small replica frees enough, the least recently used of the single ones goes.
    expect(placed(load({ requirement: req(5, 5), nodes, resident })).evict).toEqual(['small1']);
  });

  it('picks the node that needs the fewest evictions, then the one whose evictions were used longest ago', () => {
    const fewer = [replica('a1', 'a', 6, { lastUsedAt: 100 }), replica('a2', 'a', 6, { lastUsedAt: 200 }), replica('b1', 'b', 12, { lastUsedAt: 5000 })];
    const fewerNodes = [node('a', [24], fewer, { outsideGiB: [12] }), node('b', [24], fewer, { outsideGiB: [12] })];
    expect(placed(load({ requirement: req(10, 10), nodes: fewerNodes, resident: fewer }))).toMatchObject({ nodeId: 'id-b', evict: ['b1'] });

    const older = [replica('a1', 'a', 10, { lastUsedAt: 200 }), replica('b1', 'b', 10, { lastUsedAt: 100 })];
    const olderNodes = [node('a', [24], older, { outsideGiB: [14] }), node('b', [24], older, { outsideGiB: [14] })];
    expect(placed(load({ requirement: req(10, 10), nodes: olderNodes, resident: older }))).toMatchObject({ nodeId: 'id-b', evict: ['b1'] });
  });

  it('compares equal-sized eviction sets by their most recent use first', () => {
    // a's pair was last used at 300, b's at 250: b's pair goes though a holds the oldest single replica.
    const resident = [
      replica('a1', 'a', 5, { lastUsedAt: 10 }), replica('a2', 'a', 5, { lastUsedAt: 300 }),
      replica('b1', 'b', 5, { lastUsedAt: 200 }), replica('b2', 'b', 5, { lastUsedAt: 250 }),
    ];
    const nodes = [node('a', [24], resident, { outsideGiB: [14] }), node('b', [24], resident, { outsideGiB: [14] })];
    expect(placed(load({ requirement: req(10, 10), nodes, resident }))).toMatchObject({ nodeId: 'id-b', evict: ['b1', 'b2'] });
  });

  it('breaks a tie in disruption by binpack order', () => {
    const resident = [replica('a1', 'a', 10, { lastUsedAt: 100 }), replica('b1', 'b', 10, { lastUsedAt: 100 })];
    const nodes = [node('a', [24], resident, { outsideGiB: [14] }), node('b', [24], resident, { outsideGiB: [14] })];
    expect(placed(load({ requirement: req(10, 10), nodes, resident })).nodeId).toBe('id-a');
    expect(placed(load({ requirement: req(10, 10), nodes, resident, resource: { preferredNodes: ['b'] } })).nodeId).toBe('id-b');
  });

  it('frees memory on the GPU that needs it: a newer replica goes when the older one frees the wrong GPU', () => {
    // GPU 0: A (20 GiB, newer) and 2 GiB outside. GPU 1: B (12 GiB, older) and a pinned 12 GiB.
    const resident = [
      replica('A', 'a', 20, { lastUsedAt: 2000 }),
      replica('B', 'a', 12, { lastUsedAt: 1000, gpus: [{ index: 1, bytes: 12 * GiB }] }),
      replica('P', 'a', 12, { pinned: true, gpus: [{ index: 1, bytes: 12 * GiB }] }),
    ];
    const nodes = [node('a', [24, 24], resident, { outsideGiB: [2, 0] })];
    // 1 GiB fixed and one 12.5 GiB layer: evicting B frees 14 GiB in sum, but no GPU takes the layer.
    const result = placed(load({ requirement: req(13.5, 1, 1), nodes, resident }));
    expect(result.evict).toEqual(['A']);
    expect(result.planned.nodes[0].gpus).toEqual([{ index: 0, layers: [0, 0], bytes: 13.5 * GiB }]);
  });

  it('never plans more on a GPU than is free once the evicted replicas are gone', () => {
    const resident = [
      replica('r0', 'a', 10, { lastUsedAt: 1 }),
      replica('r1', 'a', 10, { lastUsedAt: 2, gpus: [{ index: 1, bytes: 10 * GiB }] }),
      replica('keep', 'a', 10, { inFlight: 1, gpus: [{ index: 1, bytes: 10 * GiB }] }),
    ];
    const nodes = [node('a', [24, 24], resident, { outsideGiB: [14, 4] })];
    const result = placed(load({ requirement: req(20, 40), nodes, resident }));
    expect(result.evict).toEqual(['r0', 'r1']);
    // Free after eviction: GPU 0 10 GiB, GPU 1 10 GiB.
    for (const [, gib] of gpuBytes(result)) expect(gib).toBeLessThanOrEqual(10);
    expect(gpuBytes(result).reduce((a, [, gib]) => a + gib, 0)).toBe(20);
  });

  /** GPU 0 (12 GiB): X, 10 GiB, the most recently used, and 2 GiB outside. GPU 1 (20 GiB): twenty idle 1 GiB replicas, s00 the oldest. */
  function crowded() {
    const small = Array.from({ length: 20 }, (_, i) => replica(`s${String(i).padStart(2, '0')}`, 'a', 1, { lastUsedAt: i, gpus: [{ index: 1, bytes: GiB }] }));
    const resident = [...small, replica('X', 'a', 10, { lastUsedAt: 1000 })];
    return { small, resident, nodes: [node('a', [12, 20], resident, { outsideGiB: [2, 0] })] };
  }
  /** 1 GiB fixed, then layers of these sizes (GiB). */
  const layered = (...gib: number[]): ReplicaRequirement => ({
    totalBytes: (1 + gib.reduce((a, b) => a + b, 0)) * GiB,
    fixedBytes: GiB,
    layers: gib.map((g, index) => ({ index, bytes: g * GiB })),
  });

  it('finds the fewest evictions among many idle replicas, even when the most recently used must go', () => {
    // 1 + 9 GiB on GPU 0 once X goes, 2 GiB on GPU 1: X and two small ones. Without X, twelve small ones.
    const { resident, nodes } = crowded();
    // The 1 140 sets of three small replicas come first in LRU order, within the limit.
    expect(EVICTION_SEARCH_LIMIT).toBeGreaterThan(1140);
    const result = placed(load({ requirement: layered(9, 2), nodes, resident }));
    expect(result.evict).toEqual(['s00', 's01', 'X']);
    expect(result.planned.nodes[0].gpus).toEqual([{ index: 0, layers: [0, 0], bytes: 10 * GiB }, { index: 1, layers: [1, 1], bytes: 2 * GiB }]);
  });

  it('settles for the least recently used replicas that make room on a node crowded past the search limit', () => {
    // X and four small ones would do (1 + 9 GiB on GPU 0, 4 GiB on GPU 1), but the 15 504 sets of
    // five small replicas come first in LRU order: past the limit, the search takes the least
    // recently used until the replica fits, fourteen small ones.
    const { small, resident, nodes } = crowded();
    expect(EVICTION_SEARCH_LIMIT).toBeLessThan(15_504);
    const result = placed(load({ requirement: layered(9, 4), nodes, resident }));
    expect(result.evict).toEqual(small.slice(0, 14).map((r) => r.id));
    expect(gpuBytes(result)).toEqual([[1, 14]]);
  });
});

describe('planLoadOnDemand: what is never evicted', () => {
  const kept = [
    replica('busy', 'a', 10, { inFlight: 2 }),
    replica('pin', 'a', 6, { pinned: true }),
    replica('warming', 'a', 6, { loading: true }),
    replica('same', 'a', 2, { model: 'llama' }),
  ];

  it('refuses rather than evict a replica with jobs in flight, a pinned one, a loading one, or one of the model itself', () => {
    const result = load({ requirement: req(8, 8), nodes: [node('a', [24], kept)], resident: kept });
    expect(result).toEqual({
      nodeId: null,
      reason: 'cannot load llama (8.0 GiB) on any of 1 node: a: 0 GiB free + 0 GiB from 0 idle replicas, not enough; kept: busy (2 jobs in flight), pin (pinned), warming (loading), same (a replica of llama itself)',
    });
  });

  it('evicts only the idle replicas beside them, and refuses when those are not enough', () => {
    const idle = replica('idle', 'a', 4, { lastUsedAt: 1 });
    const resident = [...kept, idle];
    const short = load({ requirement: req(8, 8), nodes: [node('a', [28], resident)], resident });
    expect(short.nodeId).toBeNull();
    expect(short.reason).toMatch(/^cannot load llama \(8\.0 GiB\) on any of 1 node: a: 0 GiB free \+ 4 GiB from 1 idle replica, not enough; kept: busy/);
    expect(placed(load({ requirement: req(4, 4), nodes: [node('a', [28], resident)], resident })).evict).toEqual(['idle']);
  });

  it('goes to another node with an idle replica rather than touch them', () => {
    const resident = [...kept, replica('other', 'b', 20, { lastUsedAt: 9999 })];
    const nodes = [node('a', [24], resident), node('b', [24], resident)];
    expect(placed(load({ requirement: req(8, 8), nodes, resident }))).toMatchObject({ nodeId: 'id-b', evict: ['other'] });
  });

  it('explains a node with enough memory in sum that no whole-layer split fits', () => {
    // Two GPUs with 8 GiB free each; one layer of 12 GiB fits neither.
    const result = load({ requirement: req(13, 1, 1), nodes: [node('a', [24, 24], [], { outsideGiB: [16, 16] })], resident: [] });
    expect(result.reason).toBe('cannot load llama (13.0 GiB) on any of 1 node: a: 16 GiB free + 0 GiB from 0 idle replicas, enough in sum, but no split by whole layers fits its GPUs');
  });

  it('refuses with no node at all', () => {
    expect(load({ requirement: req(8, 8), nodes: [], resident: [] })).toEqual({ nodeId: null, reason: 'cannot load llama (8.0 GiB) on any of 0 nodes' });
  });
});

describe('planLoadOnDemand with the ledger', () => {
  it('commits as planned: release the evicted replicas, reserve the new one, nothing over-committed', () => {
    const ledger = new GpuLedger();
    for (const id of ['id-a', 'id-b']) ledger.setGpu(id, 0, 24 * GiB, 2 * GiB);
    const resident = [replica('a1', 'a', 12, { lastUsedAt: 100 }), replica('a2', 'a', 10, { lastUsedAt: 200, inFlight: 1 }), replica('b1', 'b', 22, { lastUsedAt: 50, inFlight: 3 })];
    for (const r of resident) ledger.reserve(r.id, { nodes: [{ nodeId: r.nodeId, name: r.nodeId, gpus: r.gpus.map((g) => ({ ...g, layers: null })) }] });
    const nodes = ['a', 'b'].map((name) => ({ ...node(name, [24], []), gpus: ledger.planNodeGpus(`id-${name}`) }));

    const result = placed(load({ requirement: req(12, 12), nodes, resident }));
    expect(result).toMatchObject({ nodeId: 'id-a', evict: ['a1'] });
    expect(ledger.reserve('new', result.planned).refusal?.code).toBe('gpu_full');
    result.evict.forEach((id) => ledger.release(id));
    expect(ledger.reserve('new', result.planned)).toEqual({ ok: true });
    expect(ledger.allocatedBytes('id-a', 0)).toBe(24 * GiB);
  });
});

describe('idleReplicas', () => {
  const now = 1_000_000;
  const minutes = (m: number) => m * 60_000;

  it('returns the replicas idle longer than their idle time, least recently used first', () => {
    const resident = [
      replica('recent', 'a', 1, { lastUsedAt: now - minutes(4) }),
      replica('stale', 'a', 1, { lastUsedAt: now - minutes(6) }),
      replica('staler', 'b', 1, { lastUsedAt: now - minutes(9) }),
    ];
    expect(idleReplicas(resident, now, () => minutes(5)).map((r) => r.id)).toEqual(['staler', 'stale']);
  });

  it('counts exactly the idle time as not yet idle', () => {
    const resident = [replica('edge', 'a', 1, { lastUsedAt: now - minutes(5) }), replica('past', 'a', 1, { lastUsedAt: now - minutes(5) - 1 })];
    expect(idleReplicas(resident, now, () => minutes(5)).map((r) => r.id)).toEqual(['past']);
  });

  it('gives each replica its own idle time; Infinity keeps it', () => {
    const resident = [
      replica('short', 'a', 1, { model: 'tiny', lastUsedAt: now - minutes(2) }),
      replica('long', 'a', 1, { model: 'big', lastUsedAt: now - minutes(20) }),
      replica('forever', 'a', 1, { model: 'keep', lastUsedAt: 0 }),
    ];
    const idleMs: Record<string, number> = { tiny: minutes(1), big: minutes(30), keep: Infinity };
    expect(idleReplicas(resident, now, (r) => idleMs[r.model]).map((r) => r.id)).toEqual(['short']);
  });

  it('never unloads a replica with jobs in flight, a pinned one or a loading one, however long idle', () => {
    const old = { lastUsedAt: 0 };
    const resident = [
      replica('busy', 'a', 1, { ...old, inFlight: 1 }),
      replica('pin', 'a', 1, { ...old, pinned: true }),
      replica('warming', 'a', 1, { ...old, loading: true }),
      replica('idle', 'a', 1, old),
    ];
    expect(idleReplicas(resident, now, () => minutes(1)).map((r) => r.id)).toEqual(['idle']);
  });
});

