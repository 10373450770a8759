import { INSTANCE_TYPES } from './instance-types';
import { planDeployment } from './plan-deployment';
import { FleetNode, INSTANCE_TYPE_LABEL, planNodeOf } from './plan-node';

const GiB = 1024 ** 3;

function fleetNode(name: string, labels: Record<string, string>): FleetNode {
  return {
    id: `id-${name}`,
    name,
    approved: true,
    revokedAt: null,
    status: 'Ready',
    cordoned: false,
    draining: false,
    backend: 'cuda',
    gpus: [{ index: 0, name: 'NVIDIA A100 80GB', totalMemoryBytes: 80 * GiB, freeMemoryBytes: 80 * GiB }],
    labels,
    taints: [],
    inventory: {},
  };
}

describe('planNodeOf', () => {
  it("takes a node's instance type from Kubernetes' well-known label, so resource.instanceType selects it", () => {
    const labelled = planNodeOf(fleetNode('a100-1', { [INSTANCE_TYPE_LABEL]: 'Standard_NC24ads_A100_v4' }), () => 0);
    const bare = planNodeOf(fleetNode('a100-2', {}), () => 0);
    expect(labelled.instanceType).toBe('Standard_NC24ads_A100_v4');
    expect(bare.instanceType).toBeUndefined();

    const plan = planDeployment({
      requirement: { totalBytes: 10 * GiB, fixedBytes: 2 * GiB, perGpuBytes: 0, layers: Array.from({ length: 8 }, (_, index) => ({ index, bytes: GiB })) },
      replicas: 1,
      resource: { instanceType: 'Standard_NC24ads_A100_v4' },
      tolerations: [],
      quota: null,
      instanceTypes: INSTANCE_TYPES,
      nodes: [bare, labelled],
    });
    expect(plan.feasible).toBe(true);
    expect(plan.replicas.flatMap((r) => r.nodes.map((n) => n.name))).toEqual(['a100-1']);
  });
});
