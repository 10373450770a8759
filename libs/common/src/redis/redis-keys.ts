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

  /** A job's control hash: the attempt allowed to write its stream, and whether it is closed. */
  jobControl(jobId: string): string {
    return `${this.prefix}:job:${jobId}:ctl`;
  }

  /** One stream of lifecycle notes from every node (started, first token, ended), read by the scheduler. */
  get jobProgress(): string {
    return `${this.prefix}:jobs:progress`;
  }

  /** Pub/sub channel on which a cancelled or expired job's id is announced to the nodes. */
  get jobCancelChannel(): string {
    return `${this.prefix}:jobs:cancel`;
  }

  /** Lock held by the process sweeping stuck jobs, so only one sweeps at a time. */
  get sweeperLock(): string {
    return `${this.prefix}:lock:sweeper`;
  }

  /**
   * When the replay store started (ms): set once, never expires. Signatures dated before it
   * may have been seen by a Redis that lost its markers, so they are refused.
   */
  get replayEpoch(): string {
    return `${this.prefix}:replay-epoch`;
  }

  /** Held by the api checking an endpoint's health this interval (one check per interval across api replicas). */
  endpointCheckLock(endpointId: string): string {
    return `${this.prefix}:mesh:check:${endpointId}`;
  }

  /** An endpoint's passive failure count, and its open-circuit and recently-tripped markers. */
  endpointBreaker(endpointId: string, part: 'failures' | 'open' | 'tripped'): string {
    return `${this.prefix}:mesh:breaker:${endpointId}:${part}`;
  }

  /** Held (renewed) by the api relaying a job to an endpoint: a job without it was abandoned. */
  endpointRelay(jobId: string): string {
    return `${this.prefix}:mesh:relay:${jobId}`;
  }

  /** Seen-signature marker used to refuse replayed signed requests. */
  replay(signature: string): string {
    return `${this.prefix}:replay:${signature}`;
  }
}
