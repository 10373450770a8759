import { Logger } from '@nestjs/common';
import type { Response } from 'express';
import { ApiError, errorSummary } from '@gridline/common';
import { DeltaTiming, INPUT_PARAM, JOB_ERRORS, JobErrorCode, JobOutput, TokenLogprob, ToolCall } from '@gridline/contract';
import type { JobRecord } from '@gridline/db';
import type { JobEventSubscription } from '@gridline/messaging';
import type { JobsService } from './jobs.service';

/** What a synchronous client gets of a finished job (timings stay on the job row); `logprobs` when the request asked for them. */
export type RelayedOutput = Omit<JobOutput, 'firstTokenMs' | 'totalMs'> & { logprobs?: TokenLogprob[] };

/** What a relay hands to its sink, in order. */
export type RelayStep =
  /** `timing`: the node's account of the first text, on the first step only; `logprobs`: the text's tokens', when the request asked for them. */
  | { type: 'text'; text: string; timing?: DeltaTiming; logprobs?: TokenLogprob[] }
  /** A call of a tool the generation ended with, whole (they come after the text, before `done`). */
  | { type: 'tool_call'; index: number; call: ToolCall }
  /** `runnerMs`: the model's own time for the whole generation, as the node measured it. */
  | { type: 'done'; output: RelayedOutput; runnerMs: number }
  | { type: 'error'; code: JobErrorCode | 'timeout'; status: number; message: string; param?: string; retryAfterSeconds?: number };

const logger = new Logger('JobRelay');
/** How long a timed-out request waits for its job to be closed before it answers 504 anyway. */
const EXPIRE_WAIT_MS = 500;

/**
 * Relays one synchronous job's events to its client: text once and in order (deltas are
 * numbered; one attempt's text only, unless a later attempt continues it exactly where the
 * client's text stops), the outcome, or an error. The request's deadline holds
 * even when no event ever comes (504, and the job is expired); a client that goes away
 * cancels the job.
 */
export async function relayJob(jobs: JobsService, job: JobRecord, res: Response, sink: (step: RelayStep) => void): Promise<void> {
  const sub: JobEventSubscription = jobs.follow(job.id);
  let finished = false;
  const onClose = () => {
    if (finished || res.writableFinished) return;
    finished = true;
    sub.close();
    jobs.cancelById(job.id, 'the client disconnected').catch((e: Error) => logger.warn({ jobId: job.id }, `cancelling failed: ${errorSummary(e)}`));
  };
  res.on('close', onClose);
  // Gone while the job was being admitted: the close event has already fired.
  if (!res.socket || res.socket.destroyed) onClose();
  let deadline = job.deadlineAt.getTime();
  let expiring = false;
  let latestAttempt = 0;
  let textAttempt: number | null = null;
  let nextIndex = 0;
  let text = '';
  const toolCalls: ToolCall[] = [];
  let logprobs: TokenLogprob[] | null = null;
  let usage: Pick<RelayedOutput, 'promptTokens' | 'cachedPromptTokens' | 'completionTokens'> = { promptTokens: 0, cachedPromptTokens: null, completionTokens: 0 };
  try {
    for (;;) {
      const next = await sub.next(deadline);
      if (next === 'closed') return;
      if (next === 'timeout') {
        if (!expiring) {
          // Close the job before answering, so a node that wakes up later writes nothing more
          // (bounded, so a stalled database or Redis never holds the answer past the limit);
          // then whatever ended the stream is delivered: the timeout, or the node's own end if
          // it came first.
          expiring = true;
          const expired = jobs.expire(job.id).catch((e: Error) => logger.warn({ jobId: job.id }, `expiring failed: ${errorSummary(e)}`));
          await Promise.race([expired, new Promise((r) => setTimeout(r, EXPIRE_WAIT_MS).unref())]);
          deadline = Date.now() + EXPIRE_WAIT_MS;
          continue;
        }
        finished = true;
        sink({ type: 'error', code: 'timeout', status: 504, message: `the job did not finish within ${Math.round((job.deadlineAt.getTime() - job.createdAt.getTime()) / 1000)} s` });
        return;
      }
      const { attempt, event } = next;
      // An attempt that continues the text the client has (its node was lost while streaming) speaks from now on.
      if (event.type === 'started' && textAttempt !== null && attempt > textAttempt && event.fromDelta === nextIndex) textAttempt = attempt;
      // Only the newest attempt speaks; once one attempt's text went out, only that attempt.
      if (event.type !== 'error' && (attempt < latestAttempt || (textAttempt !== null && attempt !== textAttempt))) continue;
      switch (event.type) {
        case 'started':
          latestAttempt = Math.max(latestAttempt, attempt);
          break;
        case 'delta':
          // Never a delta twice.
          if (event.index < nextIndex) break;
          textAttempt = attempt;
          nextIndex = event.index + 1;
          if (event.logprobs) (logprobs ??= []).push(...event.logprobs);
          sink({ type: 'text', text: event.text, ...(text === '' && event.timing ? { timing: event.timing } : {}), ...(event.logprobs ? { logprobs: event.logprobs } : {}) });
          text += event.text;
          break;
        case 'tool_call':
          // Never a call twice (a write tried again).
          if (toolCalls[event.index] !== undefined) break;
          textAttempt = attempt;
          toolCalls[event.index] = { id: event.id, name: event.name, arguments: event.arguments };
          sink({ type: 'tool_call', index: event.index, call: toolCalls[event.index] });
          break;
        case 'usage':
          usage = { promptTokens: event.promptTokens, cachedPromptTokens: event.cachedPromptTokens ?? null, completionTokens: event.completionTokens };
          break;
        case 'finished':
          finished = true;
          sink({ type: 'done', output: { text, finishReason: event.finishReason, ...(toolCalls.length > 0 ? { toolCalls } : {}), ...usage, ...(logprobs ? { logprobs } : {}) }, runnerMs: event.totalMs });
          return;
        case 'error':
          finished = true;
          sink({
            type: 'error',
            code: event.code,
            status: JOB_ERRORS[event.code].status,
            message: event.message,
            ...(event.retryAfterSeconds !== undefined ? { retryAfterSeconds: event.retryAfterSeconds } : {}),
            // The runner's exact context check names the input, as the api's own check does; a
            // request the runner refused names its field.
            ...(event.code === 'context_length_exceeded' ? { param: INPUT_PARAM[job.kind] } : event.param ? { param: event.param } : {}),
          });
          return;
      }
    }
  } finally {
    res.off('close', onClose);
    sub.close();
  }
}

/** The error a non-streaming client gets for a failed job. */
export function relayError(step: Extract<RelayStep, { type: 'error' }>): ApiError {
  return new ApiError(step.code, step.message, { ...(step.param ? { param: step.param } : {}), ...(step.retryAfterSeconds !== undefined ? { retryAfterSeconds: step.retryAfterSeconds } : {}) });
}
