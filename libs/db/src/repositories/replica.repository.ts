import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { ReplicaEntity, ReplicaGpuShare, ReplicaGroup, ReplicaSettings } from '../entities';

export interface ReplicaRecord {
  id: string;
  nodeId: string;
  deploymentId: string | null;
  gpus: ReplicaGpuShare[];
  /** Its part in a replica spanning nodes; null for a replica on one node. */
  group: ReplicaGroup | null;
  modelId: string | null;
  modelName: string;
  settings: ReplicaSettings;
  estimateBytes: number | null;
  desired: 'Loaded' | 'Unloaded';
  createdBy: string | null;
  createdAt: Date;
}

/** A replica the control plane wants on a node, as a heartbeat's answer needs it: with its catalog model's file. */
export interface DesiredReplica extends Pick<ReplicaRecord, 'id' | 'modelId' | 'modelName' | 'settings' | 'estimateBytes' | 'desired' | 'group'> {
  /** The catalog model's file; null when the replica has no catalog model or it is gone. */
  model: { sha256: string | null; sizeBytes: number } | null;
  /** For a worker of a spanning replica: its leader node's credential (sealed), from which the group's tunnel key is derived. */
  leaderCredential?: { accessKey: string; secretSealed: string } | null;
}

const toRecord = (e: ReplicaEntity): ReplicaRecord => ({
  id: e.id,
  nodeId: e.nodeId,
  deploymentId: e.deploymentId,
  gpus: e.gpus,
  group: e.group,
  modelId: e.modelId,
  modelName: e.modelName,
  settings: e.settings,
  estimateBytes: e.estimateBytes,
  desired: e.desired,
  createdBy: e.createdBy,
  createdAt: e.createdAt,
});

/** The replicas the control plane wants on each node (desired state). */
@Injectable()
export class ReplicaRepository {
  constructor(private readonly db: DataSource) {}

  /** An admin's replica (no deployment) or, inside a fenced transaction (`manager`), the scheduler's. */
  async create(
    values: Omit<ReplicaRecord, 'id' | 'desired' | 'createdAt' | 'deploymentId' | 'gpus' | 'group'> & Partial<Pick<ReplicaRecord, 'id' | 'deploymentId' | 'gpus' | 'group'>>,
    manager?: EntityManager,
  ): Promise<ReplicaRecord> {
    const repo = (manager ?? this.db.manager).getRepository(ReplicaEntity);
    return toRecord(await repo.save(repo.create({ deploymentId: null, gpus: [], group: null, ...values, desired: 'Loaded' })));
  }

  /** A spanning replica's member changed (a worker replaced): the leader's group is rewritten, and its agent reloads it. */
  async setGroup(id: string, group: ReplicaGroup, manager?: EntityManager): Promise<void> {
    await (manager ?? this.db.manager).getRepository(ReplicaEntity).update({ id }, { group });
  }

  /** Every replica row (the scheduler's reconciliation reads the whole desired state). */
  async listAll(): Promise<ReplicaRecord[]> {
    return (await this.db.getRepository(ReplicaEntity).find({ order: { createdAt: 'ASC' } })).map(toRecord);
  }

  /** Forgets replicas outright (their node is gone: nothing will report them again). */
  async deleteMany(ids: string[], manager?: EntityManager): Promise<void> {
    if (ids.length > 0) await (manager ?? this.db.manager).getRepository(ReplicaEntity).delete({ id: In(ids) });
  }

  /** Asks for replicas to go (scale down, eviction, idle, deleted deployment). */
  async markManyUnloaded(ids: string[], manager?: EntityManager): Promise<void> {
    if (ids.length > 0) await (manager ?? this.db.manager).getRepository(ReplicaEntity).update({ id: In(ids) }, { desired: 'Unloaded' });
  }

  async listByNode(nodeId: string): Promise<ReplicaRecord[]> {
    return (await this.db.getRepository(ReplicaEntity).find({ where: { nodeId }, order: { createdAt: 'ASC' } })).map(toRecord);
  }

  async listByNodes(nodeIds: string[]): Promise<ReplicaRecord[]> {
    if (nodeIds.length === 0) return [];
    return (await this.db.getRepository(ReplicaEntity).find({ where: { nodeId: In(nodeIds) }, order: { createdAt: 'ASC' } })).map(toRecord);
  }

  async get(id: string): Promise<ReplicaRecord | null> {
    const row = await this.db.getRepository(ReplicaEntity).findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** Asks for a replica to go; the row stays until the node no longer reports it. */
  async markUnloaded(id: string): Promise<ReplicaRecord | null> {
    await this.db.getRepository(ReplicaEntity).update({ id }, { desired: 'Unloaded' });
    return this.get(id);
  }

  /** Forgets replicas that were asked to go (only those: a replica wanted again meanwhile stays). */
  async forgetUnloaded(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.db.getRepository(ReplicaEntity).delete({ id: In(ids), desired: 'Unloaded' });
  }
}
