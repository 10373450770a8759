import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { RedisKeys, TypedConfigModule, loggerOptions } from '@gridline/common';
import { DatabaseModule } from '@gridline/db';
import { AgentsController } from './agents/agents.controller';
import { DispatchService } from './dispatch/dispatch.service';
import { ReplicaRegistry } from './replicas/replica-registry';
import { SchedulerConfig } from './scheduler.config';

@Global()
@Module({})
export class SchedulerModule implements OnApplicationShutdown {
  constructor(@Inject(Redis) private readonly redis: Redis) {}

  static forRoot(config: SchedulerConfig): DynamicModule {
    return {
      module: SchedulerModule,
      imports: [
        TypedConfigModule.forRoot(SchedulerConfig, config),
        LoggerModule.forRoot({ pinoHttp: loggerOptions('scheduler', config.LOG_LEVEL, config.LOG_FORMAT) }),
        DatabaseModule.forRoot({ url: config.DATABASE_URL, applicationName: 'gridline-scheduler', migrate: config.GRIDLINE_MIGRATE }),
      ],
      controllers: [AgentsController],
      providers: [
        { provide: Redis, useFactory: () => new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3, connectionName: 'gridline-scheduler' }) },
        { provide: RedisKeys, useValue: new RedisKeys(config.GRIDLINE_REDIS_PREFIX) },
        ReplicaRegistry,
        DispatchService,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
