import { JobErrorCode, isJobErrorCode } from './job-errors';
import type { ToolCall } from './tools';
import { TokenLogprob, parseTokenLogprobs } from './output-controls';

/** `tool_calls`: the generation ended with calls of the request's tools (its `tool_call` events). */
export type FinishReason = 'stop' | 'length' | 'tool_calls';
const FINISH_REASONS: readonly unknown[] = ['stop', 'length', 'tool_calls'];

/**
 * A job's event stream, in order: `started` once per attempt, `delta`s numbered from 0,
 * then `usage` and `finished`, or an `error` at any point. `finished` and `error` end it.
 * `finished.deltas` is how many deltas the attempt wrote, so a reader can tell a complete
 * text from one whose last deltas were lost (absent from writers that predate it).
 * An attempt that continues an earlier one's text (see JobResume) says so in `started.fromDelta`:
 * its deltas are numbered from there, its `finished.deltas` counts the whole text's deltas,
 * and its `usage.completionTokens` every token generated for the job.
 * `usage.cachedPromptTokens` is how many of the prompt's tokens the node had cached from an
 * earlier job and did not evaluate again (absent from writers that predate it).
 * `tool_call`s, numbered from 0, are the calls of tools the generation ended with; they come
 * after the deltas, with `usage` and `finished` (whose reason is then `tool_calls`).
 * `error.param` names the request field that caused a client error, when one did.
 * A delta of a request that asked for log probabilities carries them for the tokens its text
 * holds (`logprobs`, in order; their texts joined are the delta's text, up to the stop).
 */
export type JobEvent =
  | { type: 'started'; attempt: number; nodeId: string; fromDelta?: number }
  /** `timing`: on an attempt's first delta only, the node's own account of it (see DeltaTiming). */
  | { type: 'delta'; index: number; text: string; timing?: DeltaTiming; logprobs?: TokenLogprob[] }
  | ({ type: 'tool_call'; index: number } & ToolCall)
  | { type: 'usage'; promptTokens: number; completionTokens: number; cachedPromptTokens?: number }
  | { type: 'finished'; finishReason: FinishReason; firstTokenMs: number; totalMs: number; deltas?: number }
  /** `retryAfterSeconds`: when trying again may succeed (a full queue), for the client's Retry-After. */
  | { type: 'error'; code: JobErrorCode; message: string; retryAfterSeconds?: number; param?: string };

/**
 * How long the node took to produce an attempt's first delta, in milliseconds on its own
 * clock: `nodeMs` from the job's arrival on the node to the delta's write, `runnerMs` of that
 * from asking the runner to its first text (the model's own work, IPC included). The api adds
 * its own steps to tell how much of the time to first token is Gridline's.
 */
export interface DeltaTiming {
  nodeMs: number;
  runnerMs: number;
}

export type TerminalJobEvent = Extract<JobEvent, { type: 'finished' | 'error' }>;

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Parses an event read back from Redis; null for anything malformed (never trusted blindly). */
/** A delta's timing as sent, or null (absent or malformed: it is only an account, never a reason to drop text). */
function timingOf(t: unknown): { timing: DeltaTiming } | null {
  if (typeof t !== 'object' || t === null) return null;
  const { nodeMs, runnerMs } = t as Record<string, unknown>;
  return num(nodeMs) && num(runnerMs) && nodeMs >= 0 && runnerMs >= 0 ? { timing: { nodeMs, runnerMs } } : null;
}

export function parseJobEvent(raw: string): JobEvent | null {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof e !== 'object' || e === null) return null;
  switch (e.type) {
    case 'started':
      if (!(num(e.attempt) && typeof e.nodeId === 'string')) return null;
      if (e.fromDelta !== undefined && !(Number.isInteger(e.fromDelta) && (e.fromDelta as number) >= 0)) return null;
      return { type: 'started', attempt: e.attempt, nodeId: e.nodeId, ...(e.fromDelta !== undefined ? { fromDelta: e.fromDelta as number } : {}) };
    case 'delta': {
      if (!(num(e.index) && typeof e.text === 'string')) return null;
      if (e.logprobs === undefined) return { type: 'delta', index: e.index, text: e.text, ...(timingOf(e.timing) ?? {}) };
      const logprobs = parseTokenLogprobs(e.logprobs);
      return logprobs ? { type: 'delta', index: e.index, text: e.text, ...(timingOf(e.timing) ?? {}), logprobs } : null;
    }
    case 'tool_call':
      if (!(Number.isInteger(e.index) && (e.index as number) >= 0 && typeof e.id === 'string' && typeof e.name === 'string' && typeof e.arguments === 'string')) return null;
      return { type: 'tool_call', index: e.index as number, id: e.id, name: e.name, arguments: e.arguments };
    case 'usage':
      if (!(num(e.promptTokens) && num(e.completionTokens))) return null;
      if (e.cachedPromptTokens !== undefined && !num(e.cachedPromptTokens)) return null;
      return {
        type: 'usage',
        promptTokens: e.promptTokens,
        completionTokens: e.completionTokens,
        ...(e.cachedPromptTokens !== undefined ? { cachedPromptTokens: e.cachedPromptTokens as number } : {}),
      };
    case 'finished':
      if (!(FINISH_REASONS.includes(e.finishReason) && num(e.firstTokenMs) && num(e.totalMs))) return null;
      if (e.deltas !== undefined && !num(e.deltas)) return null;
      return { type: 'finished', finishReason: e.finishReason as FinishReason, firstTokenMs: e.firstTokenMs, totalMs: e.totalMs, ...(e.deltas !== undefined ? { deltas: e.deltas as number } : {}) };
    case 'error':
      if (!isJobErrorCode(e.code) || typeof e.message !== 'string') return null;
      if (e.retryAfterSeconds !== undefined && !(Number.isInteger(e.retryAfterSeconds) && (e.retryAfterSeconds as number) > 0)) return null;
      if (e.param !== undefined && typeof e.param !== 'string') return null;
      return {
        type: 'error',
        code: e.code,
        message: e.message,
        ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds as number } : {}),
        ...(e.param !== undefined ? { param: e.param as string } : {}),
      };
    default:
      return null;
  }
}

