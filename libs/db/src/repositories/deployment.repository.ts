import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DeploymentCondition, DeploymentEntity, DeploymentEvent, DeploymentPhase, DeploymentStatus } from '../entities';
import { Page, PageRequest, TeamScope, teamWhere } from './team-scope';

export interface DeploymentRecord {
  id: string;
  name: string;
  teamId: string;
  modelId: string;
  replicas: number;
  minReplicas: number | null;
  idleSeconds: number;
  pinned: boolean;
  runtime: Record<string, unknown>;
  placement: string;
  resource: Record<string, unknown>;
  tolerations: Record<string, unknown>[];
  phase: DeploymentPhase;
  conditions: DeploymentCondition[];
  status: DeploymentStatus | null;
  events: DeploymentEvent[];
  plan: Record<string, unknown>;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDeployment = Omit<DeploymentRecord, 'id' | 'createdAt' | 'updatedAt' | 'status' | 'events'>;
export type DeploymentChanges = Partial<Pick<DeploymentRecord, 'replicas' | 'minReplicas' | 'idleSeconds' | 'pinned' | 'runtime' | 'placement' | 'resource' | 'tolerations' | 'phase' | 'conditions' | 'plan'>>;
/** What the scheduler writes about a deployment it reconciles. */
export type DeploymentObservation = Partial<Pick<DeploymentRecord, 'phase' | 'conditions' | 'status' | 'events' | 'plan'>>;

/** How many decisions a deployment keeps. */
export const DEPLOYMENT_EVENTS_KEPT = 50;

function toRecord(e: DeploymentEntity): DeploymentRecord {
  return {
    id: e.id,
    name: e.name,
    teamId: e.teamId,
    modelId: e.modelId,
    replicas: e.replicas,
    minReplicas: e.minReplicas,
    idleSeconds: e.idleSeconds,
    pinned: e.pinned,
    runtime: e.runtime,
    placement: e.placement,
    resource: e.resource,
    tolerations: e.tolerations,
    phase: e.phase,
    conditions: e.conditions,
    status: e.status,
    events: e.events,
    plan: e.plan,
    createdBy: e.createdBy,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}

/** Deployments: desired state, team-owned. */
@Injectable()
export class DeploymentRepository {
  constructor(private readonly db: DataSource) {}

  /** A taken name in the team is Postgres' unique violation (23505), for the caller to map. */
  async create(d: NewDeployment): Promise<DeploymentRecord> {
    const repo = this.db.getRepository(DeploymentEntity);
    return toRecord(await repo.save(repo.create(d)));
  }

  async list(scope: TeamScope, page: PageRequest): Promise<Page<DeploymentRecord>> {
    const [rows, total] = await this.db.getRepository(DeploymentEntity).findAndCount({ where: teamWhere(scope, {}), order: { createdAt: 'DESC' }, take: page.limit, skip: page.offset });
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  async get(scope: TeamScope, id: string): Promise<DeploymentRecord | null> {
    const row = await this.db.getRepository(DeploymentEntity).findOne({ where: teamWhere(scope, { id }) });
    return row ? toRecord(row) : null;
  }

  async update(scope: TeamScope, id: string, changes: DeploymentChanges): Promise<DeploymentRecord | null> {
    const repo = this.db.getRepository(DeploymentEntity);
    const row = await repo.findOne({ where: teamWhere(scope, { id }) });
    if (!row) return null;
    return toRecord(await repo.save(repo.merge(row, changes as Partial<DeploymentEntity>)));
  }

  async delete(scope: TeamScope, id: string): Promise<boolean> {
    return ((await this.db.getRepository(DeploymentEntity).delete(teamWhere(scope, { id }))).affected ?? 0) > 0;
  }

  /** Every deployment, across teams (the scheduler reconciles them all). */
  async listAll(): Promise<DeploymentRecord[]> {
    return (await this.db.getRepository(DeploymentEntity).find({ order: { createdAt: 'ASC' } })).map(toRecord);
  }

  /** The scheduler's observation; inside its fenced transaction. Nothing when the deployment is gone. */
  async observe(id: string, changes: DeploymentObservation, manager: EntityManager): Promise<void> {
    await manager.getRepository(DeploymentEntity).update({ id }, changes as never);
  }

  /** Appends events (keeping the last `kept`) without touching the rest; inside the scheduler's fenced transaction. */
  async appendEvents(id: string, events: DeploymentEvent[], kept: number, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE deployments SET events = (SELECT COALESCE(jsonb_agg(e ORDER BY i), '[]'::jsonb) FROM (SELECT e, i FROM jsonb_array_elements(events || $2::jsonb) WITH ORDINALITY AS t(e, i) ORDER BY i DESC LIMIT $3) last) WHERE id = $1`,
      [id, JSON.stringify(events), kept],
    );
  }

  /** Every deployment's accepted plan, across teams: what the fleet's GPUs are promised to. */
  async allPlans(): Promise<Pick<DeploymentRecord, 'id' | 'teamId' | 'plan' | 'minReplicas'>[]> {
    const rows = await this.db.getRepository(DeploymentEntity).find({ select: { id: true, teamId: true, plan: true, minReplicas: true } });
    return rows.map((r) => ({ id: r.id, teamId: r.teamId, plan: r.plan, minReplicas: r.minReplicas }));
  }
}
