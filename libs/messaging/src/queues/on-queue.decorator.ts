import type { QueueSpec } from './queue-spec';

export const ON_QUEUE = Symbol('gridline:on-queue');

/** What a handler gets besides the payload. */
export interface QueueJobContext {
  /** The BullMQ job id. */
  readonly id: string;
  /** How many times BullMQ handed this job to a worker (stall recovery included). */
  readonly deliveries: number;
  /** Puts the job back to be handled again after `ms` (for "no replica free yet"); never returns. */
  retryLater(ms: number): Promise<never>;
}

export type QueueHandler<P> = (payload: P, ctx: QueueJobContext) => Promise<void>;

/**
 * Marks a provider method as the handler of a queue. Every queue an app consumes must have
 * exactly one handler; the messaging module checks it at boot.
 */
export function OnQueue<P>(spec: QueueSpec<P>) {
  return <M extends QueueHandler<P>>(_target: object, _key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    Reflect.defineMetadata(ON_QUEUE, spec, descriptor.value as object);
  };
}
