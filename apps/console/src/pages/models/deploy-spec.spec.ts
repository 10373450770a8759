import { ReviewedYamlError, bodyOf, bodyOfYaml, defaultDeploymentName, planRows, quotaLines, type DeployForm } from './deploy-spec';

const GiB = 1024 ** 3;
const form: DeployForm = { name: 'tiny', model: 'tiny', replicas: 1, contextSize: 2048, parallel: 2, placement: 'binpack', count: 0, instanceType: null, preferredNodes: [], matchLabels: {} };

describe('deploy dialog: the request, the reviewed YAML and the quota', () => {
  it('builds the request of the form, with a resource block only for what was chosen', () => {
    expect(bodyOf(form)).toEqual({ name: 'tiny', model: 'tiny', replicas: 1, idleSeconds: 300, pinned: false, placement: 'binpack', runtime: { contextSize: 2048, parallel: 2 } });
    expect(bodyOf({ ...form, count: 2, preferredNodes: ['gpu-l4'], matchLabels: { pool: 'inference' }, instanceType: 'g6.xlarge' }).resource).toEqual({
      count: 2, instanceType: 'g6.xlarge', preferredNodes: ['gpu-l4'], labelSelector: { matchLabels: { pool: 'inference' } },
    });
    expect(defaultDeploymentName('Llama-3.1-70B_q8')).toBe('llama-3-1-70b-q8');
  });

  it('reads the reviewed YAML back into a request: metadata, spec, and not the plan', () => {
    const yaml = [
      'apiVersion: gridline.dev/v1', 'kind: Deployment', 'metadata:', '  name: tiny-edited', '  team: 9b1d0f0e-0000-4000-8000-000000000001',
      'spec:', '  model: tiny', '  replicas: 2', '  runtime:', '    contextSize: 4096', '    parallel: 1', '  placement: spread',
      '  resource:', '    preferredNodes: [gpu-l4]', 'plan:', '  feasible: true',
    ].join('\n');
    expect(bodyOfYaml(yaml)).toEqual({
      name: 'tiny-edited', teamId: '9b1d0f0e-0000-4000-8000-000000000001', model: 'tiny', replicas: 2, runtime: { contextSize: 4096, parallel: 1 }, placement: 'spread', resource: { preferredNodes: ['gpu-l4'] },
    });
  });

  it('names what is wrong with reviewed YAML', () => {
    expect(() => bodyOfYaml('metadata: [')).toThrow(ReviewedYamlError);
    expect(() => bodyOfYaml('metadata: [')).toThrow(/does not parse/);
    expect(() => bodyOfYaml('spec: { model: tiny }')).toThrow('metadata.name is missing');
    expect(() => bodyOfYaml('metadata: { name: a }\nspec: { replicas: 1 }')).toThrow('spec.model is missing');
    expect(() => bodyOfYaml('metadata: { name: a }\nspec: { model: tiny, replica: 2 }')).toThrow(/"replica", which a deployment does not take/);
    expect(() => bodyOfYaml('kind: Job\nmetadata: { name: a }\nspec: { model: tiny }')).toThrow(/kind must be Deployment/);
  });

  it('lays out the plan per GPU and the team quota left after it', () => {
    const plan = {
      replicas: [{ nodes: [{ nodeId: 'n1', name: 'gpu-l4', gpus: [{ index: 0, layers: [0, 39], bytes: 20 * GiB }, { index: 1, layers: [40, 79], bytes: 18 * GiB }] }] }],
      quota: { gpus: 4, gpuMemoryBytes: 64 * GiB, usedGpus: 1, usedGpuMemoryBytes: 10 * GiB },
    };
    expect(planRows(plan)).toEqual([
      { replica: 1, node: 'gpu-l4', gpu: 0, layers: '0–39', bytes: 20 * GiB },
      { replica: 1, node: 'gpu-l4', gpu: 1, layers: '40–79', bytes: 18 * GiB },
    ]);
    expect(quotaLines(plan)).toEqual([
      { what: 'GPUs', limit: 4, used: 1, adds: 2, leftAfter: 1 },
      { what: 'GPU memory', limit: 64 * GiB, used: 10 * GiB, adds: 38 * GiB, leftAfter: 16 * GiB },
    ]);
    expect(quotaLines({ ...plan, quota: { gpus: null, gpuMemoryBytes: null, usedGpus: 0, usedGpuMemoryBytes: 0 } })[0].leftAfter).toBeNull();
  });
});
