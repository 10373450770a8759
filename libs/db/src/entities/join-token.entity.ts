import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What an admin hands to an agent so that it may join the fleet once (or a few times) and get its own credential. */
@Entity('join_tokens')
export class JoinTokenEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The token's first characters, to tell tokens apart in lists; never enough to use it. */
  @Column({ type: 'text' })
  prefix!: string;

  /** SHA-256 of the token: the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'text', unique: true })
  tokenHash!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  /** Joins allowed; null for no limit. */
  @Column({ name: 'max_uses', type: 'int', nullable: true })
  maxUses!: number | null;

  @Column({ type: 'int', default: 0 })
  uses!: number;

  /** Nodes joining with it are approved at once instead of waiting in Pending. */
  @Column({ name: 'auto_approve', type: 'boolean', default: false })
  autoApprove!: boolean;

  /** Labels every node joining with it gets (the agent's own labels win on a shared key). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels!: Record<string, string>;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
