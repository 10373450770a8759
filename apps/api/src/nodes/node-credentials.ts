import { Injectable } from '@nestjs/common';
import { KeyLookupResult, SecretBox } from '@gridline/auth';
import { BoundedCache } from '@gridline/common';
import { NodeRepository } from '@gridline/db';
import { UNKNOWN_CREDENTIAL_CACHE_MS } from '../auth/credential.strategy';

/** The node a request was signed by, and the access key it signed with. */
export interface NodePrincipal {
  nodeId: string;
  nodeName: string;
  accessKey: string;
}

/**
 * How long a verified credential may be kept. An access key's secret and node never change (a
 * node that joins again gets a new key), so what a lookup can miss is only that the key stopped
 * being valid: each lookup says how old an answer it accepts (see NodeAuthGuard). This bounds
 * the memory held for keys nobody uses any more.
 */
const KEEP_MS = 10 * 60_000;
/** 450 to 560 bytes a node, by its name's length: 30,000 nodes or more before the least recently used keys are looked up again. */
const CACHE_BYTES = 16 * 1024 * 1024;

/** Node credentials by access key, with their secrets opened, cached in a cache bounded by bytes. */
@Injectable()
export class NodeCredentials {
  private readonly keys = new BoundedCache<KeyLookupResult<NodePrincipal>>({
    maxBytes: CACHE_BYTES,
    ttlMs: KEEP_MS,
    negativeTtlMs: UNKNOWN_CREDENTIAL_CACHE_MS,
    sizeOf: (v) => 2 * JSON.stringify(v).length,
  });

  constructor(
    private readonly nodes: NodeRepository,
    private readonly secrets: SecretBox,
  ) {}

  /** The credential behind `accessKey` as the database said at most `maxAgeMs` ago; null when unknown or revoked. */
  lookup(accessKey: string, maxAgeMs: number): Promise<KeyLookupResult<NodePrincipal> | null> {
    return this.keys.get(accessKey, () => this.load(accessKey), maxAgeMs);
  }

  /** Drops what is known about `accessKey` (it was found revoked or replaced): the next request looks it up. */
  forget(accessKey: string): void {
    this.keys.delete(accessKey);
  }

  private async load(accessKey: string): Promise<KeyLookupResult<NodePrincipal> | null> {
    const cred = await this.nodes.findCredential(accessKey);
    if (!cred) return null;
    return { secretKey: this.secrets.open(cred.secretSealed, cred.accessKey), principal: { nodeId: cred.nodeId, nodeName: cred.nodeName, accessKey: cred.accessKey } };
  }
}
