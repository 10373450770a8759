import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiError } from '@gridline/common';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS } from '../common/api-errors.decorator';
import { RelayStep, RelayedOutput, relayError, relayJob } from '../jobs/job-relay';
import { JobsService } from '../jobs/jobs.service';
import { ChatCompletionResponseDto, CreateChatCompletionDto, UsageDto } from './dto/chat-completion.dto';
import { chatInput, toInferenceRequest } from './inference-body';

function completionId(jobId: string): string {
  return `chatcmpl-${jobId.replace(/-/g, '')}`;
}

function usage(r: RelayedOutput): UsageDto {
  return {
    prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens,
    total_tokens: r.promptTokens + r.completionTokens,
    ...(r.cachedPromptTokens !== null ? { prompt_tokens_details: { cached_tokens: r.cachedPromptTokens } } : {}),
  };
}

/** How a job can end badly for a client that waits on it (a cancelled one has no client left to tell). */
const JOB_FAILURES = ['invalid_request', 'context_length_exceeded', 'no_capacity', 'timeout', 'node_lost', 'runner_crashed', 'generation_failed'] as const;

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(private readonly jobs: JobsService) {}

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a chat completion (OpenAI-compatible); `stream: true` answers with server-sent events. The job id is in `x-gridline-job-id`.' })
  @ApiOkResponse({ type: ChatCompletionResponseDto })
  @ApiErrors(BODY_ERRORS, 'model_not_allowed', 'model_not_found', 'redis_memory_full', JOB_FAILURES)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateChatCompletionDto,
    @Req() req: Request & { id?: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<ChatCompletionResponseDto | void> {
    const { job } = await this.jobs.submit(principal, dto.model, toInferenceRequest(dto, chatInput(dto.messages)), { mode: 'sync', requestId: req.id ? String(req.id) : null });
    res.setHeader('x-gridline-job-id', job.id);
    const meta = { id: completionId(job.id), created: Math.floor(job.createdAt.getTime() / 1000), model: dto.model };
    if (dto.stream) return this.stream(res, job, { ...meta, includeUsage: dto.stream_options?.include_usage === true });

    let last: RelayStep | null = null;
    await relayJob(this.jobs, job, res, (step) => {
      if (step.type !== 'text') last = step;
    });
    const outcome = last as RelayStep | null;
    if (outcome?.type === 'error') throw relayError(outcome);
    if (outcome?.type !== 'done') throw new ApiError('cancelled');
    const r = outcome.output;
    return {
      ...meta,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null, finish_reason: r.finishReason }],
      usage: usage(r),
      system_fingerprint: null,
    };
  }

  /**
   * Server-sent events. The headers wait for the job's first output: a job that fails before
   * it produced anything (its request does not fit the context, it timed out) is answered with
   * its HTTP status and error body, as without streaming; after that, an error is an event.
   */
  private async stream(res: Response, job: Parameters<typeof relayJob>[1], meta: { id: string; created: number; model: string; includeUsage: boolean }): Promise<void> {
    const send = (data: unknown) => {
      if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      send({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      res.status(200);
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-accel-buffering', 'no');
      res.flushHeaders();
      chunk({ role: 'assistant', content: '' }, null);
    };
    let failure: Extract<RelayStep, { type: 'error' }> | null = null;
    await relayJob(this.jobs, job, res, (step) => {
      if (step.type === 'error' && !opened) {
        failure = step as Extract<RelayStep, { type: 'error' }>;
        return;
      }
      open();
      if (step.type === 'text') chunk({ content: step.text }, null);
      else if (step.type === 'error') send({ error: { message: step.message, type: step.status >= 500 ? 'api_error' : 'invalid_request_error', param: step.param ?? null, code: step.code } });
      else {
        chunk({}, step.output.finishReason);
        if (meta.includeUsage) send({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: null, choices: [], usage: usage(step.output) });
      }
    });
    const failed = failure as Extract<RelayStep, { type: 'error' }> | null;
    if (failed) throw relayError(failed);
    // Nothing was sent and nothing failed: the client went away (the job is cancelled).
    if (!opened) throw new ApiError('cancelled');
    if (!res.writableEnded && !res.destroyed) res.end('data: [DONE]\n\n');
  }
}
