import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import { ACCESS_KEY_PATTERN, HmacVerifierDeps, KeyLookupResult, SecretBox, verifySignedRequest } from '@gridline/auth';
import { BoundedCache } from '@gridline/common';
import { NodeRepository } from '@gridline/db';
import { CREDENTIAL_CACHE_MS, UNKNOWN_CREDENTIAL_CACHE_MS } from '../auth/credential.strategy';
import { ReplayGuard } from '../auth/replay-guard';

/** The node a request was signed by. */
export interface NodePrincipal {
  nodeId: string;
  nodeName: string;
}

const CACHE_BYTES = 4 * 1024 * 1024;

/**
 * Authenticates agents: requests signed with a node credential (the same HMAC scheme as
 * keypairs). A revoked node's key is unknown here within a second, like a disabled keypair.
 * User credentials never pass this guard, and node credentials never pass the users' one.
 */
@Injectable()
export class NodeAuthGuard implements CanActivate {
  private readonly keys = new BoundedCache<KeyLookupResult<NodePrincipal>>({
    maxBytes: CACHE_BYTES,
    ttlMs: CREDENTIAL_CACHE_MS,
    negativeTtlMs: UNKNOWN_CREDENTIAL_CACHE_MS,
    sizeOf: (v) => 2 * JSON.stringify(v).length,
  });
  private readonly deps: HmacVerifierDeps<NodePrincipal>;

  constructor(
    private readonly nodes: NodeRepository,
    private readonly secrets: SecretBox,
    replays: ReplayGuard,
  ) {
    this.deps = {
      lookup: async (accessKey) => (ACCESS_KEY_PATTERN.test(accessKey) ? this.keys.get(accessKey, () => this.load(accessKey)) : null),
      markSeen: (signature, ttlMs, signedAt) => replays.markSeen(signature, signedAt, ttlMs),
      now: () => Date.now(),
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { node?: NodePrincipal }>();
    req.node = await verifySignedRequest({ method: req.method, pathAndQuery: req.originalUrl, header: (name) => req.header(name) ?? undefined }, this.deps);
    return true;
  }

  private async load(accessKey: string): Promise<KeyLookupResult<NodePrincipal> | null> {
    const cred = await this.nodes.findCredential(accessKey);
    if (!cred) return null;
    return { secretKey: this.secrets.open(cred.secretSealed, cred.accessKey), principal: { nodeId: cred.nodeId, nodeName: cred.nodeName } };
  }
}

export const CurrentNode = createParamDecorator((_: unknown, ctx: ExecutionContext): NodePrincipal => {
  const node = ctx.switchToHttp().getRequest<{ node?: NodePrincipal }>().node;
  if (!node) throw new Error('CurrentNode used on a route without NodeAuthGuard');
  return node;
});
