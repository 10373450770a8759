import { Injectable } from '@nestjs/common';
import { SecretBox } from '@gridline/auth';
import type { EndpointRecord } from '@gridline/db';
import { DEFAULT_HEALTH, EndpointClient, EndpointCredentials, EndpointKind, HealthSettings } from '@gridline/mesh';

/** The associated data an endpoint's sealed credentials are bound to: they open under its name only. */
const aad = (name: string) => `endpoint:${name}`;

/** Seals endpoint credentials under the master key and opens them into a client for the endpoint. */
@Injectable()
export class EndpointConnector {
  constructor(private readonly secrets: SecretBox) {}

  seal(name: string, credentials: EndpointCredentials): string {
    return this.secrets.seal(JSON.stringify(credentials), aad(name));
  }

  client(e: Pick<EndpointRecord, 'name' | 'kind' | 'url' | 'credentialsSealed' | 'health'>): EndpointClient {
    const credentials = JSON.parse(this.secrets.open(e.credentialsSealed, aad(e.name))) as EndpointCredentials;
    return this.clientFor(e.kind, e.url, credentials, e.health);
  }

  clientFor(kind: EndpointKind, url: string, credentials: EndpointCredentials, health: Pick<HealthSettings, 'timeoutSeconds'> & Partial<Pick<HealthSettings, 'requestTimeoutSeconds'>>): EndpointClient {
    const streamSeconds = health.requestTimeoutSeconds ?? DEFAULT_HEALTH.requestTimeoutSeconds;
    return new EndpointClient({ kind, url, credentials, timeoutMs: health.timeoutSeconds * 1000, streamTimeoutMs: streamSeconds * 1000 });
  }
}
