import { INSTANCE_TYPES } from './instance-types';
import { DeploymentPlan, PlanDeploymentInput, PlanNode, PlanRuleId, ReplicaRequirement, fitReplica, nodeIneligibility, nodesNeeded, planDeployment } from './plan-deployment';

const GiB = 1024 ** 3;

/** A requirement of `totalGiB` over `layers` equal layers, `fixedGiB` of it fixed; the sum is exact. */
function req(totalGiB: number, layers: number, fixedGiB: number): ReplicaRequirement {
  const layerBytes = Math.round(((totalGiB - fixedGiB) * GiB) / layers);
  const totalBytes = Math.round(totalGiB * GiB);
  return { totalBytes, fixedBytes: totalBytes - layers * layerBytes, layers: Array.from({ length: layers }, (_, index) => ({ index, bytes: layerBytes })) };
}

/** A Ready, approved node with `gpus` GPUs of `gib` GiB each, `allocatedGiB` per GPU already taken. */
function node(name: string, gpus: number, gib: number, extra: Partial<PlanNode> & { allocatedGiB?: number } = {}): PlanNode {
  const { allocatedGiB = 0, ...rest } = extra;
  return {
    id: `id-${name}`, name, approved: true, status: 'Ready', cordoned: false, draining: false, labels: {}, taints: [],
    gpus: Array.from({ length: gpus }, (_, index) => ({ index, totalBytes: gib * GiB, allocatedBytes: allocatedGiB * GiB })),
    capabilities: { spanningReplicas: false },
    ...rest,
  };
}

function plan(input: Partial<PlanDeploymentInput> & Pick<PlanDeploymentInput, 'requirement' | 'nodes'>): DeploymentPlan {
  return planDeployment({ replicas: 1, resource: {}, tolerations: [], quota: null, instanceTypes: INSTANCE_TYPES, ...input });
}

const ruleOf = (p: DeploymentPlan, id: PlanRuleId) => p.rules.find((r) => r.rule === id)!;

const llama70bQ8 = req(75, 80, 2);
const llama70bF16 = req(142, 80, 11);
const llama8b = req(9, 32, 1);

