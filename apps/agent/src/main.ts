#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { describeStartupError, loadConfigOrExit } from '@gridline/common';
import { AgentConfig } from './agent.config';
import { AgentModule } from './agent.module';
import { runInstall } from './install/install';

async function main(): Promise<void> {
  const config = loadConfigOrExit(AgentConfig, 'gridline-agent');
  try {
    const app = await NestFactory.createApplicationContext(AgentModule.forRoot(config), { bufferLogs: true, abortOnError: false });
    app.useLogger(app.get(Logger));
    app.enableShutdownHooks();
    await app.init();
  } catch (e) {
    process.stderr.write(`gridline-agent: ${describeStartupError(e, { redis: config.REDIS_URL })}\n`);
    process.exit(1);
  }
}

// `gridline-agent install ...` writes the systemd service and exits before anything else starts.
if (process.argv[2] === 'install') process.exitCode = runInstall(process.argv.slice(3));
else void main();
