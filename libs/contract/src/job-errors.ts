/**
 * The closed catalogue of ways a job can fail, with the HTTP status a synchronous caller
 * gets and whether the control plane may try the job again elsewhere.
 */
export const JOB_ERRORS = {
  model_not_found: { status: 404, retryable: false, message: 'the model does not exist' },
  invalid_request: { status: 400, retryable: false, message: 'the request is invalid' },
  context_length_exceeded: { status: 400, retryable: false, message: 'the prompt and the completion do not fit in the model context' },
  no_capacity: { status: 503, retryable: true, message: 'no replica of the model could take the job in time' },
  queue_full: { status: 429, retryable: true, message: 'too many jobs wait for a replica; try again later' },
  timeout: { status: 504, retryable: false, message: 'the job did not finish in time' },
  cancelled: { status: 499, retryable: false, message: 'the job was cancelled' },
  node_lost: { status: 502, retryable: false, message: 'the node running the job stopped responding' },
  runner_crashed: { status: 502, retryable: false, message: 'the model process exited while running the job' },
  generation_failed: { status: 502, retryable: false, message: 'the model failed to generate' },
  stream_interrupted: { status: 502, retryable: false, message: 'part of the job\'s output was lost on its way (Redis was unreachable or lost data); the text is incomplete' },
  /** No local replica serves the model and no endpoint that serves it is healthy (nor anything in its fallback chain). */
  endpoint_unavailable: { status: 503, retryable: true, message: 'no healthy endpoint serves the model' },
  /** The endpoint that served the job answered 429: its Retry-After is relayed. */
  endpoint_rate_limited: { status: 429, retryable: true, message: 'the endpoint serving the model is rate limiting requests; try again later' },
  /** The endpoint failed the job (an error status, a broken stream, an answer that is not OpenAI's). */
  endpoint_failed: { status: 502, retryable: false, message: 'the endpoint serving the model failed' },
  /** The endpoint did not answer within its timeout. */
  endpoint_timeout: { status: 504, retryable: false, message: 'the endpoint serving the model did not answer in time' },
  internal: { status: 500, retryable: false, message: 'an internal error occurred' },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>;

export type JobErrorCode = keyof typeof JOB_ERRORS;
export const JOB_ERROR_CODES = Object.keys(JOB_ERRORS) as JobErrorCode[];

export function isJobErrorCode(value: unknown): value is JobErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(JOB_ERRORS, value);
}