describe('planDeployment: scenarios', () => {
  it('accepts a 70B model at 8-bit on one node of 2 × 80 GiB, split over both GPUs by whole layers', () => {
    const p = plan({ requirement: llama70bQ8, nodes: [node('a100', 2, 80)] });
    expect(p).toMatchObject({ feasible: true, applicable: true, targetNodeCount: 1, reasons: [] });
    const [gpu0, gpu1] = p.replicas[0].nodes[0].gpus;
    expect(p.replicas[0].nodes).toHaveLength(1);
    expect([gpu0.index, gpu1.index]).toEqual([0, 1]);
    expect(gpu0.layers![0]).toBe(0);
    expect(gpu1.layers![0]).toBe(gpu0.layers![1] + 1);
    expect(gpu1.layers![1]).toBe(79);
    expect(gpu0.bytes + gpu1.bytes).toBe(llama70bQ8.totalBytes);
    expect(Math.abs(gpu0.bytes - gpu1.bytes)).toBeLessThan(2 * GiB);
    expect(p.rules.every((r) => r.passed)).toBe(true);
  });

  it('refuses a 70B model at 8-bit on nodes of 1 × 24 GiB, with the numbers', () => {
    const p = plan({ requirement: llama70bQ8, nodes: [node('l4-a', 1, 24), node('l4-b', 1, 24), node('l4-c', 1, 24)] });
    expect(p.feasible).toBe(false);
    expect(p.applicable).toBe(false);
    expect(ruleOf(p, 'capacity').message).toBe('insufficient GPU memory: needs 75.0 GiB on ≥ 4 GPUs, 3 nodes × 1 GPU × 24 GiB = 72 GiB, 0 GiB already allocated');
    expect(ruleOf(p, 'placement').message).toMatch(/^0 of 1 replica placed: replica 1 \(75\.0 GiB, largest layer 0\.9 GiB\) fits on no node or set of nodes; most free on one GPU: 24 GiB/);
    expect(p.reasons).toContain(ruleOf(p, 'capacity').message);
  });

  it('plans a 70B model at 16-bit as one replica over two nodes of 2 × 48 GiB, not applicable while no node can run a spanning replica', () => {
    const nodes = [node('l40s-a', 2, 48), node('l40s-b', 2, 48)];
    const p = plan({ requirement: llama70bF16, nodes });
    expect(p).toMatchObject({ feasible: true, applicable: false, targetNodeCount: 2 });
    expect(p.replicas).toHaveLength(1);
    expect(p.replicas[0].nodes.map((n) => n.name)).toEqual(['l40s-a', 'l40s-b']);
    const ranges = p.replicas[0].nodes.flatMap((n) => n.gpus.map((g) => g.layers!));
    expect(ranges[0][0]).toBe(0);
    expect(ranges.at(-1)![1]).toBe(79);
    ranges.slice(1).forEach((r, i) => expect(r[0]).toBe(ranges[i][1] + 1));
    const spanning = ruleOf(p, 'spanning');
    expect(spanning).toMatchObject({ passed: false, blocks: 'apply' });
    expect(spanning.message).toBe('replica 1 spans nodes (no single node holds 142.0 GiB); l40s-a, l40s-b cannot run a spanning replica yet: dry run only');
    expect(p.reasons).toEqual([spanning.message]);

    const capable = plan({ requirement: llama70bF16, nodes: nodes.map((n) => ({ ...n, capabilities: { spanningReplicas: true } })) });
    expect(capable).toMatchObject({ feasible: true, applicable: true, targetNodeCount: 2 });
  });

  it('refuses the 16-bit 70B when the 2 × 48 GiB nodes have 60.5 GiB allocated, in the words of the issue', () => {
    const nodes = [node('l40s-a', 2, 48), node('l40s-b', 2, 48)];
    nodes[0].gpus[0].allocatedBytes = 60.5 * GiB - 48 * GiB;
    nodes[1].gpus[1].allocatedBytes = 48 * GiB;
    const p = plan({ requirement: llama70bF16, nodes });
    expect(p.feasible).toBe(false);
    expect(ruleOf(p, 'capacity').message).toBe('insufficient GPU memory: needs 142.0 GiB on ≥ 3 GPUs, 2 nodes × 2 GPUs × 48 GiB = 192 GiB, 60.5 GiB already allocated');
  });

  it('places a 70B model at 16-bit on one Standard_NC80adis_H100_v5 (2 × 94 GiB)', () => {
    const p = plan({ requirement: llama70bF16, resource: { instanceType: 'Standard_NC80adis_H100_v5' }, nodes: [node('h100', 2, 94, { instanceType: 'Standard_NC80adis_H100_v5' })] });
    expect(p).toMatchObject({ feasible: true, applicable: true, targetNodeCount: 1 });
    expect(p.replicas[0].nodes[0].gpus.map((g) => g.index)).toEqual([0, 1]);
    expect(ruleOf(p, 'instance-type').message).toBe('Standard_NC80adis_H100_v5: 2 GPUs × 94 GiB (NVIDIA H100 NVL)');
    expect(ruleOf(p, 'instance-type-nodes').message).toBe('needs 1 × Standard_NC80adis_H100_v5 (142.0 GiB at 188 GiB per node), 1 Ready');
  });

  it('places an 8B model with count 3 on one node and says why', () => {
    const p = plan({ requirement: llama8b, resource: { count: 3 }, nodes: [node('a', 1, 24), node('b', 1, 24), node('c', 1, 24)] });
    expect(p).toMatchObject({ feasible: true, applicable: true, targetNodeCount: 1 });
    expect(p.reasons).toEqual(['uses 1 of the 3 nodes count allows: the replica (9.0 GiB) fits on 1 node']);
  });
});

