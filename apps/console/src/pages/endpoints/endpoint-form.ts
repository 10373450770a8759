/**
 * What the Endpoints page computes from the api's endpoint records and from the Add endpoint form:
 * the colour of a state, why an endpoint is not routed to, and the create request. Plain data in,
 * plain data out (no React), so it is unit-tested beside the page.
 */

export type EndpointKind = 'gridline' | 'backendai' | 'openai';

export const ENDPOINT_KINDS: readonly { value: EndpointKind; label: string; credential: 'keypair' | 'apiKey' }[] = [
  { value: 'gridline', label: 'Gridline peer', credential: 'keypair' },
  { value: 'backendai', label: 'Backend.AI cluster', credential: 'keypair' },
  { value: 'openai', label: 'OpenAI-compatible server', credential: 'apiKey' },
];

export const credentialOf = (kind: EndpointKind) => ENDPOINT_KINDS.find((k) => k.value === kind)?.credential ?? 'keypair';

export interface EndpointLike {
  enabled: boolean;
  state: 'unknown' | 'healthy' | 'unhealthy';
  circuit: 'closed' | 'open';
  routable: boolean;
  lastError: string | null;
}

export function stateColor(state: EndpointLike['state']): 'green' | 'red' | 'gray' {
  return state === 'healthy' ? 'green' : state === 'unhealthy' ? 'red' : 'gray';
}

/** Why requests do not go there now, in the order an admin would fix it; null when routable. */
export function notRoutableReason(e: EndpointLike): string | null {
  if (e.routable) return null;
  if (!e.enabled) return 'disabled: not checked, nothing routed';
  if (e.state === 'unhealthy') return `unhealthy${e.lastError ? `: ${e.lastError}` : ''}`;
  if (e.state === 'unknown') return 'not checked yet';
  if (e.circuit === 'open') return 'circuit open after failed requests';
  return 'not routable';
}

export interface EndpointForm {
  name: string;
  kind: EndpointKind;
  url: string;
  accessKey: string;
  secretKey: string;
  apiKey: string;
  weight: number | string;
}

export const EMPTY_FORM: EndpointForm = { name: '', kind: 'gridline', url: '', accessKey: '', secretKey: '', apiKey: '', weight: 100 };

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export interface CreateEndpointBody {
  name: string;
  kind: EndpointKind;
  url: string;
  credentials: { accessKey: string; secretKey: string } | { apiKey: string };
  weight: number;
}

/**
 * The create request from the form, or what is wrong with it before the api is asked: the name's
 * form, an http(s) URL, and the kind's credentials (a keypair, or a bearer key for an OpenAI server;
 * the other kind's fields are left out, so a key typed before the kind changed is never sent).
 */
export function createEndpointRequest(f: EndpointForm): { body: CreateEndpointBody } | { problem: string } {
  const name = f.name.trim();
  if (!NAME.test(name)) return { problem: 'The name is lower-case letters, digits and dashes (1 to 63), starting and ending with a letter or digit' };
  const url = f.url.trim();
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !/^https?:$/.test(parsed.protocol)) return { problem: 'The URL is the endpoint\'s base address, http:// or https://' };
  const weight = typeof f.weight === 'number' ? f.weight : Number(f.weight);
  if (!Number.isInteger(weight) || weight < 0 || weight > 10_000) return { problem: 'The weight is a whole number from 0 to 10000' };
  let credentials: CreateEndpointBody['credentials'];
  if (credentialOf(f.kind) === 'apiKey') {
    if (!f.apiKey.trim()) return { problem: 'An OpenAI-compatible server takes its API key' };
    credentials = { apiKey: f.apiKey.trim() };
  } else {
    if (!f.accessKey.trim() || !f.secretKey.trim()) return { problem: 'This kind takes the access key and secret key the remote issued' };
    credentials = { accessKey: f.accessKey.trim(), secretKey: f.secretKey.trim() };
  }
  return { body: { name, kind: f.kind, url: url.replace(/\/+$/, ''), credentials, weight } };
}
