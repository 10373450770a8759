import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobName, JobOf, QueueName, bullJobId, nodeQueueName } from './queue-contracts';

/** The queue each job name travels on. */
export function queueFor<N extends JobName>(name: N, data: JobOf<N>): string {
  switch (name) {
    case 'chat.completion':
      return QueueName.Inference;
    case 'generate':
      return nodeQueueName((data as JobOf<'generate'>).nodeId);
    case 'job.finished':
      return QueueName.Results;
    default: {
      const unknown: never = name;
      throw new Error(`no queue for job ${String(unknown)}`);
    }
  }
}

/** The one way Gridline enqueues work: typed by job name, ids derived in one place. */
export class JobProducer {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly prefix: string,
  ) {}

  async enqueue<N extends JobName>(name: N, data: JobOf<N>, options: { priority?: number } = {}): Promise<void> {
    const queue = this.queue(queueFor(name, data));
    await queue.add(name, data, {
      jobId: bullJobId(name, (data as { jobId: string }).jobId),
      priority: options.priority,
      attempts: 1,
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, q);
    }
    return q;
  }
}
