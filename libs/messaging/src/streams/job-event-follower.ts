import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnectionWatch } from '@gridline/common';
import { DeltaContinuity } from '@gridline/contract';
import { MessagingConnections } from '../messaging.connections';
import { StoredJobEvent, decodeEntry } from './job-streams.service';

/** How long one blocking read waits for new events. */
const BLOCK_MS = 5000;
/** How much later than BLOCK_MS an unanswered read is taken for a stalled Redis. */
const STALL_GRACE_MS = 2000;

type XReadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

interface Waiter {
  /** Included in the keys of the blocking read (so it needs no interruption). */
  picked: boolean;
  lastId: string;
  queue: StoredJobEvent[];
  wake: (() => void) | null;
  closed: boolean;
}

/**
 * A reader of one job's events. `next` never waits past its deadline, whatever Redis does.
 * Deltas are checked as they come: when some were lost (a hole in the numbering, or fewer
 * than `finished` counts), the reader gets a `stream_interrupted` error in place of the rest,
 * never a text passed off as complete.
 */
export interface JobEventSubscription {
  next(deadline: number): Promise<StoredJobEvent | 'timeout' | 'closed'>;
  close(): void;
}

/**
 * Follows the streams of every job this process waits on with one blocking XREAD over all
 * of them, on a dedicated connection. A new follower interrupts the current block (CLIENT
 * UNBLOCK) so it is read at once; each stream is read from its start, so nothing is missed.
 */
@Injectable()
export class JobEventFollower {
  private readonly logger = new Logger('JobEvents');
  private readonly watch: RedisConnectionWatch;
  private readonly waiters = new Map<string, Waiter>();
  private blockingId: number | null = null;
  private idle: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  /** Ends the wait on the blocking read in progress (its connection closed). */
  private cut: (() => void) | null = null;

  constructor(private readonly connections: MessagingConnections) {
    connections.onClose('readers', () => this.stop());
    this.watch = new RedisConnectionWatch('job-events reader', connections.options.redisUrl, this.logger, () => connections.isClosing);
  }

  follow(jobId: string): JobEventSubscription {
    this.ensureLoop();
    const key = this.connections.keys.jobEvents(jobId);
    const waiter: Waiter = { picked: false, lastId: '0-0', queue: [], wake: null, closed: false };
    this.waiters.set(key, waiter);
    this.idle?.();
    void this.kick(waiter);
    const continuity = new DeltaContinuity();
    let interrupted = false;
    const close = () => {
      if (waiter.closed) return;
      waiter.closed = true;
      if (this.waiters.get(key) === waiter) this.waiters.delete(key);
      waiter.wake?.();
    };
    return {
      close,
      next: async (deadline: number) => {
        for (;;) {
          if (interrupted) return 'closed';
          if (waiter.queue.length > 0) {
            const stored = waiter.queue.shift() as StoredJobEvent;
            const event = continuity.check(stored.attempt, stored.event);
            if (event === stored.event) return stored;
            interrupted = true;
            this.logger.warn({ jobId, attempt: stored.attempt }, `${event.type === 'error' ? event.message : 'deltas lost'}: the reader gets stream_interrupted`);
            return { ...stored, event, control: false };
          }
          if (waiter.closed) return 'closed';
          const remaining = deadline - Date.now();
          if (remaining <= 0) return 'timeout';
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            waiter.wake = resolve;
            timer = setTimeout(resolve, remaining);
          });
          clearTimeout(timer);
          waiter.wake = null;
        }
      },
    };
  }

  private ensureLoop(): void {
    if (this.loop || this.connections.isClosing) return;
    // A blocking read cut by a disconnect is not re-sent on the new connection (ioredis then
    // drops it without settling it: the loop stops waiting on it when the connection closes),
    // so the loop learns the new connection id.
    const blocking = this.connections.dedicated('events', { autoResendUnfulfilledCommands: false });
    blocking.on('close', () => {
      this.blockingId = null;
      this.cut?.();
    });
    this.loop = this.run(blocking);
  }

  private async stop(): Promise<void> {
    for (const w of this.waiters.values()) {
      w.closed = true;
      w.wake?.();
    }
    this.waiters.clear();
    this.idle?.();
    await this.interrupt();
    await this.loop?.catch(() => undefined);
  }

  /**
   * Gets a new follower into the blocking read: interrupts the read in progress, and tries
   * again while the loop may be about to send one that lacks it (an UNBLOCK that reaches Redis
   * before the XREAD does nothing).
   */
  private async kick(waiter: Waiter): Promise<void> {
    for (let i = 0; i < 100 && !waiter.picked && !waiter.closed; i++) {
      const id = this.blockingId;
      if (id !== null && (await this.connections.commands.client('UNBLOCK', id).catch(() => 0)) === 1) return;
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  private async interrupt(): Promise<void> {
    if (this.blockingId !== null) await this.connections.commands.client('UNBLOCK', this.blockingId).catch(() => undefined);
  }

  private async run(blocking: Redis): Promise<void> {
    while (!this.connections.isClosing) {
      if (this.waiters.size === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = null;
        continue;
      }
      // The connection's id, asked before each first block (also after a reconnect), lets a new follower interrupt it.
      if (this.blockingId === null) {
        try {
          this.blockingId = Number(await blocking.client('ID'));
        } catch (e) {
          if (this.connections.isClosing) return;
          this.watch.down(e);
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
      }
      const keys = [...this.waiters.keys()];
      const ids = keys.map((k) => {
        const w = this.waiters.get(k) as Waiter;
        w.picked = true;
        return w.lastId;
      });
      let reply: XReadReply | 'cut' | 'stalled';
      let timer: NodeJS.Timeout | undefined;
      try {
        // Redis answers a block within BLOCK_MS; when it does not (stalled), the connection is
        // dropped and made again, so a read queued behind a stale one never waits on it.
        const read = blocking.xread('COUNT', 512, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...ids) as Promise<XReadReply>;
        const cut = new Promise<'cut'>((resolve) => (this.cut = () => resolve('cut')));
        const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), BLOCK_MS + STALL_GRACE_MS)));
        reply = await Promise.race([read, cut, stalled]);
        read.catch(() => undefined);
      } catch (e) {
        if (this.connections.isClosing) return;
        this.blockingId = null;
        this.watch.down(e);
        await new Promise((r) => setTimeout(r, 250));
        continue;
      } finally {
        clearTimeout(timer);
        this.cut = null;
      }
      if (reply === 'cut' || reply === 'stalled') {
        if (this.connections.isClosing) return;
        this.blockingId = null;
        if (reply === 'stalled') {
          this.watch.down(new Error(`no answer to a blocking read within ${BLOCK_MS + STALL_GRACE_MS} ms`));
          blocking.disconnect(true);
        }
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      this.watch.up();
      for (const [key, entries] of reply ?? []) {
        const waiter = this.waiters.get(key);
        if (!waiter) continue;
        for (const [id, fields] of entries) {
          waiter.lastId = id;
          const e = decodeEntry(id, fields);
          if (e) waiter.queue.push(e);
        }
        waiter.wake?.();
      }
    }
  }
}
