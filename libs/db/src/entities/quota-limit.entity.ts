import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiTokenEntity } from './api-token.entity';
import { KeypairEntity } from './keypair.entity';
import { TeamEntity } from './team.entity';
import { bigintNumber } from './transformers';

/**
 * Inference quota limits of one scope of a team: the team itself (no key, no model), one of its
 * keys (a keypair or an API token), or one model as the team uses it. Every limit is null when
 * it does not apply. Scopes are independent: a request is checked against its team's row, its
 * key's row and its model's row, each that exists.
 */
@Entity('quota_limits')
@Check('quota_limits_one_subject', `(CASE WHEN keypair_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN api_token_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN model IS NULL THEN 0 ELSE 1 END) <= 1`)
@Index('quota_limits_team_scope', ['teamId'], { unique: true, where: 'keypair_id IS NULL AND api_token_id IS NULL AND model IS NULL' })
@Index('quota_limits_keypair', ['keypairId'], { unique: true, where: 'keypair_id IS NOT NULL' })
@Index('quota_limits_api_token', ['apiTokenId'], { unique: true, where: 'api_token_id IS NOT NULL' })
@Index('quota_limits_model', ['teamId', 'model'], { unique: true, where: 'model IS NOT NULL' })
export class QuotaLimitEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'team_id', type: 'uuid' })
  teamId!: string;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  @Column({ name: 'keypair_id', type: 'uuid', nullable: true })
  keypairId!: string | null;

  @ManyToOne(() => KeypairEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'keypair_id' })
  keypair?: KeypairEntity;

  @Column({ name: 'api_token_id', type: 'uuid', nullable: true })
  apiTokenId!: string | null;

  @ManyToOne(() => ApiTokenEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'api_token_id' })
  apiToken?: ApiTokenEntity;

  /** The model's name as requests give it. */
  @Column({ type: 'text', nullable: true })
  model!: string | null;

  @Column({ name: 'max_concurrent_jobs', type: 'integer', nullable: true })
  maxConcurrentJobs!: number | null;

  @Column({ name: 'max_queued_jobs', type: 'integer', nullable: true })
  maxQueuedJobs!: number | null;

  @Column({ name: 'requests_per_minute', type: 'integer', nullable: true })
  requestsPerMinute!: number | null;

  @Column({ name: 'tokens_per_minute', type: 'bigint', nullable: true, transformer: bigintNumber })
  tokensPerMinute!: number | null;

  @Column({ name: 'tokens_per_day', type: 'bigint', nullable: true, transformer: bigintNumber })
  tokensPerDay!: number | null;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
