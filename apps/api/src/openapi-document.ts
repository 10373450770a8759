#!/usr/bin/env node
/**
 * Writes the OpenAPI document generated from the api's code to docs/openapi.json, or with
 * --check fails when the committed document differs (CI guards against drift).
 * A second entry point of the api app (its composition root): runs the api module in Nest's
 * preview mode, routes and DTOs only, no database or Redis.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfig } from '@gridline/common';
import { ApiConfig } from './api.config';
import { AppModule } from './app.module';
import { buildOpenApi } from './openapi';

/** dist/apps/api/src → the repository root. */
const OUT = join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json');

/** The document as the api's code describes it, serialized as it is committed. */
export async function renderOpenApiDocument(): Promise<string> {
  const config = loadConfig(ApiConfig, { LOG_LEVEL: 'silent', GRIDLINE_MASTER_KEY: '0'.repeat(64) });
  const app = await NestFactory.create(AppModule.forRoot(config), { preview: true, logger: false, abortOnError: false });
  const doc = `${JSON.stringify(buildOpenApi(app), null, 2)}\n`;
  await app.close();
  return doc;
}

async function main(): Promise<number> {
  const doc = await renderOpenApiDocument();
  if (process.argv.includes('--check')) {
    const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
    if (current !== doc) {
      process.stderr.write('docs/openapi.json is out of date: run `npm run openapi` and commit the result\n');
      return 1;
    }
    process.stdout.write('docs/openapi.json matches the code\n');
    return 0;
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, doc);
  process.stdout.write(`wrote ${OUT}\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      process.stderr.write(`openapi: ${e.message}\n`);
      process.exit(1);
    },
  );
}
