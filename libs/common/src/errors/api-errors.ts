import { JOB_ERRORS, JobErrorCode } from '@gridline/contract';

/** OpenAI's `error.type` values, chosen by status. */
export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'rate_limit_error' | 'api_error';

export interface ApiErrorSpec {
  status: number;
  title: string;
}

/**
 * Every error code the API answers with, closed: the HTTP status and a short title. Throw
 * sites pick a code and may add a detail and the `param` the error is about; the status,
 * title and OpenAI type always come from here. Job errors (libs/contract JOB_ERRORS) are part
 * of it, with their own statuses, because a synchronous caller receives them as they are.
 */
const REQUEST = {
  invalid_json: { status: 400, title: 'Invalid JSON' },
  validation_failed: { status: 400, title: 'Validation failed' },
  /** A well-formed OpenAI parameter whose value Gridline cannot honour (refused, never silently ignored). */
  unsupported_parameter: { status: 400, title: 'Unsupported parameter' },
  invalid_text: { status: 400, title: 'Invalid text' },
  nesting_too_deep: { status: 400, title: 'Nesting too deep' },
  too_many_keys: { status: 400, title: 'Too many keys' },
  too_many_items: { status: 400, title: 'Too many items' },
  string_too_long: { status: 400, title: 'String too long' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  invalid_cursor: { status: 400, title: 'Invalid cursor' },
  route_not_found: { status: 404, title: 'No such route' },
  /** `GET /metrics` in production with neither GRIDLINE_METRICS_TOKEN nor GRIDLINE_METRICS_PUBLIC. */
  metrics_not_exposed: { status: 404, title: 'Metrics not exposed' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
} as const satisfies Record<string, ApiErrorSpec>;

const AUTH = {
  authentication_required: { status: 401, title: 'Authentication required' },
  malformed_authorization: { status: 400, title: 'Malformed Authorization header' },
  unsupported_sign_method: { status: 400, title: 'Unsupported signing method' },
  date_sync_error: { status: 400, title: 'Date/time sync error' },
  missing_version: { status: 400, title: 'Missing X-BackendAI-Version header' },
  /** Unknown access key and wrong signature: one answer, so nothing tells whether a key exists. */
  signature_mismatch: { status: 401, title: 'Signature mismatch' },
  replayed_request: { status: 401, title: 'Replayed request' },
  invalid_token: { status: 401, title: 'Invalid or expired token' },
  insufficient_scope: { status: 403, title: 'Insufficient token scope' },
  forbidden: { status: 403, title: 'Forbidden' },
  /** Join tokens: each refusal says why, to whoever holds the token. */
  join_token_invalid: { status: 401, title: 'Invalid join token' },
  join_token_expired: { status: 401, title: 'Join token expired' },
  join_token_revoked: { status: 401, title: 'Join token revoked' },
  join_token_used: { status: 401, title: 'Join token used up' },
  /** A node whose credential an admin revoked: it cannot sign, nor join again under its name. */
  node_revoked: { status: 403, title: 'Node revoked' },
  /** A node credential used for another node. */
  node_mismatch: { status: 403, title: 'Not this node' },
  /** The queue board's session cookie was altered, malformed, or signed under another master key. */
  queue_board_session_invalid: { status: 401, title: 'Invalid queue board session' },
  /** The queue board's session cookie is past its expiry: open a new session. */
  queue_board_session_expired: { status: 401, title: 'Queue board session expired' },
} as const satisfies Record<string, ApiErrorSpec>;

const RESOURCES = {
  not_found: { status: 404, title: 'Not found' },
  model_not_allowed: { status: 403, title: 'Model not allowed' },
  email_taken: { status: 409, title: 'E-mail taken' },
  team_exists: { status: 409, title: 'Team exists' },
  idempotency_key_reused: { status: 409, title: 'Idempotency key reused' },
  model_exists: { status: 409, title: 'Model exists' },
  invalid_model_source: { status: 400, title: 'Invalid model source' },
  model_source_unreachable: { status: 422, title: 'Model source unreachable' },
  invalid_model_file: { status: 422, title: 'Invalid model file' },
  model_shape_unknown: { status: 422, title: 'Model shape unknown' },
  model_not_deployable: { status: 409, title: 'Model not deployable' },
  deployment_exists: { status: 409, title: 'Deployment exists' },
  deployment_infeasible: { status: 422, title: 'Deployment infeasible' },
  deployment_not_applicable: { status: 422, title: 'Deployment not applicable yet' },
  node_not_removable: { status: 409, title: 'Node not removable' },
  node_not_schedulable: { status: 409, title: 'Node not schedulable' },
  endpoint_exists: { status: 409, title: 'Endpoint exists' },
  /** The endpoint answered the handshake with 401 or 403: the credential given is not one it accepts. */
  endpoint_credential_refused: { status: 422, title: 'Endpoint refused the credential' },
  /** The endpoint could not be reached (or did not answer in time) for the handshake. */
  endpoint_unreachable: { status: 422, title: 'Endpoint unreachable' },
  /** The endpoint answered, but not as its kind should (not OpenAI-compatible, another mesh protocol). */
  endpoint_incompatible: { status: 422, title: 'Endpoint incompatible' },
  /** A queue board action that would write a job's payload (add, edit, obliterate) outside the job lifecycle. */
  queue_board_action_refused: { status: 403, title: 'Queue board action refused' },
} as const satisfies Record<string, ApiErrorSpec>;

const QUOTAS = {
  /** A team, key or model quota refused the request (the message names the limit); `Retry-After` says when it may pass. */
  rate_limit_exceeded: { status: 429, title: 'Rate limit exceeded' },
} as const satisfies Record<string, ApiErrorSpec>;

const AVAILABILITY = {
  not_ready: { status: 503, title: 'Not ready' },
  /** Redis (queues, streams, replay markers) does not answer: stalled, restarting or lost. */
  redis_unavailable: { status: 503, title: 'Redis unavailable' },
  /** Redis is near its `maxmemory`: new inference jobs wait until it has room. */
  redis_memory_full: { status: 503, title: 'Redis memory full' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, ApiErrorSpec>;

type JobErrorSpecs = { readonly [K in JobErrorCode]: ApiErrorSpec };
const JOBS = Object.fromEntries(
  (Object.keys(JOB_ERRORS) as JobErrorCode[]).map((code) => [code, { status: JOB_ERRORS[code].status, title: JOB_ERRORS[code].message.replace(/^./, (c) => c.toUpperCase()) }]),
) as JobErrorSpecs;

export const API_ERRORS = { ...REQUEST, ...AUTH, ...RESOURCES, ...QUOTAS, ...AVAILABILITY, ...JOBS } as const;
export type ApiErrorCode = keyof typeof API_ERRORS;
export type AuthErrorCode = keyof typeof AUTH;
export const API_ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

export function openAiErrorType(status: number): OpenAiErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

/** Longest piece of client input an error message quotes. */
const QUOTE_MAX = 64;

/** A short, printable prefix of client input, for error messages: never the whole of it. */
export function quote(input: unknown): string {
  const chars = [...String(input).slice(0, 2 * QUOTE_MAX)];
  // Control characters and lone surrogates are shown escaped, never raw.
  const shown = chars
    .slice(0, QUOTE_MAX)
    .map((ch) => (/[\p{Cc}\p{Cs}]/u.test(ch) ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch))
    .join('');
  return `'${shown}${chars.length > QUOTE_MAX ? '…' : ''}'`;
}

export interface ApiErrorOptions {
  /** The request field the error is about (OpenAI's `param`), as a dotted path. */
  param?: string;
  /** Further machine-readable facts, merged into the problem body. */
  extra?: Record<string, unknown>;
  /** Seconds after which trying again may succeed: sent as `Retry-After`. */
  retryAfterSeconds?: number;
  /** Further response headers (a quota refusal's `x-ratelimit-*`). */
  headers?: Record<string, string>;
}

/**
 * An error a client can act on: a code from the catalogue and a detail that is safe to show
 * (never a secret, never an internal detail, never more than a short quote of the input).
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  readonly status: number;
  readonly title: string;
  readonly param: string | undefined;
  readonly extra: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ApiErrorCode,
    detail?: string,
    options: ApiErrorOptions = {},
  ) {
    super(detail ?? API_ERRORS[code].title);
    this.status = API_ERRORS[code].status;
    this.title = API_ERRORS[code].title;
    this.param = options.param;
    this.extra = options.extra;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
  }
}
