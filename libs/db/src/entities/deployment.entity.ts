import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { ModelEntity } from './model.entity';
import { TeamEntity } from './team.entity';

export type DeploymentPhase = 'Pending' | 'Placed' | 'Loading' | 'Ready' | 'Degraded' | 'Failed';

/** One condition of a deployment, as Kubernetes writes them: a type, its truth, why, since when. */
export interface DeploymentCondition {
  type: DeploymentPhase;
  status: boolean;
  reason: string;
  message: string;
  at: string;
}

/** A decision the scheduler made about a deployment, and why (placements, losses, evictions, scaling). */
export interface DeploymentEvent {
  at: string;
  /** PascalCase, stable: Placed, Unschedulable, ReplicaLost, LoadFailed, Evicted, IdleUnloaded, ScaledDown, LoadOnDemand… */
  reason: string;
  message: string;
  replicaId?: string;
  nodeId?: string;
}

/** What the scheduler observed: the replicas it placed, each one's node and state, and how many serve. */
export interface DeploymentStatus {
  readyReplicas: number;
  /** Replicas wanted now (on demand: what demand asks, at least minReplicas). */
  desiredReplicas: number;
  replicas: { id: string; nodeId: string; nodeName: string; state: string; reason: string | null; members?: DeploymentMember[] }[];
  observedAt: string;
}

/** One node's part in a replica spanning nodes: its role, the layers it holds and the GPU memory planned for them. */
export interface DeploymentMember {
  replicaId: string;
  role: 'leader' | 'worker';
  nodeId: string;
  nodeName: string;
  layers: [number, number];
  bytes: number | null;
  state: string;
}

/** Desired state: a model with its runtime settings and placement, for the scheduler to realise. */
@Entity('deployments')
@Unique('UQ_deployments_team_name', ['teamId', 'name'])
export class DeploymentEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Index()
  @Column({ name: 'team_id', type: 'uuid' })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Index()
  @Column({ name: 'model_id', type: 'uuid' })
  modelId!: string;

  /** A model in use cannot be removed from the catalog. */
  @ManyToOne(() => ModelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id' })
  model?: ModelEntity;

  @Column({ type: 'integer' })
  replicas!: number;

  /** Replicas kept loaded when no job asks for the model; below `replicas`, the rest load on demand. Null: always `replicas`. */
  @Column({ name: 'min_replicas', type: 'integer', nullable: true })
  minReplicas!: number | null;

  /** Seconds a replica loaded on demand stays idle before it is unloaded. */
  @Column({ name: 'idle_seconds', type: 'integer', default: 300 })
  idleSeconds!: number;

  /** A pinned deployment's replicas are never evicted to make room for another model. */
  @Column({ type: 'boolean', default: false })
  pinned!: boolean;

  /** contextSize, parallel, kvCacheType, flashAttention, batchSize, ubatchSize, gpuLayers. */
  @Column({ type: 'jsonb' })
  runtime!: Record<string, unknown>;

  @Column({ type: 'text', default: 'binpack' })
  placement!: string;

  /** count, instanceType, preferredNodes, labelSelector. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  resource!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  tolerations!: Record<string, unknown>[];

  /** The latest phase; `conditions` holds each one's history. */
  @Column({ type: 'text', default: 'Pending' })
  phase!: DeploymentPhase;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  conditions!: DeploymentCondition[];

  /** The scheduler's latest observation (written by the leader only). */
  @Column({ type: 'jsonb', nullable: true })
  status!: DeploymentStatus | null;

  /** The scheduler's recent decisions, newest last (bounded). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  events!: DeploymentEvent[];

  /** The plan the deployment was accepted with: nodes, GPUs, layers and bytes. */
  @Column({ type: 'jsonb' })
  plan!: Record<string, unknown>;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
