import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { LogContext, LogFields, errorSummary, RedisKeys } from '@gridline/common';
import { JobRecord, JobRepository } from '@gridline/db';
import { JobLifecycle, payloadOf } from '@gridline/jobs';
import { JobQueues, Queues } from '@gridline/messaging';
import { WaitingJobs } from '../dispatch/waiting-jobs';
import { Leadership } from '../leadership/leadership.service';
import { ReplicaRegistry, runningKey } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

export interface SweepReport {
  expired: number;
  requeued: number;
  resumed: number;
  failed: number;
  enqueued: number;
  settled: number;
}

/**
 * Ends what nothing else will. Every `GRIDLINE_SWEEP_SECONDS`, under a Redis lock (one
 * sweeper at a time across processes):
 * - a job past its deadline is expired (`timeout`);
 * - a queued job that Redis no longer holds is put on the queue again;
 * - a dispatched or running job whose node stopped heartbeating, or whose node's heartbeat
 *   no longer lists it, is settled from its stream if it ended there, else re-queued once:
 *   from the start when it produced no token yet, else to continue the text it streamed
 *   (resumed) when another node serves its model now; failed with `node_lost` otherwise (a
 *   client in the middle of an answer is not kept waiting for a replica to be loaded).
 * So no job stays open longer than its deadline plus one sweep interval.
 */
