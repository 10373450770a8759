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

/** A worker of a spanning replica: where its tunnel listens and which layers it holds. */
export interface ReplicaGroupWorker {
  replicaId: string;
  nodeId: string;
  /** The worker node's address and the port assigned to the group's tunnel there. */
  host: string;
  port: number;
  layers: [number, number];
}

/**
 * A replica that spans nodes is a group of rows, one per node: the leader (which loads the
 * model and serves its jobs) and its workers (which run an RPC server holding some of its
 * layers). Every member carries the group's id.
 */
export type ReplicaGroup =
  | { id: string; role: 'leader'; layers: [number, number]; workers: ReplicaGroupWorker[] }
  | { id: string; role: 'worker'; leaderNodeId: string; host: string; port: number; layers: [number, number] };

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

  /** Its part in a replica spanning nodes; null for a replica on one node. */
  @Column({ name: 'replica_group', type: 'jsonb', nullable: true })
  group!: ReplicaGroup | null;

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
