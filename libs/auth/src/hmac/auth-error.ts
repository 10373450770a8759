/** Stable codes for every authentication refusal. */
export type AuthErrorCode =
  | 'authentication_required'
  | 'malformed_authorization'
  | 'unsupported_sign_method'
  | 'date_sync_error'
  | 'missing_version'
  | 'invalid_access_key'
  | 'signature_mismatch'
  | 'replayed_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'forbidden';

const STATUS: Record<AuthErrorCode, number> = {
  authentication_required: 401,
  malformed_authorization: 400,
  unsupported_sign_method: 400,
  date_sync_error: 400,
  missing_version: 400,
  invalid_access_key: 401,
  signature_mismatch: 401,
  replayed_request: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  forbidden: 403,
};

const TITLE: Record<AuthErrorCode, string> = {
  authentication_required: 'Authentication required',
  malformed_authorization: 'Malformed Authorization header',
  unsupported_sign_method: 'Unsupported signing method',
  date_sync_error: 'Date/time sync error',
  missing_version: 'Missing X-BackendAI-Version header',
  invalid_access_key: 'Invalid access key',
  signature_mismatch: 'Signature mismatch',
  replayed_request: 'Replayed request',
  invalid_token: 'Invalid or expired token',
  insufficient_scope: 'Insufficient token scope',
  forbidden: 'Forbidden',
};

/** A refusal to authenticate. Its message never contains secrets or signatures. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: AuthErrorCode,
    detail?: string,
  ) {
    super(detail ?? TITLE[code]);
    this.status = STATUS[code];
    this.title = TITLE[code];
  }
}
