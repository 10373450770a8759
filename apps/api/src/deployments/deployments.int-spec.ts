import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NodeRepository } from '@gridline/db';
import { MODEL_PRESETS, buildPresetHeader, buildTinyLlama, encodeGguf } from '@gridline/models';
import { DIST } from '@gridline/testing';
import { ApiTestApp, ROOT_ACCESS, ROOT_SECRET, startApiTestApp } from '../testing/api-test-app';
import { rowCounts } from '../testing/row-counts';

const GiB = 1024 ** 3;

interface Plan {
  feasible: boolean;
  applicable: boolean;
  targetNodeCount: number;
  reasons: string[];
  rules: { rule: string; passed: boolean; blocks: string; message: string }[];
  replicas: { nodes: { name: string; gpus: { index: number; layers: [number, number] | null; bytes: number }[] }[] }[];
  memory: { totalBytes: number; weightsBytes: number; kvCacheBytes: number; computeBytes: number; overheadBytes: number };
  yaml: string;
}

/** Deployments planned against a fleet of registered nodes, through the API and the CLI. */
describe('deployments: plans with every rule and its numbers (in-process api, real Postgres)', () => {
  let t: ApiTestApp;
  const dir = mkdtempSync(join(tmpdir(), 'gl-deploy-'));
  const gpu = (index: number, gib: number, name = 'NVIDIA A100 80GB PCIe') => ({ index, name, vendor: 'nvidia', totalMemoryBytes: gib * GiB, freeMemoryBytes: gib * GiB });
  const addNode = async (name: string, gpus: ReturnType<typeof gpu>[]) =>
    t.app.get(NodeRepository).join(
      { name, labels: {}, taints: [], accessKey: `AKIA${name.toUpperCase().replace(/[^A-Z2-7]/g, 'A').padEnd(16, 'A').slice(0, 16)}`, secretSealed: 'unused', approved: true, joinTokenId: null, agentVersion: 'test', backend: 'cuda', gpus, totalMemoryBytes: 256 * GiB, freeMemoryBytes: 256 * GiB, inventory: {} },
      new Date(),
    );
  const register = async (name: string, bytes: Buffer) => {
    writeFileSync(join(dir, `${name}.gguf`), bytes);
    const res = await t.root('/api/v1/models', { method: 'POST', body: { name, source: `file://${join(dir, `${name}.gguf`)}` } });
    if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  const dryRun = (body: Record<string, unknown>) => t.root('/api/v1/deployments?dryRun=true', { method: 'POST', body });

  beforeAll(async () => {
    t = await startApiTestApp({ GRIDLINE_MODEL_ROOTS: dir });
    await register('llama-3.1-70b-q8', encodeGguf(buildPresetHeader(MODEL_PRESETS['llama-3.1-70b'], 'Q8_0'), { headerOnly: true }));
    await register('tiny', encodeGguf(buildTinyLlama({ seed: 3 })));
    await addNode('a100-pair', [gpu(0, 80), gpu(1, 80)]);
  }, 60_000);

  afterAll(() => t?.close());

  it('serves the instance-type table from our own code', async () => {
    const res = await t.root('/api/v1/instance-types');
    expect(res.status).toBe(200);
    expect((res.body as { items: unknown[] }).items).toContainEqual({ name: 'Standard_NC80adis_H100_v5', provider: 'azure', gpuModel: expect.stringContaining('H100'), gpuCount: 2, gpuMemoryBytes: 94 * GiB });
  });

  it('plans a 70B at 8-bit on one node of 2 × 80 GiB, split over both GPUs, with the memory apart and YAML to review', async () => {
    const res = await dryRun({ name: 'big', model: 'llama-3.1-70b-q8', runtime: { contextSize: 4096 } });
    expect(res.status).toBe(200);
    const plan = res.body as Plan;
    expect(plan).toMatchObject({ feasible: true, applicable: false, targetNodeCount: 1 });
    expect(plan.replicas[0].nodes).toHaveLength(1);
    expect(plan.replicas[0].nodes[0].gpus.map((g) => g.index)).toEqual([0, 1]);
    const m = plan.memory;
    expect(m.weightsBytes + m.kvCacheBytes + m.computeBytes + m.overheadBytes).toBe(m.totalBytes);
    expect(m.totalBytes / GiB).toBeGreaterThan(70);
    expect(m.totalBytes / GiB).toBeLessThan(80);
    // Header-only: it plans, and never deploys.
    expect(plan.rules.find((r) => r.rule === 'deployable')).toMatchObject({ passed: false, blocks: 'apply' });
    expect(plan.yaml).toContain('kind: Deployment');
    expect(plan.yaml).toContain('a100-pair');
  });

  it('refuses the same model on nodes of 1 × 24 GiB with the numbers, dry run and apply alike, writing nothing', async () => {
    const before = await rowCounts(t.pg);
    const body = { name: 'big-small', model: 'llama-3.1-70b-q8', resource: { labelSelector: { matchLabels: { 'gridline.dev/gpu': 'NVIDIA L4' } } } };
    await addNode('l4-a', [gpu(0, 24, 'NVIDIA L4')]);
    await addNode('l4-b', [gpu(0, 24, 'NVIDIA L4')]);
    const dry = await dryRun(body);
    const applied = await t.root('/api/v1/deployments', { method: 'POST', body });
    for (const res of [dry, applied]) {
      const problem = res.body as { code: string; detail: string; plan: Plan };
      expect([res.status, problem.code]).toEqual([422, 'deployment_infeasible']);
      expect(problem.detail).toMatch(/insufficient GPU memory: needs \d+\.\d GiB.*2 nodes × 1 GPU × 24 GiB = 48 GiB/);
      expect(problem.plan.memory.totalBytes).toBeGreaterThan(48 * GiB);
    }
    expect((await rowCounts(t.pg)).deployments).toBe(before.deployments);
  });

  it('applies the tiny model with count 3 on one node and says why; then refuses the name twice', async () => {
    const res = await t.root('/api/v1/deployments', { method: 'POST', body: { name: 'tiny-chat', model: 'tiny', resource: { count: 3 }, runtime: { contextSize: 2048, parallel: 2 } } });
    expect(res.status).toBe(201);
    const d = res.body as { id: string; phase: string; plan: Plan; conditions: { type: string; reason: string }[] };
    expect(d.phase).toBe('Placed');
    expect(d.plan.targetNodeCount).toBe(1);
    expect(d.plan.reasons.join(' ')).toMatch(/1 of the 3 nodes/);
    expect((await t.root(`/api/v1/deployments/${d.id}`)).body).toMatchObject({ name: 'tiny-chat', model: 'tiny', replicas: 1 });
    expect((await t.root('/api/v1/deployments', { method: 'POST', body: { name: 'tiny-chat', model: 'tiny' } })).body).toMatchObject({ status: 409, code: 'deployment_exists' });

    // Updates are planned again; a refused one changes nothing.
    const nowhere = await t.root(`/api/v1/deployments/${d.id}`, { method: 'PATCH', body: { resource: { labelSelector: { matchLabels: { 'gridline.dev/gpu': 'none' } } } } });
    expect(nowhere.body).toMatchObject({ status: 422, code: 'deployment_infeasible' });
    expect((await t.root(`/api/v1/deployments/${d.id}`)).body).toMatchObject({ resource: { count: 3 }, replicas: 1 });
    const two = await t.root(`/api/v1/deployments/${d.id}`, { method: 'PATCH', body: { replicas: 2 } });
    expect(two.status).toBe(200);
    expect(two.body).toMatchObject({ replicas: 2, phase: 'Placed', conditions: [{ reason: 'PlanAccepted' }, { reason: 'PlanUpdated' }] });
    expect((two.body as { plan: Plan }).plan.replicas).toHaveLength(2);
  });

  it("reports the team's GPU quota and what its stored deployments hold, beside the quota rules", async () => {
    const whoami = (await t.root('/api/v1/whoami')).body as { teamId: string };
    const stored = ((await t.root('/api/v1/deployments')).body as { items: { plan: Plan }[] }).items;
    const heldBytes = stored.flatMap((d) => d.plan.replicas.flatMap((r) => r.nodes.flatMap((n) => n.gpus.map((g) => g.bytes)))).reduce((a, b) => a + b, 0);
    const heldGpus = new Set(stored.flatMap((d) => d.plan.replicas.flatMap((r) => r.nodes.flatMap((n) => n.gpus.map((g) => `${n.name}/${g.index}`))))).size;
    expect(heldBytes).toBeGreaterThan(0);
    expect((await t.root(`/api/v1/teams/${whoami.teamId}`, { method: 'PATCH', body: { quotaGpus: 4, quotaGpuMemoryBytes: 100 * GiB } })).status).toBe(200);
    try {
      const plan = (await dryRun({ name: 'quota-view', model: 'tiny' })).body as Plan & { quota: unknown };
      expect(plan.quota).toEqual({ gpus: 4, gpuMemoryBytes: 100 * GiB, usedGpus: heldGpus, usedGpuMemoryBytes: heldBytes });
      expect(plan.rules.find((r) => r.rule === 'quota-memory')).toMatchObject({ passed: true });
    } finally {
      await t.root(`/api/v1/teams/${whoami.teamId}`, { method: 'PATCH', body: { quotaGpus: null, quotaGpuMemoryBytes: null } });
    }
    expect(((await dryRun({ name: 'quota-view', model: 'tiny' })).body as { quota: unknown }).quota).toMatchObject({ gpus: null, gpuMemoryBytes: null, usedGpuMemoryBytes: heldBytes });
  });

  it('plans with an admin\'s memory figure in place of the estimate, and back', async () => {
    const set = async (bytes: number | null) => t.root('/api/v1/models/llama-3.1-70b-q8', { method: 'PATCH', body: { memoryOverrideBytes: bytes } });
    expect((await set(300 * GiB)).body).toMatchObject({ memoryOverrideBytes: 300 * GiB });
    const over = await dryRun({ name: 'big', model: 'llama-3.1-70b-q8' });
    expect(over.status).toBe(422);
    expect((over.body as { detail: string }).detail).toMatch(/needs 300\.0 GiB/);
    const req = (await t.root('/api/v1/models/llama-3.1-70b-q8/requirements')).body as { totalBytes: number; notes: string[] };
    expect(req.totalBytes).toBe(300 * GiB);
    expect(req.notes.join(' ')).toMatch(/an admin set/);
    expect((await set(null)).body).toMatchObject({ memoryOverrideBytes: null });
    expect((await dryRun({ name: 'big', model: 'llama-3.1-70b-q8' })).status).toBe(200);
  });

  it('refuses an unknown instance type and an unknown model, naming them', async () => {
    const unknownType = await dryRun({ name: 'x', model: 'tiny', resource: { instanceType: 'Standard_Nope_v9' } });
    expect(unknownType.status).toBe(422);
    expect((unknownType.body as { detail: string }).detail).toContain('Standard_Nope_v9');
    expect((await dryRun({ name: 'x', model: 'no-such-model' })).body).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
  });

  it('prints a dry run a person can read from the CLI (gridline deploy --dry-run)', async () => {
    const env = { ...process.env, GRIDLINE_URL: t.base, GRIDLINE_ACCESS_KEY: ROOT_ACCESS, GRIDLINE_SECRET_KEY: ROOT_SECRET };
    const { stdout } = await promisify(execFile)(process.execPath, [join(DIST, 'tools/cli/gridline.js'), 'deploy', 'cli-big', '--model', 'llama-3.1-70b-q8', '--context', '8192', '--dry-run'], { env, encoding: 'utf8' });
    expect(stdout).toMatch(/^Plan: fits, but cannot be applied yet \(1 replica\(s\) on 1 node\(s\)\)/);
    expect(stdout).toMatch(/Memory per replica: [\d.]+ GiB = weights [\d.]+ GiB \+ KV cache [\d.]+ GiB/);
    expect(stdout).toMatch(/a100-pair GPU 0: layers 0-\d+/);
    expect(stdout).toContain('kind: Deployment');
  });
});
