import type { FleetNode } from './fit';
import { gpuFamilyOf, listedNodes, nodeCountStatus, nodesNeeded, parseLabelFilter, quickSelectors } from './selection';

const GiB = 1024 ** 3;
const node = (name: string, gpu: string | null, labels: Record<string, string>): FleetNode => ({
  id: name, name, status: 'Ready', approved: true, cordoned: false, draining: false, revoked: false, labels, taints: [],
  gpus: gpu ? [{ index: 0, name: gpu, vendor: 'nvidia', totalMemoryBytes: 24 * GiB, freeMemoryBytes: 24 * GiB }] : [],
});

describe('deploy dialog: node selection', () => {
  const fleet = [
    node('gpu-t4', 'T4', { pool: 'batch', zone: 'b' }),
    node('gpu-l4', 'L4', { pool: 'inference', zone: 'a', 'node.kubernetes.io/instance-type': 'g6.12xlarge' }),
    node('cpu-1', null, { pool: 'batch' }),
  ];

  it('parses a key=value label filter and names a bad item', () => {
    expect(parseLabelFilter(' pool=inference , zone=a ')).toEqual({ labels: { pool: 'inference', zone: 'a' }, error: null });
    expect(parseLabelFilter('')).toEqual({ labels: {}, error: null });
    expect(parseLabelFilter('pool=batch, zone').error).toBe('"zone": expected key=value');
    expect(parseLabelFilter('pool=a,pool=b').error).toMatch(/given twice/);
  });

  it('lists GPU nodes only when asked, matching the filter, by name', () => {
    expect(listedNodes(fleet, { gpuOnly: false, labels: {} }).map((n) => n.name)).toEqual(['cpu-1', 'gpu-l4', 'gpu-t4']);
    expect(listedNodes(fleet, { gpuOnly: true, labels: {} }).map((n) => n.name)).toEqual(['gpu-l4', 'gpu-t4']);
    expect(listedNodes(fleet, { gpuOnly: false, labels: { pool: 'batch' } }).map((n) => n.name)).toEqual(['cpu-1', 'gpu-t4']);
    expect(listedNodes(fleet, { gpuOnly: true, labels: { 'gridline.dev/gpu': 'L4' } }).map((n) => n.name)).toEqual(['gpu-l4']);
  });

  it('offers quick selectors for the fleet\'s GPU models, instance types and pools, with the nodes each selects', () => {
    const chips = quickSelectors(fleet);
    expect(chips.slice(0, 3).map((c) => [c.kind, c.label, c.nodes])).toEqual([['gpu', 'L4', 1], ['gpu', 'T4', 1], ['instance-type', 'g6.12xlarge', 1]]);
    expect(chips).toContainEqual({ label: 'pool=batch', kind: 'label', key: 'pool', value: 'batch', nodes: 2 });
    expect(['NVIDIA A100 80GB PCIe', 'NVIDIA L40S', 'NVIDIA H100 NVL', 'T4'].map(gpuFamilyOf)).toEqual(['A100', 'L40S', 'H100', 'T4']);
  });

  it('says how many more preferred nodes the count needs, or that it is met', () => {
    expect(nodeCountStatus(1, 3)).toEqual({ text: 'Need 2 more', met: false });
    expect(nodeCountStatus(2, 2)).toEqual({ text: 'Exact requirement met', met: true });
    expect(nodeCountStatus(3, 2).met).toBe(false);
    expect(nodesNeeded(75 * GiB, 1, 48 * GiB)).toBe(2);
    expect(nodesNeeded(48 * GiB, 1, 48 * GiB)).toBe(1);
    expect(nodesNeeded(1, 3, 0)).toBe(Infinity);
  });
});
