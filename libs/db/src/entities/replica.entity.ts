import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { NodeEntity } from './node.entity';
import { bigintNumber } from './transformers';

/** How a replica runs: llama.cpp's settings for its runner. */
export interface ReplicaSettings {
  contextSize: number;
  parallel: number;
  /** Layers offloaded to the GPU: a number, `auto` (what fits) or `max`. */
  gpuLayers: number | 'auto' | 'max';
  /** 0 lets llama.cpp choose. */
  threads: number;
}

/** The share of one GPU a replica was placed on: whole layers and their bytes. */
export interface ReplicaGpuShare {
  index: number;
  bytes: number;
  /** First and last layer, or null for the fixed part alone. */
  layers: [number, number] | null;
}

/**
 * A model the control plane wants loaded on a node (desired state). The agent reconciles to
 * it from its heartbeat's answer and reports the actual state in its heartbeats.
 */
@Entity('replicas')
export class ReplicaEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index()
  @Column({ name: 'node_id', type: 'uuid' })
  nodeId!: string;

  @ManyToOne(() => NodeEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'node_id' })
  node?: NodeEntity;

  /** The catalog model; null for a model the agent serves from a local file of its own. */
  @Column({ name: 'model_id', type: 'uuid', nullable: true })
  modelId!: string | null;

  /** The deployment the scheduler placed it for; null for one an admin put on the node by hand. */
  @Index()
  @Column({ name: 'deployment_id', type: 'uuid', nullable: true })
  deploymentId!: string | null;

  /** Where the placement put it: bytes per GPU of the node (counted as allocated until it goes). */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  gpus!: ReplicaGpuShare[];

  @Column({ name: 'model_name', type: 'text' })
  modelName!: string;

  @Column({ type: 'jsonb' })
  settings!: ReplicaSettings;

  /** The memory the control plane planned for it (the requirement estimate, or the admin's figure). */
  @Column({ name: 'estimate_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  estimateBytes!: number | null;

  /** `Loaded` while wanted; `Unloaded` once asked to go (the row goes when the agent no longer reports it). */
  @Column({ type: 'text', default: 'Loaded' })
  desired!: 'Loaded' | 'Unloaded';

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
