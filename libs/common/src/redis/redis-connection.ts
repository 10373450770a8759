import { Logger } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * How long one Redis command may take before it fails: a stalled Redis (SIGSTOP, a full
 * network buffer) or one being restarted makes a request fail fast instead of hanging.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 1000;
/** How long a TCP connection to Redis may take to open. */
export const REDIS_CONNECT_TIMEOUT_MS = 2000;

/** Reconnect for as long as the process lives: 100 ms, doubling, at most 1 s apart. */
function reconnectDelay(times: number): number {
  return Math.min(100 * 2 ** Math.min(times - 1, 4), 1000);
}

/**
 * Options of a connection for ordinary commands and scripts (never blocking ones): each
 * command fails after REDIS_COMMAND_TIMEOUT_MS, also while it waits for a reconnect.
 */
export function redisCommandOptions(connectionName: string, extra: RedisOptions = {}): RedisOptions {
  return {
    connectionName,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 2,
    retryStrategy: reconnectDelay,
    ...extra,
  };
}

/**
 * Options of a dedicated connection for blocking commands (XREAD BLOCK, BZPOPMIN, SUBSCRIBE)
 * and BullMQ Workers. No command timeout (a blocking read waits longer, and BullMQ duplicates
 * a Worker's connection for its BZPOPMIN); `maxRetriesPerRequest: null`, as BullMQ requires
 * for Workers: commands wait through a reconnect. Their loops guard themselves instead (the
 * readers bound each block; BullMQ's Worker reconnects a block that outlives its timeout).
 */
export function redisBlockingOptions(connectionName: string, extra: RedisOptions = {}): RedisOptions {
  return {
    connectionName,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: null,
    retryStrategy: reconnectDelay,
    ...extra,
  };
}

/** A redis:// URL as it may be logged: the password (and user name) replaced. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username) u.username = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable URL)';
  }
}

/** What a connection error is, in a few words that never carry a secret. */
export function describeRedisError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code) return err.code;
  const message = String(err.message ?? e);
  // ioredis messages name the host and port at most; cap them anyway.
  return message.length > 120 ? `${message.slice(0, 120)}…` : message;
}

/** Whether an error says Redis could not be reached or did not answer in time (not a command's own failure). */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string; name?: string };
  if (err?.name === 'MaxRetriesPerRequestError') return true;
  if (err?.code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(err.code)) return true;
  return /Command timed out|Connection is closed|Stream isn't writeable|Socket closed unexpectedly|connect ETIMEDOUT|LOADING/.test(String(err?.message ?? ''));
}

export type RedisConnectionState = 'up' | 'down';

/**
 * Watches one connection and logs only when its state changes: the first error after it was
 * up ("unreachable"), and its return ("reachable again"), never once per reconnect attempt.
 * Every ioredis client needs an `error` listener (without one an error is thrown as an
 * uncaught exception); this is it.
 */
export class RedisConnectionWatch {
  private state: RedisConnectionState | 'new' = 'new';
  private downSince = 0;

  constructor(
    private readonly name: string,
    private readonly url: string,
    private readonly logger: Pick<Logger, 'warn' | 'log'> = new Logger('Redis'),
    private readonly isClosing: () => boolean = () => false,
  ) {}

  /** Attaches the listeners; returns the client for chaining. */
  attach<C extends Pick<Redis, 'on'>>(client: C): C {
    client.on('error', (e: unknown) => this.down(e));
    client.on('ready', () => this.up());
    return client;
  }

  get current(): RedisConnectionState | 'new' {
    return this.state;
  }

  down(e: unknown): void {
    if (this.state === 'down' || this.isClosing()) return;
    this.state = 'down';
    this.downSince = Date.now();
    this.logger.warn(`redis connection ${this.name} to ${redactRedisUrl(this.url)} failed: ${describeRedisError(e)} (reconnecting; logged again when it is back)`);
  }

  up(): void {
    const was = this.state;
    this.state = 'up';
    if (was === 'down') this.logger.log(`redis connection ${this.name} is back after ${Date.now() - this.downSince} ms`);
  }
}
