import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGN_METHOD = 'HMAC-SHA256';
export const AUTH_SCHEME = 'BackendAI';
export const DEFAULT_API_VERSION = 'v9.20250722';
/** A signed request is accepted while its date is within this many ms of the server clock. */
export const DATE_WINDOW_MS = 15 * 60 * 1000;

const EMPTY_BODY_SHA256 = createHash('sha256').update('').digest('hex');

export interface SignatureInput {
  method: string;
  /** Raw path with its query string, exactly as on the request line. */
  pathAndQuery: string;
  /** The date header's value exactly as sent. */
  date: string;
  /** The Host header exactly as sent (port included). */
  host: string;
  /** Content-Type header as sent; parameters are dropped and it is lower-cased. */
  contentType: string;
  version: string;
}

export function canonicalContentType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export function stringToSign(input: SignatureInput): string {
  return [
    input.method.toUpperCase(),
    input.pathAndQuery,
    input.date,
    `host:${input.host}`,
    `content-type:${canonicalContentType(input.contentType)}`,
    `x-backendai-version:${input.version}`,
    EMPTY_BODY_SHA256,
  ].join('\n');
}

/** The calendar day of an ISO-8601 date as written (YYYYMMDD), in the zone it was written in. */
function signingDay(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) throw new TypeError('date is not ISO-8601');
  return `${m[1]}${m[2]}${m[3]}`;
}

/** Hex HMAC-SHA256 signature of a request, per shared/HMAC.md. */
export function computeSignature(secretKey: string, input: SignatureInput): string {
  const k1 = createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(signingDay(input.date)).digest();
  const k2 = createHmac('sha256', k1).update(input.host).digest();
  return createHmac('sha256', k2).update(stringToSign(input)).digest('hex');
}

export function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export interface SignRequestOptions {
  accessKey: string;
  secretKey: string;
  method: string;
  pathAndQuery: string;
  host: string;
  contentType?: string;
  version?: string;
  /** Defaults to now. */
  now?: Date;
}

let lastMicros = 0;

/**
 * An ISO-8601 UTC date with microseconds, strictly increasing within this process. The
 * scheme signs no body, so two requests to the same path in the same millisecond would
 * otherwise carry the same signature and the second would be refused as a replay.
 */
export function uniqueSigningDate(now: Date = new Date()): string {
  // From a random microsecond of the millisecond: two processes signing the same request in the
  // same millisecond (api replicas with one keypair) rarely pick the same date, and so signature.
  const micros = Math.max(now.getTime() * 1000 + Math.floor(Math.random() * 1000), lastMicros + 1);
  lastMicros = micros;
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 23)}${String(micros % 1000).padStart(3, '0')}+00:00`;
}

/** Headers a client sends to authenticate one request. */
export function signRequest(options: SignRequestOptions): Record<string, string> {
  const date = options.now ? options.now.toISOString().replace('Z', '+00:00') : uniqueSigningDate();
  const version = options.version ?? DEFAULT_API_VERSION;
  const contentType = options.contentType ?? 'application/json';
  const signature = computeSignature(options.secretKey, {
    method: options.method,
    pathAndQuery: options.pathAndQuery,
    date,
    host: options.host,
    contentType,
    version,
  });
  return {
    Authorization: `${AUTH_SCHEME} signMethod=${SIGN_METHOD}, credential=${options.accessKey}:${signature}`,
    Date: date,
    'X-BackendAI-Version': version,
    'Content-Type': contentType,
  };
}

/**
 * Parses an ISO-8601 date-time that carries a time zone (`Z` or `±HH:MM`), with any number of
 * fractional digits. Returns epoch milliseconds, or null for anything else.
 */
export function parseSignedDate(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (Number.isNaN(utc)) return null;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return null;
  return utc - offsetMin * 60_000;
}
