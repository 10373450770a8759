import type { Redis } from 'ioredis';
import { JOB_EVENTS_TTL_SECONDS, JobEvent, encodeJobEvent } from './job-events';

/** Appends to a job's event stream; the stream expires an hour after its last write. */
export async function appendJobEvent(redis: Redis, streamKey: string, event: JobEvent): Promise<void> {
  await redis.multi().xadd(streamKey, 'MAXLEN', '~', 100_000, '*', ...encodeJobEvent(event)).expire(streamKey, JOB_EVENTS_TTL_SECONDS).exec();
}

/**
 * Coalesces text chunks produced faster than it is worth writing them (one XADD per flush,
 * at most every `intervalMs`), keeping their order with the final event.
 */
export class ChunkBatcher {
  private buffer = '';
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    private readonly intervalMs = 15,
  ) {}

  push(text: string): void {
    this.buffer += text;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Flushes pending text, then writes the final event. */
  async finish(event: JobEvent): Promise<void> {
    this.flush();
    this.chain = this.chain.then(() => appendJobEvent(this.redis, this.streamKey, event));
    await this.chain;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = '';
    this.chain = this.chain.then(() => appendJobEvent(this.redis, this.streamKey, { type: 'chunk', text })).catch(() => undefined);
  }
}
