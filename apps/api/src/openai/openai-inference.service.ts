import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiError } from '@gridline/common';
import { MESH_HOP_HEADER } from '@gridline/mesh';
import type { InferenceRequest, TokenLogprob } from '@gridline/contract';
import type { JobRecord } from '@gridline/db';
import { Principal } from '../auth/principal';
import { RequestTimeline, timelineOf } from '../common/request-timeline';
import { RelayStep, RelayedOutput, relayError, relayJob } from '../jobs/job-relay';
import { JobsService } from '../jobs/jobs.service';
import { ApiMetrics, InferenceRoute } from '../metrics/api-metrics';
import { ChatCompletionChoiceDto, ChatCompletionResponseDto, CompletionChoiceDto, CompletionResponseDto, CreateChatCompletionDto, CreateCompletionDto, UsageDto } from './dto/chat-completion.dto';
import { chatInput, toInferenceRequest } from './inference-body';
import { systemFingerprint } from './system-fingerprint';
import { toolCallChunk, toolCallsMessage, toolFields } from './tool-calls';

type Failure = Extract<RelayStep, { type: 'error' }>;
type FinishReason = RelayedOutput['finishReason'];

/**
 * How one OpenAI route words a job's output: chat (`chat.completion`, deltas of a message)
 * or plain completion (`text_completion`, text). Everything else (admission, relay, errors,
 * streaming) is shared.
 */
interface Shape {
  /** The route's name in the metrics. */
  route: InferenceRoute;
  idPrefix: string;
  chunkObject: string;
  /** The choice of the first chunk, sent when the stream opens (chat: the role); null: none. */
  opening: Record<string, unknown> | null;
  /** `logprobs`: the piece's log probabilities, in this route's shape (null: not asked for). */
  textChoice(text: string, logprobs: unknown): Record<string, unknown>;
  finishChoice(reason: FinishReason): Record<string, unknown>;
  /** A new writer of this route's `logprobs` objects for one answer (completions count text offsets across its pieces). */
  logprobs(): (entries: readonly TokenLogprob[]) => unknown;
}

const CHAT: Shape = {
  route: 'chat',
  idPrefix: 'chatcmpl',
  chunkObject: 'chat.completion.chunk',
  opening: { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
  textChoice: (text, logprobs) => ({ index: 0, delta: { content: text }, logprobs, finish_reason: null }),
  finishChoice: (reason) => ({ index: 0, delta: {}, logprobs: null, finish_reason: reason }),
  logprobs: () => (entries) => ({
    content: entries.map((e) => ({ token: e.token, logprob: e.logprob, bytes: e.bytes, top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })) })),
    refusal: null,
  }),
};

const COMPLETION: Shape = {
  route: 'completion',
  idPrefix: 'cmpl',
  chunkObject: 'text_completion',
  opening: null,
  textChoice: (text, logprobs) => ({ index: 0, text, logprobs, finish_reason: null }),
  finishChoice: (reason) => ({ index: 0, text: '', logprobs: null, finish_reason: reason }),
  logprobs: () => {
    // Offsets in the completion's text (in UTF-16 code units, as the text is a JSON string), from its first token.
    let offset = 0;
    return (entries) => ({
      tokens: entries.map((e) => e.token),
      token_logprobs: entries.map((e) => e.logprob),
      top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [t.token, t.logprob]))),
      text_offset: entries.map((e) => {
        const at = offset;
        offset += e.token.length;
        return at;
      }),
    });
  },
};

interface Meta {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

function usage(r: RelayedOutput): UsageDto {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    ...(r.cachedPromptTokens !== null ? { prompt_tokens_details: { cached_tokens: r.cachedPromptTokens } } : {}),
  };
}

/**
 * `x-gridline-overhead-ms`: the milliseconds of this request spent outside the model's own
 * work (up to the first output when streaming, the whole answer otherwise); `server-timing`:
 * where they went, step by step.
 */
function setTimingHeaders(res: Response, timeline: RequestTimeline): void {
  if (res.headersSent) return;
  res.setHeader('x-gridline-overhead-ms', timeline.overhead().toFixed(2));
  res.setHeader('server-timing', timeline.serverTiming());
}

/** POST /v1/chat/completions and POST /v1/completions: one synchronous job each, answered whole or streamed. */
@Injectable()
export class OpenAiInference {
  constructor(
    private readonly jobs: JobsService,
    private readonly metrics: ApiMetrics,
  ) {}

