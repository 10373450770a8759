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