@Injectable()
export class SweeperService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Sweeper');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly jobs: JobRepository,
    private readonly lifecycle: JobLifecycle,
    private readonly queues: JobQueues,
    private readonly replicas: ReplicaRegistry,
    private readonly waiting: WaitingJobs,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
    private readonly leadership: Leadership,
  ) {}

  /**
   * Node loss is judged only once this process has been up long enough to have heard every
   * live node: a scheduler that just started knows heartbeats only from the database.
   */
  private judgeNodesFrom = 0;

  onApplicationBootstrap(): void {
    this.judgeNodesFrom = Date.now() + (this.config.GRIDLINE_NODE_TIMEOUT_SECONDS + this.config.GRIDLINE_HEARTBEAT_SECONDS) * 1000;
    this.timer = setInterval(() => {
      // The leader sweeps: a standby's view of running jobs is its own, not the one routing uses.
      if (!this.running && this.leadership.leading) this.running = this.sweep().finally(() => (this.running = null));
    }, this.config.GRIDLINE_SWEEP_SECONDS * 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass; null when another process holds the sweeper lock. */
  async sweep(now = Date.now()): Promise<SweepReport | null> {
    const token = randomUUID();
    const lockMs = Math.max(30_000, this.config.GRIDLINE_SWEEP_SECONDS * 4000);
    try {
      if ((await this.redis.set(this.keys.sweeperLock, token, 'PX', lockMs, 'NX')) !== 'OK') return null;
    } catch (e) {
      this.logger.warn(`sweep skipped: ${errorSummary(e)}`);
      return null;
    }
    const report: SweepReport = { expired: 0, requeued: 0, resumed: 0, failed: 0, enqueued: 0, settled: 0 };
    try {
      for (const job of await this.jobs.listOverdue(new Date(now))) {
        const ended = await LogContext.run(traceOf(job), () => this.lifecycle.end(job.id, { transition: 'expire', code: 'timeout', message: 'the job did not finish before its deadline' }, job.attempt));
        if (ended) {
          this.free(job);
          report.expired++;
        }
      }
      // Running work first, so a long queue never hides a lost node's jobs.
      for (const job of [...(await this.jobs.listOpen(['dispatched', 'running'])), ...(await this.jobs.listOpen(['queued']))]) {
        await LogContext.run(traceOf(job), async () => {
          try {
            await this.check(job, now, report);
          } catch (e) {
            this.logger.warn(`sweeping the job failed: ${errorSummary(e)}`);
          }
        });
      }
    } catch (e) {
      this.logger.warn(`sweep failed: ${errorSummary(e)}`);
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, this.keys.sweeperLock, token).catch(() => undefined);
    }
    if (report.expired + report.requeued + report.resumed + report.failed + report.enqueued + report.settled > 0) this.logger.log(report, 'sweep');
    return report;
  }

  private async check(job: JobRecord, now: number, report: SweepReport): Promise<void> {
    const graceMs = this.config.GRIDLINE_HEARTBEAT_SECONDS * 2000;
    if (job.status === 'queued') {
      // The api writes the row before it enqueues: give it time, then restore what Redis lost.
      if (now - job.createdAt.getTime() < graceMs) return;
      if (await this.queues.holds(Queues.inference, payloadOf(job))) return;
      // Routed since it was listed? Then its queue job is done, not lost.
      const current = await this.jobs.get(job.id);
      if (current?.status !== 'queued' || current.attempt !== job.attempt) return;
      await this.lifecycle.enqueue(job, { again: true });
      this.logger.warn({ jobId: job.id, attempt: job.attempt }, 'a queued job was missing from Redis: enqueued again');
      report.enqueued++;
      return;
    }
    if (job.endpointId) return this.checkRemote(job, now, graceMs, report);
    const reason = await this.lostReason(job, now, graceMs);
    if (!reason) return;
    if (await this.lifecycle.settle(job.id, job.attempt)) {
      report.settled++;
      this.free(job);
      return;
    }
    this.free(job);
    if (await this.lifecycle.requeue(job, reason)) {
      report.requeued++;
      return;
    }
    const timeoutMs = this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000;
    if (this.replicas.servesElsewhere(job.model, job.nodeId, now, timeoutMs) && (await this.lifecycle.resume(job, reason))) {
      report.resumed++;
      return;
    }
    if (await this.lifecycle.end(job.id, { transition: 'fail', code: 'node_lost', message: `the node running the job was lost (${reason})` }, job.attempt)) report.failed++;
  }

  /**
   * A job an api relays to an endpoint: lost when the api's relay lease lapsed (the api died).
   * It is settled from its stream if it ended there, else failed: its client was that api's.
   */
  private async checkRemote(job: JobRecord, now: number, graceMs: number, report: SweepReport): Promise<void> {
    if (now - (job.dispatchedAt ?? job.createdAt).getTime() < graceMs) return;
    if ((await this.redis.exists(this.keys.endpointRelay(job.id))) === 1) return;
    if (await this.lifecycle.settle(job.id, job.attempt)) {
      report.settled++;
      return;
    }
    const message = 'the api relaying the job to its endpoint stopped before the job ended';
    if (await this.lifecycle.end(job.id, { transition: 'fail', code: 'endpoint_failed', message }, job.attempt)) report.failed++;
  }

  private free(job: JobRecord): void {
    this.waiting.wake(this.replicas.release(job.nodeId, job.id, job.attempt));
  }

  /** Why a dispatched or running job is lost, or null while its node still has it. */
  private async lostReason(job: JobRecord, now: number, graceMs: number): Promise<string | null> {
    if (now < this.judgeNodesFrom) return null;
    if (!job.nodeId) return 'no node recorded';
    if (!this.replicas.isAlive(job.nodeId, now, this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000)) return 'its heartbeats stopped';
    const report = this.replicas.lastReport(job.nodeId);
    const since = (job.startedAt ?? job.dispatchedAt ?? job.createdAt).getTime();
    if (!report || report.at < since + graceMs || report.jobs.has(runningKey(job.id, job.attempt))) return null;
    if (job.status === 'dispatched' && (await this.queues.holds(Queues.node, { ...payloadOf(job), nodeId: job.nodeId }, job.nodeId))) return null;
    return 'the node does not run it';
  }
}

/** The log fields of a job the sweeper looks at (as a queue consumer's lines carry them). */
function traceOf(job: JobRecord): LogFields {
  return { jobId: job.id, requestId: job.requestId, attempt: job.attempt };
}
