import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { chatRequest } from '@gridline/contract';
import { JobRecord, JobRepository, TeamRepository, createDataSource } from '@gridline/db';
import { RedisKeys } from '@gridline/common';
import { JobQueues, JobStreams, MessagingConnections } from '@gridline/messaging';
import { TEST_REDIS_URL, TestDatabase, createTestDatabase, redisPrefix } from './test-env';

export interface LifecycleHarness<L> {
  prefix: string;
  ds: DataSource;
  redis: Redis;
  jobs: JobRepository;
  streams: JobStreams;
  queues: JobQueues;
  lifecycle: L;
  teamId: string;
  /** A queued job of the harness's team (a one-message chat, 4 tokens), accepted `ageMs` ago. */
  accept(options?: { idempotencyKey?: string; ageMs?: number; timeoutMs?: number }): Promise<JobRecord>;
  close(): Promise<void>;
}

/**
 * The job lifecycle's parts wired by hand on a migrated test database and a Redis namespace of
 * its own, with one team. `makeLifecycle` builds the lifecycle (libs/jobs) from them (its quota gate
 * on the harness's Redis connection and namespace).
 */
export async function startLifecycleHarness<L>(name: string, makeLifecycle: (jobs: JobRepository, streams: JobStreams, queues: JobQueues, redis: { redis: Redis; keys: RedisKeys }) => L): Promise<LifecycleHarness<L>> {
  const prefix = redisPrefix();
  const db: TestDatabase = await createTestDatabase();
  const ds = createDataSource(db.url, { poolSize: 4 });
  await ds.initialize();
  const connections = new MessagingConnections({ redisUrl: TEST_REDIS_URL, prefix, connectionName: `${name}-test`, consumes: [] });
  const redis = new Redis(TEST_REDIS_URL);
  const jobs = new JobRepository(ds);
  const streams = new JobStreams(connections);
  const queues = new JobQueues(connections);
  const lifecycle = makeLifecycle(jobs, streams, queues, { redis, keys: new RedisKeys(prefix) });
  const teamId = (await new TeamRepository(ds).create({ name })).id;
  return {
    prefix,
    ds,
    redis,
    jobs,
    streams,
    queues,
    lifecycle,
    teamId,
    accept: async ({ idempotencyKey, ageMs = 0, timeoutMs = 60_000 } = {}) => {
      const createdAt = new Date(Date.now() - ageMs);
      const { job } = await jobs.create({
        teamId,
        keypairId: null,
        kind: 'chat',
        mode: 'async',
        model: 'm',
        request: chatRequest([{ role: 'user', content: 'hi' }], { maxTokens: 4 }) as unknown as Record<string, unknown>,
        requestId: null,
        createdAt,
        deadlineAt: new Date(createdAt.getTime() + timeoutMs),
        idempotencyKey: idempotencyKey ?? null,
        requestHash: idempotencyKey ? 'h' : null,
      });
      return job;
    },
    close: async () => {
      await connections.onApplicationShutdown();
      redis.disconnect();
      await ds.destroy();
      await db.drop();
    },
  };
}
