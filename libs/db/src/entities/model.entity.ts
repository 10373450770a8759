import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { TeamEntity } from './team.entity';
import type { ServedContext } from '@gridline/contract';
import { bigintNumber } from './transformers';

/** Summary of a model file's GGUF header, kept for listing and for requirement estimates. */
export interface ModelFileFacts {
  architecture: string;
  contextLength: number | null;
  layers: number | null;
  embedding: number | null;
  parameterBytes: number;
  /** Read from the GGUF at registration (libs/models ModelFacts); absent for rows registered before, and for models agents announce. */
  family?: string;
  quantization?: string | null;
  toolSupport?: boolean | null;
  /**
   * How agents serve the file, as they announced it at registration: the largest context per
   * sequence among them (so a check against it never refuses what one replica could serve) and
   * the vocabulary's longest token. Absent until an agent that announces it registers.
   */
  serving?: ServedContext;
  /** The GGUF shape deployments are planned with (libs/models ModelShape), for models registered through the catalog. */
  shape?: object;
}

@Entity('models')
export class ModelEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** The id clients pass as `model`. */
  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text', nullable: true })
  sha256!: string | null;

  @Column({ name: 'size_bytes', type: 'bigint', transformer: bigintNumber })
  sizeBytes!: number;

  @Column({ type: 'jsonb' })
  facts!: ModelFileFacts;

  /** Where the file comes from (`file://` on the control plane, `http(s)://`); null for a model an agent announced. */
  @Column({ type: 'text', nullable: true })
  source!: string | null;

  /** The team that owns the model; null: global (every team may use it). */
  @Index()
  @Column({ name: 'team_id', type: 'uuid', nullable: true })
  teamId!: string | null;

  @ManyToOne(() => TeamEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'team_id' })
  team?: TeamEntity;

  /** GPU bytes per replica an admin set in place of the estimate (null: the estimate stands). */
  @Column({ name: 'memory_override_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  memoryOverrideBytes!: number | null;

  /** The file holds its header only (no weights): it validates and plans, and never deploys. */
  @Column({ name: 'header_only', type: 'boolean', default: false })
  headerOnly!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
