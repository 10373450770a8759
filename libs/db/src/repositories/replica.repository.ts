import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { ReplicaEntity, ReplicaSettings } from '../entities';

export interface ReplicaRecord {
  id: string;
  nodeId: string;
  modelId: string | null;
  modelName: string;
  settings: ReplicaSettings;
  estimateBytes: number | null;
  desired: 'Loaded' | 'Unloaded';
  createdBy: string | null;
  createdAt: Date;
}

const toRecord = (e: ReplicaEntity): ReplicaRecord => ({
  id: e.id,
  nodeId: e.nodeId,
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

  async create(values: Omit<ReplicaRecord, 'id' | 'desired' | 'createdAt'>): Promise<ReplicaRecord> {
    const repo = this.db.getRepository(ReplicaEntity);
    return toRecord(await repo.save(repo.create({ ...values, desired: 'Loaded' })));
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
