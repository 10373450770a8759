import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { JobErrorCode, JobOutput, JobStatus } from '@gridline/contract';
import { TeamEntity } from './team.entity';

export type JobMode = 'sync' | 'async';
export type JobKind = 'chat' | 'completion';

/** A quota slot or queue place a job holds (@gridline/jobs QuotaHold, as stored). */
export interface JobQuotaHold {
  id: string;
  keys: string[];
  leaseMs: number;
}

/**
 * What a job took at admission from its team's quotas (@gridline/jobs QuotaGate), so whoever
 * ends it gives it back: the concurrency slot, the queue place (until it starts) and the token
 * reservation (settled to the actual count).
 */
export interface JobQuotaHolds {
  slot: JobQuotaHold | null;
  queued: JobQuotaHold | null;
  reservation: { key: string; buckets: string[]; tokens: number } | null;
}

@Entity('jobs')
@Index(['teamId', 'createdAt'])
@Index(['status', 'deadlineAt'])
@Index(['createdAt'])
@Index('UQ_jobs_team_idempotency_key', ['teamId', 'idempotencyKey'], { unique: true, where: '"idempotency_key" IS NOT NULL' })
export class JobEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'team_id', type: 'uuid' })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ name: 'keypair_id', type: 'uuid', nullable: true })
  keypairId!: string | null;

  /** The bearer token it came with (null for a signed request). */
  @Column({ name: 'api_token_id', type: 'uuid', nullable: true })
  apiTokenId!: string | null;

  /** The user whose credential submitted it (null for jobs older than usage accounting). */
  @Column({ name: 'user_id', type: 'uuid', nullable: true })
  userId!: string | null;

  /** `chat` (messages through the chat template) or `completion` (a plain prompt). */
  @Column({ type: 'text' })
  kind!: JobKind;

  /** `sync`: a client waits on the connection; `async`: submitted through /api/v1/jobs. */
  @Column({ type: 'text', default: 'sync' })
  mode!: JobMode;

  @Column({ type: 'text' })
  model!: string;

  @Column({ type: 'text', default: 'queued' })
  status!: JobStatus;

  /** The normalized InferenceRequest. */
  @Column({ type: 'jsonb' })
  request!: Record<string, unknown>;

  @Column({ type: 'jsonb', nullable: true })
  result!: JobOutput | null;

  /** Quota holds taken at admission (null: none: no quota applied). */
  @Column({ type: 'jsonb', nullable: true })
  quota!: JobQuotaHolds | null;

  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode!: JobErrorCode | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  /** Order among the team's jobs waiting for a busy model (higher first). */
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  /** Which try is current (1, then 2 after a requeue). */
  @Column({ type: 'integer', default: 1 })
  attempt!: number;

  @Column({ name: 'node_id', type: 'uuid', nullable: true })
  nodeId!: string | null;

  /** The endpoint (peer, cluster, external server) that ran the attempt, when no local replica did. */
  @Column({ name: 'endpoint_id', type: 'uuid', nullable: true })
  endpointId!: string | null;

  /** The replica that ran the attempt (node and model). */
  @Column({ name: 'replica_id', type: 'text', nullable: true })
  replicaId!: string | null;

  @Column({ name: 'prompt_tokens', type: 'integer', nullable: true })
  promptTokens!: number | null;

  @Column({ name: 'completion_tokens', type: 'integer', nullable: true })
  completionTokens!: number | null;

  /** Of the prompt tokens, those the node reused from its cache (null: not reported). */
  @Column({ name: 'cached_prompt_tokens', type: 'integer', nullable: true })
  cachedPromptTokens!: number | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId!: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  /** sha256 of the submitted body, to tell a retried submit from a different one under the same key. */
  @Column({ name: 'request_hash', type: 'text', nullable: true })
  requestHash!: string | null;

  /** When the job was accepted (queued); set by the api, millisecond precision (cursor pages). */
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** After this the job is expired wherever it is. */
  @Column({ name: 'deadline_at', type: 'timestamptz' })
  deadlineAt!: Date;

  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true })
  dispatchedAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'first_token_at', type: 'timestamptz', nullable: true })
  firstTokenAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
