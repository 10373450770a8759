/**
 * Request signing in the browser (WebCrypto), the scheme of shared/HMAC.md that the api
 * verifies. Browsers refuse to set `Date` and `Host`: the date goes in `X-BackendAI-Date`
 * and the host signed is the one the browser sends (the page's own, `location.host`).
 */
export const API_VERSION = 'v9.20250722';

const encoder = new TextEncoder();
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface BrowserSignatureInput {
  method: string;
  /** Raw path with its query string, as on the request line. */
  pathAndQuery: string;
  date: string;
  host: string;
  contentType: string;
  version?: string;
}

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function hmac(key: ArrayBuffer | Uint8Array<ArrayBuffer>, message: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return crypto.subtle.sign('HMAC', k, encoder.encode(message));
}

export function stringToSign(input: BrowserSignatureInput): string {
  return [
    input.method.toUpperCase(),
    input.pathAndQuery,
    input.date,
    `host:${input.host}`,
    `content-type:${input.contentType.split(';')[0].trim().toLowerCase()}`,
    `x-backendai-version:${input.version ?? API_VERSION}`,
    EMPTY_BODY_SHA256,
  ].join('\n');
}

/** Hex HMAC-SHA256 signature: day key, then host key, then the string to sign. */
export async function computeSignature(secretKey: string, input: BrowserSignatureInput): Promise<string> {
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(input.date);
  if (!day) throw new TypeError('date is not ISO-8601');
  const k1 = await hmac(encoder.encode(secretKey), `${day[1]}${day[2]}${day[3]}`);
  const k2 = await hmac(k1, input.host);
  return hex(await hmac(k2, stringToSign(input)));
}

let lastMicros = 0;

/** An ISO-8601 UTC date with microseconds, strictly increasing in this page (two requests never share a signature). */
export function uniqueSigningDate(now: number = Date.now()): string {
  const micros = Math.max(now * 1000, lastMicros + 1);
  lastMicros = micros;
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}+00:00`;
}

export interface Keypair {
  accessKey: string;
  secretKey: string;
}

/** The headers that sign one request. */
export async function signatureHeaders(keypair: Keypair, method: string, url: URL, contentType: string): Promise<Record<string, string>> {
  const date = uniqueSigningDate();
  const input = { method, pathAndQuery: `${url.pathname}${url.search}`, date, host: url.host, contentType, version: API_VERSION };
  const signature = await computeSignature(keypair.secretKey, input);
  return {
    authorization: `BackendAI signMethod=HMAC-SHA256, credential=${keypair.accessKey}:${signature}`,
    'x-backendai-date': date,
    'x-backendai-version': API_VERSION,
  };
}
