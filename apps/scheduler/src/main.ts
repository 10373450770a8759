import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { RedisKeys, describeStartupError, loadConfigOrExit } from '@gridline/common';
import { PrefixedServerRedis } from '@gridline/scheduling';
import { SchedulerConfig } from './scheduler.config';
import { SchedulerModule } from './scheduler.module';

async function main(): Promise<void> {
  const config = loadConfigOrExit(SchedulerConfig, 'gridline-scheduler');
  try {
    const app = await NestFactory.createMicroservice(SchedulerModule.forRoot(config), {
      strategy: new PrefixedServerRedis(new RedisKeys(config.GRIDLINE_REDIS_PREFIX).rpcPrefix, config.REDIS_URL),
      bufferLogs: true,
      abortOnError: false,
    });
    app.useLogger(app.get(Logger));
    app.enableShutdownHooks();
    await app.listen();
    app.get(Logger).log('scheduler ready: routing inference jobs and listening for agents', 'Gridline');
  } catch (e) {
    process.stderr.write(`gridline-scheduler: ${describeStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL })}\n`);
    process.exit(1);
  }
}

void main();
