import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Redis } from 'ioredis';
import { JobEvent, decodeJobEvent } from '@gridline/scheduling';

interface Waiter {
  lastId: string;
  queue: JobEvent[];
  wake: (() => void) | null;
}

type XReadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/**
 * Follows the event streams of every job this replica is waiting on with one blocking
 * XREAD over all of them, on a dedicated connection. A new waiter interrupts the current
 * block (CLIENT UNBLOCK) so it is picked up at once: one connection serves any number of
 * concurrent requests, and no event is missed because each stream is read from its start.
 */
@Injectable()
export class JobEventsReader implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobEventsReader.name);
  private readonly waiters = new Map<string, Waiter>();
  private blocking!: Redis;
  private blockingId: number | null = null;
  private running = true;
  private idle: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(@Inject(Redis) private readonly redis: Redis) {}

  async onModuleInit(): Promise<void> {
    this.blocking = this.redis.duplicate({ connectionName: 'gridline-api-events', maxRetriesPerRequest: null });
    this.blocking.on('ready', () => {
      this.blocking.client('ID').then((id) => (this.blockingId = Number(id)), () => (this.blockingId = null));
    });
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.idle?.();
    await this.interrupt();
    await this.loop?.catch(() => undefined);
    this.blocking.disconnect();
  }

  /** Yields a job's events in order until the caller stops iterating. */
  async *follow(streamKey: string): AsyncGenerator<JobEvent> {
    const waiter: Waiter = { lastId: '0-0', queue: [], wake: null };
    this.waiters.set(streamKey, waiter);
    this.idle?.();
    void this.interrupt();
    try {
      for (;;) {
        while (waiter.queue.length > 0) yield waiter.queue.shift() as JobEvent;
        await new Promise<void>((resolve) => (waiter.wake = resolve));
        waiter.wake = null;
      }
    } finally {
      this.waiters.delete(streamKey);
    }
  }

  private async interrupt(): Promise<void> {
    if (this.blockingId !== null) await this.redis.client('UNBLOCK', this.blockingId).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.waiters.size === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = null;
        continue;
      }
      const keys = [...this.waiters.keys()];
      const ids = keys.map((k) => (this.waiters.get(k) as Waiter).lastId);
      let reply: XReadReply;
      try {
        reply = (await this.blocking.xread('COUNT', 256, 'BLOCK', 5000, 'STREAMS', ...keys, ...ids)) as XReadReply;
      } catch (e) {
        if (!this.running) return;
        this.logger.warn(`reading job events failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const waiter = this.waiters.get(key);
        if (!waiter) continue;
        for (const [id, fields] of entries) {
          waiter.lastId = id;
          const event = decodeJobEvent(fields);
          if (event) waiter.queue.push(event);
        }
        waiter.wake?.();
      }
    }
  }
}
