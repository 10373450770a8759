/**
 * Why a call to an endpoint failed, in a closed set routing decides on:
 * - `unreachable`: no connection (refused, reset, DNS), or the connection broke before an answer;
 * - `timeout`: no answer (or no first byte of the stream) within the endpoint's timeout;
 * - `credential_refused`: 401 or 403: the endpoint does not accept our credential;
 * - `rate_limited`: 429, with the endpoint's Retry-After when it sent one;
 * - `client_error`: another 4xx: the request itself was refused (sending it elsewhere would not help);
 * - `server_error`: 5xx;
 * - `protocol`: an answer that is not OpenAI's (or not a peer Gridline's).
 */
export type EndpointFailureReason = 'unreachable' | 'timeout' | 'credential_refused' | 'rate_limited' | 'client_error' | 'server_error' | 'protocol';

/** Longest remote error text kept: a remote's message is relayed, never a page of it. */
const REMOTE_MESSAGE_MAX = 300;

export class EndpointFailure extends Error {
  override readonly name = 'EndpointFailure';

  constructor(
    readonly reason: EndpointFailureReason,
    message: string,
    readonly details: {
      status?: number;
      retryAfterSeconds?: number;
      remoteCode?: string;
      /** The remote's own error message (shortened), when it gave one. */
      remoteMessage?: string;
      /** The endpoint was removed or disabled meanwhile: nothing to try again there. */
      gone?: boolean;
    } = {},
  ) {
    super(message);
  }

  /** Worth trying again (on this endpoint or another) before any text went out. */
  get retryable(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout' || this.reason === 'server_error' || this.reason === 'rate_limited';
  }

  /** Counts against the endpoint's health (passive checks): the endpoint's fault, not the request's. */
  get countsAgainstEndpoint(): boolean {
    return this.reason === 'unreachable' || this.reason === 'timeout' || this.reason === 'server_error' || this.reason === 'protocol' || this.reason === 'credential_refused';
  }
}

/** The remote's error message out of an OpenAI (or problem+json) error body, shortened and on one line; null when none. */
export function remoteMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { error?: { message?: unknown; code?: unknown } | string; detail?: unknown; title?: unknown; message?: unknown };
  const raw = typeof b.error === 'object' && b.error !== null ? b.error.message : typeof b.error === 'string' ? b.error : (b.detail ?? b.message ?? b.title);
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  const line = raw.replace(/\s+/g, ' ').trim();
  return line.length > REMOTE_MESSAGE_MAX ? `${line.slice(0, REMOTE_MESSAGE_MAX)}…` : line;
}

/** The remote's error code out of an OpenAI or problem+json body. */
export function remoteCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as { error?: { code?: unknown }; code?: unknown };
  const code = typeof b.error === 'object' && b.error !== null ? b.error.code : b.code;
  return typeof code === 'string' && /^[\w.-]{1,64}$/.test(code) ? code : undefined;
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  // Some servers send fractional seconds; Date.parse would read `1.5` as a day in 2001.
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  // An HTTP date names its day or month; anything else Date.parse reads leniently is no date.
  if (!/[a-z]{3}/i.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
