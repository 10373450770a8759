import { PayloadError } from './shape';

/**
 * What a request may ask of its output besides sampling: token biases, log probabilities and
 * a JSON format. Each is optional on the normalized request (see InferenceRequest) and
 * honoured by the runner, or refused there with `invalid_request` naming the OpenAI
 * parameter (a token id outside the model's vocabulary, a schema the grammar cannot express).
 */

/** OpenAI's `logit_bias` bounds, and how many tokens one request may bias. */
export const LOGIT_BIAS_LIMITS = { min: -100, max: 100, tokens: 1024 } as const;
/** The most alternatives per token: chat's `top_logprobs` (completions' `logprobs` allows 5). */
export const TOP_LOGPROBS_MAX = 20;

/**
 * Token id (as a decimal string, as OpenAI sends it) to a bias added to the token's logit
 * before sampling; -100 bans the token, +100 all but forces it (see the runner's tokenBias).
 */
export type LogitBias = Record<string, number>;

/** Return each generated token's log probability and the `top` most likely alternatives (0 to 20). */
export interface LogprobsRequest {
  top: number;
}

/**
 * JSON output: any JSON, or JSON valid against a schema. A schema is held to what
 * node-llama-cpp's grammar enforces, the same subset as a tool's parameters (tools.ts's
 * toolSchemaProblem, and grammarSchema for the grammar).
 */
export type ResponseFormat = { type: 'json_object' } | { type: 'json_schema'; name: string; schema: Record<string, unknown> };

/** One generated token with its log probability, and the most likely tokens at its place. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes (a token may hold part of a character). */
  bytes: number[];
  top: { token: string; logprob: number; bytes: number[] }[];
}

/** A token id as OpenAI's logit_bias keys spell it: a decimal integer without sign or leading zero. */
const TOKEN_ID = /^(0|[1-9][0-9]{0,9})$/;

/** Why a logit_bias map is invalid, or null. */
export function logitBiasProblem(bias: unknown): string | null {
  if (typeof bias !== 'object' || bias === null || Array.isArray(bias)) return 'logit_bias must be an object mapping token ids to biases';
  const entries = Object.entries(bias);
  if (entries.length > LOGIT_BIAS_LIMITS.tokens) return `logit_bias may hold at most ${LOGIT_BIAS_LIMITS.tokens} tokens`;
  for (const [id, v] of entries) {
    if (!TOKEN_ID.test(id)) return `logit_bias keys must be token ids (non-negative integers): ${JSON.stringify(id.slice(0, 32))} is not`;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < LOGIT_BIAS_LIMITS.min || v > LOGIT_BIAS_LIMITS.max) return `logit_bias values must be numbers from ${LOGIT_BIAS_LIMITS.min} to ${LOGIT_BIAS_LIMITS.max}`;
  }
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates the output controls of a request as they come back from Redis or a JSON column. */
export function assertOutputControls(r: { logitBias?: unknown; logprobs?: unknown; responseFormat?: unknown }): void {
  if (r.logitBias !== undefined) {
    const problem = logitBiasProblem(r.logitBias);
    if (problem) throw new PayloadError(`request.${problem}`);
  }
  if (r.logprobs !== undefined) {
    const top = isObject(r.logprobs) ? r.logprobs.top : undefined;
    if (!Number.isInteger(top) || (top as number) < 0 || (top as number) > TOP_LOGPROBS_MAX) throw new PayloadError(`request.logprobs.top must be an integer from 0 to ${TOP_LOGPROBS_MAX}`);
  }
  if (r.responseFormat !== undefined) {
    const f = r.responseFormat;
    if (!isObject(f)) throw new PayloadError('request.responseFormat must be an object');
    if (f.type === 'json_schema') {
      if (typeof f.name !== 'string' || !isObject(f.schema)) throw new PayloadError('request.responseFormat needs a name and a schema');
    } else if (f.type !== 'json_object') throw new PayloadError('request.responseFormat.type must be json_object or json_schema');
  }
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBytes = (v: unknown): v is number[] => Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b < 256);

/** Parses the log probabilities of a delta event; null when malformed. */
export function parseTokenLogprobs(value: unknown): TokenLogprob[] | null {
  if (!Array.isArray(value)) return null;
  const out: TokenLogprob[] = [];
  for (const e of value) {
    if (!isObject(e) || typeof e.token !== 'string' || !num(e.logprob) || !isBytes(e.bytes) || !Array.isArray(e.top)) return null;
    const top: TokenLogprob['top'] = [];
    for (const t of e.top) {
      if (!isObject(t) || typeof t.token !== 'string' || !num(t.logprob) || !isBytes(t.bytes)) return null;
      top.push({ token: t.token, logprob: t.logprob, bytes: t.bytes });
    }
    out.push({ token: e.token, logprob: e.logprob, bytes: e.bytes, top });
  }
  return out;
}
