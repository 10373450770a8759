import { Injectable, Logger } from '@nestjs/common';
import { JobQueues, Queues } from '@gridline/messaging';

/**
 * Jobs that found every replica of their model busy, oldest first per model. They sit delayed
 * in the `inference` queue (and look again every few hundred milliseconds by themselves); when a
 * sequence of the model frees up, the oldest one is made due at once.
 */
@Injectable()
export class WaitingJobs {
  private readonly logger = new Logger('WaitingJobs');
  private readonly byModel = new Map<string, string[]>();

  constructor(private readonly queues: JobQueues) {}

  /** Records a job that waits; one already waiting keeps its place. */
  park(model: string, bullJobId: string): void {
    const list = this.byModel.get(model) ?? [];
    if (list.includes(bullJobId)) return;
    list.push(bullJobId);
    this.byModel.set(model, list);
  }

  /** The job got a replica (or ended): it no longer waits. */
  unpark(model: string, bullJobId: string): void {
    const list = this.byModel.get(model);
    if (!list) return;
    const i = list.indexOf(bullJobId);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byModel.delete(model);
  }

  /** A sequence of `model` is free: the oldest waiting job is routed now. */
  wake(model: string | null): void {
    if (!model) return;
    const list = this.byModel.get(model);
    const next = list?.[0];
    if (!next) return;
    this.queues.promote(Queues.inference, next).then(
      (promoted) => {
        // Gone from the queue (cancelled, expired, routed by its own retry): forget it, wake the next.
        if (!promoted) {
          this.unpark(model, next);
          if (this.byModel.get(model)?.length) this.wake(model);
        }
      },
      (e: Error) => this.logger.warn(`waking a waiting job failed: ${e.message}`),
    );
  }

  get size(): number {
    let n = 0;
    for (const l of this.byModel.values()) n += l.length;
    return n;
  }
}
