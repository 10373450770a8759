import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { NodeGpu } from '@gridline/contract';
import { bigintNumber } from './transformers';

/**
 * What the control plane last concluded about the node's agent: `Pending` until an admin (or
 * its join token) approves it, then `Ready` while it heartbeats, `NotReady` after missed
 * heartbeats, `Lost` after a longer silence. Cordoned and draining are flags beside it; the
 * status shown to users combines them (see the nodes API).
 */
export type NodeStatus = 'Pending' | 'Ready' | 'NotReady' | 'Lost';

/** Facts a heartbeat carries beside the GPUs (see the agent protocol's NodeInventory). */
export interface NodeInventoryFacts {
  cpuCores?: number;
  diskFreeBytes?: number | null;
  llamaCppVersion?: string | null;
  capabilities?: string[];
  platform?: string;
  arch?: string;
  queueDepth?: number;
  tokensPerSecond?: number | null;
  /** The agent said it is shutting down: it takes no new jobs. */
  shuttingDown?: boolean;
  /** sha256 of the model files in the node's store. */
  storedModels?: string[];
  /** Where the node's replica-group tunnels listen, when it can run spanning replicas. */
  rpc?: { address: string; ports: [number, number] };
}

@Entity('nodes')
export class NodeEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text', default: 'Pending' })
  status!: NodeStatus;

  @Column({ type: 'boolean', default: false })
  approved!: boolean;

  @Column({ type: 'boolean', default: false })
  cordoned!: boolean;

  @Column({ type: 'boolean', default: false })
  draining!: boolean;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels!: Record<string, string>;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  taints!: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];

  /** The node credential's access key (HMAC, shared/HMAC.md); null for a node that never joined with a token. */
  @Column({ name: 'access_key', type: 'text', unique: true, nullable: true })
  accessKey!: string | null;

  /** The node credential's secret, sealed under the master key (libs/auth SecretBox). */
  @Column({ name: 'secret_sealed', type: 'text', nullable: true })
  secretSealed!: string | null;

  /** A revoked node is refused: its credential no longer signs, and it cannot join again under its name. */
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'join_token_id', type: 'uuid', nullable: true })
  joinTokenId!: string | null;

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

  @Column({ type: 'jsonb', default: () => "'{}'" })
  inventory!: NodeInventoryFacts;

  /** Every replica the agent reported in its last heartbeat, with its state, memory and load. */
  @Column({ name: 'replica_reports', type: 'jsonb', default: () => "'[]'" })
  replicaReports!: unknown[];

  @Column({ name: 'running_jobs', type: 'jsonb', default: () => "'[]'" })
  runningJobs!: { jobId: string; attempt: number }[];

  @Column({ name: 'last_heartbeat_at', type: 'timestamptz' })
  lastHeartbeatAt!: Date;

  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' })
  registeredAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
