import { InferenceRequest, SAMPLING_PARAMETERS, SamplingParameter, TokenLogprob, ToolCall } from '@gridline/contract';

/** The OpenAI route a request goes to on an endpoint. */
export function openAiPath(request: InferenceRequest): '/v1/chat/completions' | '/v1/completions' {
  return request.input.kind === 'chat' ? '/v1/chat/completions' : '/v1/completions';
}

/**
 * The normalized request as an OpenAI body for `model` on the endpoint: always streamed, with
 * the usage chunk asked for (usage is recorded for every job, and a stream lets text go out as
 * it comes and a cancelled client stop the remote at once).
 */
export function toOpenAiBody(request: InferenceRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model, stream: true, stream_options: { include_usage: true } };
  if (request.input.kind === 'chat') {
    body.messages = request.input.messages.map((m) => ({
      role: m.role,
      content: m.role === 'assistant' && m.toolCalls?.length && m.content === '' ? null : m.content,
      ...(m.toolCalls?.length ? { tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) } : {}),
      ...(m.toolCallId ? { tool_call_id: m.toolCallId } : {}),
    }));
  } else {
    body.prompt = request.input.prompt;
  }
  for (const [name, value] of Object.entries(request.sampling) as [SamplingParameter, number | undefined][]) {
    if (value !== undefined) body[SAMPLING_PARAMETERS[name].openai] = value;
  }
  if (request.maxTokens !== undefined) body.max_tokens = request.maxTokens;
  if (request.stop?.length) body.stop = request.stop;
  if (request.tools?.length) body.tools = request.tools.map((t) => ({ type: 'function', function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) } }));
  if (request.toolChoice !== undefined) body.tool_choice = typeof request.toolChoice === 'string' ? request.toolChoice : { type: 'function', function: { name: request.toolChoice.name } };
  if (request.logitBias) body.logit_bias = request.logitBias;
  if (request.logprobs) {
    if (request.input.kind === 'chat') {
      body.logprobs = true;
      if (request.logprobs.top > 0) body.top_logprobs = request.logprobs.top;
    } else {
      body.logprobs = request.logprobs.top;
    }
  }
  if (request.responseFormat) {
    body.response_format =
      request.responseFormat.type === 'json_object' ? { type: 'json_object' } : { type: 'json_schema', json_schema: { name: request.responseFormat.name, schema: request.responseFormat.schema } };
  }
  return body;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** What one streamed chunk of an OpenAI answer carries, as the job's events need it. */
export interface ChunkPieces {
  text: string;
  logprobs?: TokenLogprob[];
  /** Partial tool calls (OpenAI streams a call's arguments in pieces, by index). */
  toolCallParts: { index: number; id?: string; name?: string; arguments?: string }[];
  finishReason: FinishReason | null;
  usage: { promptTokens: number; completionTokens: number; cachedPromptTokens: number | null } | null;
}

const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length', tool_calls: 'tool_calls', function_call: 'tool_calls', content_filter: 'stop' };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function bytesOf(token: string, bytes: unknown): number[] {
  return Array.isArray(bytes) && bytes.every((b) => typeof b === 'number') ? (bytes as number[]) : [...Buffer.from(token, 'utf8')];
}

/** Chat chunks' `logprobs.content`, as the contract's. */
function chatLogprobs(lp: unknown): TokenLogprob[] | undefined {
  const content = (lp as { content?: unknown } | null)?.content;
  if (!Array.isArray(content)) return undefined;
  return content.map((e: { token?: unknown; logprob?: unknown; bytes?: unknown; top_logprobs?: unknown }) => {
    const token = typeof e.token === 'string' ? e.token : '';
    const top = Array.isArray(e.top_logprobs) ? (e.top_logprobs as { token?: unknown; logprob?: unknown; bytes?: unknown }[]) : [];
    return {
      token,
      logprob: num(e.logprob) ?? 0,
      bytes: bytesOf(token, e.bytes),
      top: top.map((t) => ({ token: typeof t.token === 'string' ? t.token : '', logprob: num(t.logprob) ?? 0, bytes: bytesOf(typeof t.token === 'string' ? t.token : '', t.bytes) })),
    };
  });
}

/**
 * One `data:` payload of a streamed chat or completion answer, read leniently (servers differ in
 * what they leave out); null when it is not an answer chunk at all.
 */
export function readChunk(data: unknown): ChunkPieces | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as { choices?: unknown; usage?: unknown };
  if (!Array.isArray(d.choices) && d.usage === undefined) return null;
  const pieces: ChunkPieces = { text: '', toolCallParts: [], finishReason: null, usage: null };
  const choice = Array.isArray(d.choices) ? (d.choices[0] as Record<string, unknown> | undefined) : undefined;
  if (choice) {
    // A streamed chunk's `delta`; a whole answer's `message` (a server that ignored `stream`).
    const delta = (choice.delta ?? choice.message) as { content?: unknown; tool_calls?: unknown } | undefined;
    if (delta && typeof delta.content === 'string') pieces.text = delta.content;
    else if (typeof choice.text === 'string') pieces.text = choice.text;
    if (delta && Array.isArray(delta.tool_calls)) {
      // A whole answer's calls carry no index: their place in the list is it.
      for (const [i, c] of (delta.tool_calls as { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[]).entries()) {
        pieces.toolCallParts.push({
          index: num(c.index) ?? i,
          ...(typeof c.id === 'string' ? { id: c.id } : {}),
          ...(typeof c.function?.name === 'string' ? { name: c.function.name } : {}),
          ...(typeof c.function?.arguments === 'string' ? { arguments: c.function.arguments } : {}),
        });
      }
    }
    const logprobs = chatLogprobs(choice.logprobs);
    if (logprobs?.length) pieces.logprobs = logprobs;
    if (typeof choice.finish_reason === 'string') pieces.finishReason = FINISH[choice.finish_reason] ?? 'stop';
  }
  if (typeof d.usage === 'object' && d.usage !== null) {
    const u = d.usage as { prompt_tokens?: unknown; completion_tokens?: unknown; prompt_tokens_details?: { cached_tokens?: unknown } };
    pieces.usage = { promptTokens: num(u.prompt_tokens) ?? 0, completionTokens: num(u.completion_tokens) ?? 0, cachedPromptTokens: num(u.prompt_tokens_details?.cached_tokens) };
  }
  return pieces;
}

/** Joins streamed tool-call parts into whole calls, by index. */
export class ToolCallAssembler {
  private readonly calls: { id: string; name: string; arguments: string }[] = [];

  add(parts: ChunkPieces['toolCallParts']): void {
    for (const p of parts) {
      const call = (this.calls[p.index] ??= { id: '', name: '', arguments: '' });
      if (p.id) call.id = p.id;
      if (p.name) call.name += p.name;
      if (p.arguments) call.arguments += p.arguments;
    }
  }

  done(): ToolCall[] {
    return this.calls.filter((c) => c !== undefined).map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.arguments }));
  }
}
