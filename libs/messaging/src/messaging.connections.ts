import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis, RedisOptions } from 'ioredis';
import { RedisConnectionWatch, RedisKeys, redisBlockingOptions, redisCommandOptions } from '@gridline/common';
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
  /** Commands and scripts (never blocking); each fails after REDIS_COMMAND_TIMEOUT_MS. */
  readonly commands: Redis;
  private readonly extra: Redis[] = [];
  private readonly closers = new Map<Stage, (() => Promise<void>)[]>(ORDER.map((s) => [s, []]));
  private closed = false;

  constructor(@Inject(MESSAGING_OPTIONS) readonly options: MessagingOptions) {
    this.keys = new RedisKeys(options.prefix);
    const name = `${options.connectionName}-messaging`;
    this.commands = this.track(name, new Redis(options.redisUrl, redisCommandOptions(name, { lazyConnect: true })));
  }

  /**
   * A dedicated connection for blocking commands or a BullMQ Worker: no command timeout,
   * `maxRetriesPerRequest: null` (see redisBlockingOptions).
   */
  dedicated(role: string, options: RedisOptions = {}): Redis {
    const name = `${this.options.connectionName}-${role}`;
    return this.track(name, new Redis(this.options.redisUrl, redisBlockingOptions(name, options)));
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

  /** Every connection gets an error listener that logs once per state change, without the URL's password. */
  private track(name: string, c: Redis): Redis {
    new RedisConnectionWatch(name, this.options.redisUrl, this.logger, () => this.closed).attach(c);
    this.extra.push(c);
    return c;
  }
}
