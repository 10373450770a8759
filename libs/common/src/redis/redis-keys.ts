/** Every Redis key, queue name prefix and channel prefix Gridline uses, derived from one namespace. */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** BullMQ's own key prefix (queues live under `<prefix>:bull:<queue>`). */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }

  /** Prefix for @nestjs/microservices request/reply channels. */
  get rpcPrefix(): string {
    return `${this.prefix}:rpc:`;
  }

  /** Stream of a job's events (chunks, then done or error), read by the api. */
  jobEvents(jobId: string): string {
    return `${this.prefix}:job:${jobId}:events`;
  }

  /** Seen-signature marker used to refuse replayed signed requests. */
  replay(signature: string): string {
    return `${this.prefix}:replay:${signature}`;
  }
}
