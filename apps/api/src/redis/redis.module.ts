import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { ApiConfig } from '../api.config';

/** One shared ioredis connection for commands (non-blocking) and the key namespace. */
@Global()
@Module({
  providers: [
    { provide: Redis, inject: [ApiConfig], useFactory: (c: ApiConfig) => new Redis(c.REDIS_URL, { maxRetriesPerRequest: 3, connectionName: 'gridline-api' }) },
    { provide: RedisKeys, inject: [ApiConfig], useFactory: (c: ApiConfig) => new RedisKeys(c.GRIDLINE_REDIS_PREFIX) },
  ],
  exports: [Redis, RedisKeys],
})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
