import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from './transformers';

/**
 * The scheduler's leadership lease. One row per lease name; the holder renews it before it
 * expires (Postgres' clock, so schedulers' clocks never disagree), and every taking-over raises
 * `token`: writes a leader makes carry its token and are refused once a newer one exists.
 */
@Entity('scheduler_leases')
export class SchedulerLeaseEntity {
  @PrimaryColumn({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  holder!: string;

  /** The fencing token: grows by one at each new holder, never reused. */
  @Column({ type: 'bigint', transformer: bigintNumber })
  token!: number;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'acquired_at', type: 'timestamptz' })
  acquiredAt!: Date;
}
