import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { JOB_ERROR_CODES, JOB_STATUSES, REQUEST_LIMITS } from '@gridline/contract';
import type { JobRecord } from '@gridline/db';
import { PageQueryDto } from '../../common/dto/page.dto';
import { ChatMessageDto, InferenceBodyDto } from '../../openai/dto/chat-completion.dto';

/** The body of /v1/chat/completions (with `messages`) or of a plain completion (with `prompt`), run asynchronously. */
export class CreateJobDto extends InferenceBodyDto {
  @ApiPropertyOptional({ type: [ChatMessageDto], description: 'Chat messages; give these or `prompt`' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(REQUEST_LIMITS.messages)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages?: ChatMessageDto[];

  @ApiPropertyOptional({ description: 'A plain prompt, continued without the chat template; give this or `messages`', maxLength: 1_000_000 })
  @IsOptional()
  @IsString()
  @MaxLength(1_000_000)
  prompt?: string;

  @ApiPropertyOptional({ default: 0, minimum: -100, maximum: 100, description: "Order among your team's jobs waiting for a busy model (higher first); teams share by their weights whatever the priority" })
  @IsOptional()
  @IsInt()
  @Min(-100)
  @Max(100)
  priority?: number;
}

/** Pages by cursor (newest first), so it takes the page size of the admin lists and no offset. */
export class JobQueryDto extends PickType(PageQueryDto, ['limit']) {
  @ApiPropertyOptional({ enum: JOB_STATUSES })
  @IsOptional()
  @IsIn(JOB_STATUSES)
  status?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(REQUEST_LIMITS.modelName)
  model?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Superadmins: one team's jobs only (others always see their own team's)" })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not one this api returned' })
  cursor?: string;
}

export class JobUsageDto {
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Of the prompt tokens, those the node had cached from an earlier job and did not evaluate again (null: not reported)' })
  cached_prompt_tokens!: number | null;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty() total_tokens!: number;
}

export class JobResultDto {
  @ApiProperty() text!: string;
  @ApiProperty({ enum: ['stop', 'length'] }) finish_reason!: string;
}

export class JobErrorDto {
  @ApiProperty({ enum: JOB_ERROR_CODES }) code!: string;
  @ApiProperty() message!: string;
}

export class JobTimingsDto {
  @ApiProperty({ description: 'When the job was accepted (ISO-8601)' }) queued_at!: string;
  @ApiProperty({ nullable: true, type: String }) dispatched_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) started_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) first_token_at!: string | null;
  @ApiProperty({ nullable: true, type: String }) finished_at!: string | null;
  @ApiProperty({ description: 'The job is expired if it has not ended by then' }) deadline_at!: string;
}

export class JobDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['job'] }) object!: 'job';
  @ApiProperty({ enum: JOB_STATUSES }) status!: string;
  @ApiProperty({ format: 'uuid', description: 'The team the job ran for' }) team_id!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['chat', 'completion'] }) kind!: string;
  @ApiProperty({ enum: ['sync', 'async'], description: 'sync: a client waited on /v1; async: submitted here' }) mode!: string;
  @ApiProperty({ description: 'Current try (a job lost before its first token is tried once more)' }) attempt!: number;
  @ApiProperty({ nullable: true, type: String }) node_id!: string | null;
  @ApiProperty({ nullable: true, type: String }) replica_id!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The endpoint (peer, Backend.AI cluster, OpenAI-compatible server) that ran it, when no local replica did' }) endpoint_id!: string | null;
  @ApiProperty({ type: JobTimingsDto }) timings!: JobTimingsDto;
  @ApiProperty({ type: JobUsageDto, nullable: true }) usage!: JobUsageDto | null;
  @ApiProperty({ type: JobResultDto, nullable: true }) result!: JobResultDto | null;
  @ApiProperty({ type: JobErrorDto, nullable: true }) error!: JobErrorDto | null;
}

export class JobListDto {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: [JobDto] }) data!: JobDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last' }) next_cursor!: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toJobDto(j: JobRecord): JobDto {
  return {
    id: j.id,
    object: 'job',
    status: j.status,
    team_id: j.teamId,
    model: j.model,
    kind: j.kind,
    mode: j.mode,
    attempt: j.attempt,
    node_id: j.nodeId,
    replica_id: j.replicaId,
    endpoint_id: j.endpointId,
    timings: {
      queued_at: j.createdAt.toISOString(),
      dispatched_at: iso(j.dispatchedAt),
      started_at: iso(j.startedAt),
      first_token_at: iso(j.firstTokenAt),
      finished_at: iso(j.finishedAt),
      deadline_at: j.deadlineAt.toISOString(),
    },
    usage:
      j.promptTokens !== null && j.completionTokens !== null
        ? { prompt_tokens: j.promptTokens, cached_prompt_tokens: j.cachedPromptTokens, completion_tokens: j.completionTokens, total_tokens: j.promptTokens + j.completionTokens }
        : null,
    result: j.result ? { text: j.result.text, finish_reason: j.result.finishReason } : null,
    error: j.errorCode ? { code: j.errorCode, message: j.errorMessage ?? '' } : null,
  };
}
