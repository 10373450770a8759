import { Injectable } from '@nestjs/common';
import { DataSource, LessThan, Not } from 'typeorm';
import type { LoadedModel, NodeGpu } from '@gridline/contract';
import { NodeEntity, NodeStatus } from '../entities';

export interface NodeReport {
  name: string;
  agentVersion: string;
  backend: string;
  gpus: NodeGpu[];
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  loadedModels: LoadedModel[];
}

export interface NodeRecord extends NodeReport {
  id: string;
  status: NodeStatus;
  lastHeartbeatAt: Date;
}

function toRecord(e: NodeEntity): NodeRecord {
  return {
    id: e.id,
    name: e.name,
    status: e.status,
    agentVersion: e.agentVersion,
    backend: e.backend,
    gpus: e.gpus,
    totalMemoryBytes: e.totalMemoryBytes,
    freeMemoryBytes: e.freeMemoryBytes,
    loadedModels: e.loadedModels,
    lastHeartbeatAt: e.lastHeartbeatAt,
  };
}

/** GPU hosts as their agents last reported them. */
@Injectable()
export class NodeRepository {
  constructor(private readonly db: DataSource) {}

  /** Registration is idempotent by node name: a re-registering agent keeps its node id. */
  async register(report: NodeReport, at: Date): Promise<NodeRecord> {
    const repo = this.db.getRepository(NodeEntity);
    await repo.upsert({ ...report, status: 'Ready', lastHeartbeatAt: at }, { conflictPaths: ['name'] });
    return toRecord(await repo.findOneOrFail({ where: { name: report.name } }));
  }

  /** Records a heartbeat; false when the node id is unknown (the agent must register again). */
  async heartbeat(id: string, report: Pick<NodeReport, 'gpus' | 'freeMemoryBytes' | 'loadedModels'>, at: Date): Promise<boolean> {
    const result = await this.db
      .getRepository(NodeEntity)
      .update({ id }, { gpus: report.gpus, freeMemoryBytes: report.freeMemoryBytes, loadedModels: report.loadedModels, status: 'Ready', lastHeartbeatAt: at });
    return (result.affected ?? 0) > 0;
  }

  /** Marks Ready nodes whose last heartbeat is older than `before` as NotReady; returns their ids. */
  async markStale(before: Date): Promise<string[]> {
    const repo = this.db.getRepository(NodeEntity);
    const stale = await repo.find({ select: { id: true }, where: { status: Not('NotReady'), lastHeartbeatAt: LessThan(before) } });
    if (stale.length > 0) await repo.update(stale.map((n) => n.id), { status: 'NotReady' });
    return stale.map((n) => n.id);
  }

  async list(): Promise<NodeRecord[]> {
    return (await this.db.getRepository(NodeEntity).find({ order: { name: 'ASC' } })).map(toRecord);
  }
}
