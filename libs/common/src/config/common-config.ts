import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables every Gridline process that talks to Redis reads. */
export class RedisConfig {
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Namespace for every Redis key, queue and channel: lets several stacks (or test files) share one Redis. */
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'may contain letters, digits, _ . - only' })
  GRIDLINE_REDIS_PREFIX = 'gridline';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = 'json';
}

/** Variables of processes that also own Postgres access (api, scheduler). */
export class DatabaseConfig extends RedisConfig {
  @IsNotEmpty()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/gridline';
}

/** How nodes' liveness is judged: the api tells agents the interval and shows statuses; the scheduler marks them. */
export class NodeTimingConfig extends DatabaseConfig {
  /** Heartbeat interval agents are told to keep. */
  @IsInt()
  @Min(1)
  @Max(300)
  GRIDLINE_HEARTBEAT_SECONDS = 5;

  /** A node that has not heartbeated for this long is NotReady and gets no new jobs. */
  @IsInt()
  @Min(2)
  GRIDLINE_NODE_TIMEOUT_SECONDS = 15;

  /** A node silent for this long is Lost: its replicas are placed elsewhere (and it may be deleted). */
  @IsInt()
  @Min(3)
  GRIDLINE_NODE_LOST_SECONDS = 300;
}
