import { IsBoolean, IsInt, Max, Min } from 'class-validator';
import { NodeTimingConfig } from '@gridline/common';

export class SchedulerConfig extends NodeTimingConfig {
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
