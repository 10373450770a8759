import { ApiError } from '@gridline/common';
import { InferenceInput, InferenceRequest, LogprobsRequest, ResponseFormat, logitBiasProblem, samplingFromOpenAi, toolSchemaProblem } from '@gridline/contract';
import type { ChatMessageDto, InferenceBodyDto } from './dto/chat-completion.dto';
import { unsupportedParameter } from './openai-parameters';
import { checkToolMessages, messageToolFields } from './tool-calls';

/**
 * OpenAI chat messages as the contract's: `developer` is a system message, text parts are
 * joined, an assistant's null content (tool calls only) is empty; tool calls and results must
 * pair up (400 naming `messages`).
 */
export function chatInput(messages: ChatMessageDto[]): InferenceInput {
  const out = messages.map((m) => ({
    role: m.role === 'developer' ? ('system' as const) : m.role,
    content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
    ...messageToolFields(m),
  }));
  checkToolMessages(out);
  return { kind: 'chat', messages: out };
}

/**
 * A validated OpenAI-shaped body as the normalized inference request. Without max_tokens the
 * request may use the rest of the model's context (the runner caps it). A parameter the
 * request cannot be served with is refused here (400 unsupported_parameter), before any job.
 */
export function toInferenceRequest(body: InferenceBodyDto, input: InferenceInput): InferenceRequest {
  const unsupported = unsupportedParameter(body);
  if (unsupported) throw unsupported;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    input,
    sampling: samplingFromOpenAi(body),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(body.stop !== undefined ? { stop: typeof body.stop === 'string' ? [body.stop] : body.stop } : {}),
    ...outputControls(body as object as Record<string, unknown>, input.kind),
  };
}

/**
 * `logit_bias`, `logprobs` / `top_logprobs` and `response_format` as the contract's output
 * controls, checked as far as the api can without the model (token ids against the
 * vocabulary are the runner's check). Values that change nothing (an empty bias, logprobs
 * false, the text format) leave them out.
 */
function outputControls(body: Record<string, unknown>, kind: InferenceInput['kind']): Pick<InferenceRequest, 'logitBias' | 'logprobs' | 'responseFormat'> {
  const out: Pick<InferenceRequest, 'logitBias' | 'logprobs' | 'responseFormat'> = {};
  if (body.logit_bias !== undefined && body.logit_bias !== null) {
    const problem = logitBiasProblem(body.logit_bias);
    if (problem) throw new ApiError('validation_failed', problem, { param: 'logit_bias' });
    if (Object.keys(body.logit_bias as object).length > 0) out.logitBias = body.logit_bias as Record<string, number>;
  }
  const logprobs = logprobsOf(body, kind);
  if (logprobs) out.logprobs = logprobs;
  const format = responseFormatOf(body.response_format);
  if (format) {
    // node-llama-cpp constrains either a function call or the answer, not both.
    const tools = Array.isArray(body.tools) && body.tools.length > 0 && body.tool_choice !== 'none';
    if (tools) throw new ApiError('unsupported_parameter', 'response_format: a JSON format cannot be combined with tools (with tool_choice other than "none")', { param: 'response_format' });
    out.responseFormat = format;
  }
  return out;
}

/** Chat: `logprobs: true` with `top_logprobs` alternatives (OpenAI refuses top_logprobs without logprobs); completions: `logprobs: n` alternatives. */
function logprobsOf(body: Record<string, unknown>, kind: InferenceInput['kind']): LogprobsRequest | null {
  if (kind === 'completion') return typeof body.logprobs === 'number' ? { top: body.logprobs } : null;
  const top = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
  if (body.logprobs !== true) {
    if (top > 0) throw new ApiError('validation_failed', 'top_logprobs needs logprobs: true', { param: 'top_logprobs' });
    return null;
  }
  return { top };
}

/** A json_schema's name as OpenAI allows it. */
const SCHEMA_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

function responseFormatOf(value: unknown): ResponseFormat | null {
  if (value === undefined || value === null) return null;
  const format = value as { type: string; json_schema?: unknown };
  if (format.type === 'text') return null;
  if (format.type === 'json_object') return { type: 'json_object' };
  const spec = format.json_schema as { name?: unknown; schema?: unknown; strict?: unknown } | undefined;
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new ApiError('validation_failed', 'response_format.json_schema must be an object with a name and a schema', { param: 'response_format' });
  if (typeof spec.name !== 'string' || !SCHEMA_NAME.test(spec.name)) throw new ApiError('validation_failed', 'response_format.json_schema.name must be 1 to 64 letters, digits, _ or -', { param: 'response_format' });
  if (spec.strict !== undefined && spec.strict !== null && typeof spec.strict !== 'boolean') throw new ApiError('validation_failed', 'response_format.json_schema.strict must be a boolean', { param: 'response_format' });
  if (typeof spec.schema !== 'object' || spec.schema === null || Array.isArray(spec.schema)) {
    throw new ApiError('unsupported_parameter', 'response_format.json_schema.schema is required: output is held to a schema given with the request', { param: 'response_format' });
  }
  // The subset node-llama-cpp's grammar enforces, as for a tool's parameters.
  const problem = toolSchemaProblem(spec.schema, 'response_format.json_schema.schema');
  if (problem) throw new ApiError('unsupported_parameter', `response_format: the JSON schema is not supported: ${problem}`, { param: 'response_format' });
  return { type: 'json_schema', name: spec.name, schema: spec.schema as Record<string, unknown> };
}
