import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { Queues, MessagingModule } from '@gridline/messaging';
import { metricsListenerProvider, RedisKeys, TypedConfigModule, loggerOptions } from '@gridline/common';
import { AGENT_METRICS_PORT, AgentConfig } from './agent.config';
import { JobRunner } from './jobs/job-runner.service';
import { AgentMetrics } from './metrics/agent-metrics';
import { NodeIdentity } from './node/node-identity';
import { NodeLifecycle } from './node/node-lifecycle.service';
import { ReplicaManager } from './replicas/replica-manager';

@Module({})
export class AgentModule {
  static forRoot(config: AgentConfig): DynamicModule {
    return {
      module: AgentModule,
      imports: [
        TypedConfigModule.forRoot(AgentConfig, config),
        LoggerModule.forRoot({ pinoHttp: loggerOptions('agent', config.LOG_LEVEL, config.LOG_FORMAT) }),
        MessagingModule.forRoot({
          redisUrl: config.REDIS_URL,
          prefix: config.GRIDLINE_REDIS_PREFIX,
          connectionName: 'gridline-agent',
          consumes: [{ queue: Queues.node, concurrency: config.GRIDLINE_PARALLEL }],
        }),
      ],
      providers: [
        { provide: RedisKeys, useValue: new RedisKeys(config.GRIDLINE_REDIS_PREFIX) },
        AgentMetrics,
        metricsListenerProvider(AgentMetrics, config, 'agent', AGENT_METRICS_PORT),
        ReplicaManager,
        NodeIdentity,
        JobRunner,
        NodeLifecycle,
      ],
    };
  }
}
