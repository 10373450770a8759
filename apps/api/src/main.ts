import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { describeStartupError, loadConfigOrExit } from '@gridline/common';
import { ApiConfig } from './api.config';
import { AppModule } from './app.module';
import { API_APP_OPTIONS, configureApp } from './app.setup';

async function main(): Promise<void> {
  const config = loadConfigOrExit(ApiConfig, 'gridline-api');
  if (config.GRIDLINE_FAULT && config.NODE_ENV === 'production') {
    process.stderr.write('gridline-api: GRIDLINE_FAULT is for tests and is refused when NODE_ENV=production\n');
    process.exit(1);
  }
  try {
    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { ...API_APP_OPTIONS, bufferLogs: true, abortOnError: false });
    app.useLogger(app.get(Logger));
    configureApp(app);
    await app.listen(config.PORT, config.HOST);
    const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('0.0.0.0', '127.0.0.1');
    app.get(Logger).log(`listening on ${url} (docs at ${url}/docs)`, 'Gridline');
  } catch (e) {
    process.stderr.write(`gridline-api: ${describeStartupError(e, { database: config.DATABASE_URL, redis: config.REDIS_URL })}\n`);
    process.exit(1);
  }
}

void main();
