import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ACCESS_KEY_PATTERN, HmacVerifierDeps, verifySignedRequest } from '@gridline/auth';
import { CREDENTIAL_CACHE_MS } from '../auth/credential.strategy';
import { ReplayGuard } from '../auth/replay-guard';
import { NodeCredentials, NodePrincipal } from './node-credentials';

const CONFIRMED_BY_HANDLER = 'gridline:node-credential-confirmed-by-handler';

/**
 * Marks a route whose handler confirms the node credential itself, atomically with its first
 * write, and refuses the request when the credential is no longer the node's (the heartbeat:
 * its update lands only while the node holds this access key, unrevoked). NodeAuthGuard may
 * then verify its signature with a key it looked up long ago, which saves a query per request.
 */
export const ConfirmsNodeCredential = () => SetMetadata(CONFIRMED_BY_HANDLER, true);

/**
 * Authenticates agents: requests signed with a node credential (the same HMAC scheme as
 * keypairs). A revoked node's key is unknown here within a second, like a disabled keypair,
 * except on routes marked ConfirmsNodeCredential, whose handlers refuse it from the revocation
 * on. User credentials never pass this guard, and node credentials never pass the users' one.
 */
@Injectable()
export class NodeAuthGuard implements CanActivate {
  /** Keys checked against the database within the last second. */
  private readonly recent: HmacVerifierDeps<NodePrincipal>;
  /** Keys as long as they are cached: the handler confirms them. */
  private readonly cached: HmacVerifierDeps<NodePrincipal>;

  constructor(
    credentials: NodeCredentials,
    replays: ReplayGuard,
    private readonly reflector: Reflector,
  ) {
    const deps = (maxAgeMs: number): HmacVerifierDeps<NodePrincipal> => ({
      lookup: async (accessKey) => (ACCESS_KEY_PATTERN.test(accessKey) ? credentials.lookup(accessKey, maxAgeMs) : null),
      markSeen: (signature, ttlMs, signedAt) => replays.markSeen(signature, signedAt, ttlMs),
      now: () => Date.now(),
    });
    this.recent = deps(CREDENTIAL_CACHE_MS);
    this.cached = deps(Infinity);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { node?: NodePrincipal }>();
    const deps = this.reflector.get<boolean | undefined>(CONFIRMED_BY_HANDLER, context.getHandler()) ? this.cached : this.recent;
    req.node = await verifySignedRequest({ method: req.method, pathAndQuery: req.originalUrl, header: (name) => req.header(name) ?? undefined }, deps);
    return true;
  }
}

export const CurrentNode = createParamDecorator((_: unknown, ctx: ExecutionContext): NodePrincipal => {
  const node = ctx.switchToHttp().getRequest<{ node?: NodePrincipal }>().node;
  if (!node) throw new Error('CurrentNode used on a route without NodeAuthGuard');
  return node;
});
