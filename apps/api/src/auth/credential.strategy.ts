import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Request } from 'express';
import { Strategy } from 'passport-custom';
import { ACCESS_KEY_PATTERN, AuthError, HmacVerifierDeps, KeyLookupResult, SecretBox, hashApiToken, looksLikeApiToken, verifySignedRequest } from '@gridline/auth';
import { LRUCache } from 'lru-cache';
import { BoundedCache } from '@gridline/common';
import { IdentityRepository, TokenRepository } from '@gridline/db';
import { Principal, roleOf } from './principal';
import { ReplayGuard } from './replay-guard';

/** How long a credential lookup is reused: revoking or disabling takes effect within this. */
export const CREDENTIAL_CACHE_MS = 1000;
/** How long an unknown or inactive credential is remembered; re-enabling one takes up to this. */
export const UNKNOWN_CREDENTIAL_CACHE_MS = 10_000;
const CACHE_BYTES = 16 * 1024 * 1024;
const TOUCH_INTERVAL_MS = 60_000;

/** A cached value's size: its JSON, two bytes a character. */
const jsonBytes = (v: object) => 2 * JSON.stringify(v).length;

/**
 * Authenticates every request: Backend.AI-style HMAC signatures (shared/HMAC.md) or
 * `Authorization: Bearer gl_…` tokens. Lookups are cached for one second, so a signed request
 * costs no database round trip in the steady state and a revoked credential stops working on
 * every replica within a second; unknown credentials are remembered for ten seconds, in caches
 * bounded by bytes, so a flood of made-up keys costs neither queries nor memory. Replays are
 * refused through a Redis marker all replicas share.
 */
@Injectable()
export class CredentialStrategy extends PassportStrategy(Strategy, 'gridline') {
  private readonly keys = new BoundedCache<KeyLookupResult<Principal>>({ maxBytes: CACHE_BYTES, ttlMs: CREDENTIAL_CACHE_MS, negativeTtlMs: UNKNOWN_CREDENTIAL_CACHE_MS, sizeOf: jsonBytes });
  private readonly tokens = new BoundedCache<Principal>({ maxBytes: CACHE_BYTES, ttlMs: CREDENTIAL_CACHE_MS, negativeTtlMs: UNKNOWN_CREDENTIAL_CACHE_MS, sizeOf: jsonBytes });
  /** Last use recorded per credential: fixed-size entries, bounded in number. */
  private readonly touched = new LRUCache<string, number>({ max: 10_000 });
  private readonly deps: HmacVerifierDeps<Principal>;

  constructor(
    private readonly identity: IdentityRepository,
    private readonly tokenRepo: TokenRepository,
    private readonly secrets: SecretBox,
    private readonly replays: ReplayGuard,
  ) {
    super();
    this.deps = {
      // A string that cannot be an access key is unknown without a lookup, cached or not.
      lookup: async (accessKey) => (ACCESS_KEY_PATTERN.test(accessKey) ? this.keys.get(accessKey, () => this.loadKeypair(accessKey)) : null),
      markSeen: (signature, ttlMs, signedAt) => this.replays.markSeen(signature, signedAt, ttlMs),
      now: () => Date.now(),
    };
  }

  async validate(req: Request): Promise<Principal> {
    const authorization = req.header('authorization') ?? '';
    let principal: Principal;
    if (/^bearer /i.test(authorization)) {
      const token = authorization.slice(7).trim();
      const found = looksLikeApiToken(token) ? await this.tokens.get(hashApiToken(token), () => this.loadToken(token)) : null;
      if (!found) throw new AuthError('invalid_token');
      principal = found;
    } else {
      principal = await verifySignedRequest({ method: req.method, pathAndQuery: req.originalUrl, header: (name) => req.header(name) ?? undefined }, this.deps);
    }
    this.touch(principal);
    return principal;
  }

  private async loadKeypair(accessKey: string): Promise<KeyLookupResult<Principal> | null> {
    const cred = await this.identity.findActiveCredential(accessKey);
    const role = cred ? roleOf(cred.isSuperadmin, cred.role) : null;
    if (!cred || !role) return null;
    return {
      secretKey: this.secrets.open(cred.secretSealed, cred.accessKey),
      principal: { userId: cred.userId, teamId: cred.teamId, role, credential: { kind: 'keypair', id: cred.keypairId, label: cred.accessKey } },
    };
  }

  private async loadToken(token: string): Promise<Principal | null> {
    const t = await this.tokenRepo.findActiveByHash(hashApiToken(token));
    const role = t ? roleOf(t.isSuperadmin, t.role) : null;
    if (!t || !role) return null;
    return { userId: t.userId, teamId: t.teamId, role, credential: { kind: 'token', id: t.id, label: t.prefix, scope: t.scope, models: t.models } };
  }

  /** Records last use at most once a minute per credential, off the request's path. */
  private touch(p: Principal): void {
    const now = Date.now();
    const key = `${p.credential.kind}:${p.credential.id}`;
    if ((this.touched.get(key) ?? 0) + TOUCH_INTERVAL_MS > now) return;
    this.touched.set(key, now);
    const at = new Date(now);
    const write = p.credential.kind === 'keypair' ? this.identity.touchKeypair(p.credential.id, at) : this.tokenRepo.touch(p.credential.id, at);
    write.catch(() => this.touched.delete(key));
  }
}
