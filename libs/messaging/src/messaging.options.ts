import type { QueueSpec } from './queues/queue-spec';

export interface ConsumedQueue {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of specs of different payloads
  queue: QueueSpec<any>;
  /** Jobs handled at once; for parametric queues, the default of `QueueConsumers.start`. */
  concurrency: number;
  /** False: consumed only once the app calls `QueueConsumers.start` (a scheduler that must lead first). Default true. */
  startOnBoot?: boolean;
}

export interface MessagingOptions {
  redisUrl: string;
  /** The stack's Redis namespace (GRIDLINE_REDIS_PREFIX). */
  prefix: string;
  /** Names this process's Redis connections (CLIENT LIST). */
  connectionName: string;
  /** Queues this app consumes: each must have exactly one @OnQueue handler. */
  consumes: ConsumedQueue[];
}

export const MESSAGING_OPTIONS = Symbol('gridline:messaging-options');
