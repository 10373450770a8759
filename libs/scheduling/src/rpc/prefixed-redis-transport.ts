import { Logger } from '@nestjs/common';
import { ClientRedis, RedisOptions, ServerRedis } from '@nestjs/microservices';
import { REDIS_CONNECT_TIMEOUT_MS, RedisConnectionWatch } from '@gridline/common';

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

/**
 * Reconnect for as long as the process lives: agents outlast Redis restarts. No command
 * timeout on these pub/sub connections: SUBSCRIBE and ioredis's re-subscription after a
 * reconnect must not time out (a subscription lost that way would never come back); what
 * is published is a heartbeat (the next one follows) or a request the caller bounds itself.
 */
function transportOptions(url: string) {
  return { ...redisConnectionFromUrl(url), connectTimeout: REDIS_CONNECT_TIMEOUT_MS, retryAttempts: Number.MAX_SAFE_INTEGER, retryDelay: 1000 };
}

type Listenable = { on: (event: string, fn: () => void) => void };

/**
 * Nest's transport logs every connection error and every reconnect attempt; these log once
 * per outage instead (an error listener stays on every client), without the URL's password.
 */
function quietErrors(watch: RedisConnectionWatch, client: Listenable & { on: (event: 'error', fn: (e: unknown) => void) => void }): void {
  client.on('error', (e: unknown) => watch.down(e));
  client.on('ready', () => watch.up());
}

/** Runs Nest's reconnect handling (status, pending requests) on the first reconnect of an outage only. */
function oncePerOutage(register: (client: Listenable) => void, client: Listenable): void {
  let announced = false;
  client.on('ready', () => (announced = false));
  register({
    on: (event, fn) =>
      client.on(event, () => {
        if (announced) return;
        announced = true;
        fn();
      }),
  });
}

/**
 * Redis pub/sub channels are global to a Redis server (not per database), so every channel
 * gets the stack's prefix: two stacks, or two test files, on one Redis never cross.
 */
export class PrefixedServerRedis extends ServerRedis {
  private readonly watch: RedisConnectionWatch;

  constructor(
    private readonly channelPrefix: string,
    url: string,
  ) {
    super(transportOptions(url));
    this.watch = new RedisConnectionWatch('rpc-server', url, new Logger('Rpc'), () => this.isManuallyClosed);
  }

  override registerErrorListener(client: Parameters<ServerRedis['registerErrorListener']>[0]): void {
    quietErrors(this.watch, client);
  }

  override registerReconnectListener(client: Listenable): void {
    oncePerOutage((c) => super.registerReconnectListener(c), client);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}`;
  }

  /** Nest subscribes event handlers to their bare pattern: prefix those channels too. */
  override bindEvents(subClient: Parameters<ServerRedis['bindEvents']>[0], pubClient: Parameters<ServerRedis['bindEvents']>[1]): void {
    subClient.on('message', this.getMessageHandler(pubClient).bind(this));
    for (const pattern of this.messageHandlers.keys()) void subClient.subscribe(this.getRequestPattern(pattern));
  }

  override getHandlerByPattern(pattern: string) {
    const bare = pattern.startsWith(this.channelPrefix) ? pattern.slice(this.channelPrefix.length) : pattern;
    return super.getHandlerByPattern(bare);
  }
}

export class PrefixedClientRedis extends ClientRedis {
  private readonly watch: RedisConnectionWatch;

  constructor(
    private readonly channelPrefix: string,
    url: string,
  ) {
    super(transportOptions(url));
    this.watch = new RedisConnectionWatch('rpc-client', url, new Logger('Rpc'), () => this.isManuallyClosed);
  }

  override registerErrorListener(client: Parameters<ClientRedis['registerErrorListener']>[0]): void {
    quietErrors(this.watch, client);
  }

  override registerReconnectListener(client: Listenable): void {
    oncePerOutage((c) => super.registerReconnectListener(c), client);
  }

  override getRequestPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}`;
  }

  override getReplyPattern(pattern: string): string {
    return `${this.channelPrefix}${pattern}.reply`;
  }
}
