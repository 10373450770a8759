import { DynamicModule, Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { TypedConfigModule, loggerOptions } from '@gridline/common';
import { DatabaseModule } from '@gridline/db';
import { AdminModule } from './admin/admin.module';
import { ApiConfig } from './api.config';
import { AuthModule } from './auth/auth.module';
import { BootstrapService } from './bootstrap/bootstrap.service';
import { HealthController } from './health/health.controller';
import { InferenceService } from './jobs/inference.service';
import { JobEventsReader } from './jobs/job-events.reader';
import { ChatCompletionsController } from './openai/chat-completions.controller';
import { ModelsController } from './openai/models.controller';
import { RedisModule } from './redis/redis.module';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

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
            genReqId: (req, res) => {
              const incoming = req.headers['x-request-id'];
              const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
              res.setHeader('x-request-id', id);
              return id;
            },
            autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
          },
        }),
        DatabaseModule.forRoot({ url: config.DATABASE_URL, applicationName: 'gridline-api', migrate: config.GRIDLINE_MIGRATE }),
        RedisModule,
        AuthModule,
        AdminModule,
      ],
      controllers: [HealthController, ChatCompletionsController, ModelsController],
      providers: [BootstrapService, JobEventsReader, InferenceService],
    };
  }
}
