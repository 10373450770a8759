/** What a remote place is: a peer Gridline, a Backend.AI cluster, or any OpenAI-compatible server. */
export type EndpointKind = 'gridline' | 'backendai' | 'openai';
export const ENDPOINT_KINDS: readonly EndpointKind[] = ['gridline', 'backendai', 'openai'];

/** A keypair in Backend.AI's scheme (a peer Gridline's or a Backend.AI cluster's), or a bearer key. */
export type EndpointCredentials = { accessKey: string; secretKey: string } | { apiKey: string };

/** This build of Gridline, as a peer's handshake reports it. */
export const GRIDLINE_VERSION = '0.1.0';
/**
 * The version of what peers rely on from each other (the OpenAI routes, signing, `whoami`'s
 * `server` block). A peer speaking another one is refused at registration.
 */
export const MESH_PROTOCOL = 1;
/**
 * Sent on every request to a peer Gridline. A request that carries it is served by the peer's own
 * fleet only (and its model list shows only those): a mesh of peers that register each other
 * never sends a request round in circles, and a request crosses at most one peer.
 */
export const MESH_HOP_HEADER = 'x-gridline-mesh-hop';

/** Backend.AI API version sent to Backend.AI clusters (its `X-BackendAI-Version`). */
export const BACKENDAI_API_VERSION = 'v8.20240915';

export interface HealthSettings {
  intervalSeconds: number;
  timeoutSeconds: number;
  /**
   * How long a request waits for the endpoint's answer to begin (a peer Gridline answers with its
   * first token, after any queueing or loading there), and at most between two of its chunks.
   */
  requestTimeoutSeconds: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
  breakerFailures: number;
  breakerOpenSeconds: number;
}

export const DEFAULT_HEALTH: HealthSettings = { intervalSeconds: 10, timeoutSeconds: 5, requestTimeoutSeconds: 120, unhealthyThreshold: 2, healthyThreshold: 1, breakerFailures: 3, breakerOpenSeconds: 30 };

/** Bounds of each health setting (inclusive). */
export const HEALTH_BOUNDS: Record<keyof HealthSettings, { min: number; max: number }> = {
  intervalSeconds: { min: 1, max: 3600 },
  timeoutSeconds: { min: 1, max: 300 },
  requestTimeoutSeconds: { min: 1, max: 3600 },
  unhealthyThreshold: { min: 1, max: 100 },
  healthyThreshold: { min: 1, max: 100 },
  breakerFailures: { min: 1, max: 1000 },
  breakerOpenSeconds: { min: 1, max: 3600 },
};

/** Which credential shape a kind takes. */
export function credentialShape(kind: EndpointKind): 'keypair' | 'apiKey' {
  return kind === 'openai' ? 'apiKey' : 'keypair';
}

/** The credential's public half, to tell credentials apart in lists: an access key, or the last 4 characters of an API key. */
export function credentialHint(c: EndpointCredentials): string {
  return 'accessKey' in c ? c.accessKey : `…${c.apiKey.slice(-4)}`;
}

/** An endpoint's base URL normalized: http(s) only, no credentials, query or fragment, no trailing slash. Null when unusable. */
export function normalizeEndpointUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search || u.hash) return null;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}
