import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { Strategy } from 'passport-custom';
import { HmacVerifierDeps, KeyLookupResult, SecretBox, verifySignedRequest } from '@gridline/auth';
import { RedisKeys } from '@gridline/common';
import { IdentityRepository } from '@gridline/db';
import { Principal } from './principal';

const CACHE_TTL_MS = 1000;
const TOUCH_INTERVAL_MS = 60_000;

interface CachedKey {
  value: KeyLookupResult<Principal> | null;
  expiresAt: number;
}

/**
 * Backend.AI-style HMAC authentication (shared/HMAC.md). Keys are cached for one second, so a
 * signed request costs no database round trip in the steady state and a disabled key stops
 * working within a second; replays are refused through a Redis marker shared by all replicas.
 */
@Injectable()
export class HmacStrategy extends PassportStrategy(Strategy, 'hmac') {
  private readonly cache = new Map<string, CachedKey>();
  private readonly touched = new Map<string, number>();
  private readonly deps: HmacVerifierDeps<Principal>;

  constructor(
    private readonly identity: IdentityRepository,
    private readonly secrets: SecretBox,
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    super();
    this.deps = {
      lookup: (accessKey) => this.lookup(accessKey),
      markSeen: async (signature, ttlMs) => (await this.redis.set(this.keys.replay(signature), '1', 'PX', ttlMs, 'NX')) === 'OK',
      now: () => Date.now(),
    };
  }

  async validate(req: Request): Promise<Principal> {
    const principal = await verifySignedRequest(
      { method: req.method, pathAndQuery: req.originalUrl, header: (name) => req.header(name) ?? undefined },
      this.deps,
    );
    this.touch(principal.keypairId);
    return principal;
  }

  private async lookup(accessKey: string): Promise<KeyLookupResult<Principal> | null> {
    const now = Date.now();
    const hit = this.cache.get(accessKey);
    if (hit && hit.expiresAt > now) return hit.value;
    const cred = await this.identity.findActiveCredential(accessKey);
    const value = cred
      ? {
          secretKey: this.secrets.open(cred.secretSealed, cred.accessKey),
          principal: { userId: cred.userId, teamId: cred.teamId, keypairId: cred.keypairId, accessKey: cred.accessKey, isSuperadmin: cred.isSuperadmin },
        }
      : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(accessKey, { value, expiresAt: now + CACHE_TTL_MS });
    return value;
  }

  /** Records last use at most once a minute per key, off the request's path. */
  private touch(keypairId: string): void {
    const now = Date.now();
    if ((this.touched.get(keypairId) ?? 0) + TOUCH_INTERVAL_MS > now) return;
    this.touched.set(keypairId, now);
    this.identity.touchKeypair(keypairId, new Date(now)).catch(() => this.touched.delete(keypairId));
  }
}
