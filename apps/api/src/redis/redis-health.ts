import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ApiError, describeRedisError, isConnectionError } from '@gridline/common';
import { ApiConfig } from '../api.config';

/** How often the api samples Redis (reachability and INFO memory): never per request. */
export const REDIS_PROBE_INTERVAL_MS = 1000;

export interface RedisMemorySample {
  usedBytes: number;
  /** 0: no `maxmemory` set (nothing to guard). */
  maxBytes: number;
  at: number;
}

function infoField(info: string, name: string): number {
  const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

/**
 * What the api knows of its Redis, sampled once a second on the command connection (whose
 * commands time out after REDIS_COMMAND_TIMEOUT_MS): whether it answers, and how full it is.
 * Requests that need Redis ask here first, so a stalled or lost Redis is answered at once
 * with 503 `redis_unavailable` rather than after a timeout per request, and new inference
 * jobs are refused with 503 `redis_memory_full` near `maxmemory` rather than failing
 * mid-stream. Both lift by themselves when a probe succeeds again.
 */
@Injectable()
export class RedisHealth implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RedisHealth');
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private reachable = true;
  private memory: RedisMemorySample | null = null;
  private memoryFull = false;
  private stopped = false;

  constructor(
    @Inject(Redis) private readonly redis: Redis,
    private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    // A dropped connection is known at once; a stalled one at the next probe (or the first command that times out).
    this.redis.on('close', () => this.setReachable(false, 'connection closed'));
    this.redis.on('ready', () => void this.probe());
    this.timer = setInterval(() => void this.probe(), REDIS_PROBE_INTERVAL_MS);
    this.timer.unref();
    void this.probe();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Whether the last probe (or command) reached Redis. */
  get isReachable(): boolean {
    return this.reachable;
  }

  get lastMemorySample(): RedisMemorySample | null {
    return this.memory;
  }

  /** Throws 503 `redis_unavailable` while Redis is known to be unreachable. */
  assertReachable(): void {
    if (!this.reachable) throw redisUnavailable();
  }

  /** Before a new inference job: Redis answers and has room for its queue entries and stream. */
  assertRoomForJob(): void {
    this.assertReachable();
    if (this.memoryFull) {
      throw new ApiError('redis_memory_full', 'the server is near its Redis memory limit and takes no new inference jobs for now; try again shortly');
    }
  }

  /**
   * A command failed: when Redis was unreachable or too slow, the next requests are refused
   * at once until a probe succeeds. Returns the error to answer with.
   */
  failure(e: unknown): ApiError {
    if (/^OOM /.test(String((e as Error)?.message ?? ''))) {
      this.memoryFull = true;
      return new ApiError('redis_memory_full', 'the server reached its Redis memory limit; try again shortly');
    }
    if (isConnectionError(e)) {
      this.setReachable(false, describeRedisError(e));
      void this.probe();
    }
    return redisUnavailable();
  }

  /** One sample: INFO memory, bounded by the command timeout. Concurrent callers share it. */
  probe(): Promise<void> {
    if (!this.probing) {
      this.probing = this.sample().finally(() => (this.probing = null));
    }
    return this.probing;
  }

  private async sample(): Promise<void> {
    try {
      const info = await this.redis.info('memory');
      const sample = { usedBytes: infoField(info, 'used_memory'), maxBytes: infoField(info, 'maxmemory'), at: Date.now() };
      this.memory = sample;
      const full = sample.maxBytes > 0 && sample.usedBytes >= (sample.maxBytes * this.config.GRIDLINE_REDIS_MEMORY_HIGH_PERCENT) / 100;
      if (full !== this.memoryFull) {
        const figures = `${Math.round(sample.usedBytes / 1024)} KiB used of ${Math.round(sample.maxBytes / 1024)} KiB`;
        if (full) this.logger.warn(`Redis is near its memory limit (${figures}): new inference jobs are refused until it frees up`);
        else this.logger.log(`Redis has room again (${figures}): new inference jobs are taken`);
      }
      this.memoryFull = full;
      this.setReachable(true);
    } catch (e) {
      this.setReachable(false, describeRedisError(e));
    }
  }

  private setReachable(reachable: boolean, why = ''): void {
    if (reachable === this.reachable || this.stopped) return;
    this.reachable = reachable;
    if (reachable) this.logger.log('Redis answers again: requests that need it are served');
    else this.logger.warn(`Redis does not answer (${why}): requests that need it are answered 503 redis_unavailable until it does`);
  }
}

export function redisUnavailable(): ApiError {
  return new ApiError('redis_unavailable', 'the server cannot reach Redis right now; try again shortly');
}
