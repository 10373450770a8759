import { nodesTable } from './nodes';

describe('gridline nodes', () => {
  const node = (name: string, replicas: Parameters<typeof nodesTable>[0][number]['replicas']) => ({
    id: `${name}-id`,
    name,
    status: 'Ready',
    reason: null,
    labels: {},
    gpus: [{ name: 'NVIDIA T4 16GB (simulated)', totalMemoryBytes: 16 * 1024 ** 3, freeMemoryBytes: 8 * 1024 ** 3, simulated: true }],
    inventory: { backend: 'cpu', cpuCores: 2, totalMemoryBytes: 0, freeMemoryBytes: 0 },
    replicas,
    runningJobs: [],
    lastHeartbeatAt: new Date(0).toISOString(),
  });

  it("shows a spanning replica's members: the leader with its layer split and load, a worker without sequences of its own", () => {
    const base = { reason: null, busySequences: 1, parallel: 2, pull: null };
    const table = nodesTable(
      [
        node('gpu-a', [{ ...base, id: 'r1', model: 'llama-70b', state: 'Ready', group: { id: 'g', role: 'leader' }, span: { localLayers: 40, workerLayers: [40] } }]),
        node('gpu-b', [{ ...base, id: 'r2', model: 'llama-70b', state: 'Ready', group: { id: 'g', role: 'worker' } }]),
        node('gpu-c', [{ ...base, id: 'r3', model: 'tiny', state: 'Ready' }]),
      ],
      0,
    );
    expect(table).toContain('llama-70b (leader 40+40 layers) Ready 1/2');
    expect(table).toMatch(/llama-70b \(worker\) Ready\s/);
    expect(table).toContain('tiny Ready 1/2');
  });
});
