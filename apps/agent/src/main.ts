#!/usr/bin/env node
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from 'nestjs-pino';
import { describeStartupError, loadConfigOrExit } from '@gridline/common';
import { AgentConfig } from './agent.config';
import { AgentModule } from './agent.module';
import { runInstall } from './install/install';
import { AgentStartError, NodeLifecycle } from './node/node-lifecycle.service';

async function main(): Promise<void> {
  const config = loadConfigOrExit(AgentConfig, 'gridline-agent');
  try {
    const app = await NestFactory.createApplicationContext(AgentModule.forRoot(config), { bufferLogs: true, abortOnError: false });
    app.useLogger(app.get(Logger));
    app.enableShutdownHooks();
    await app.init();
    await app.get(NodeLifecycle).start();
  } catch (e) {
    const message = e instanceof AgentStartError ? e.message : describeStartupError(e, { redis: config.REDIS_URL });
    process.stderr.write(`gridline-agent: ${message}\n`);
    process.exit(1);
  }
}

// `gridline-agent install ...` writes the systemd service and exits before anything else starts.
if (process.argv[2] === 'install') process.exitCode = runInstall(process.argv.slice(3));
else void main();
