import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { ModelRepository } from './model.repository';
import { NodeJoin, NodeReport, NodeRepository } from './node.repository';
import { ReplicaRepository } from './replica.repository';

const facts = { architecture: 'llama', contextLength: 4096, layers: 32, embedding: 4096, parameterBytes: 1 };
const settings = { contextSize: 4096, parallel: 4, gpuLayers: 'auto' as const, threads: 0 };

/** What an agent reports; `n` makes each report differ from the last. */
function report(n: number): NodeReport {
  return {
    agentVersion: `0.1.${n}`,
    backend: 'cuda',
    gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', vendor: 'nvidia', uuid: 'GPU-1', totalMemoryBytes: 80 * 1024 ** 3, freeMemoryBytes: 70 * 1024 ** 3 - n }],
    totalMemoryBytes: 1024 ** 4,
    freeMemoryBytes: 600 * 1024 ** 3 + n,
    inventory: { cpuCores: 96, platform: 'linux', arch: 'x64', queueDepth: n, shuttingDown: false },
    replicaReports: [{ id: 'r', state: 'Ready', busySequences: n }],
    runningJobs: [{ jobId: randomUUID(), attempt: 1 }],
  };
}

/** What a join records of a report (the rest comes with heartbeats). */
function joinFacts(): Omit<NodeReport, 'replicaReports' | 'runningJobs'> {
  const { replicaReports: _replicas, runningJobs: _jobs, ...facts } = report(0);
  return facts;
}