describe('planDeployment: rules', () => {
  it('requirement: the layers and fixed part sum to the total, replicas and count are whole numbers ≥ 1', () => {
    const ok = plan({ requirement: req(10, 4, 2), nodes: [node('a', 1, 24)] });
    expect(ruleOf(ok, 'requirement')).toMatchObject({ passed: true, message: '10.0 GiB per replica (4 layers 8.0 GiB + fixed 2.0 GiB) × 1 replica' });
    const cases: [string, Partial<PlanDeploymentInput>, RegExp][] = [
      ['sum', { requirement: { ...req(10, 4, 2), totalBytes: 10 * GiB + 1 } }, /≠ total/],
      ['replicas', { replicas: 0 }, /replicas must be a whole number ≥ 1, got 0/],
      ['count', { resource: { count: 0 } }, /count must be a whole number ≥ 1, got 0/],
      ['indices', { requirement: { totalBytes: 2, fixedBytes: 0, layers: [{ index: 0, bytes: 1 }, { index: 0, bytes: 1 }] } }, /layer indices repeat/],
    ];
    for (const [, extra, message] of cases) {
      const p = plan({ requirement: req(10, 4, 2), nodes: [node('a', 1, 24)], ...extra });
      expect(p.feasible).toBe(false);
      expect(p.rules).toHaveLength(1);
      expect(p.rules[0].message).toMatch(message);
    }
  });

  it.each([
    ['known', 'Standard_NC24ads_A100_v4', true, 'Standard_NC24ads_A100_v4: 1 GPU × 80 GiB (NVIDIA A100 80GB PCIe)'],
    ['unknown', 'Standard_NC24ads_A100_v9', false, 'unknown instance type Standard_NC24ads_A100_v9: see GET /api/v1/instance-types'],
    ['names are case-sensitive', 'standard_nc24ads_a100_v4', false, 'unknown instance type standard_nc24ads_a100_v4: see GET /api/v1/instance-types'],
  ])('instance-type: %s', (_, instanceType, passed, message) => {
    const p = plan({ requirement: llama8b, resource: { instanceType }, nodes: [node('a', 1, 80, { instanceType: 'Standard_NC24ads_A100_v4' })] });
    expect(ruleOf(p, 'instance-type')).toMatchObject({ passed, message });
    expect(p.feasible).toBe(passed);
  });

  it.each<[string, Partial<PlanNode>, Partial<PlanDeploymentInput>, string | null]>([
    ['a plain Ready node', {}, {}, null],
    ['not approved', { approved: false }, {}, 'not approved'],
    ['NotReady', { status: 'NotReady' }, {}, 'NotReady'],
    ['Lost', { status: 'Lost' }, {}, 'Lost'],
    ['Pending', { status: 'Pending' }, {}, 'Pending'],
    ['cordoned', { cordoned: true }, {}, 'cordoned'],
    ['draining', { draining: true }, {}, 'draining'],
    ['no GPU', { gpus: [] }, {}, 'reports no GPU'],
    ['another instance type', { instanceType: 'g5.xlarge' }, { resource: { instanceType: 'g6.xlarge' } }, 'is g5.xlarge, not g6.xlarge'],
    ['matchLabels met', { labels: { pool: 'gpu' } }, { resource: { labelSelector: { matchLabels: { pool: 'gpu' } } } }, null],
    ['matchLabels other value', { labels: { pool: 'cpu' } }, { resource: { labelSelector: { matchLabels: { pool: 'gpu' } } } }, 'label pool=gpu required, node has pool=cpu'],
    ['matchLabels absent', {}, { resource: { labelSelector: { matchLabels: { pool: 'gpu' } } } }, 'label pool=gpu required, node has no pool'],
    ['In met', { labels: { zone: 'b' } }, { resource: { labelSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] } } }, null],
    ['In not met', { labels: { zone: 'c' } }, { resource: { labelSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] } } }, 'label zone In (a, b) not met, node has zone=c'],
    ['NotIn met by absence', {}, { resource: { labelSelector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] } } }, null],
    ['NotIn not met', { labels: { zone: 'a' } }, { resource: { labelSelector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] } } }, 'label zone NotIn (a) not met, node has zone=a'],
    ['Exists met', { labels: { gpu: '' } }, { resource: { labelSelector: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } } }, null],
    ['Exists not met', {}, { resource: { labelSelector: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } } }, 'label gpu Exists not met, node has no gpu'],
    ['DoesNotExist met', {}, { resource: { labelSelector: { matchExpressions: [{ key: 'spot', operator: 'DoesNotExist' }] } } }, null],
    ['DoesNotExist not met', { labels: { spot: 'true' } }, { resource: { labelSelector: { matchExpressions: [{ key: 'spot', operator: 'DoesNotExist' }] } } }, 'label spot DoesNotExist not met, node has spot=true'],
    ['taint not tolerated', { taints: [{ key: 'gpu', value: 'h100', effect: 'NoSchedule' }] }, {}, 'taint gpu=h100:NoSchedule not tolerated'],
    ['NoExecute not tolerated', { taints: [{ key: 'gpu', effect: 'NoExecute' }] }, {}, 'taint gpu:NoExecute not tolerated'],
    ['PreferNoSchedule never blocks', { taints: [{ key: 'gpu', effect: 'PreferNoSchedule' }] }, {}, null],
    ['Equal toleration', { taints: [{ key: 'gpu', value: 'h100', effect: 'NoSchedule' }] }, { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'h100', effect: 'NoSchedule' }] }, null],
    ['Equal toleration, other value', { taints: [{ key: 'gpu', value: 'h100', effect: 'NoSchedule' }] }, { tolerations: [{ key: 'gpu', value: 'a100' }] }, 'taint gpu=h100:NoSchedule not tolerated'],
    ['Exists toleration, any effect', { taints: [{ key: 'gpu', value: 'h100', effect: 'NoExecute' }] }, { tolerations: [{ key: 'gpu', operator: 'Exists' }] }, null],
    ['Exists toleration, other effect', { taints: [{ key: 'gpu', effect: 'NoExecute' }] }, { tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }] }, 'taint gpu:NoExecute not tolerated'],
    ['empty-key Exists tolerates all', { taints: [{ key: 'a', effect: 'NoSchedule' }, { key: 'b', value: 'x', effect: 'NoExecute' }] }, { tolerations: [{ operator: 'Exists' }] }, null],
  ])('candidates: %s', (_, extra, input, why) => {
    const p = plan({ requirement: llama8b, nodes: [node('n1', 1, 24, extra)], ...input });
    const r = ruleOf(p, 'candidates');
    expect(r.passed).toBe(why === null);
    expect(r.message).toBe(why === null ? '1 of 1 node are candidates' : `no candidate node among 1 node (n1: ${why})`);
  });

  it('candidates: lists the nodes left out beside the ones kept', () => {
    const p = plan({ requirement: llama8b, nodes: [node('a', 1, 24), node('b', 1, 24, { cordoned: true })] });
    expect(ruleOf(p, 'candidates')).toMatchObject({ passed: true, message: '1 of 2 nodes are candidates (b: cordoned)' });
  });

  it('preferred-nodes: named when missing or not a candidate; tried first when usable', () => {
    const nodes = [node('big', 1, 80), node('small', 1, 24), node('off', 1, 80, { status: 'NotReady' })];
    const bad = plan({ requirement: llama8b, resource: { preferredNodes: ['ghost', 'off'] }, nodes });
    expect(ruleOf(bad, 'preferred-nodes')).toMatchObject({ passed: false, message: 'preferred nodes unusable: ghost: does not exist; off: NotReady' });
    expect(bad.feasible).toBe(false);
    const good = plan({ requirement: llama8b, resource: { preferredNodes: ['big'] }, nodes });
    expect(ruleOf(good, 'preferred-nodes').passed).toBe(true);
    expect(good.replicas[0].nodes[0].name).toBe('big');
    // Without a preference binpack takes the fullest node that fits.
    expect(plan({ requirement: llama8b, nodes }).replicas[0].nodes[0].name).toBe('small');
  });

  it.each([
    ['below the bound', 10 * GiB - 1, true],
    ['exactly at the bound', 10 * GiB, true],
    ['one byte over', 10 * GiB + 1, false],
  ])('capacity and placement: a requirement %s of free memory', (_, totalBytes, passed) => {
    const requirement: ReplicaRequirement = { totalBytes, fixedBytes: totalBytes - 4 * 2 * GiB, layers: [0, 1, 2, 3].map((index) => ({ index, bytes: 2 * GiB })) };
    const p = plan({ requirement, nodes: [node('a', 1, 16, { allocatedGiB: 6 })] });
    expect(ruleOf(p, 'capacity').passed).toBe(passed);
    expect(ruleOf(p, 'placement').passed).toBe(passed);
    expect(p.feasible).toBe(passed);
  });

  it('placement: whole layers, so enough memory in sum is not enough per GPU', () => {
    const threeOf6 = { totalBytes: 18 * GiB, fixedBytes: 0, layers: [0, 1, 2].map((index) => ({ index, bytes: 6 * GiB })) };
    const p = plan({ requirement: threeOf6, nodes: [node('a', 2, 10)] });
    expect(ruleOf(p, 'capacity').passed).toBe(true);
    expect(ruleOf(p, 'placement')).toMatchObject({ passed: false, message: '0 of 1 replica placed: replica 1 (18.0 GiB, largest layer 6.0 GiB) fits on no node or set of nodes; most free on one GPU: 10 GiB (a GPU 0)' });
    // Exactly one layer per GPU at the bound fits.
    const twoOf10 = { totalBytes: 20 * GiB, fixedBytes: 0, layers: [0, 1].map((index) => ({ index, bytes: 10 * GiB })) };
    const q = plan({ requirement: twoOf10, nodes: [node('a', 2, 10)] });
    expect(q.replicas[0].nodes[0].gpus).toEqual([{ index: 0, layers: [0, 0], bytes: 10 * GiB }, { index: 1, layers: [1, 1], bytes: 10 * GiB }]);
  });

  it('placement: every further GPU of a split pays its own share (perGpuBytes), exactly at the bound or not at all', () => {
    const r = (perGpuBytes: number) => ({ totalBytes: 12 * GiB, fixedBytes: 2 * GiB, perGpuBytes, layers: [0, 1].map((index) => ({ index, bytes: 5 * GiB })) });
    const pair = [node('pair', 2, 8)];
    const fits = plan({ requirement: r(3 * GiB), nodes: pair });
    expect(fits.feasible).toBe(true);
    expect(fits.replicas[0].nodes[0].gpus.map((g) => g.bytes)).toEqual([7 * GiB, 8 * GiB]);
    const over = plan({ requirement: r(3 * GiB + 1), nodes: pair });
    expect(over.feasible).toBe(false);
    expect(ruleOf(over, 'placement').passed).toBe(false);
  });

  it('placement: the fixed part goes on the first GPU of the replica', () => {
    const r = { totalBytes: 12 * GiB, fixedBytes: 4 * GiB, layers: [0, 1].map((index) => ({ index, bytes: 4 * GiB })) };
    const p = plan({ requirement: r, nodes: [node('a', 2, 8)] });
    expect(p.replicas[0].nodes[0].gpus).toEqual([{ index: 0, layers: [0, 0], bytes: 8 * GiB }, { index: 1, layers: [1, 1], bytes: 4 * GiB }]);
  });

  it('placement: never over-commits a GPU across the replicas of one plan', () => {
    const fifty = req(50, 10, 0);
    const one = plan({ requirement: fifty, replicas: 2, nodes: [node('a', 1, 80)] });
    expect(one.feasible).toBe(false);
    expect(one.replicas).toHaveLength(1);
    expect(ruleOf(one, 'placement').message).toMatch(/^1 of 2 replicas placed: replica 2/);
    const two = plan({ requirement: fifty, replicas: 2, nodes: [node('a', 1, 80), node('b', 1, 80)] });
    expect(two.replicas.map((r) => r.nodes[0].name)).toEqual(['a', 'b']);
    // Two at exactly the bound share the GPU.
    const forty = plan({ requirement: req(40, 10, 0), replicas: 2, nodes: [node('a', 1, 80)] });
    expect(forty).toMatchObject({ feasible: true, targetNodeCount: 1 });
  });

  it('placement: binpack fills the fullest node that fits, spread puts one replica per node', () => {
    const nodes = [node('empty', 1, 80), node('half', 1, 80, { allocatedGiB: 40 }), node('full', 1, 80, { allocatedGiB: 75 })];
    const binpack = plan({ requirement: llama8b, replicas: 2, nodes });
    expect(binpack.replicas.map((r) => r.nodes[0].name)).toEqual(['half', 'half']);
    expect(binpack.targetNodeCount).toBe(1);
    const spread = plan({ requirement: llama8b, replicas: 2, placement: 'spread', nodes });
    expect(spread.replicas.map((r) => r.nodes[0].name)).toEqual(['empty', 'half']);
    expect(spread.targetNodeCount).toBe(2);
    // More replicas than nodes: spread comes back round.
    const three = plan({ requirement: llama8b, replicas: 3, placement: 'spread', nodes: nodes.slice(0, 2) });
    expect(three.replicas.map((r) => r.nodes[0].name)).toEqual(['empty', 'half', 'empty']);
  });

  it('placement: nodes that hold the file (favouredNodes) come before the policy order, after the preferred ones, with no rule of their own', () => {
    const nodes = [node('empty', 1, 80), node('half', 1, 80, { allocatedGiB: 40 }), node('cold', 1, 80, { allocatedGiB: 75 })];
    const byName = (p: DeploymentPlan) => p.replicas.map((r) => r.nodes[0].name);
    // Binpack alone picks the fullest node that fits; a node with the file goes first.
    expect(byName(plan({ requirement: llama8b, replicas: 1, nodes, favouredNodes: [nodes[0].id] }))).toEqual(['empty']);
    // The admin's preferred nodes still come first.
    expect(byName(plan({ requirement: llama8b, replicas: 1, nodes, resource: { preferredNodes: ['half'] }, favouredNodes: [nodes[0].id] }))).toEqual(['half']);
    // A favoured node without room is passed over, and is no reason to refuse.
    const full = plan({ requirement: llama8b, replicas: 1, nodes, favouredNodes: [nodes[2].id] });
    expect(full).toMatchObject({ feasible: true });
    expect(byName(full)).toEqual(['half']);
    expect(full.rules.map((r) => r.rule)).not.toContain('favoured-nodes');
  });

  it.each([
    [1, false, 'too few nodes allowed: needs 2 nodes, count 1'],
    [2, true, 'uses 2 nodes, count 2'],
    [3, true, 'uses 2 of the 3 nodes count allows: the replica (142.0 GiB) fits on 2 nodes'],
  ])('node-count: a replica over two nodes with count %i', (count, passed, message) => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n, 2, 48, { capabilities: { spanningReplicas: true } }));
    const p = plan({ requirement: llama70bF16, resource: { count }, nodes });
    expect(ruleOf(p, 'node-count')).toMatchObject({ passed, message });
    expect(p.feasible).toBe(passed);
  });

  it('node-count: spread within count puts several replicas on a node', () => {
    const p = plan({ requirement: llama8b, replicas: 3, placement: 'spread', resource: { count: 2 }, nodes: ['a', 'b', 'c'].map((n) => node(n, 1, 24)) });
    expect(p).toMatchObject({ feasible: true, targetNodeCount: 2 });
    expect(ruleOf(p, 'node-count').message).toBe('uses 2 nodes, count 2');
  });

  it.each([
    [1, false, 'needs 3 × Standard_NC24ads_A100_v4 (225.0 GiB at 80 GiB per node), 1 Ready: add 2'],
    [2, false, 'needs 3 × Standard_NC24ads_A100_v4 (225.0 GiB at 80 GiB per node), 2 Ready: add 1'],
    [3, true, 'needs 3 × Standard_NC24ads_A100_v4 (225.0 GiB at 80 GiB per node), 3 Ready'],
  ])('instance-type-nodes: three 75 GiB replicas with %i Ready', (ready, passed, message) => {
    const type = 'Standard_NC24ads_A100_v4';
    const nodes = [...Array.from({ length: ready }, (_, i) => node(`a100-${i}`, 1, 80, { instanceType: type })), node('other', 8, 80, { instanceType: 'p5.48xlarge' })];
    const p = plan({ requirement: llama70bQ8, replicas: 3, resource: { instanceType: type }, nodes });
    expect(ruleOf(p, 'instance-type-nodes')).toMatchObject({ passed, message });
    expect(p.feasible).toBe(passed);
  });

  it('instance-type-nodes: an exact multiple of a node needs exactly that many nodes (not one more)', () => {
    const exact = { totalBytes: 80 * GiB, fixedBytes: 0, layers: [0, 1, 2, 3].map((index) => ({ index, bytes: 20 * GiB })) };
    const p = plan({ requirement: exact, replicas: 2, resource: { instanceType: 'Standard_NC24ads_A100_v4' }, nodes: [] });
    expect(ruleOf(p, 'instance-type-nodes').message).toBe('needs 2 × Standard_NC24ads_A100_v4 (160.0 GiB at 80 GiB per node), 0 Ready: add 2');
  });

  it('nodesNeeded is the ceiling', () => {
    expect(nodesNeeded(160, 80)).toBe(2);
    expect(nodesNeeded(161, 80)).toBe(3);
    expect(nodesNeeded(79, 80)).toBe(1);
    expect(nodesNeeded(0, 80)).toBe(0);
  });

  it('spanning: passes when every node used reports the capability', () => {
    const nodes = [node('a', 2, 48, { capabilities: { spanningReplicas: true } }), node('b', 2, 48, { capabilities: { spanningReplicas: true } })];
    const p = plan({ requirement: llama70bF16, nodes });
    expect(ruleOf(p, 'spanning')).toMatchObject({ passed: true, message: 'replica 1 spans nodes (no single node holds 142.0 GiB); every node used can run a spanning replica' });
    expect(ruleOf(plan({ requirement: llama8b, nodes }), 'spanning').message).toBe('no replica spans nodes');
  });

  const quota = (gpus: number, gpuMemoryGiB: number) => ({ gpus, gpuMemoryBytes: gpuMemoryGiB * GiB, usedGpus: 2, usedGpuMemoryBytes: 20 * GiB });
  it.each([
    ['under', quota(5, 96), true, 'GPU quota: 2 used + 2 planned = 4 of 5', true, 'GPU memory quota: 20 GiB used + 75.0 GiB planned = 95.0 GiB of 96 GiB'],
    ['exactly at', quota(4, 95), true, 'GPU quota: 2 used + 2 planned = 4 of 4', true, 'GPU memory quota: 20 GiB used + 75.0 GiB planned = 95.0 GiB of 95 GiB'],
    ['over', quota(3, 94), false, 'GPU quota exceeded: 2 used + 2 planned = 4 > 3', false, 'GPU memory quota exceeded: 20 GiB used + 75.0 GiB planned = 95.0 GiB > 94 GiB'],
  ])('quota: %s the bound', (_, q, gpusPassed, gpusMessage, memoryPassed, memoryMessage) => {
    const p = plan({ requirement: llama70bQ8, quota: q, nodes: [node('a100', 2, 80)] });
    expect(ruleOf(p, 'quota-gpus')).toMatchObject({ passed: gpusPassed, message: gpusMessage });
    expect(ruleOf(p, 'quota-memory')).toMatchObject({ passed: memoryPassed, message: memoryMessage });
    expect(p.feasible).toBe(gpusPassed && memoryPassed);
  });

  it('reports every rule, in order, with no quota', () => {
    const p = plan({ requirement: llama8b, nodes: [node('a', 1, 24)] });
    expect(p.rules.map((r) => r.rule)).toEqual(['requirement', 'instance-type', 'candidates', 'preferred-nodes', 'capacity', 'placement', 'node-count', 'instance-type-nodes', 'spanning', 'quota-gpus', 'quota-memory']);
    expect(ruleOf(p, 'quota-gpus').message).toBe('no GPU quota set');
  });
});

