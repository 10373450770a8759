import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { DomainError } from '@gridline/common';
import { GenerationResult, JobEvent } from '@gridline/scheduling';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { InferenceService } from '../jobs/inference.service';
import { ChatCompletionResponseDto, CreateChatCompletionDto } from './dto/chat-completion.dto';

const ERROR_STATUS: Record<string, number> = { no_replica: 503, timeout: 504, cancelled: 499 };

function completionId(jobId: string): string {
  return `chatcmpl-${jobId.replace(/-/g, '')}`;
}

function usage(r: GenerationResult) {
  return { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens };
}

function finishReason(r: GenerationResult): 'stop' | 'length' {
  return r.finishReason === 'length' ? 'length' : 'stop';
}

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(private readonly inference: InferenceService) {}

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a chat completion (OpenAI-compatible); `stream: true` answers with server-sent events' })
  @ApiOkResponse({ type: ChatCompletionResponseDto })
  @ApiBadRequestResponse({ description: 'Invalid request (OpenAI error shape)' })
  @ApiNotFoundResponse({ description: 'Unknown model' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateChatCompletionDto,
    @Req() req: Request & { id?: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<ChatCompletionResponseDto | void> {
    const job = await this.inference.submitChat(
      principal,
      {
        model: dto.model,
        messages: dto.messages,
        maxTokens: dto.max_completion_tokens ?? dto.max_tokens,
        temperature: dto.temperature,
        topP: dto.top_p,
        seed: dto.seed,
        stop: dto.stop,
      },
      req.id ? String(req.id) : null,
    );
    const id = completionId(job.jobId);
    const created = Math.floor(job.createdAt.getTime() / 1000);
    res.setHeader('x-gridline-job-id', job.jobId);
    if (dto.stream) return this.stream(res, job.events, { id, created, model: dto.model, includeUsage: dto.stream_options?.include_usage === true });

    for await (const event of job.events) {
      if (event.type === 'error') throw new DomainError(event.code, ERROR_STATUS[event.code] ?? 502, event.message);
      if (event.type === 'done') {
        const r = event.result;
        return {
          id,
          object: 'chat.completion',
          created,
          model: dto.model,
          choices: [{ index: 0, message: { role: 'assistant', content: r.text, refusal: null }, logprobs: null, finish_reason: finishReason(r) }],
          usage: usage(r),
          system_fingerprint: null,
        };
      }
    }
    throw new DomainError('job_lost', 502, 'the job ended without a result');
  }

  private async stream(
    res: Response,
    events: AsyncGenerator<JobEvent>,
    meta: { id: string; created: number; model: string; includeUsage: boolean },
  ): Promise<void> {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      send({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    let closed = false;
    res.on('close', () => {
      closed = true;
      void events.return(undefined);
    });
    chunk({ role: 'assistant', content: '' }, null);
    for await (const event of events) {
      if (closed) break;
      if (event.type === 'chunk') chunk({ content: event.text }, null);
      else if (event.type === 'error') send({ error: { message: event.message, type: 'api_error', param: null, code: event.code } });
      else {
        chunk({}, finishReason(event.result));
        if (meta.includeUsage) send({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices: [], usage: usage(event.result) });
      }
    }
    if (!closed) res.end('data: [DONE]\n\n');
  }
}