/** The heartbeat's one statement on the real Postgres (migrated template): what it writes, what it reads back, whom it refuses. */
describe('NodeRepository.heartbeat (Postgres)', () => {
  let db: TemplateClone;
  let ds: DataSource;
  let nodes: NodeRepository;
  let replicas: ReplicaRepository;
  let models: ModelRepository;
  let joined = 0;

  const join = async (overrides: Partial<NodeJoin> = {}) => {
    const name = `gpu-${++joined}`;
    const accessKey = `AKNODE${String(joined).padStart(14, '0')}`;
    const node = await nodes.join({ name, labels: {}, taints: [], accessKey, secretSealed: 'sealed', approved: true, joinTokenId: null, ...joinFacts(), ...overrides }, new Date(Date.now() - 60_000));
    if (!node) throw new Error(`${name} was refused`);
    return { id: node.id, name, accessKey: overrides.accessKey ?? accessKey };
  };

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    nodes = new NodeRepository(ds);
    replicas = new ReplicaRepository(ds);
    models = new ModelRepository(ds);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('writes the report and answers with the state after it and the desired replicas, in creation order, each with its model file', async () => {
    const node = await join({ approved: true });
    const other = await join();
    const withFile = await models.register({ name: 'with-file', sizeBytes: 5_000_000_000, facts, source: 'file:///m/a.gguf', teamId: null, headerOnly: false, sha256: 'a'.repeat(64) });
    const noDigest = await models.register({ name: 'no-digest', sizeBytes: 7, facts, source: 'file:///m/b.gguf', teamId: null, headerOnly: false });
    const first = await replicas.create({ nodeId: node.id, modelId: withFile.id, modelName: withFile.name, settings, estimateBytes: 6_000_000_000, createdBy: null });
    const second = await replicas.create({ nodeId: node.id, modelId: noDigest.id, modelName: noDigest.name, settings: { ...settings, parallel: 2 }, estimateBytes: null, createdBy: null });
    const local = await replicas.create({ nodeId: node.id, modelId: null, modelName: 'local-only', settings, estimateBytes: null, createdBy: null });
    await replicas.markUnloaded(second.id);
    await replicas.create({ nodeId: other.id, modelId: withFile.id, modelName: withFile.name, settings, estimateBytes: null, createdBy: null });
    await ds.query(`UPDATE nodes SET cordoned = true, status = 'NotReady' WHERE id = $1`, [node.id]);

    const at = new Date('2031-05-06T07:08:09.123Z');
    const sent = report(1);
    const beat = await nodes.heartbeat(node.id, node.accessKey, sent, at);

    expect(beat).toEqual({
      node: { id: node.id, status: 'Ready', approved: true, cordoned: true, draining: false },
      desired: [
        { id: first.id, modelId: withFile.id, modelName: 'with-file', settings, estimateBytes: 6_000_000_000, desired: 'Loaded', group: null, leaderCredential: null, model: { sha256: 'a'.repeat(64), sizeBytes: 5_000_000_000 } },
        { id: second.id, modelId: noDigest.id, modelName: 'no-digest', settings: { ...settings, parallel: 2 }, estimateBytes: null, desired: 'Unloaded', group: null, leaderCredential: null, model: { sha256: null, sizeBytes: 7 } },
        { id: local.id, modelId: null, modelName: 'local-only', settings, estimateBytes: null, desired: 'Loaded', group: null, leaderCredential: null, model: null },
      ],
    });
    expect(await nodes.get(node.id)).toMatchObject({ ...sent, status: 'Ready', lastHeartbeatAt: at });
  });

  it("answers a worker of a spanning replica with its group and its leader node's sealed credential (for the group's tunnel key), and a leader with its group only", async () => {
    const leader = await join({ approved: true });
    const worker = await join({ approved: true });
    const model = await models.register({ name: 'spanning', sizeBytes: 9, facts, source: 'file:///m/s.gguf', teamId: null, headerOnly: false, sha256: 'b'.repeat(64) });
    const base = { modelId: model.id, modelName: model.name, settings, estimateBytes: null, createdBy: null };
    const workerId = randomUUID();
    const leaderGroup = { id: randomUUID(), role: 'leader' as const, layers: [0, 3] as [number, number], workers: [{ replicaId: workerId, nodeId: worker.id, host: '10.0.0.2', port: 7400, layers: [4, 7] as [number, number] }] };
    await replicas.create({ ...base, nodeId: leader.id, group: leaderGroup });
    await replicas.create({ ...base, id: workerId, nodeId: worker.id, group: { id: leaderGroup.id, role: 'worker', leaderNodeId: leader.id, host: '10.0.0.2', port: 7400, layers: [4, 7] } });

    const toWorker = await nodes.heartbeat(worker.id, worker.accessKey, report(4), new Date());
    const sealed = (await ds.query(`SELECT access_key, secret_sealed FROM nodes WHERE id = $1`, [leader.id]))[0] as { access_key: string; secret_sealed: string };
    expect(toWorker?.desired).toEqual([expect.objectContaining({ id: workerId, group: expect.objectContaining({ role: 'worker', leaderNodeId: leader.id }), leaderCredential: { accessKey: sealed.access_key, secretSealed: sealed.secret_sealed } })]);
    const toLeader = await nodes.heartbeat(leader.id, leader.accessKey, report(5), new Date());
    expect(toLeader?.desired).toEqual([expect.objectContaining({ group: leaderGroup, leaderCredential: null })]);

    // A revoked leader's credential derives no key any more.
    await nodes.update(leader.id, { revokedAt: new Date() });
    expect((await nodes.heartbeat(worker.id, worker.accessKey, report(6), new Date()))?.desired[0].leaderCredential).toBeNull();
  });

  it('answers a node without replicas, and keeps a node no admin approved Pending', async () => {
    const node = await join({ approved: false });
    expect(await nodes.heartbeat(node.id, node.accessKey, report(2), new Date())).toEqual({ node: { id: node.id, status: 'Pending', approved: false, cordoned: false, draining: false }, desired: [] });
  });

  it('refuses, writing nothing, a revoked node, a credential replaced by a later join, and an unknown node', async () => {
    const revoked = await join();
    await nodes.update(revoked.id, { revokedAt: new Date() });
    const rejoined = await join();
    const again = await nodes.join({ name: rejoined.name, labels: {}, taints: [], accessKey: 'AKNODEREJOINED000001', secretSealed: 'sealed', approved: true, joinTokenId: null, ...joinFacts() }, new Date());
    const before = await Promise.all([nodes.get(revoked.id), nodes.get(rejoined.id)]);

    expect(await nodes.heartbeat(revoked.id, revoked.accessKey, report(3), new Date())).toBeNull();
    expect(await nodes.heartbeat(rejoined.id, rejoined.accessKey, report(3), new Date())).toBeNull();
    expect(await nodes.heartbeat(randomUUID(), revoked.accessKey, report(3), new Date())).toBeNull();
    // Another node's id with one's own key is no credential either.
    expect(await nodes.heartbeat(revoked.id, 'AKNODEREJOINED000001', report(3), new Date())).toBeNull();
    expect(await Promise.all([nodes.get(revoked.id), nodes.get(rejoined.id)])).toEqual(before);

    // The new credential is the node's.
    expect(again?.id).toBe(rejoined.id);
    expect((await nodes.heartbeat(rejoined.id, 'AKNODEREJOINED000001', report(4), new Date()))?.node.id).toBe(rejoined.id);
  });
});
