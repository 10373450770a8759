import { LogitBias, LogprobsRequest, ResponseFormat, assertOutputControls } from './output-controls';
import { PayloadError, assertShape } from './shape';
import { ToolCall, ToolChoice, ToolFunction, assertToolFields } from './tools';

/**
 * The normalized inference request: what every edge (the OpenAI routes, the jobs API, the
 * queues, the runner) maps to and from. Nothing else redeclares it.
 */

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';
export const CHAT_ROLES: readonly ChatRole[] = ['system', 'user', 'assistant', 'tool'];

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** An assistant message's calls of tools (see tools.ts). */
  toolCalls?: ToolCall[];
  /** A `tool` message: the call whose result `content` is. */
  toolCallId?: string;
}

/** Chat messages rendered with the model's chat template, or a plain prompt continued as is. */
export type InferenceInput = { kind: 'chat'; messages: ChatMessage[] } | { kind: 'completion'; prompt: string };

/** A numeric sampling parameter: its OpenAI field name, its bounds and its default. */
export interface NumericParameter {
  readonly openai: string;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  /** Applied by the runner when the request leaves the parameter out. */
  readonly default?: number;
  readonly description: string;
}

/**
 * Every numeric sampling parameter. The api's request DTOs derive their fields and
 * validation from this table, and the normalizer below maps them, so adding a parameter
 * means one entry here and its mapping in the runner.
 */
export const SAMPLING_PARAMETERS = {
  temperature: { openai: 'temperature', integer: false, min: 0, max: 2, default: 1, description: 'Sampling temperature; 0 picks the most likely token (greedy)' },
  topP: { openai: 'top_p', integer: false, min: 0, max: 1, default: 1, description: 'Nucleus sampling: sample among the most likely tokens whose probabilities add up to top_p' },
  seed: { openai: 'seed', integer: true, min: 0, max: 4294967295, description: 'Seed for sampling; the same seed and request give the same text' },
  topK: { openai: 'top_k', integer: true, min: 0, max: 1000, description: 'Sample among the k most likely tokens only (0: all); not in OpenAI, as in llama.cpp and vLLM' },
  frequencyPenalty: {
    openai: 'frequency_penalty',
    integer: false,
    min: -2,
    max: 2,
    default: 0,
    description: "Lowers a token's logit by this times the number of times it occurs in the text generated so far (negative: raises it); llama.cpp's penalty, over the whole completion",
  },
  presencePenalty: {
    openai: 'presence_penalty',
    integer: false,
    min: -2,
    max: 2,
    default: 0,
    description: 'Lowers the logit of every token that occurs in the text generated so far by this (negative: raises it); llama.cpp\'s penalty, over the whole completion',
  },
} as const satisfies Record<string, NumericParameter>;

export type SamplingParameter = keyof typeof SAMPLING_PARAMETERS;
export type Sampling = { [K in SamplingParameter]?: number };
/** The same parameters under their OpenAI names, as request bodies carry them. */
export type OpenAiSamplingFields = { [K in SamplingParameter as (typeof SAMPLING_PARAMETERS)[K]['openai']]?: number };

/** Bounds of a request that are not sampling parameters. */
export const REQUEST_LIMITS = {
  /** Left out, a request may generate up to the rest of the model's context, at most `max` tokens. */
  maxTokens: { min: 1, max: 32768 },
  stopSequences: 4,
  messages: 512,
  modelName: 256,
} as const;

export interface InferenceRequest {
  input: InferenceInput;
  sampling: Sampling;
  /** Generation ends before any of these strings; they are not part of the text. */
  stop?: string[];
  /** The most tokens to generate; left out: up to the rest of the context (see context-window.ts). */
  maxTokens?: number;
  /** Functions the model may call (chat only); see tools.ts. */
  tools?: ToolFunction[];
  /** Left out: `auto` when there are tools. */
  toolChoice?: ToolChoice;
  /** OpenAI's `logit_bias`: token id to a bias added to its logit (see output-controls.ts). */
  logitBias?: LogitBias;
  /** Return the generated tokens' log probabilities (in the deltas). */
  logprobs?: LogprobsRequest;
  /** Constrain the output to JSON, or to JSON valid against a schema. */
  responseFormat?: ResponseFormat;
}