/** What a finished job produced, assembled from its events. */
export interface JobOutput {
  text: string;
  finishReason: FinishReason;
  /** The calls of tools the generation ended with (finishReason `tool_calls`); absent when none. */
  toolCalls?: ToolCall[];
  promptTokens: number;
  /** Prompt tokens reused from the node's cache; null when the node did not report it. */
  cachedPromptTokens: number | null;
  completionTokens: number;
  firstTokenMs: number;
  totalMs: number;
}

/** The error a reader delivers instead of an attempt's text when some of its deltas were lost. */
export function streamInterrupted(missing: number): Extract<JobEvent, { type: 'error' }> {
  return { type: 'error', code: 'stream_interrupted', message: `the job's output is incomplete: delta ${missing} was lost on its way` };
}

/**
 * Checks, event by event, that one job's deltas arrive whole: per attempt, numbered from 0 (from
 * `started.fromDelta` for an attempt that continues an earlier one's text) without a hole, and as many as `finished` says were written. A repeated delta (a write
 * tried again) is fine. `check` returns the event to deliver: the event itself, or a
 * `stream_interrupted` error in place of the first one that shows deltas were lost.
 */
export class DeltaContinuity {
  private readonly next = new Map<number, number>();

  check(attempt: number, event: JobEvent): JobEvent {
    const expected = this.next.get(attempt) ?? 0;
    if (event.type === 'started' && event.fromDelta !== undefined && !this.next.has(attempt)) this.next.set(attempt, event.fromDelta);
    else if (event.type === 'delta') {
      if (event.index > expected) return streamInterrupted(expected);
      if (event.index === expected) this.next.set(attempt, expected + 1);
    } else if (event.type === 'finished' && event.deltas !== undefined && event.deltas > expected) {
      return streamInterrupted(expected);
    }
    return event;
  }
}

/**
 * Folds one attempt's events into its outcome: the output, an error, or null while it has
 * not ended. An attempt that continues earlier text (`started.fromDelta`) is given the earlier
 * attempts' deltas below `fromDelta` before its own events. Deltas are joined by index, so a repeated delta is counted once; a hole, or
 * fewer deltas than `finished` counts, is `stream_interrupted`, never a shorter answer.
 */
export function foldJobEvents(events: readonly JobEvent[]): { output: JobOutput } | { error: { code: JobErrorCode; message: string } } | null {
  const parts: string[] = [];
  let calls: ToolCall[] = [];
  let usage: Extract<JobEvent, { type: 'usage' }> | null = null;
  for (const e of events) {
    if (e.type === 'started') {
      parts.length = Math.min(parts.length, e.fromDelta ?? 0);
      usage = null;
      calls = [];
    } else if (e.type === 'delta') parts[e.index] = e.text;
    else if (e.type === 'tool_call') calls[e.index] = { id: e.id, name: e.name, arguments: e.arguments };
    else if (e.type === 'usage') usage = e;
    else if (e.type === 'error') return { error: { code: e.code, message: e.message } };
    else if (e.type === 'finished') {
      for (let i = 0; i < Math.max(parts.length, e.deltas ?? 0); i++) {
        if (parts[i] === undefined) {
          const { code, message } = streamInterrupted(i);
          return { error: { code, message } };
        }
      }
      return {
        output: {
          text: parts.join(''),
          finishReason: e.finishReason,
          ...(calls.length > 0 ? { toolCalls: calls.filter((c) => c !== undefined) } : {}),
          promptTokens: usage?.promptTokens ?? 0,
          cachedPromptTokens: usage?.cachedPromptTokens ?? null,
          completionTokens: usage?.completionTokens ?? 0,
          firstTokenMs: e.firstTokenMs,
          totalMs: e.totalMs,
        },
      };
    }
  }
  return null;
}
