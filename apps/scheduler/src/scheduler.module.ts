import { DynamicModule, Global, Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import { metricsListenerProvider, RedisConnectionWatch, RedisKeys, TypedConfigModule, loggerOptions, redisCommandOptions } from '@gridline/common';
import { DatabaseModule, QuotaRepository } from '@gridline/db';
import { JobLifecycle, QuotaGate, QuotaPolicies } from '@gridline/jobs';
import { MessagingModule, Queues } from '@gridline/messaging';
import { Dispatcher } from './dispatch/dispatcher.service';
import { WaitingJobs } from './dispatch/waiting-jobs';
import { NodeBeatsController } from './nodes/node-beats.controller';
import { NodeWatch } from './nodes/node-watch.service';
import { Leadership } from './leadership/leadership.service';
import { SchedulerMetrics } from './metrics/scheduler-metrics';
import { ProgressService } from './progress/progress.service';
import { Reconciler } from './reconcile/reconciler.service';
import { ReplicaRegistry } from './replicas/replica-registry';
import { SCHEDULER_METRICS_PORT, SchedulerConfig } from './scheduler.config';
import { SweeperService } from './sweeper/sweeper.service';

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
        MessagingModule.forRoot({
          redisUrl: config.REDIS_URL,
          prefix: config.GRIDLINE_REDIS_PREFIX,
          connectionName: 'gridline-scheduler',
          // Consumed by the leader only: it starts when this scheduler takes the lease.
          consumes: [{ queue: Queues.inference, concurrency: config.GRIDLINE_DISPATCH_CONCURRENCY, startOnBoot: false }],
        }),
      ],
      controllers: [NodeBeatsController],
      providers: [
        {
          provide: Redis,
          useFactory: () => new RedisConnectionWatch('gridline-scheduler', config.REDIS_URL, new Logger('Redis')).attach(new Redis(config.REDIS_URL, redisCommandOptions('gridline-scheduler'))),
        },
        { provide: RedisKeys, useValue: new RedisKeys(config.GRIDLINE_REDIS_PREFIX) },
        // Quota holds go back when the scheduler finishes a job (JobLifecycle.end) or starts one (its queue place).
        { provide: QuotaGate, inject: [Redis, RedisKeys], useFactory: (redis: Redis, keys: RedisKeys) => new QuotaGate(redis, keys) },
        // An asynchronous job's concurrency slot is taken as it is dispatched, under its team's, key's and model's limits.
        { provide: QuotaPolicies, inject: [QuotaRepository], useFactory: (repo: QuotaRepository) => new QuotaPolicies(repo, { ttlMs: config.GRIDLINE_QUOTA_CACHE_MS }) },
        ReplicaRegistry,
        Leadership,
        Reconciler,
        JobLifecycle,
        NodeWatch,
        WaitingJobs,
        Dispatcher,
        ProgressService,
        SweeperService,
        SchedulerMetrics,
        metricsListenerProvider(SchedulerMetrics, config, 'scheduler', SCHEDULER_METRICS_PORT),
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => undefined);
  }
}
