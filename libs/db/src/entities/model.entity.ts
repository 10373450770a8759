import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from './transformers';

/** Summary of a model file's GGUF header, kept for listing and for requirement estimates. */
export interface ModelFileFacts {
  architecture: string;
  contextLength: number | null;
  layers: number | null;
  embedding: number | null;
  parameterBytes: number;
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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
