import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

// The same shapes as @gridline/mesh's EndpointKind, HealthState and HealthSettings, declared here:
// libs/db cannot import libs/mesh (mesh's tests use libs/testing, which uses libs/db: a cycle).
// EndpointsService passes one for the other, so the compiler checks that they stay alike.

/** What a remote place is: a peer Gridline, a Backend.AI cluster, or any OpenAI-compatible server. */
export type EndpointKind = 'gridline' | 'backendai' | 'openai';

/** What the active checks concluded: `unknown` until the first check after it was added or changed. */
export type EndpointState = 'unknown' | 'healthy' | 'unhealthy';

/** How an endpoint is checked and when it is taken out of (and put back into) routing. */
export interface EndpointHealthSettings {
  intervalSeconds: number;
  timeoutSeconds: number;
  requestTimeoutSeconds: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  breakerFailures: number;
  breakerOpenSeconds: number;
}

/** A remote place that serves models: its requests are signed with credentials sealed under the master key. */
@Entity('endpoints')
export class EndpointEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text' })
  kind!: EndpointKind;

  /** Base URL (scheme, host, port, optional path prefix), without a trailing slash. */
  @Column({ type: 'text' })
  url!: string;

  /** The credentials as JSON, sealed (AES-256-GCM under the master key); never returned. */
  @Column({ name: 'credentials_sealed', type: 'text' })
  credentialsSealed!: string;

  /** The credential's public half, to tell it apart in lists (an access key, or the API key's last characters). */
  @Column({ name: 'credential_hint', type: 'text' })
  credentialHint!: string;

  /** Share of the traffic among the healthy endpoints that serve a model. */
  @Column({ type: 'integer', default: 100 })
  weight!: number;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Models its catalog lists for the first time are offered at once (false: each waits for an admin to enable it). */
  @Column({ name: 'offer_new_models', type: 'boolean', default: true })
  offerNewModels!: boolean;

  @Column({ type: 'jsonb' })
  health!: EndpointHealthSettings;

  @Column({ type: 'text', default: 'unknown' })
  state!: EndpointState;

  @Column({ name: 'state_since', type: 'timestamptz', default: () => 'now()' })
  stateSince!: Date;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures!: number;

  @Column({ name: 'consecutive_successes', type: 'integer', default: 0 })
  consecutiveSuccesses!: number;

  @Column({ name: 'last_check_at', type: 'timestamptz', nullable: true })
  lastCheckAt!: Date | null;

  /** Why the last check failed (never a credential); null after a passed one. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** The remote's version, as its handshake reported it (a peer's Gridline version, a Backend.AI manager's). */
  @Column({ name: 'remote_version', type: 'text', nullable: true })
  remoteVersion!: string | null;

  @Column({ name: 'catalog_refreshed_at', type: 'timestamptz', nullable: true })
  catalogRefreshedAt!: Date | null;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
