import { Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisConnectionWatch, RedisKeys, redisCommandOptions } from '@gridline/common';
import { ApiConfig } from '../api.config';
import { RedisHealth } from './redis-health';

/**
 * One shared ioredis connection for commands (non-blocking; each times out after
 * REDIS_COMMAND_TIMEOUT_MS), the key namespace, and what the api knows of Redis's health.
 */
@Global()
@Module({
  providers: [
    {
      provide: Redis,
      inject: [ApiConfig],
      useFactory: (c: ApiConfig) => new RedisConnectionWatch('gridline-api', c.REDIS_URL, new Logger('Redis')).attach(new Redis(c.REDIS_URL, redisCommandOptions('gridline-api'))),
    },
    { provide: RedisKeys, inject: [ApiConfig], useFactory: (c: ApiConfig) => new RedisKeys(c.GRIDLINE_REDIS_PREFIX) },
    RedisHealth,
  ],
  exports: [Redis, RedisKeys, RedisHealth],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
