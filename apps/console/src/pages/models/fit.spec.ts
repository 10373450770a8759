import { describeFit, fitOnNode, freeGpuBytes, gpuSummary, ineligibility, nodesThatFit, promisedBytes, type FleetNode } from './fit';

const GiB = 1024 ** 3;

function node(name: string, gpus: [total: number, free: number][], more: Partial<FleetNode> = {}): FleetNode {
  return {
    id: `id-${name}`,
    name,
    status: 'Ready',
    approved: true,
    cordoned: false,
    draining: false,
    revoked: false,
    labels: {},
    taints: [],
    gpus: gpus.map(([total, free], index) => ({ index, name: 'NVIDIA L4', vendor: 'nvidia', totalMemoryBytes: total * GiB, freeMemoryBytes: free * GiB })),
    ...more,
  };
}

describe('deploy dialog: per-node fit verdicts', () => {
  const l4 = node('gpu-l4', [[24, 24], [24, 24]]);
  const t4 = node('gpu-t4', [[1, 1]]);

  it('fits a replica on one GPU when one holds it, with the room left', () => {
    const v = fitOnNode(l4, { totalBytes: 2 * GiB, layers: 2, largestLayerBytes: 0.1 * GiB });
    expect(v).toMatchObject({ fits: true, gpusUsed: 1, freeBytes: 48 * GiB, marginBytes: 46 * GiB });
    expect(describeFit(v)).toBe('needs 2.0 GiB, gpu-l4 has 48.0 GiB free → fits (46.0 GiB to spare)');
  });

  it('says by how much a node is short', () => {
    const v = fitOnNode(t4, { totalBytes: 1.5 * GiB, layers: 2, largestLayerBytes: 0.2 * GiB });
    expect(v).toMatchObject({ fits: false, marginBytes: -0.5 * GiB });
    expect(describeFit(v)).toBe('needs 1.5 GiB, gpu-t4 has 1.0 GiB free → does not fit (512.0 MiB short)');
  });

  it('splits by whole layers over a node\'s GPUs, and refuses when the layers do not pack though the bytes add up', () => {
    const split = fitOnNode(l4, { totalBytes: 40 * GiB, layers: 80, largestLayerBytes: 0.45 * GiB });
    expect(split).toMatchObject({ fits: true, gpusUsed: 2 });
    expect(describeFit(split)).toBe('needs 40.0 GiB, gpu-l4 has 48.0 GiB free → fits over 2 GPUs by whole layers (8.0 GiB to spare)');
    const lumpy = fitOnNode(l4, { totalBytes: 45 * GiB, layers: 3, largestLayerBytes: 15 * GiB });
    expect(lumpy.fits).toBe(false);
    expect(describeFit(lumpy)).toMatch(/1 of 3 layers \(up to 15\.0 GiB each\) find no GPU by whole layers/);
  });

  it('counts free memory as the planner does: total less what stored plans promise or the GPU uses, whichever is more', () => {
    const promised = promisedBytes([{ replicas: [{ nodes: [{ nodeId: 'id-gpu-l4', gpus: [{ index: 0, bytes: 20 * GiB }] }] }] }, null]);
    const used = node('gpu-l4', [[24, 20], [24, 10]]);
    expect(freeGpuBytes(used, promised).map((b) => b / GiB)).toEqual([4, 10]);
    expect(fitOnNode(used, { totalBytes: 12 * GiB, layers: 2, largestLayerBytes: 6 * GiB }, promised).fits).toBe(false);
  });

  it('names why a node is no candidate, and counts only candidates that fit', () => {
    expect(ineligibility(node('c', [[24, 24]], { cordoned: true }))).toBe('cordoned');
    expect(ineligibility(node('n', [[24, 24]], { status: 'NotReady' }))).toBe('NotReady');
    expect(ineligibility(node('x', []))).toBe('reports no GPU');
    expect(ineligibility(node('t', [[24, 24]], { taints: [{ key: 'gpu', value: 'a100', effect: 'NoSchedule' }] }))).toBe('taint gpu=a100:NoSchedule not tolerated');
    expect(ineligibility(node('p', [[24, 24]], { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }))).toBeNull();
    expect(ineligibility(node('l', [[24, 24]], { labels: { pool: 'batch' } }), { pool: 'inference' })).toBe('label pool=inference required, node has pool=batch');
    expect(ineligibility(node('g', [[24, 24]]), { 'gridline.dev/gpu': 'NVIDIA L4' })).toBeNull();
    const fleet = [l4, t4, node('off', [[80, 80]], { cordoned: true })];
    expect(nodesThatFit(fleet, { totalBytes: 0.5 * GiB, layers: 2, largestLayerBytes: 0.1 * GiB }).map((v) => v.node)).toEqual(['gpu-l4', 'gpu-t4']);
    expect(gpuSummary(l4.gpus)).toBe('2 × NVIDIA L4 (24.0 GiB each)');
    expect(gpuSummary(t4.gpus)).toBe('NVIDIA L4 (1.0 GiB)');
    expect(gpuSummary([])).toBe('no GPU');
    expect(nodesThatFit(fleet, { totalBytes: 30 * GiB, layers: 40, largestLayerBytes: 0.7 * GiB }).map((v) => v.node)).toEqual(['gpu-l4']);
  });
});
