import { Injectable, Logger } from '@nestjs/common';
import { InferenceJobPayload } from '@gridline/contract';
import { LeaseRepository } from '@gridline/db';
import { JobLifecycle, QuotaGate, QuotaHold, QuotaPolicies } from '@gridline/jobs';
import { JobQueues, OnQueue, QueueConsumers, QueueJobContext, Queues } from '@gridline/messaging';
import { Leadership } from '../leadership/leadership.service';
import { SchedulerMetrics } from '../metrics/scheduler-metrics';
import { NodeWatch } from '../nodes/node-watch.service';
import { Reconciler } from '../reconcile/reconciler.service';
import { ReplicaRegistry, promptBlocks } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';
import { WaitingJobs } from './waiting-jobs';

/**
 * How soon a job that found every replica busy looks again by itself: from 250 ms, doubling
 * to 4 s. It is woken at once when a sequence of its model frees up; this only bounds the wait
 * when a wake-up is missed, and keeps many waiting jobs from churning the queue.
 */
const recheckMs = (deliveries: number) => Math.min(4000, 250 * 2 ** Math.max(0, deliveries - 1));

/**
 * Routes each admitted job to a replica with a free sequence: one hop to that node's queue. Only
 * the leader consumes the `inference` queue, and each dispatch carries its lease token: a job
 * is dispatched once, by the scheduler that leads when it is written.
 */
@Injectable()
export class Dispatcher {
  private readonly logger = new Logger('Dispatcher');

  constructor(
    private readonly config: SchedulerConfig,
    private readonly lifecycle: JobLifecycle,
    private readonly queues: JobQueues,
    private readonly replicas: ReplicaRegistry,
    private readonly waiting: WaitingJobs,
    private readonly watch: NodeWatch,
    private readonly leadership: Leadership,
    private readonly leases: LeaseRepository,
    private readonly reconciler: Reconciler,
    private readonly quotas: QuotaGate,
    private readonly policies: QuotaPolicies,
    private readonly metrics: SchedulerMetrics,
    consumers: QueueConsumers,
  ) {
    leadership.register({
      lead: async () => consumers.start(Queues.inference),
      follow: () => consumers.stop(Queues.inference),
    });
  }

  @OnQueue(Queues.inference)
  async route(job: InferenceJobPayload, ctx: QueueJobContext): Promise<void> {
    const now = Date.now();
    if (now >= job.deadlineAt) {
      this.waiting.unpark(ctx.id);
      await this.lifecycle.end(job.jobId, { transition: 'expire', code: 'timeout', message: 'the job expired while it waited for a replica' }, job.attempt);
      return;
    }
    // A second delivery of an attempt already routed (a stalled routing run again) does nothing.
    if (this.replicas.holder(job.jobId, job.attempt)) return;
    // A scheduler that just started has not heard every node's heartbeat yet: routing now could
    // send jobs to sequences that are busy. The job looks again once the view is complete.
    if (!this.watch.warm(now)) return ctx.retryLater(this.watch.warmInMs(now));
    const fence = this.leadership.fence;
    // Deposed while the job was taken: it goes back for the new leader.
    if (fence === null) return ctx.retryLater(0);
    // While jobs wait for this model, the fair queue decides who takes a free sequence: a newcomer
    // queues behind them, and a waiting job's own recheck serves whoever the queue chooses.
    if (!this.waiting.admitted(ctx.id) && this.waiting.waitingFor(job.model) > 0) {
      if (!(await this.queueUp(job, ctx, now))) return;
      const chosen = this.waiting.take(job.model);
      if (chosen !== ctx.id) {
        if (chosen) this.waiting.promote(job.model, chosen);
        return ctx.retryLater(this.recheck(ctx));
      }
    }
    // Without prompt blocks the registry routes by load alone (and records no prefixes).
    const blocks = this.config.GRIDLINE_ROUTING_PREFIX_AFFINITY ? promptBlocks(job.request.input) : [];
    const placed = this.replicas.claim(job.model, job.jobId, job.attempt, now, this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000, blocks);
    if (!placed) {
      if (!(await this.queueUp(job, ctx, now))) return;
      return ctx.retryLater(this.recheck(ctx));
    }
    const { nodeId, replicaId } = placed;
    let slot: QuotaHold | null = null;
    if (job.mode === 'async') {
      const taken = await this.takeSlot(job, now).catch((e: unknown) => {
        // As every other way out: not chosen any more, and its sequence offered to the next job.
        this.waiting.unpark(ctx.id);
        this.waiting.wake(this.replicas.release(nodeId, job.jobId, job.attempt));
        throw e;
      });
      if (taken === 'refused') {
        // Its team's slots are all in use: the sequence goes to another job, and this one looks
        // again by itself (outside the fair queue, where it would hold back the jobs behind it).
        this.waiting.unpark(ctx.id);
        this.waiting.wake(this.replicas.release(nodeId, job.jobId, job.attempt));
        return ctx.retryLater(recheckMs(ctx.deliveries));
      }
      slot = taken;
    }
    this.waiting.unpark(ctx.id);
    // Once the row records the slot, the job's end or requeue gives it back; until then, this does.
    let recorded = false;
    try {
      const dispatched = await this.lifecycle.dispatch(job.jobId, job.attempt, nodeId, replicaId, new Date(), fence, slot);
      recorded = dispatched !== null;
      if (!dispatched) await this.quotas.release(slot);
      if (!dispatched && (await this.leases.current())?.token !== fence) {
        // Another scheduler leads now: nothing was written; the job goes back for it to route.
        this.replicas.release(nodeId, job.jobId, job.attempt);
        this.logger.warn({ jobId: job.jobId }, `dispatch refused: lease token ${fence} is no longer current`);
        return ctx.retryLater(0);
      }
      if (!dispatched) {
        // Cancelled, expired or re-queued meanwhile: nothing to run.
        this.waiting.wake(this.replicas.release(nodeId, job.jobId, job.attempt));
        return;
      }
      await this.queues.enqueue(Queues.node, { ...job, nodeId, replicaId }, { param: nodeId });
      void this.metrics.observeQueueWait(job.teamId, job.attempt, (Date.now() - job.acceptedAt) / 1000);
      // The job and request ids come from the log context (the queue consumer's).
      this.logger.log({ nodeId, replicaId, waitedMs: now - job.acceptedAt }, 'job dispatched');
    } catch (e) {
      this.waiting.wake(this.replicas.release(nodeId, job.jobId, job.attempt));
      if (!recorded) await this.quotas.release(slot).catch(() => undefined);
      throw e;
    }
  }

