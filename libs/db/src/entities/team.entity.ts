import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from './transformers';

@Entity('teams')
export class TeamEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  /** Weight in fair sharing across teams. */
  @Column({ type: 'integer', default: 1 })
  weight!: number;

  @Column({ name: 'quota_gpus', type: 'integer', nullable: true })
  quotaGpus!: number | null;

  @Column({ name: 'quota_gpu_memory_bytes', type: 'bigint', nullable: true, transformer: bigintNumber })
  quotaGpuMemoryBytes!: number | null;

  /** Its jobs run on this installation's replicas only: no model of a registered endpoint is offered to it. */
  @Column({ name: 'local_only', type: 'boolean', default: false })
  localOnly!: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
