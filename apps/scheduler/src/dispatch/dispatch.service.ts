import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { JobRepository, NodeRepository } from '@gridline/db';
import { JobProducer, QueueName, appendJobEvent, parseJobData } from '@gridline/scheduling';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

const RETRY_DELAY_MS = 100;

/**
 * Consumes `inference` (routes each job to a node queue) and `results` (records outcomes),
 * and marks nodes whose heartbeats stopped as NotReady.
 */
@Injectable()
export class DispatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DispatchService.name);
  private readonly producer: JobProducer;
  private workers: Worker[] = [];
  private watch: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly jobs: JobRepository,
    private readonly nodes: NodeRepository,
    private readonly replicas: ReplicaRegistry,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
  ) {
    this.producer = new JobProducer(redis, keys.bullPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    const timeoutMs = this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000;
    for (const node of await this.nodes.list()) {
      if (node.status === 'Ready' && Date.now() - node.lastHeartbeatAt.getTime() <= timeoutMs) {
        this.replicas.seen(node.id, node.loadedModels, node.lastHeartbeatAt.getTime());
      }
    }
    const connection = this.redis.duplicate({ maxRetriesPerRequest: null });
    const opts = { connection, prefix: this.keys.bullPrefix };
    this.workers = [
      new Worker(QueueName.Inference, (job, token) => this.route(job, token), { ...opts, concurrency: this.config.GRIDLINE_DISPATCH_CONCURRENCY }),
      new Worker(QueueName.Results, (job) => this.record(job), { ...opts, concurrency: 8 }),
    ];
    for (const w of this.workers) w.on('error', (e) => this.logger.error(`queue worker error: ${e.message}`));
    // A job that could not be routed must not leave its client waiting until the timeout.
    this.workers[0].on('failed', (job, err) => {
      if (!job || err instanceof DelayedError) return;
      const jobId = (job.data as { jobId?: unknown }).jobId;
      if (typeof jobId !== 'string') return;
      this.logger.error({ jobId }, `routing failed: ${err.message}`);
      void this.fail(jobId, null, 'routing_failed', 'the scheduler could not route the job').catch(() => undefined);
    });
    this.watch = setInterval(() => void this.markStale(), Math.max(1000, (this.config.GRIDLINE_HEARTBEAT_SECONDS * 1000) / 2));
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    await Promise.all(this.workers.map((w) => w.close()));
    await this.producer.close();
  }

  private async route(job: Job, token?: string): Promise<void> {
    if (job.name !== 'chat.completion') throw new Error(`unexpected job ${job.name} on ${QueueName.Inference}`);
    const data = parseJobData('chat.completion', job.data);
    const now = Date.now();
    const nodeId = this.replicas.claim(data.model, data.jobId, now, this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000);
    if (!nodeId) {
      if (now - data.acceptedAt > this.config.GRIDLINE_QUEUE_WAIT_SECONDS * 1000) {
        const message = this.replicas.hasModel(data.model)
          ? `every replica of ${data.model} stayed busy for ${this.config.GRIDLINE_QUEUE_WAIT_SECONDS}s`
          : `no ready node serves ${data.model}`;
        await this.fail(data.jobId, null, 'no_replica', message);
        return;
      }
      await job.moveToDelayed(now + RETRY_DELAY_MS, token);
      throw new DelayedError();
    }
    try {
      await this.producer.enqueue('generate', { ...data, nodeId });
      await this.jobs.markDispatched(data.jobId, nodeId, new Date());
    } catch (e) {
      this.replicas.release(nodeId, data.jobId);
      throw e;
    }
  }

  private async record(job: Job): Promise<void> {
    if (job.name !== 'job.finished') throw new Error(`unexpected job ${job.name} on ${QueueName.Results}`);
    const data = parseJobData('job.finished', job.data);
    this.replicas.release(data.nodeId, data.jobId);
    if (data.status === 'succeeded') {
      const r = data.result;
      await this.jobs.finish(
        data.jobId,
        { status: 'succeeded', result: { text: r.text, finishReason: r.finishReason, firstTokenMs: r.firstTokenMs, totalMs: r.totalMs }, promptTokens: r.promptTokens, completionTokens: r.completionTokens, nodeId: data.nodeId },
        new Date(),
      );
    } else {
      await this.jobs.finish(data.jobId, { status: 'failed', errorCode: data.errorCode, errorMessage: data.errorMessage, nodeId: data.nodeId }, new Date());
    }
  }

  /** Fails a job the scheduler could not place, telling the waiting api through the job's stream. */
  private async fail(jobId: string, nodeId: string | null, code: string, message: string): Promise<void> {
    await appendJobEvent(this.redis, this.keys.jobEvents(jobId), { type: 'error', code, message });
    await this.jobs.finish(jobId, { status: 'failed', errorCode: code, errorMessage: message, nodeId }, new Date());
  }

  private async markStale(): Promise<void> {
    try {
      const stale = await this.nodes.markStale(new Date(Date.now() - this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000));
      for (const id of stale) {
        this.replicas.forget(id);
        this.logger.warn(`node ${id} missed its heartbeats: NotReady`);
      }
    } catch (e) {
      this.logger.warn(`heartbeat watch failed: ${(e as Error).message}`);
    }
  }
}
