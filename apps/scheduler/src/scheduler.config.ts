import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { DatabaseConfig } from '@gridline/common';

export class SchedulerConfig extends DatabaseConfig {
  /** Heartbeat interval agents are told to keep. */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_HEARTBEAT_SECONDS = 5;

  /** A node that has not heartbeated for this long is NotReady and gets no new jobs. */
  @IsInt()
  @Min(2)
  GRIDLINE_NODE_TIMEOUT_SECONDS = 15;

  /** How long an admitted job may wait for a free replica before it fails with no_replica. */
  @IsInt()
  @Min(1)
  GRIDLINE_QUEUE_WAIT_SECONDS = 60;

  /** Inference jobs routed concurrently. */
  @IsInt()
  @Min(1)
  GRIDLINE_DISPATCH_CONCURRENCY = 16;

  /** How often stuck jobs are looked for (past their deadline, lost with their node, lost by Redis). */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_SWEEP_SECONDS = 5;

  @IsBoolean()
  GRIDLINE_MIGRATE = true;
}
