import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './transformers';

/**
 * One load of a model on a node, as the agent reported it: the memory the control plane
 * estimated next to what the load actually took, so estimates can be corrected from real loads.
 */
@Entity('model_loads')
@Index(['modelName', 'createdAt'])
export class ModelLoadEntity {
  /** The agent's id for the load: a report sent twice is recorded once. */
  @PrimaryColumn('uuid')
  id!: string;

  @Index()
  @Column({ name: 'node_id', type: 'uuid' })
  nodeId!: string;

  @Column({ name: 'replica_id', type: 'uuid', nullable: true })
  replicaId!: string | null;

  @Column({ name: 'model_name', type: 'text' })
  modelName!: string;

  @Column({ type: 'text' })
  outcome!: 'loaded' | 'failed';

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ name: 'estimate_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  estimateBytes!: number | null;

  @Column({ name: 'gpu_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  gpuBytes!: number | null;

  @Column({ name: 'cpu_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  cpuBytes!: number | null;

  @Column({ name: 'gpu_layers', type: 'int', nullable: true })
  gpuLayers!: number | null;

  @Column({ name: 'load_ms', type: 'int', nullable: true })
  loadMs!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
