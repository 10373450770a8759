import { DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { TypedConfigModule, loggerOptions } from '@gridline/common';
import { DatabaseModule } from '@gridline/db';
import { ApiConfig } from './api.config';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { BootstrapService } from './bootstrap/bootstrap.service';
import { requestIdOf } from './common/request-id';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { JobLifecycle } from '@gridline/jobs';
import { MessagingModule } from '@gridline/messaging';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { ModelLookupModule } from './models/model-lookup';
import { KeypairsModule } from './keypairs/keypairs.module';
import { ApiMetrics } from './metrics/api-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { ChatCompletionsController } from './openai/chat-completions.controller';
import { ModelsController } from './openai/models.controller';
import { OpenAiInference } from './openai/openai-inference.service';
import { QueueBoardModule } from './queue-board/queue-board.module';
import { QuotasModule } from './quotas/quotas.module';
import { RedisModule } from './redis/redis.module';
import { TeamsModule } from './teams/teams.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { ModelCatalogModule } from './models/models.module';
import { NodesModule } from './nodes/nodes.module';
import { TokensModule } from './tokens/tokens.module';
import { UsageController } from './usage/usage.controller';
import { UsersModule } from './users/users.module';
import { CircuitBreaker } from './mesh/circuit-breaker';
import { EndpointConnector } from './mesh/endpoint-connector';
import { EndpointHealthChecker } from './mesh/endpoint-health';
import { EndpointsController, FallbacksController } from './mesh/endpoints.controller';
import { EndpointsService } from './mesh/endpoints.service';
import { MeshRouter } from './mesh/mesh-router';
import { MeshViewsModule } from './mesh/mesh-views';
import { RemoteRunner } from './mesh/remote-runner';

@Module({})
export class AppModule {
  static forRoot(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypedConfigModule.forRoot(ApiConfig, config),
        LoggerModule.forRoot({
          pinoHttp: {
            ...loggerOptions('api', config.LOG_LEVEL, config.LOG_FORMAT),
            genReqId: requestIdOf,
            // The path without its query: filters carry e-mails and names.
            serializers: {
              req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0], headers: req.headers }),
            },
            // Probes and heartbeats (every node, every few seconds) would drown the log; a failing heartbeat is logged by the agent and the error filter.
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' || req.url === '/api/v1/agent/heartbeat' },
          },
        }),
        DatabaseModule.forRoot({ url: config.DATABASE_URL, applicationName: 'gridline-api', migrate: config.GRIDLINE_MIGRATE }),
        RedisModule,
        MessagingModule.forRoot({ redisUrl: config.REDIS_URL, prefix: config.GRIDLINE_REDIS_PREFIX, connectionName: 'gridline-api', consumes: [] }),
        AuthModule,
        AuditModule,
        TeamsModule,
        UsersModule,
        KeypairsModule,
        TokensModule,
        ModelLookupModule,
        MeshViewsModule,
        ModelCatalogModule,
        DeploymentsModule,
        NodesModule,
        QuotasModule,
        QueueBoardModule,
      ],
      controllers: [HealthController, MetricsController, ChatCompletionsController, ModelsController, JobsController, UsageController, EndpointsController, FallbacksController],
      providers: [BootstrapService, HealthService, JobLifecycle, JobsService, OpenAiInference, ApiMetrics, CircuitBreaker, EndpointConnector, EndpointHealthChecker, EndpointsService, MeshRouter, RemoteRunner],
    };
  }
}
