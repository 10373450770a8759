import { ClientRedis, RedisOptions, ServerRedis } from '@nestjs/microservices';

/** ioredis connection options from a redis:// URL. */
export function redisConnectionFromUrl(url: string): NonNullable<RedisOptions['options']> {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : undefined,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** Reconnect for as long as the process lives: agents outlast Redis restarts. */
function transportOptions(url: string) {
  return { ...redisConnectionFromUrl(url), retryAttempts: Number.MAX_SAFE_INTEGER, retryDelay: 1000 };
}

/**
 * Redis pub/sub channels are global to a Redis server (not per database), so every channel
 * gets the stack's prefix: two stacks, or two test files, on one Redis never cross.
 */
export class PrefixedServerRedis extends ServerRedis {
  constructor(
    private readonly channelPrefix: string,
    url: string,
  ) {
    super(transportOptions(url));
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}`;
  }

  override getHandlerByPattern(pattern: string) {
    const bare = pattern.startsWith(this.channelPrefix) ? pattern.slice(this.channelPrefix.length) : pattern;
    return super.getHandlerByPattern(bare);
  }
}

export class PrefixedClientRedis extends ClientRedis {
  constructor(
    private readonly channelPrefix: string,
    url: string,
  ) {
    super(transportOptions(url));
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}.reply`;
  }
}
