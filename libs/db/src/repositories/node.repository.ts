import { Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, LessThan } from 'typeorm';
import type { NodeGpu } from '@gridline/contract';
import { ModelLoadEntity, NodeEntity, NodeInventoryFacts, NodeStatus, ReplicaGroup, ReplicaSettings } from '../entities';
import type { DesiredReplica } from './replica.repository';

export interface NodeTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** What a heartbeat (or a join) writes. */
export interface NodeReport {
  agentVersion: string;
  backend: string;
  gpus: NodeGpu[];
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  inventory: NodeInventoryFacts;
  replicaReports: unknown[];
  runningJobs: { jobId: string; attempt: number }[];
}

export interface NodeRecord extends NodeReport {
  id: string;
  name: string;
  status: NodeStatus;
  approved: boolean;
  cordoned: boolean;
  draining: boolean;
  labels: Record<string, string>;
  taints: NodeTaint[];
  accessKey: string | null;
  revokedAt: Date | null;
  lastHeartbeatAt: Date;
  registeredAt: Date;
}

/** The node credential, for verifying a signature. */
export interface NodeCredential {
  nodeId: string;
  nodeName: string;
  accessKey: string;
  secretSealed: string;
}

export interface ModelLoadRecord {
  id: string;
  nodeId: string;
  replicaId: string | null;
  modelName: string;
  outcome: 'loaded' | 'failed';
  reason: string | null;
  estimateBytes: number | null;
  gpuBytes: number | null;
  cpuBytes: number | null;
  gpuLayers: number | null;
  loadMs: number | null;
  createdAt: Date;
}

function toRecord(e: NodeEntity): NodeRecord {
  return {
    id: e.id,
    name: e.name,
    status: e.status,
    approved: e.approved,
    cordoned: e.cordoned,
    draining: e.draining,
    labels: e.labels,
    taints: e.taints,
    accessKey: e.accessKey,
    revokedAt: e.revokedAt,
    agentVersion: e.agentVersion,
    backend: e.backend,
    gpus: e.gpus,
    totalMemoryBytes: e.totalMemoryBytes,
    freeMemoryBytes: e.freeMemoryBytes,
    inventory: e.inventory,
    replicaReports: e.replicaReports,
    runningJobs: e.runningJobs,
    lastHeartbeatAt: e.lastHeartbeatAt,
    registeredAt: e.registeredAt,
  };
}

/** What a heartbeat reads back: the node's state after the write, and the replicas the control plane wants on it. */
export interface HeartbeatOutcome {
  node: Pick<NodeRecord, 'id' | 'status' | 'approved' | 'cordoned' | 'draining'>;
  /** In the order they were created. */
  desired: DesiredReplica[];
}

/** A row of the heartbeat's statement: the node's state, with one replica (or none) joined with its model. */
interface HeartbeatRow {
  id: string;
  status: NodeStatus;
  approved: boolean;
  cordoned: boolean;
  draining: boolean;
  replica_id: string | null;
  model_id: string | null;
  model_name: string;
  settings: ReplicaSettings;
  estimate_bytes: string | null;
  desired: 'Loaded' | 'Unloaded';
  model_sha256: string | null;
  model_size_bytes: string | null;
  replica_group: ReplicaGroup | null;
  leader_access_key: string | null;
  leader_secret_sealed: string | null;
}

/**
 * Every node writes one every few seconds: a single statement (one round trip, one transaction)
 * writes the report and reads back only what the answer needs. It lands only while the node
 * holds `access_key` unrevoked ($2), which makes it the credential's check too.
 */
const HEARTBEAT_SQL = `
  WITH beat AS (
    UPDATE nodes SET
      agent_version = $3, backend = $4, gpus = $5, total_memory_bytes = $6, free_memory_bytes = $7, inventory = $8,
      replica_reports = $9, running_jobs = $10, last_heartbeat_at = $11,
      status = CASE WHEN approved THEN 'Ready' ELSE 'Pending' END, updated_at = now()
    WHERE id = $1 AND access_key = $2 AND revoked_at IS NULL
    RETURNING id, status, approved, cordoned, draining
  )
  SELECT beat.*, r.id AS replica_id, r.model_id, r.model_name, r.settings, r.estimate_bytes, r.desired, r.replica_group,
         m.sha256 AS model_sha256, m.size_bytes AS model_size_bytes,
         leader.access_key AS leader_access_key, leader.secret_sealed AS leader_secret_sealed
  FROM beat
  LEFT JOIN replicas r ON r.node_id = beat.id
  LEFT JOIN models m ON m.id = r.model_id
  LEFT JOIN nodes leader ON r.replica_group->>'role' = 'worker' AND leader.id = (r.replica_group->>'leaderNodeId')::uuid AND leader.revoked_at IS NULL
  ORDER BY r.created_at, r.id`;

