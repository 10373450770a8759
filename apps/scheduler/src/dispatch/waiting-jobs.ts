import { Injectable, Logger } from '@nestjs/common';
import { JobQueues, Queues } from '@gridline/messaging';
import { errorSummary } from '@gridline/common';

/**
 * Jobs that found every replica of their model busy, oldest first per model. They sit delayed
 * in the `inference` queue (and look again by themselves, less and less often); when a sequence
 * of the model frees up, the oldest one is made due at once. A new job may still take a free
 * sequence before them (fair sharing between teams comes with the scheduler's queues).
 */
@Injectable()
export class WaitingJobs {
  private readonly logger = new Logger('WaitingJobs');
  private readonly byModel = new Map<string, string[]>();
  private readonly parked = new Set<string>();

  constructor(private readonly queues: JobQueues) {}

  /** Records a job that waits; one already waiting keeps its place. */
  park(model: string, bullJobId: string): void {
    if (this.parked.has(bullJobId)) return;
    const list = this.byModel.get(model) ?? [];
    list.push(bullJobId);
    this.byModel.set(model, list);
    this.parked.add(bullJobId);
  }

  /** Jobs waiting for a sequence of `model`. */
  waitingFor(model: string): number {
    return this.byModel.get(model)?.length ?? 0;
  }

  /** The job got a replica (or ended): it no longer waits. */
  unpark(model: string, bullJobId: string): void {
    if (!this.parked.delete(bullJobId)) return;
    const list = this.byModel.get(model);
    if (!list) return;
    const i = list.indexOf(bullJobId);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byModel.delete(model);
  }

  /** A sequence of `model` is free: the oldest waiting job that is delayed is routed now. */
  wake(model: string | null): void {
    if (!model) return;
    void this.wakeFrom(model, 0);
  }

  private async wakeFrom(model: string, from: number): Promise<void> {
    const list = this.byModel.get(model) ?? [];
    for (let i = from; i < list.length && i < from + 8; ) {
      const id = list[i];
      let outcome: 'promoted' | 'missing' | 'not-delayed';
      try {
        outcome = await this.queues.promote(Queues.inference, id);
      } catch (e) {
        this.logger.warn(`waking a waiting job failed: ${errorSummary(e)}`);
        return;
      }
      if (outcome === 'promoted') return;
      // Gone (cancelled, expired, routed) → forget it; being routed right now → it keeps its place.
      if (outcome === 'missing') this.unpark(model, id);
      else i++;
    }
  }

}
