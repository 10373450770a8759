import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { RedisKeys, TypedConfigModule, loggerOptions } from '@gridline/common';
import { PrefixedClientRedis } from '@gridline/scheduling';
import { AgentConfig } from './agent.config';
import { AgentService } from './worker/agent.service';

@Module({})
export class AgentModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  static forRoot(config: AgentConfig): DynamicModule {
    const keys = new RedisKeys(config.GRIDLINE_REDIS_PREFIX);
    return {
      module: AgentModule,
      imports: [TypedConfigModule.forRoot(AgentConfig, config), LoggerModule.forRoot({ pinoHttp: loggerOptions('agent', config.LOG_LEVEL, config.LOG_FORMAT) })],
      providers: [
        { provide: Redis, useFactory: () => new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, connectionName: 'gridline-agent' }) },
        { provide: RedisKeys, useValue: keys },
        { provide: PrefixedClientRedis, useFactory: () => new PrefixedClientRedis(keys.rpcPrefix, config.REDIS_URL) },
        AgentService,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
