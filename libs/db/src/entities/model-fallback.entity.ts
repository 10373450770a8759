import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** Where a model's requests go when nothing healthy serves it: the models of its chain, in order. */
@Entity('model_fallbacks')
export class ModelFallbackEntity {
  @PrimaryColumn({ type: 'text' })
  model!: string;

  @Column({ type: 'text', array: true })
  chain!: string[];

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