  async chat(p: Principal, dto: CreateChatCompletionDto, req: Request & { id?: string }, res: Response): Promise<ChatCompletionResponseDto | void> {
    const request = { ...toInferenceRequest(dto, chatInput(dto.messages)), ...toolFields(dto) };
    const done = await this.run(p, dto, request, CHAT, req, res);
    if (!done) return;
    const { meta, output, logprobs } = done;
    return {
      ...meta,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: output.text, refusal: null, ...toolCallsMessage(output) },
          logprobs: logprobs as ChatCompletionChoiceDto['logprobs'],
          finish_reason: output.finishReason,
        },
      ],
      usage: usage(output),
    };
  }

  async complete(p: Principal, dto: CreateCompletionDto, req: Request & { id?: string }, res: Response): Promise<CompletionResponseDto | void> {
    const done = await this.run(p, dto, toInferenceRequest(dto, { kind: 'completion', prompt: dto.prompt }), COMPLETION, req, res);
    if (!done) return;
    const { meta, output, logprobs } = done;
    // A completion has no tools, so never ends with calls.
    const finishReason = output.finishReason === 'tool_calls' ? 'stop' : output.finishReason;
    return { ...meta, object: 'text_completion', choices: [{ index: 0, text: output.text, logprobs: logprobs as CompletionChoiceDto['logprobs'], finish_reason: finishReason }], usage: usage(output) };
  }

  /** Admits the job and waits for it; a streamed answer is written here and gives undefined. */
  private async run(
    p: Principal,
    dto: CreateChatCompletionDto | CreateCompletionDto,
    request: InferenceRequest,
    shape: Shape,
    req: Request & { id?: string },
    res: Response,
  ): Promise<{ meta: Meta; output: RelayedOutput; logprobs: unknown } | undefined> {
    const timeline = timelineOf(req);
    timeline.mark('validate');
    const { job, model, quota } = await this.jobs.submit(p, dto.model, request, { mode: 'sync', requestId: req.id ? String(req.id) : null, timeline, fromPeer: req.headers[MESH_HOP_HEADER] !== undefined });
    // Log probabilities in the route's shape, when the request asked for them (null otherwise, as OpenAI).
    const logprobsOf = request.logprobs ? shape.logprobs() : null;
    res.setHeader('x-gridline-job-id', job.id);
    // Quotas: the rate-limit headers before anything is flushed; the slot is renewed until the response ends, however it ends.
    for (const [name, value] of Object.entries(quota.headers)) res.setHeader(name, value);
    if (res.destroyed) quota.done();
    else res.once('close', quota.done);
    const meta: Meta = {
      id: `${shape.idPrefix}-${job.id.replace(/-/g, '')}`,
      created: Math.floor(job.createdAt.getTime() / 1000),
      // The model that serves it: the one asked for, or the one its fallback chain chose.
      model: job.model,
      // A model served by an endpoint: what decides its text is the remote's.
      system_fingerprint: model ? systemFingerprint(model) : 'gl-remote',
    };
    if (dto.stream) {
      try {
        await this.stream(res, job, shape, meta, dto.stream_options?.include_usage === true, timeline, logprobsOf);
      } finally {
        this.observeFirstOutput(dto.model, true, timeline);
      }
      return undefined;
    }
    let last: RelayStep | null = null;
    await relayJob(this.jobs, job, res, (step) => {
      if (step.type !== 'text' && step.type !== 'tool_call') last = step;
      else if (step.type === 'text' && step.timing) timeline.markFirstOutput(step.timing);
    });
    this.observeFirstOutput(dto.model, false, timeline);
    const outcome = last as RelayStep | null;
    if (outcome?.type === 'error') throw relayError(outcome);
    if (outcome?.type !== 'done') throw new ApiError('cancelled');
    timeline.mark('generate');
    timeline.runnerMs = outcome.runnerMs;
    setTimingHeaders(res, timeline);
    this.metrics.observeOverhead(shape.route, false, timeline.overhead());
    return { meta, output: outcome.output, logprobs: logprobsOf ? logprobsOf(outcome.output.logprobs ?? []) : null };
  }

  private observeFirstOutput(model: string, stream: boolean, timeline: RequestTimeline): void {
    if (timeline.firstOutputMs !== null) this.metrics.observeFirstToken(model, stream, timeline.firstOutputMs);
  }

  /**
   * Server-sent events. The headers wait for the job's first output: a job that fails before
   * it produced anything (its request does not fit the context, it timed out) is answered with
   * its HTTP status and error body, as without streaming; after that, an error is an event.
   */
  private async stream(
    res: Response,
    job: JobRecord,
    shape: Shape,
    meta: Meta,
    includeUsage: boolean,
    timeline: RequestTimeline,
    logprobsOf: ((entries: readonly TokenLogprob[]) => unknown) | null,
  ): Promise<void> {
    const send = (data: unknown) => {
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const chunk = (choice: Record<string, unknown>) => send({ id: meta.id, object: shape.chunkObject, created: meta.created, model: meta.model, system_fingerprint: meta.system_fingerprint, choices: [choice] });
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      setTimingHeaders(res, timeline);
      this.metrics.observeOverhead(shape.route, true, timeline.overhead());
      res.status(200);
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-accel-buffering', 'no');
      res.flushHeaders();
      if (shape.opening) chunk(shape.opening);
    };
    let failure: Failure | null = null;
    await relayJob(this.jobs, job, res, (step) => {
      if (step.type === 'error' && !opened) {
        failure = step as Failure;
        return;
      }
      if (step.type === 'text' && !opened) timeline.markFirstOutput(step.timing);
      else if (step.type === 'tool_call' && !opened) timeline.markFirstOutput(undefined);
      open();
      if (step.type === 'text') chunk(shape.textChoice(step.text, logprobsOf ? logprobsOf(step.logprobs ?? []) : null));
      else if (step.type === 'tool_call') chunk(toolCallChunk(step.index, step.call));
      else if (step.type === 'error') send({ error: { message: step.message, type: step.status >= 500 ? 'api_error' : 'invalid_request_error', param: step.param ?? null, code: step.code } });
      else {
        chunk(shape.finishChoice(step.output.finishReason));
        if (includeUsage) send({ id: meta.id, object: shape.chunkObject, created: meta.created, model: meta.model, system_fingerprint: meta.system_fingerprint, choices: [], usage: usage(step.output) });
      }
    });
    const failed = failure as Failure | null;
    if (failed) throw relayError(failed);
    // Nothing was sent and nothing failed: the client went away (the job is cancelled).
    if (!opened) throw new ApiError('cancelled');
    if (!res.writableEnded && !res.destroyed) res.end('data: [DONE]\n\n');
  }
}
