import { Inject, Injectable } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RedisKeys } from '@gridline/common';
import type { HealthSettings } from '@gridline/mesh';

/**
 * Counts a failure; opens the circuit (for `openMs`) at the threshold, or at once when the
 * circuit was tripped recently (its first request after reopening failed: half-open). Returns 1
 * when this failure opened it.
 */
const FAILURE_SCRIPT = `
local failures = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if failures >= tonumber(ARGV[1]) or redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

type Scripted = Redis & { glBreakerFailure(failures: string, open: string, tripped: string, threshold: number, openMs: number, memoryMs: number, until: number): Promise<number> };

/**
 * The passive side of an endpoint's health, shared by every api replica through Redis: failed
 * requests in a row open its circuit for a while (no request goes there); once it closes again,
 * one more failure reopens it at once, one success closes it for good.
 */
@Injectable()
export class CircuitBreaker {
  private readonly redis: Scripted;

  constructor(
    @Inject(Redis) redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    if (!('glBreakerFailure' in redis)) redis.defineCommand('glBreakerFailure', { numberOfKeys: 3, lua: FAILURE_SCRIPT });
    this.redis = redis as Scripted;
  }

  /** A request to the endpoint failed through its fault; true when this opened its circuit. */
  async failure(endpointId: string, s: Pick<HealthSettings, 'breakerFailures' | 'breakerOpenSeconds'>): Promise<boolean> {
    const openMs = s.breakerOpenSeconds * 1000;
    const k = (part: 'failures' | 'open' | 'tripped') => this.keys.endpointBreaker(endpointId, part);
    return (await this.redis.glBreakerFailure(k('failures'), k('open'), k('tripped'), s.breakerFailures, openMs, openMs * 4, Date.now() + openMs)) === 1;
  }

  /** A request to the endpoint succeeded: its failure count and trip marker are cleared. */
  async success(endpointId: string): Promise<void> {
    await this.redis.del(this.keys.endpointBreaker(endpointId, 'failures'), this.keys.endpointBreaker(endpointId, 'tripped'));
  }

  /** Until when each endpoint's circuit is open (epoch ms); absent: closed. */
  async openUntil(endpointIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (endpointIds.length === 0) return out;
    const values = await this.redis.mget(...endpointIds.map((id) => this.keys.endpointBreaker(id, 'open')));
    endpointIds.forEach((id, i) => {
      const v = Number(values[i]);
      if (values[i] !== null && Number.isFinite(v) && v > Date.now()) out.set(id, v);
    });
    return out;
  }

  /** Closes an endpoint's circuit (its address or credentials changed, or it was removed). */
  async reset(endpointId: string): Promise<void> {
    await this.redis.del(this.keys.endpointBreaker(endpointId, 'failures'), this.keys.endpointBreaker(endpointId, 'open'), this.keys.endpointBreaker(endpointId, 'tripped'));
  }
}
