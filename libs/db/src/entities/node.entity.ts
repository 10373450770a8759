import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { LoadedModel, NodeGpu } from '@gridline/contract';
import { bigintNumber } from './transformers';

export type NodeStatus = 'Ready' | 'NotReady' | 'Lost';

@Entity('nodes')
export class NodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text', default: 'NotReady' })
  status!: NodeStatus;

  @Column({ name: 'agent_version', type: 'text' })
  agentVersion!: string;

  /** llama.cpp compute backend in use: cuda, vulkan, metal or cpu. */
  @Column({ type: 'text' })
  backend!: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  gpus!: NodeGpu[];

  @Column({ name: 'total_memory_bytes', type: 'bigint', transformer: bigintNumber })
  totalMemoryBytes!: number;

  @Column({ name: 'free_memory_bytes', type: 'bigint', transformer: bigintNumber })
  freeMemoryBytes!: number;

  @Column({ name: 'loaded_models', type: 'jsonb', default: () => "'[]'" })
  loadedModels!: LoadedModel[];

  @Column({ name: 'last_heartbeat_at', type: 'timestamptz' })
  lastHeartbeatAt!: Date;

  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