const numberOrNull = (v: string | null) => (v === null ? null : Number(v));

export type NodeJoin = Pick<NodeRecord, 'name' | 'labels' | 'taints'> & Omit<NodeReport, 'replicaReports' | 'runningJobs'> & {
  accessKey: string;
  secretSealed: string;
  approved: boolean;
  joinTokenId: string | null;
};

/** GPU hosts: their identity, what an admin decided about them, and what their agents last reported. */
@Injectable()
export class NodeRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Records a join. Idempotent by name: a node that joins again keeps its id and the labels an
   * admin set, and gets the new credential (the old one stops signing); it waits for approval
   * again unless the token approves by itself, since whoever holds a token could otherwise take
   * over an approved node's name. A revoked name is refused (null), atomically with the check.
   */
  async join(values: NodeJoin, at: Date): Promise<NodeRecord | null> {
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO nodes (name, status, approved, labels, taints, access_key, secret_sealed, join_token_id, agent_version, backend, gpus,
                          total_memory_bytes, free_memory_bytes, inventory, last_heartbeat_at)
       VALUES ($1, CASE WHEN $2 THEN 'Ready' ELSE 'Pending' END, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (name) DO UPDATE SET
         access_key = EXCLUDED.access_key, secret_sealed = EXCLUDED.secret_sealed, join_token_id = EXCLUDED.join_token_id,
         approved = EXCLUDED.approved,
         status = CASE WHEN EXCLUDED.approved THEN 'Ready' ELSE 'Pending' END,
         labels = EXCLUDED.labels || nodes.labels,
         agent_version = EXCLUDED.agent_version, backend = EXCLUDED.backend, gpus = EXCLUDED.gpus,
         total_memory_bytes = EXCLUDED.total_memory_bytes, free_memory_bytes = EXCLUDED.free_memory_bytes,
         inventory = EXCLUDED.inventory, last_heartbeat_at = EXCLUDED.last_heartbeat_at, updated_at = now()
       WHERE nodes.revoked_at IS NULL
       RETURNING id`,
      [
        values.name,
        values.approved,
        JSON.stringify(values.labels),
        JSON.stringify(values.taints),
        values.accessKey,
        values.secretSealed,
        values.joinTokenId,
        values.agentVersion,
        values.backend,
        JSON.stringify(values.gpus),
        values.totalMemoryBytes,
        values.freeMemoryBytes,
        JSON.stringify(values.inventory),
        at,
      ],
    );
    return rows[0] ? this.get(rows[0].id) : null;
  }

  /** The credential behind an access key, unless the node was revoked. */
  async findCredential(accessKey: string): Promise<NodeCredential | null> {
    const row = await this.db.getRepository(NodeEntity).findOne({ where: { accessKey, revokedAt: IsNull() }, select: { id: true, name: true, accessKey: true, secretSealed: true } });
    return row?.accessKey && row.secretSealed ? { nodeId: row.id, nodeName: row.name, accessKey: row.accessKey, secretSealed: row.secretSealed } : null;
  }

  /**
   * Records a heartbeat signed with `accessKey`: the report, and `Ready` for an approved node (a
   * Pending one stays Pending). Returns the node's state after the write and its desired
   * replicas; null when the node is unknown or revoked, or `accessKey` is no longer its credential.
   */
  async heartbeat(id: string, accessKey: string, report: NodeReport, at: Date): Promise<HeartbeatOutcome | null> {
    const rows: HeartbeatRow[] = await this.db.query(HEARTBEAT_SQL, [
      id,
      accessKey,
      report.agentVersion,
      report.backend,
      JSON.stringify(report.gpus),
      report.totalMemoryBytes,
      report.freeMemoryBytes,
      JSON.stringify(report.inventory),
      JSON.stringify(report.replicaReports),
      JSON.stringify(report.runningJobs),
      at,
    ]);
    const first = rows[0];
    if (!first) return null;
    const desired: DesiredReplica[] = [];
    for (const r of rows) {
      if (r.replica_id === null) continue;
      desired.push({
        id: r.replica_id,
        modelId: r.model_id,
        modelName: r.model_name,
        settings: r.settings,
        estimateBytes: numberOrNull(r.estimate_bytes),
        desired: r.desired,
        group: r.replica_group,
        leaderCredential: r.leader_access_key && r.leader_secret_sealed ? { accessKey: r.leader_access_key, secretSealed: r.leader_secret_sealed } : null,
        model: r.model_size_bytes === null ? null : { sha256: r.model_sha256, sizeBytes: Number(r.model_size_bytes) },
      });
    }
    return { node: { id: first.id, status: first.status, approved: first.approved, cordoned: first.cordoned, draining: first.draining }, desired };
  }

  /**
   * Ready nodes silent since `notReadyBefore` become NotReady; NotReady (or Ready) nodes silent
   * since `lostBefore` become Lost. Returns what changed.
   */
  async markStale(notReadyBefore: Date, lostBefore: Date): Promise<{ notReady: string[]; lost: string[] }> {
    const repo = this.db.getRepository(NodeEntity);
    const lost = await repo.find({ select: { id: true }, where: { status: In(['Ready', 'NotReady']), lastHeartbeatAt: LessThan(lostBefore) } });
    if (lost.length > 0) await repo.update(lost.map((n) => n.id), { status: 'Lost' });
    const notReady = await repo.find({ select: { id: true }, where: { status: 'Ready', lastHeartbeatAt: LessThan(notReadyBefore) } });
    if (notReady.length > 0) await repo.update(notReady.map((n) => n.id), { status: 'NotReady' });
    return { notReady: notReady.map((n) => n.id), lost: lost.map((n) => n.id) };
  }

  /**
   * The models a node that takes jobs has a Ready replica of (from the agents' reports; a worker
   * of a spanning replica serves none itself): what the mesh routes locally before any endpoint.
   */
  async modelsReady(heardSince: Date): Promise<Set<string>> {
    const rows: { model: string }[] = await this.db.query(
      `SELECT DISTINCT r->>'model' AS model
       FROM nodes n, jsonb_array_elements(n.replica_reports) r
       WHERE n.approved AND NOT n.cordoned AND NOT n.draining AND n.revoked_at IS NULL AND n.status = 'Ready'
         AND n.last_heartbeat_at >= $1 AND r->>'state' = 'Ready' AND COALESCE(r->'group'->>'role', '') <> 'worker'`,
      [heardSince],
    );
    return new Set(rows.map((r) => r.model));
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.db.getRepository(NodeEntity).find({ order: { name: 'ASC' } })).map(toRecord);
  }

  async get(id: string): Promise<NodeRecord | null> {
    const row = await this.db.getRepository(NodeEntity).findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** An admin's change: approval, cordon, drain, labels, taints, revocation. */
  async update(id: string, changes: Partial<Pick<NodeRecord, 'approved' | 'cordoned' | 'draining' | 'labels' | 'taints' | 'revokedAt'>>): Promise<NodeRecord | null> {
    const result = await this.db.getRepository(NodeEntity).update({ id }, changes);
    return (result.affected ?? 0) > 0 ? this.get(id) : null;
  }

  /** Approves a Pending node: it becomes Ready at once when its last heartbeat is recent. */
  async approve(id: string): Promise<NodeRecord | null> {
    await this.db.query(`UPDATE nodes SET approved = true, status = CASE WHEN status = 'Pending' THEN 'Ready' ELSE status END, updated_at = now() WHERE id = $1`, [id]);
    return this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.db.getRepository(NodeEntity).delete({ id })).affected ?? 0) > 0;
  }

  /** Records loads reported by the node; one reported twice is kept once. */
  async recordLoads(nodeId: string, loads: Omit<ModelLoadRecord, 'nodeId' | 'createdAt'>[]): Promise<void> {
    if (loads.length === 0) return;
    await this.db.createQueryBuilder().insert().into(ModelLoadEntity).values(loads.map((l) => ({ ...l, nodeId }))).orIgnore().execute();
  }

  async listLoads(filter: { nodeId?: string; modelName?: string }, limit = 50): Promise<ModelLoadRecord[]> {
    return this.db.getRepository(ModelLoadEntity).find({ where: { ...(filter.nodeId ? { nodeId: filter.nodeId } : {}), ...(filter.modelName ? { modelName: filter.modelName } : {}) }, order: { createdAt: 'DESC' }, take: limit });
  }
}
