import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS } from '../common/api-errors.decorator';
import { ChatCompletionResponseDto, CompletionResponseDto, CreateChatCompletionDto, CreateCompletionDto } from './dto/chat-completion.dto';
import { OpenAiInference } from './openai-inference.service';

/** How a job can end badly for a client that waits on it (a cancelled one has no client left to tell). */
const JOB_FAILURES = ['invalid_request', 'context_length_exceeded', 'no_capacity', 'timeout', 'node_lost', 'runner_crashed', 'generation_failed'] as const;
const INFERENCE_ERRORS = [BODY_ERRORS, 'unsupported_parameter', 'model_not_allowed', 'model_not_found', 'rate_limit_exceeded', 'redis_memory_full', JOB_FAILURES] as const;

@ApiTags('openai')
@Authenticated({ scope: 'inference' })
@Controller('v1')
export class ChatCompletionsController {
  constructor(private readonly inference: OpenAiInference) {}

  @Post('chat/completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a chat completion (OpenAI-compatible); `stream: true` answers with server-sent events. The job id is in `x-gridline-job-id`.' })
  @ApiOkResponse({ type: ChatCompletionResponseDto })
  @ApiErrors(...INFERENCE_ERRORS)
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateChatCompletionDto, @Req() req: Request & { id?: string }, @Res({ passthrough: true }) res: Response): Promise<ChatCompletionResponseDto | void> {
    return this.inference.chat(p, dto, req, res);
  }

  @Post('completions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create a plain completion of a prompt, without the chat template (OpenAI-compatible); `stream: true` answers with server-sent events. The job id is in `x-gridline-job-id`.' })
  @ApiOkResponse({ type: CompletionResponseDto })
  @ApiErrors(...INFERENCE_ERRORS)
  complete(@CurrentPrincipal() p: Principal, @Body() dto: CreateCompletionDto, @Req() req: Request & { id?: string }, @Res({ passthrough: true }) res: Response): Promise<CompletionResponseDto | void> {
    return this.inference.complete(p, dto, req, res);
  }
}
