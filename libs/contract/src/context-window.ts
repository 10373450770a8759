import { InferenceInput, InferenceRequest, REQUEST_LIMITS } from './inference-request';

/**
 * The context window of a served model: what a request may use of it, and the one refusal
 * when it asks for more. Two places check, with the same rule and the same message:
 *
 * - the api, before a job is queued, with a lower bound of the prompt's tokens (it cannot
 *   tokenize): it refuses only what certainly overflows;
 * - the runner, before it generates, with the exact count of the rendered prompt.
 *
 * The rule, as OpenAI's: prompt tokens + max_tokens <= the context (per sequence). A request
 * without max_tokens may generate up to the rest of the context, at most
 * REQUEST_LIMITS.maxTokens.max tokens, and needs room for one.
 */

/** The request field a context overflow names. */
export const INPUT_PARAM = { chat: 'messages', completion: 'prompt' } as const satisfies Record<InferenceInput['kind'], string>;

/** What an agent announces of a model it serves, so the api can refuse certain overflows cheaply. */
export interface ServedContext {
  /** Tokens of context per sequence: prompt and completion of one request together. */
  contextTokens: number;
  /**
   * UTF-8 bytes of input text that one token of the vocabulary covers at most; null when the
   * tokenizer rewrites its input (lowercasing, stripped accents or whitespace), so that text
   * bytes bound nothing.
   */
  maxTokenBytes: number | null;
}

export interface ContextDemand {
  kind: InferenceInput['kind'];
  /** Tokens of context per sequence. */
  contextTokens: number;
  /** Tokens of the rendered prompt, or a lower bound of them when `estimated`. */
  promptTokens: number;
  /** The request's max_tokens; undefined: up to the rest of the context. */
  maxTokens?: number;
  /** `promptTokens` is a lower bound (the api's), not the exact count (the runner's). */
  estimated?: boolean;
  /**
   * The longest prompt the runtime can take whole (default: one token less than the context,
   * to leave room for one completion token).
   */
  promptLimit?: number;
}

/** Tokens a request may generate: its max_tokens, or the rest of the context (capped). */
export function completionBudget(contextTokens: number, promptTokens: number, maxTokens?: number): number {
  return maxTokens ?? Math.max(0, Math.min(contextTokens - promptTokens, REQUEST_LIMITS.maxTokens.max));
}

/**
 * The client's message when the demand does not fit the context, else null. Numbers only: no
 * text of the request.
 */
export function contextOverflow(d: ContextDemand): string | null {
  const what = d.kind === 'chat' ? 'messages' : 'prompt';
  const atLeast = d.estimated ? 'at least ' : '';
  const limit = `This model's maximum context length is ${d.contextTokens} tokens.`;
  if (d.maxTokens !== undefined && d.promptTokens + d.maxTokens > d.contextTokens) {
    return (
      `${limit} However, you requested ${atLeast}${d.promptTokens + d.maxTokens} tokens ` +
      `(${atLeast}${d.promptTokens} in the ${what}, ${d.maxTokens} in the completion). ` +
      `Please reduce the length of the ${what} or completion.`
    );
  }
  const promptLimit = Math.min(d.promptLimit ?? d.contextTokens - 1, d.contextTokens - 1);
  if (d.promptTokens > promptLimit) {
    const subject = d.kind === 'chat' ? 'your messages' : 'your prompt';
    const noRoom = d.promptTokens <= d.contextTokens ? ', which leaves no room for the completion' : '';
    return `${limit} However, ${subject} resulted in ${atLeast}${d.promptTokens} tokens${noRoom}. Please reduce the length of the ${what}.`;
  }
  return null;
}

/**
 * The api's check, before a job is queued: the message when the request certainly does not
 * fit (its prompt's tokens bounded from below by its bytes), else null; nothing to check
 * against until an agent announced how it serves the model.
 */
export function certainOverflow(served: ServedContext | undefined, request: InferenceRequest): string | null {
  if (!served?.maxTokenBytes) return null;
  return contextOverflow({
    kind: request.input.kind,
    contextTokens: served.contextTokens,
    promptTokens: promptTokensLowerBound(request.input, served.maxTokenBytes),
    maxTokens: request.maxTokens,
    estimated: true,
  });
}

/** Whitespace any chat template may strip around a message: JavaScript's, and Python's U+001C-U+001F and U+0085. */
function isEdgeSpace(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return /\s/.test(ch) || (c >= 0x1c && c <= 0x1f) || c === 0x85;
}

/** The text without the whitespace at either end (scanned, not a regex: no backtracking on long runs). */
function trimmed(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isEdgeSpace(s[start])) start++;
  while (end > start && isEdgeSpace(s[end - 1])) end--;
  return s.slice(start, end);
}

/**
 * UTF-8 bytes of the input that every rendering keeps, so that each of them is covered by a
 * prompt token: a plain prompt whole; of chat messages, the system and user texts without
 * surrounding whitespace (templates may trim them). Assistant turns are left out: templates
 * of reasoning models rewrite them (earlier thoughts are dropped).
 */
export function keptInputBytes(input: InferenceInput): number {
  if (input.kind === 'completion') return utf8Bytes(input.prompt);
  let bytes = 0;
  for (const m of input.messages) if (m.role !== 'assistant') bytes += utf8Bytes(trimmed(m.content));
  return bytes;
}

/** A sound lower bound of the prompt's tokens: no token covers more than `maxTokenBytes` bytes of it. */
export function promptTokensLowerBound(input: InferenceInput, maxTokenBytes: number): number {
  return Math.ceil(keptInputBytes(input) / maxTokenBytes);
}

function utf8Bytes(s: string): number {
  // Counted without encoding (prompts may be megabytes); a lone surrogate counts as U+FFFD (3).
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