describe('planDeployment: spanning and sizing edges', () => {
  it('spans over nodes that can run a spanning replica before those that cannot', () => {
    const nodes = [node('big', 2, 48), node('mid', 2, 40, { capabilities: { spanningReplicas: true } }), node('low', 2, 40, { capabilities: { spanningReplicas: true } })];
    const p = plan({ requirement: llama70bF16, nodes });
    expect(p.replicas[0].nodes.map((n) => n.name)).toEqual(['low', 'mid']);
    expect(p.applicable).toBe(true);
  });

  it('says when the instance type cannot hold one layer', () => {
    const oneBigLayer = { totalBytes: 20 * GiB, fixedBytes: 0, layers: [{ index: 0, bytes: 20 * GiB }] };
    const p = plan({ requirement: oneBigLayer, resource: { instanceType: 'Standard_NC4as_T4_v3' }, nodes: [] });
    expect(ruleOf(p, 'instance-type-nodes')).toMatchObject({ passed: false, message: 'Standard_NC4as_T4_v3 cannot hold the model: a GPU of 16 GiB is smaller than one layer or the fixed 0.0 GiB' });
  });
});

describe('planDeployment: capacity text', () => {
  it('groups nodes by shape and names mixed GPUs', () => {
    const mixed: PlanNode = { ...node('mix', 2, 80), gpus: [{ index: 0, totalBytes: 80 * GiB, allocatedBytes: 0 }, { index: 1, totalBytes: 40 * GiB, allocatedBytes: 10 * GiB }] };
    const p = plan({ requirement: req(300, 60, 0), nodes: [node('a', 1, 24), node('b', 1, 24), mixed] });
    expect(ruleOf(p, 'capacity').message).toBe('insufficient GPU memory: needs 300.0 GiB on ≥ 4 GPUs, 2 nodes × 1 GPU × 24 GiB + 1 node × GPUs of 80 GiB + 40 GiB = 168 GiB, 10 GiB already allocated');
  });
});

