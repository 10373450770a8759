import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis, RedisOptions } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import { MESSAGING_OPTIONS, MessagingOptions } from './messaging.options';

type Stage = 'consumers' | 'readers' | 'producers';
const ORDER: Stage[] = ['consumers', 'readers', 'producers'];

/**
 * The messaging layer's Redis connections, and the one place that shuts it down, in order:
 * consumers first (no new work; running handlers finish), then blocking readers, then
 * producers, then the connections themselves.
 */
@Injectable()
export class MessagingConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  readonly keys: RedisKeys;
  /** Commands and scripts (never blocking). */
  readonly commands: Redis;
  private readonly extra: Redis[] = [];
  private readonly closers = new Map<Stage, (() => Promise<void>)[]>(ORDER.map((s) => [s, []]));
  private closed = false;

  constructor(@Inject(MESSAGING_OPTIONS) readonly options: MessagingOptions) {
    this.keys = new RedisKeys(options.prefix);
    this.commands = this.track(new Redis(options.redisUrl, { maxRetriesPerRequest: 3, lazyConnect: true, connectionName: `${options.connectionName}-messaging` }));
  }

  /** A dedicated connection for blocking commands or BullMQ (which needs maxRetriesPerRequest: null). */
  dedicated(role: string, options: RedisOptions = {}): Redis {
    return this.track(new Redis(this.options.redisUrl, { maxRetriesPerRequest: null, connectionName: `${this.options.connectionName}-${role}`, ...options }));
  }

  onClose(stage: Stage, close: () => Promise<void>): void {
    this.closers.get(stage)?.push(close);
  }

  get isClosing(): boolean {
    return this.closed;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stage of ORDER) {
      const results = await Promise.allSettled((this.closers.get(stage) ?? []).map((c) => c()));
      for (const r of results) if (r.status === 'rejected') this.logger.warn(`closing ${stage} failed: ${(r.reason as Error).message}`);
    }
    await Promise.allSettled(this.extra.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private track(c: Redis): Redis {
    c.on('error', (e) => {
      if (!this.closed) this.logger.warn(`redis connection error: ${e.message}`);
    });
    this.extra.push(c);
    return c;
  }
}
