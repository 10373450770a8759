import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Redis } from 'ioredis';
import { DATE_WINDOW_MS } from '@gridline/auth';
import { RedisKeys } from '@gridline/common';
import { RedisHealth } from '../redis/redis-health';

/**
 * KEYS: epoch, marker. ARGV: now (ms), the request's signed date (ms), marker TTL (ms).
 * The epoch is the moment this replay store started (set on first use, never expires); a
 * signature dated before it may have been seen by a Redis that has since lost its markers.
 * Returns 1 (first use: marked), 0 (seen), -1 (dated before the store's start).
 */
const MARK_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  redis.call('SET', KEYS[1], ARGV[1])
  epoch = ARGV[1]
end
if tonumber(ARGV[2]) < tonumber(epoch) then return -1 end
if redis.call('SET', KEYS[2], '1', 'PX', ARGV[3], 'NX') then return 1 end
return 0
`;

/** Clock difference between api replicas that a marker outlives. */
const REPLICA_SKEW_MS = 60_000;

type Scripted = Redis & { glReplayMark(epoch: string, marker: string, now: number, signedAt: number, ttlMs: number): Promise<number> };

/**
 * Refuses replayed signatures, across api replicas and across an empty Redis: a marker per
 * signature for the signature's validity window, and the store's start (epoch) before which
 * no signature is taken, so one captured before Redis lost its markers stays refused. Checked
 * and marked in one round trip. A Redis that does not answer fails the request fast (503).
 *
 * The epoch is set when the api starts and again whenever its connection comes back, before
 * requests signed afterwards arrive; a request signed before an empty Redis came back is
 * refused like a replay (the client signs again). Clients whose clock runs behind the
 * server's are refused for that long after the store starts.
 */
@Injectable()
export class ReplayGuard implements OnApplicationBootstrap {
  private readonly logger = new Logger('ReplayGuard');
  private readonly redis: Scripted;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly health: RedisHealth,
  ) {
    if (!('glReplayMark' in redis)) redis.defineCommand('glReplayMark', { numberOfKeys: 2, lua: MARK_SCRIPT });
    this.redis = redis as Scripted;
  }

  onApplicationBootstrap(): void {
    this.redis.on('ready', () => void this.ensureEpoch());
    void this.ensureEpoch();
  }

  /**
   * True the first time a signature is seen; false for a replay or a signature older than the
   * store. The marker lives while the signed date is inside the acceptance window (plus the
   * replicas' clock skew), at most `ttlMs`.
   */
  async markSeen(signature: string, signedAt: number, ttlMs: number): Promise<boolean> {
    this.health.assertReachable();
    const now = Date.now();
    const keepMs = Math.min(ttlMs, Math.max(1000, signedAt + DATE_WINDOW_MS + REPLICA_SKEW_MS - now));
    let r: number;
    try {
      r = await this.redis.glReplayMark(this.keys.replayEpoch, this.keys.replay(signature), now, signedAt, keepMs);
    } catch (e) {
      throw this.health.failure(e);
    }
    return r === 1;
  }

  /** Starts the store's epoch now unless it has one (a new or emptied Redis). */
  private async ensureEpoch(): Promise<void> {
    try {
      if ((await this.redis.set(this.keys.replayEpoch, String(Date.now()), 'NX')) === 'OK') {
        this.logger.log('replay store started: signatures dated before now are refused');
      }
    } catch {
      // Redis unreachable: the first mark sets it (the health probe logs the outage).
    }
  }
}
