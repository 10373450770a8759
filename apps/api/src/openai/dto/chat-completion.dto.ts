import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { REQUEST_LIMITS } from '@gridline/contract';
import { SamplingFields } from './sampling-fields';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';

/** `content` is a string or an array of `{type: "text", text}` parts. */
function IsMessageContent() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' ||
          (Array.isArray(value) &&
            value.length > 0 &&
            value.every((p) => typeof p === 'object' && p !== null && (p as { type?: unknown }).type === 'text' && typeof (p as { text?: unknown }).text === 'string')),
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'content'} must be a string or an array of text parts`,
      },
    });
}

/** `stop` is a string or up to four strings. */
function IsStop() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isStop',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'string' && value.length > 0) ||
          (Array.isArray(value) && value.length <= REQUEST_LIMITS.stopSequences && value.every((s) => typeof s === 'string' && s.length > 0)),
        defaultMessage: () => 'stop must be a non-empty string or an array of up to 4 non-empty strings',
      },
    });
}

export class ChatMessageDto {
  @ApiProperty({ enum: ['system', 'developer', 'user', 'assistant'] })
  @IsIn(['system', 'developer', 'user', 'assistant'])
  role!: 'system' | 'developer' | 'user' | 'assistant';

  @ApiProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { type: { type: 'string', enum: ['text'] }, text: { type: 'string' } } } }] })
  @IsMessageContent()
  content!: string | { type: 'text'; text: string }[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;
}

export class StreamOptionsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;
}

/** The fields every inference body shares (chat, plain completion, asynchronous job). */
export class InferenceBodyDto extends SamplingFields() {
  @ApiProperty({ example: 'demo' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(REQUEST_LIMITS.modelName)
  model!: string;

  @ApiPropertyOptional({
    minimum: REQUEST_LIMITS.maxTokens.min,
    maximum: REQUEST_LIMITS.maxTokens.max,
    description: `The most tokens to generate. The prompt's tokens plus this must fit the model's context (else 400 context_length_exceeded); left out, generation may go on to the end of the context, at most ${REQUEST_LIMITS.maxTokens.max} tokens`,
  })
  @IsOptional()
  @IsInt()
  @Min(REQUEST_LIMITS.maxTokens.min)
  @Max(REQUEST_LIMITS.maxTokens.max)
  max_tokens?: number;

  @ApiPropertyOptional({ minimum: REQUEST_LIMITS.maxTokens.min, maximum: REQUEST_LIMITS.maxTokens.max, description: 'Same as max_tokens; wins when both are given' })
  @IsOptional()
  @IsInt()
  @Min(REQUEST_LIMITS.maxTokens.min)
  @Max(REQUEST_LIMITS.maxTokens.max)
  max_completion_tokens?: number;

  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: REQUEST_LIMITS.stopSequences }] })
  @IsOptional()
  @IsStop()
  stop?: string | string[];

  @ApiPropertyOptional({ description: 'Only 1 is supported', default: 1 })
  @IsOptional()
  @Equals(1, { message: 'n must be 1' })
  n?: number;

  @ApiPropertyOptional({ description: 'End-user id, recorded with the job' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;
}

export class CreateChatCompletionDto extends InferenceBodyDto {
  @ApiProperty({ type: [ChatMessageDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(REQUEST_LIMITS.messages)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;
}

export class ChatCompletionMessageDto {
  @ApiProperty({ enum: ['assistant'] })
  role!: 'assistant';
  @ApiProperty()
  content!: string;
  @ApiProperty({ nullable: true, type: String })
  refusal!: null;
}

export class ChatCompletionChoiceDto {
  @ApiProperty()
  index!: number;
  @ApiProperty({ type: ChatCompletionMessageDto })
  message!: ChatCompletionMessageDto;
  @ApiProperty({ nullable: true, type: Object })
  logprobs!: null;
  @ApiProperty({ enum: ['stop', 'length'] })
  finish_reason!: 'stop' | 'length';
}

export class PromptTokensDetailsDto {
  @ApiProperty({ description: 'Prompt tokens the node had cached from an earlier request and did not evaluate again' })
  cached_tokens!: number;
}

export class UsageDto {
  @ApiProperty()
  prompt_tokens!: number;
  @ApiProperty()
  completion_tokens!: number;
  @ApiProperty()
  total_tokens!: number;
  @ApiPropertyOptional({ type: PromptTokensDetailsDto, description: 'Absent when the node did not report its cache use' })
  prompt_tokens_details?: PromptTokensDetailsDto;
}

export class ChatCompletionResponseDto {
  @ApiProperty({ example: 'chatcmpl-3f0c5f0e9d7c4c8f9b7f2b5c1d2e3f4a' })
  id!: string;
  @ApiProperty({ enum: ['chat.completion'] })
  object!: 'chat.completion';
  @ApiProperty({ description: 'Unix seconds' })
  created!: number;
  @ApiProperty()
  model!: string;
  @ApiProperty({ type: [ChatCompletionChoiceDto] })
  choices!: ChatCompletionChoiceDto[];
  @ApiProperty({ type: UsageDto })
  usage!: UsageDto;
  @ApiProperty({ nullable: true, type: String })
  system_fingerprint!: null;
}

export class ModelDto {
  @ApiProperty({ example: 'demo' })
  id!: string;
  @ApiProperty({ enum: ['model'] })
  object!: 'model';
  @ApiProperty({ description: 'Unix seconds' })
  created!: number;
  @ApiProperty({ example: 'gridline' })
  owned_by!: string;
}

export class ModelListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [ModelDto] })
  data!: ModelDto[];
}
