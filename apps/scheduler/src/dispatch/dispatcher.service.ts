import { Injectable } from '@nestjs/common';
import { InferenceJobPayload } from '@gridline/contract';
import { JobLifecycle } from '@gridline/jobs';
import { JobQueues, OnQueue, QueueJobContext, Queues } from '@gridline/messaging';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

/** How soon a job that found every replica busy looks again. */
const RETRY_DELAY_MS = 100;

/** Routes each admitted job to a replica with a free sequence: one hop to that node's queue. */
@Injectable()
export class Dispatcher {
  constructor(
    private readonly config: SchedulerConfig,
    private readonly lifecycle: JobLifecycle,
    private readonly queues: JobQueues,
    private readonly replicas: ReplicaRegistry,
  ) {}

  @OnQueue(Queues.inference)
  async route(job: InferenceJobPayload, ctx: QueueJobContext): Promise<void> {
    const now = Date.now();
    if (now >= job.deadlineAt) {
      await this.lifecycle.end(job.jobId, { transition: 'expire', code: 'timeout', message: 'the job expired while it waited for a replica' }, job.attempt);
      return;
    }
    const nodeId = this.replicas.claim(job.model, job.jobId, now, this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000);
    if (!nodeId) {
      if (now - job.acceptedAt > this.config.GRIDLINE_QUEUE_WAIT_SECONDS * 1000) {
        const message = this.replicas.hasModel(job.model)
          ? `every replica of ${job.model} stayed busy for ${this.config.GRIDLINE_QUEUE_WAIT_SECONDS} s`
          : `no ready node serves ${job.model}`;
        await this.lifecycle.end(job.jobId, { transition: 'fail', code: 'no_capacity', message }, job.attempt);
        return;
      }
      return ctx.retryLater(RETRY_DELAY_MS);
    }
    try {
      const dispatched = await this.lifecycle.dispatch(job.jobId, job.attempt, nodeId, `${nodeId}/${job.model}`);
      if (!dispatched) {
        // Cancelled, expired or re-queued meanwhile: nothing to run.
        this.replicas.release(nodeId, job.jobId);
        return;
      }
      await this.queues.enqueue(Queues.node, { ...job, nodeId }, { param: nodeId });
    } catch (e) {
      this.replicas.release(nodeId, job.jobId);
      throw e;
    }
  }
}