describe('fitReplica and nodeIneligibility: the planner rules, for other placements', () => {
  const gpu = (index: number, freeGiB: number) => ({ nodeId: 'id-a', nodeName: 'a', index, freeBytes: freeGiB * GiB });

  it('fits a replica by whole layers over GPUs in the order given, skipping those with nothing free', () => {
    const planned = fitReplica(req(10, 10, 0), [gpu(0, 0), gpu(1, 6), gpu(2, 6)]);
    expect(planned).toEqual({
      nodes: [{ nodeId: 'id-a', name: 'a', gpus: [{ index: 1, layers: [0, 4], bytes: 5 * GiB }, { index: 2, layers: [5, 9], bytes: 5 * GiB }] }],
    });
    expect(fitReplica(req(10, 10, 0), [gpu(0, 6), gpu(1, 3.5)])).toBeNull();
  });

  it('places what planDeployment places on one node', () => {
    const a = node('a', 2, 48, { allocatedGiB: 10 });
    const viaPlanner = plan({ requirement: llama70bQ8, nodes: [a] }).replicas[0];
    expect(fitReplica(llama70bQ8, a.gpus.map((g) => gpu(g.index, (g.totalBytes - g.allocatedBytes) / GiB)))).toEqual(viaPlanner);
  });

  it('tells why a node is no candidate, or null', () => {
    const tainted = node('t', 1, 24, { taints: [{ key: 'gpu', effect: 'NoSchedule' }] });
    expect(nodeIneligibility(tainted, {}, [])).toBe('taint gpu:NoSchedule not tolerated');
    expect(nodeIneligibility(tainted, {}, [{ key: 'gpu', operator: 'Exists' }])).toBeNull();
    expect(nodeIneligibility(node('l', 1, 24), { labelSelector: { matchLabels: { zone: 'x' } } }, [])).toBe('label zone=x required, node has no zone');
    expect(nodeIneligibility(node('d', 1, 24, { draining: true }), {}, [])).toBe('draining');
  });
});
