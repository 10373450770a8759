import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { NodeTimingConfig, WithMetricsListener } from '@gridline/common';

/** The metrics listener's port when GRIDLINE_METRICS_PORT is unset. */
export const SCHEDULER_METRICS_PORT = 9464;

export class SchedulerConfig extends WithMetricsListener(NodeTimingConfig) {
  /** How long an admitted job may wait for a free replica before it fails with no_replica. */
  @IsInt()
  @Min(1)
  GRIDLINE_QUEUE_WAIT_SECONDS = 60;

  /** Jobs of one team that may wait for a busy model; beyond, a job is refused with 429 queue_full and Retry-After. */
  @IsInt()
  @Min(1)
  GRIDLINE_QUEUE_MAX_PER_TEAM = 1000;

  /** Jobs that may wait in all. */
  @IsInt()
  @Min(1)
  GRIDLINE_QUEUE_MAX = 10_000;

  /** Inference jobs routed concurrently. */
  @IsInt()
  @Min(1)
  GRIDLINE_DISPATCH_CONCURRENCY = 16;

  /**
   * How long the scheduler reuses a team's quota limits when it dispatches asynchronous jobs
   * (their concurrency slots): a change applies to dispatches within this time.
   */
  @IsInt()
  @Min(0)
  GRIDLINE_QUOTA_CACHE_MS = 2000;

  /** How often stuck jobs are looked for (past their deadline, lost with their node, lost by Redis). */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_SWEEP_SECONDS = 5;

  /**
   * The leadership lease: the leader renews it every third of this; a standby takes over at most
   * this long (plus a third) after the leader stops renewing.
   */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_LEADER_LEASE_SECONDS = 10;

  /** How often the leader compares deployments with what runs (it also looks at once when jobs wait for a model loaded on demand). */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_RECONCILE_SECONDS = 2;

  /** How long a replica whose load failed keeps its deployment off that node before it is tried there again (doubling per failure, up to 16×). */
  @IsInt()
  @Min(1)
  @Max(3600)
  GRIDLINE_LOAD_RETRY_SECONDS = 30;

  @IsBoolean()
  GRIDLINE_MIGRATE = true;

  /**
   * Routing prefers a replica that recently served a job's prompt prefix (its cache probably
   * holds it), the load term always counting. `false` routes by load alone: the baseline
   * `npm run bench:routing` compares time to first token against.
   */
  @IsBoolean()
  GRIDLINE_ROUTING_PREFIX_AFFINITY = true;
}
