import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { LogContext, RedisConnectionWatch, isConnectionError } from '@gridline/common';
import { MessagingConnections } from '../messaging.connections';
import { MESSAGING_OPTIONS, MessagingOptions } from '../messaging.options';
import { ON_QUEUE, QueueHandler, QueueJobContext } from './on-queue.decorator';
import { QueueSpec, queueName } from './queue-spec';

export interface FoundHandler {
  queue: string;
  owner: string;
}

/**
 * The boot check: every consumed queue has exactly one handler, and no handler waits on a
 * queue the app does not consume. Returns the problems, each naming the queue.
 */
export function handlerProblems(consumed: readonly string[], found: readonly FoundHandler[]): string[] {
  const problems: string[] = [];
  for (const queue of consumed) {
    const owners = found.filter((h) => h.queue === queue).map((h) => h.owner);
    if (owners.length === 0) problems.push(`queue "${queue}" is consumed but has no @OnQueue handler`);
    if (owners.length > 1) problems.push(`queue "${queue}" has ${owners.length} handlers (${owners.join(', ')}); it must have one`);
  }
  for (const h of found) {
    if (!consumed.includes(h.queue)) problems.push(`${h.owner} handles queue "${h.queue}", which this app does not consume`);
  }
  return problems;
}

export class MessagingBootError extends Error {
  override readonly name = 'MessagingBootError';
}

interface Bound {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers of specs with different payloads
  spec: QueueSpec<any>;
  handler: QueueHandler<unknown>;
  owner: string;
}

/** Finds the @OnQueue handlers, checks them at boot, builds the Workers, and closes them first on shutdown. */
@Injectable()
export class QueueConsumers implements OnApplicationBootstrap {
  private readonly logger = new Logger('Queues');
  private readonly bound = new Map<string, Bound>();
  private readonly workers = new Map<string, Worker>();

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: MessagingOptions,
    private readonly connections: MessagingConnections,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {
    connections.onClose('consumers', () => this.close());
  }

  onApplicationBootstrap(): void {
    const found: (FoundHandler & Bound)[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || wrapper.isAlias) continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method];
        if (typeof fn !== 'function') continue;
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see Bound
        const spec = Reflect.getMetadata(ON_QUEUE, fn) as QueueSpec<any> | undefined;
        if (!spec) continue;
        const owner = `${instance.constructor.name}.${method}`;
        found.push({ queue: spec.name, owner, spec, handler: (fn as QueueHandler<unknown>).bind(instance), });
      }
    }
    const problems = handlerProblems(
      this.options.consumes.map((c) => c.queue.name),
      found,
    );
    if (problems.length > 0) throw new MessagingBootError(`messaging: ${problems.join('; ')}`);
    for (const h of found) this.bound.set(h.queue, h);
    for (const c of this.options.consumes) if (!c.queue.parametric && c.startOnBoot !== false) this.start(c.queue);
  }

  /** Starts consuming a queue (for a parametric queue, the instance named by `param`). */
  start<P>(spec: QueueSpec<P>, param?: string, concurrency?: number): void {
    const name = queueName(spec, param);
    if (this.workers.has(name)) return;
    const bound = this.bound.get(spec.name);
    if (!bound) throw new MessagingBootError(`messaging: queue "${spec.name}" has no handler in this app`);
    const declared = this.options.consumes.find((c) => c.queue.name === spec.name);
    const worker = new Worker(name, (job: Job, token?: string) => this.process(bound, job, token), {
      connection: this.connections.dedicated(`worker-${spec.name}`),
      prefix: this.connections.keys.bullPrefix,
      concurrency: concurrency ?? declared?.concurrency ?? 1,
      maxStalledCount: spec.maxStalledCount,
      lockDuration: spec.lockDurationMs,
      // A job whose worker died is looked for as often as its lock could expire.
      stalledInterval: spec.lockDurationMs,
    });
    // A Worker re-emits its connections' errors: those are logged once per outage, the rest each time.
    const watch = new RedisConnectionWatch(`worker-${name}`, this.options.redisUrl, this.logger, () => this.connections.isClosing);
    worker.on('error', (e) => (isConnectionError(e) ? watch.down(e) : this.logger.error(`worker ${name}: ${e.message}`)));
    worker.on('ready', () => watch.up());
    worker.on('failed', (job, err) => {
      if (err instanceof DelayedError || err.name === 'DelayedError') return;
      this.logger.warn({ queue: name, bullJobId: job?.id }, `job failed: ${err.message}`);
    });
    this.workers.set(name, worker);
  }

  /** Stops consuming a queue: takes no new job and waits for the running ones. */
  async stop<P>(spec: QueueSpec<P>, param?: string): Promise<void> {
    const name = queueName(spec, param);
    const worker = this.workers.get(name);
    if (!worker) return;
    this.workers.delete(name);
    await worker.close();
  }

  private async process(bound: Bound, job: Job, token?: string): Promise<void> {
    let payload: unknown;
    try {
      payload = bound.spec.parse(job.data);
    } catch (e) {
      throw new UnrecoverableError(`malformed ${bound.spec.name} payload: ${(e as Error).message}`);
    }
    const ctx: QueueJobContext = {
      id: String(job.id),
      deliveries: job.attemptsStarted,
      retryLater: async (ms: number): Promise<never> => {
        await job.moveToDelayed(Date.now() + ms, token);
        throw new DelayedError();
      },
    };
    // The handler's lines, and those of everything it starts, name the job and the request that submitted it.
    await LogContext.run(bound.spec.trace(payload), () => bound.handler(payload, ctx));
  }

  /** Stops taking jobs and waits for the running ones (also done at shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.close()));
    this.workers.clear();
  }
}
