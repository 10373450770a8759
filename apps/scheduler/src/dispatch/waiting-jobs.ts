import { Injectable, Logger } from '@nestjs/common';
import type { InferenceJobPayload } from '@gridline/contract';
import { TeamRepository } from '@gridline/db';
import { JobQueues, Queues } from '@gridline/messaging';
import { errorSummary } from '@gridline/common';
import { EnqueueResult, FairQueue } from '@gridline/scheduling';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

/** Tokens a job is expected to cost when it gives no max_tokens: prompt plus a typical answer. */
const DEFAULT_COMPLETION_TOKENS = 256;
/** How often team weights are read again. */
const WEIGHTS_EVERY_MS = 10_000;
/**
 * The fleet share the two resources are normalized by. Only their ratio matters to dominant
 * resource fairness (a job's larger share decides); one sequence ≈ 40 tokens/s.
 */
const CAPACITY = { sequences: 1000, tokensPerSecond: 40_000 };

/**
 * Jobs that found every replica of their model busy. They sit delayed in the `inference` queue
 * (and look again by themselves, less and less often); when a sequence of a model frees up, the
 * job the weighted fair queue serves next among those waiting for that model is made due at once.
 *
 * Fairness (libs/scheduling FairQueue): teams are served by start-time fair queuing over their
 * dominant share of sequences and tokens, weighted by each team's `weight`; within a team, higher
 * priority first, then arrival order. While two teams both wait, what they have been served
 * (normalized by weight) never differs by more than twice the largest job's dominant share, so
 * one team's flood never starves another. Jobs that find a free sequence on arrival do not
 * queue (only contended jobs go through here). The queue is bounded per team and in all:
 * beyond, a job is refused with `queue_full` and an estimate of when to try again.
 */
@Injectable()
export class WaitingJobs {
  private readonly logger = new Logger('WaitingJobs');
  private readonly fair: FairQueue;
  /** Waiting bull job id → its model. */
  private readonly modelOf = new Map<string, string>();
  private readonly countByModel = new Map<string, number>();
  private weightsAt = 0;
  /** Jobs the fair queue chose for a free sequence (→ their model): they take it without queueing again. */
  private readonly chosen = new Map<string, string>();

  constructor(
    private readonly queues: JobQueues,
    private readonly teams: TeamRepository,
    private readonly replicas: ReplicaRegistry,
    config: SchedulerConfig,
  ) {
    this.fair = new FairQueue({ capacity: CAPACITY, maxPerTeam: config.GRIDLINE_QUEUE_MAX_PER_TEAM, maxTotal: config.GRIDLINE_QUEUE_MAX });
  }

  /** Records a job that waits (one already waiting keeps its place); a refusal when the queue is full. */
  park(job: InferenceJobPayload, bullJobId: string): EnqueueResult {
    // Chosen and still no sequence (another took it): back in the queue, behind its team's waiting jobs.
    this.chosen.delete(bullJobId);
    if (this.modelOf.has(bullJobId)) return { queued: true };
    void this.refreshWeights();
    const chars = job.request.input.kind === 'chat' ? job.request.input.messages.reduce((n, m) => n + m.content.length, 0) : job.request.input.prompt.length;
    const result = this.fair.enqueue({
      id: bullJobId,
      teamId: job.teamId,
      priority: job.priority ?? 0,
      enqueuedAt: job.acceptedAt,
      cost: { sequences: 1, tokens: Math.ceil(chars / 4) + (job.request.maxTokens ?? DEFAULT_COMPLETION_TOKENS) },
    });
    if (!('queued' in result)) return result;
    this.modelOf.set(bullJobId, job.model);
    this.countByModel.set(job.model, (this.countByModel.get(job.model) ?? 0) + 1);
    return result;
  }

  /** Jobs waiting for a sequence of `model`. */
  waitingFor(model: string): number {
    return this.countByModel.get(model) ?? 0;
  }

  /** The job got a replica (or ended): it no longer waits. */
  unpark(bullJobId: string): void {
    this.fair.remove(bullJobId);
    this.forget(bullJobId);
    this.chosen.delete(bullJobId);
  }

  /** Whether the fair queue chose this job for a free sequence. */
  admitted(bullJobId: string): boolean {
    return this.chosen.has(bullJobId);
  }

  /**
   * The job the fair queue serves next among those waiting for `model`, taken out of the queue and
   * marked chosen; null when none waits, or when every free sequence already has a chosen job on
   * its way (one freed sequence, one turn).
   */
  take(model: string): string | null {
    let outstanding = 0;
    for (const m of this.chosen.values()) if (m === model) outstanding++;
    if (this.replicas.freeSlots(model) <= outstanding) return null;
    const next = this.fair.next((j) => this.modelOf.get(j.id) === model);
    if (!next) return null;
    this.forget(next.id);
    this.chosen.set(next.id, model);
    return next.id;
  }

  /** A sequence of `model` is free: the job fair share serves next among those waiting for it is routed now. */
  wake(model: string | null): void {
    if (!model || !this.countByModel.get(model)) return;
    const id = this.take(model);
    if (id) this.promote(model, id);
  }

  /** Makes a chosen job due now; one that is gone passes its turn to the next. */
  promote(model: string, bullJobId: string): void {
    void this.promoteFrom(model, bullJobId, 0);
  }

  private forget(bullJobId: string): void {
    const model = this.modelOf.get(bullJobId);
    if (model === undefined) return;
    this.modelOf.delete(bullJobId);
    const left = (this.countByModel.get(model) ?? 1) - 1;
    if (left > 0) this.countByModel.set(model, left);
    else this.countByModel.delete(model);
  }

  private async promoteFrom(model: string, bullJobId: string, tries: number): Promise<void> {
    let outcome: 'promoted' | 'missing' | 'not-delayed';
    try {
      outcome = await this.queues.promote(Queues.inference, bullJobId);
    } catch (e) {
      this.logger.warn(`waking a waiting job failed: ${errorSummary(e)}`);
      return;
    }
    if (outcome === 'promoted') return;
    if (outcome === 'not-delayed') {
      // Being routed right now: it may be on its way back to waiting (it looked just before the
      // sequence freed). Look again shortly, so the turn it was given is not lost.
      if (tries < 20) setTimeout(() => void this.promoteFrom(model, bullJobId, tries + 1), 25);
      return;
    }
    // Gone (ended meanwhile): the turn passes to the next.
    this.chosen.delete(bullJobId);
    const next = tries < 8 ? this.take(model) : null;
    if (next) await this.promoteFrom(model, next, tries + 1);
  }

  private async refreshWeights(): Promise<void> {
    if (Date.now() - this.weightsAt < WEIGHTS_EVERY_MS) return;
    this.weightsAt = Date.now();
    try {
      for (const [teamId, weight] of await this.teams.weights()) if (Number.isInteger(weight) && weight >= 1) this.fair.setWeight(teamId, weight);
    } catch (e) {
      this.logger.warn(`reading team weights failed: ${errorSummary(e)}`);
    }
  }
}
