import { Injectable } from '@nestjs/common';
import { JobState, Queue } from 'bullmq';
import { MessagingConnections } from '../messaging.connections';
import { QueueSpec, queueName } from './queue-spec';

const PRESENT: (JobState | 'unknown')[] = ['waiting', 'delayed', 'prioritized', 'active', 'waiting-children'];

/** The one way Gridline enqueues work: typed by queue spec, ids derived by the spec. */
@Injectable()
export class JobQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly connections: MessagingConnections) {
    connections.onClose('producers', () => this.close());
  }

  async enqueue<P>(spec: QueueSpec<P>, payload: P, options: { param?: string; priority?: number } = {}): Promise<void> {
    await this.queue(queueName(spec, options.param)).add(spec.name, payload, {
      jobId: spec.jobId(payload),
      priority: options.priority,
      attempts: spec.attempts,
      removeOnComplete: true,
      removeOnFail: { age: spec.retention.failedAgeSeconds, count: spec.retention.failedCount },
    });
  }

  /** Whether the queue still holds the job as work to do (waiting, delayed or running). */
  async holds<P>(spec: QueueSpec<P>, payload: P, param?: string): Promise<boolean> {
    const state = (await this.queue(queueName(spec, param)).getJobState(spec.jobId(payload))) as JobState | 'unknown';
    return PRESENT.includes(state);
  }

  /** Removes a finished or failed leftover so the same id can be enqueued again; running jobs stay. */
  async removeLeftover<P>(spec: QueueSpec<P>, payload: P, param?: string): Promise<void> {
    const job = await this.queue(queueName(spec, param)).getJob(spec.jobId(payload));
    if (!job) return;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') await job.remove();
  }

  /** Makes a delayed job due now (a job that waited for capacity, when a sequence frees up). */
  async promote<P>(spec: QueueSpec<P>, bullJobId: string, param?: string): Promise<'promoted' | 'missing' | 'not-delayed'> {
    const job = await this.queue(queueName(spec, param)).getJob(bullJobId);
    if (!job) return 'missing';
    if (!(await job.isDelayed())) return 'not-delayed';
    await job.promote().catch(() => undefined);
    return 'promoted';
  }

  /** Drops a job that has not started yet (a cancelled job still waiting). */
  async discardWaiting<P>(spec: QueueSpec<P>, payload: P, param?: string): Promise<void> {
    const job = await this.queue(queueName(spec, param)).getJob(spec.jobId(payload));
    if (!job) return;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await job.remove().catch(() => undefined);
  }

  /** The BullMQ queue behind a spec, for operator tools (the queue board) that read and manage it; enqueue through `enqueue`. */
  queueOf<P>(spec: QueueSpec<P>, param?: string): Queue {
    return this.queue(queueName(spec, param));
  }

  private queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.connections.commands, prefix: this.connections.keys.bullPrefix });
      this.queues.set(name, q);
    }
    return q;
  }

  private async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