  /**
   * An asynchronous job's concurrency slot, as it starts: a lease until its deadline (nothing
   * renews it; its end or requeue gives it back). Null when no max_concurrent_jobs applies.
   * The api took its request and tokens already: only the slot is asked for here.
   */
  private async takeSlot(job: InferenceJobPayload, now: number): Promise<QuotaHold | null | 'refused'> {
    const policy = await this.policies.policyFor(job.teamId, job.keyId ?? null, job.model);
    const result = await this.quotas.admit({ teamId: job.teamId, ...(job.keyId ? { keyId: job.keyId } : {}), model: job.model }, policy, { requests: 0, tokens: 0, slot: true, leaseMs: Math.max(1000, job.deadlineAt - now) });
    return result.admitted ? result.slot : 'refused';
  }

  /** When a waiting job looks again by itself: at once if the fair queue chose it meanwhile. */
  private recheck(ctx: QueueJobContext): number {
    return this.waiting.admitted(ctx.id) ? 0 : recheckMs(ctx.deliveries);
  }

  /**
   * Puts a job that cannot run now in the fair queue; false when it ended instead: waited too long
   * (a client on its connection, or a model nothing serves), or over the queue's bounds.
   */
  private async queueUp(job: InferenceJobPayload, ctx: QueueJobContext, now: number): Promise<boolean> {
    // A model loaded on demand counts as served: the job waits while a replica loads.
    const served = this.replicas.hasModel(job.model) || this.reconciler.loadsOnDemand(job.model);
    // A client waiting on its connection waits a bounded time; an asynchronous job waits for
    // capacity until its deadline, unless no node serves the model at all.
    if (now - job.acceptedAt > this.config.GRIDLINE_QUEUE_WAIT_SECONDS * 1000 && (job.mode === 'sync' || !served)) {
      this.waiting.unpark(ctx.id);
      const message = served ? `every replica of ${job.model} stayed busy for ${this.config.GRIDLINE_QUEUE_WAIT_SECONDS} s` : `no ready node serves ${job.model}`;
      await this.lifecycle.end(job.jobId, { transition: 'fail', code: 'no_capacity', message }, job.attempt);
      return false;
    }
    const parked = this.waiting.park(job, ctx.id);
    if ('refused' in parked) {
      const message = parked.refused === 'team_queue_full' ? "too many of the team's jobs wait for a replica" : 'too many jobs wait for a replica';
      await this.lifecycle.end(job.jobId, { transition: 'fail', code: 'queue_full', message: `${message}; try again in ${parked.retryAfterSeconds} s`, retryAfterSeconds: parked.retryAfterSeconds }, job.attempt);
      return false;
    }
    this.reconciler.demand(job.model);
    return true;
  }
}
