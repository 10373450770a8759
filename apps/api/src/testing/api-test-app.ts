import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { signingFetch } from '@gridline/auth';
import { loadConfig } from '@gridline/common';
import { TEST_REDIS_URL, TestDatabase, freshDatabaseName, redisPrefix } from '@gridline/testing';
import { ApiConfig } from '../api.config';
import { AppModule } from '../app.module';
import { API_APP_OPTIONS, configureApp } from '../app.setup';

export const ROOT_ACCESS = 'AKIAIOSFODNN7EXAMPLE';
export const ROOT_SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';

export type Caller = (path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }) => Promise<{ status: number; body: unknown }>;

export interface ApiTestApp {
  app: NestExpressApplication;
  base: string;
  host: string;
  db: TestDatabase;
  pg: Client;
  /** Calls as the bootstrap superadmin. */
  root: Caller;
  asKeypair(accessKey: string, secretKey: string): Caller;
  asToken(token: string): Caller;
  close(): Promise<void>;
}

function caller(base: string, fetchImpl: typeof fetch): Caller {
  return async (path, init = {}) => {
    const res = await fetchImpl(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
}

/** The api in-process on a random port, on a database of its own and a Redis namespace of its own. */
export async function startApiTestApp(env: Record<string, string> = {}): Promise<ApiTestApp> {
  const db = freshDatabaseName();
  const config = loadConfig(ApiConfig, {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    GRIDLINE_REDIS_PREFIX: redisPrefix(),
    GRIDLINE_MASTER_KEY: randomBytes(32).toString('hex'),
    GRIDLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-api-')),
    GRIDLINE_BOOTSTRAP_ACCESS_KEY: ROOT_ACCESS,
    GRIDLINE_BOOTSTRAP_SECRET_KEY: ROOT_SECRET,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    ...env,
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), { ...API_APP_OPTIONS, logger: false });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  const bearer = (token: string): typeof fetch => (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` } });
  return {
    app,
    base,
    host: new URL(base).host,
    db,
    pg,
    root: caller(base, signingFetch({ accessKey: ROOT_ACCESS, secretKey: ROOT_SECRET }) as typeof fetch),
    asKeypair: (accessKey, secretKey) => caller(base, signingFetch({ accessKey, secretKey }) as typeof fetch),
    asToken: (token) => caller(base, bearer(token)),
    close: async () => {
      await pg.end();
      await app.close();
      await db.drop();
    },
  };
}
