import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { EndpointEntity } from './endpoint.entity';

/**
 * A model an endpoint serves, as its catalog listed it, and how it is offered here: under an
 * alias (its own name by default), to every team or to some, or not at all.
 */
@Entity('endpoint_models')
@Index('endpoint_models_alias', ['endpointId', 'alias'], { unique: true })
export class EndpointModelEntity {
  @PrimaryColumn({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  /** The model's id on the endpoint (what requests sent there name). */
  @PrimaryColumn({ name: 'remote_model', type: 'text' })
  remoteModel!: string;

  @ManyToOne(() => EndpointEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id' })
  endpoint?: EndpointEntity;

  /** The name clients use here. */
  @Column({ type: 'text' })
  alias!: string;

  /** The teams that may use it; null: every team (except local-only ones). */
  @Column({ name: 'team_ids', type: 'uuid', array: true, nullable: true })
  teamIds!: string[] | null;

  /** False: an admin took it out of the catalog (it stays listed for admins). */
  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Whether the endpoint's last catalog listed it (a model it stopped listing is not routed to). */
  @Column({ type: 'boolean', default: true })
  listed!: boolean;

  @Column({ name: 'first_seen_at', type: 'timestamptz', default: () => 'now()' })
  firstSeenAt!: Date;

  @Column({ name: 'last_seen_at', type: 'timestamptz', default: () => 'now()' })
  lastSeenAt!: Date;
}
