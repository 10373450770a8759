import { AuthError } from './auth-error';
import { AUTH_SCHEME, DATE_WINDOW_MS, SIGN_METHOD, computeSignature, parseSignedDate, signaturesEqual } from './hmac-signature';

export interface IncomingSignedRequest {
  method: string;
  /** Raw path and query as received. */
  pathAndQuery: string;
  /** Header lookup by lower-case name. */
  header(name: string): string | undefined;
}

export interface ParsedAuthorization {
  accessKey: string;
  signature: string;
}

/** Splits `BackendAI signMethod=HMAC-SHA256, credential=AK:SIG` per shared/HMAC.md. */
export function parseAuthorization(value: string): ParsedAuthorization {
  const space = value.indexOf(' ');
  const scheme = space < 0 ? value : value.slice(0, space);
  if (scheme !== AUTH_SCHEME) throw new AuthError('malformed_authorization', `expected the ${AUTH_SCHEME} scheme`);
  const params = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new AuthError('malformed_authorization');
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const signMethod = params.get('signMethod');
  const credential = params.get('credential');
  if (!signMethod || !credential) throw new AuthError('malformed_authorization', 'signMethod and credential are required');
  if (signMethod.toUpperCase() !== SIGN_METHOD) throw new AuthError('unsupported_sign_method', `only ${SIGN_METHOD} is supported`);
  const colon = credential.indexOf(':');
  const accessKey = credential.slice(0, colon);
  const signature = credential.slice(colon + 1);
  if (colon < 1 || !/^[0-9a-f]{64}$/i.test(signature)) throw new AuthError('malformed_authorization', 'credential must be ACCESS_KEY:hex-signature');
  return { accessKey, signature: signature.toLowerCase() };
}

const UNKNOWN_KEY_SECRET = 'gridline-unknown-access-key';
/** The refusal of a request signed with an unknown or inactive key, or signed wrong: the same words for all three. */
export const UNKNOWN_CREDENTIAL = 'the access key is unknown or inactive, or the signature does not match';

export interface KeyLookupResult<P> {
  secretKey: string;
  principal: P;
}

export interface HmacVerifierDeps<P> {
  /** Resolves an active, unexpired access key to its secret; null when unknown, disabled or expired. */
  lookup(accessKey: string): Promise<KeyLookupResult<P> | null>;
  /**
   * Records a signature; false when it was already seen inside the window, or when it may
   * have been (`signedAt`, the request's signed date in ms, is older than what the replay
   * store remembers).
   */
  markSeen(signature: string, ttlMs: number, signedAt: number): Promise<boolean>;
  now(): number;
}

/**
 * Verifies one request signed with a Gridline keypair and returns its principal.
 * Checks run cheapest first; the replay mark is written only for a valid signature.
 */
export async function verifySignedRequest<P>(req: IncomingSignedRequest, deps: HmacVerifierDeps<P>): Promise<P> {
  const authorization = req.header('authorization');
  if (!authorization) throw new AuthError('authentication_required');
  const { accessKey, signature } = parseAuthorization(authorization);

  const date = req.header('x-backendai-date') ?? req.header('date');
  if (!date) throw new AuthError('date_sync_error', 'a Date or X-BackendAI-Date header is required');
  const at = parseSignedDate(date);
  if (at === null) throw new AuthError('date_sync_error', 'the date must be ISO-8601 with a time zone');
  if (Math.abs(deps.now() - at) > DATE_WINDOW_MS) throw new AuthError('date_sync_error', 'the date is more than 15 minutes from the server clock');

  const version = req.header('x-backendai-version');
  if (!version) throw new AuthError('missing_version');
  const host = req.header('host');
  if (!host) throw new AuthError('malformed_authorization', 'a Host header is required');

  const key = await deps.lookup(accessKey);
  // An unknown key costs the same signature computation and gets the same answer as a wrong
  // signature, so neither the code nor the timing tells whether an access key exists.
  const expected = computeSignature(key?.secretKey ?? UNKNOWN_KEY_SECRET, {
    method: req.method,
    pathAndQuery: req.pathAndQuery,
    date,
    host,
    contentType: req.header('content-type') ?? '',
    version,
  });
  if (!key || !signaturesEqual(expected, signature)) throw new AuthError('signature_mismatch', UNKNOWN_CREDENTIAL);
  if (!(await deps.markSeen(signature, 2 * DATE_WINDOW_MS, at))) throw new AuthError('replayed_request');
  return key.principal;
}