/** Picks the sampling parameters out of an OpenAI-shaped body (already validated). */
export function samplingFromOpenAi(body: object): Sampling {
  const out: Sampling = {};
  const fields = body as Record<string, unknown>;
  for (const [name, spec] of Object.entries(SAMPLING_PARAMETERS) as [SamplingParameter, NumericParameter][]) {
    const v = fields[spec.openai];
    if (typeof v === 'number') out[name] = v;
  }
  return out;
}

/** The value the runner uses: the request's, else the parameter's default (undefined: the runtime decides). */
export function samplingValue(sampling: Sampling, name: SamplingParameter): number | undefined {
  const spec: NumericParameter = SAMPLING_PARAMETERS[name];
  return sampling[name] ?? spec.default;
}

/** Greedy or seeded: the same request gives the same tokens again (so a lost attempt's text can be generated again exactly). */
export function isDeterministic(request: InferenceRequest): boolean {
  return samplingValue(request.sampling, 'temperature') === 0 || request.sampling.seed !== undefined;
}

function numberWithin(what: string, v: unknown, spec: { min: number; max: number; integer?: boolean }): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.min || v > spec.max || (spec.integer && !Number.isInteger(v))) {
    throw new PayloadError(`${what} must be ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}`);
  }
}

/** Validates a request as it comes back from Redis or a JSON column. */
export function assertInferenceRequest(value: unknown): asserts value is InferenceRequest {
  assertShape('request', value, { input: 'object', sampling: 'object', stop: 'array?', maxTokens: 'number?', tools: 'array?' });
  const r = value as InferenceRequest;
  if (r.maxTokens !== undefined) numberWithin('request.maxTokens', r.maxTokens, { ...REQUEST_LIMITS.maxTokens, integer: true });
  if (r.input.kind === 'chat') {
    assertShape('request.input', r.input, { messages: 'array' });
    if (r.input.messages.length === 0) throw new PayloadError('request.input.messages is empty');
    for (const m of r.input.messages) {
      assertShape('message', m, { role: 'string', content: 'string' });
      if (!CHAT_ROLES.includes(m.role)) throw new PayloadError('message.role is unknown');
    }
    assertToolFields(r, r.input.messages);
  } else if (r.input.kind === 'completion') {
    assertShape('request.input', r.input, { prompt: 'string' });
    if (r.tools !== undefined || r.toolChoice !== undefined) throw new PayloadError('a completion takes no tools');
  } else {
    throw new PayloadError('request.input.kind must be chat or completion');
  }
  for (const [name, v] of Object.entries(r.sampling)) {
    const spec = (SAMPLING_PARAMETERS as Record<string, NumericParameter>)[name];
    if (!spec) throw new PayloadError(`request.sampling.${name} is unknown`);
    numberWithin(`request.sampling.${name}`, v, spec);
  }
  if (r.stop && !r.stop.every((s) => typeof s === 'string')) throw new PayloadError('request.stop must hold strings');
  assertOutputControls(r);
}

/** A chat request (tools, tests, benchmarks); without maxTokens it may fill the context. */
export function chatRequest(
  messages: ChatMessage[],
  options: { maxTokens?: number; sampling?: Sampling; stop?: string[]; tools?: ToolFunction[]; toolChoice?: ToolChoice } = {},
): InferenceRequest {
  return {
    input: { kind: 'chat', messages },
    sampling: options.sampling ?? {},
    ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}),
    ...(options.stop ? { stop: options.stop } : {}),
    ...(options.tools ? { tools: options.tools } : {}),
    ...(options.toolChoice !== undefined ? { toolChoice: options.toolChoice } : {}),
  };
}
