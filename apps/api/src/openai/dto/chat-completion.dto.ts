import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { REQUEST_LIMITS } from '@gridline/contract';
import { SamplingFields } from './sampling-fields';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';
import { ToolCallDto, ToolDto } from './tool.dto';

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

/** OpenAI's `metadata`: up to 16 string values, keys up to 64 and values up to 512 characters. */
function IsMetadata() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isMetadata',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= 16 &&
          Object.entries(value).every(([k, v]) => k.length <= 64 && typeof v === 'string' && v.length <= 512),
        defaultMessage: () => 'metadata must be an object of up to 16 strings (keys up to 64, values up to 512 characters)',
      },
    });
}

const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority'];

/** `response_format`: an object whose `type` OpenAI defines (only `text` is served; see openai-parameters.ts). */
function IsResponseFormat() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isResponseFormat',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => typeof value === 'object' && value !== null && ['text', 'json_object', 'json_schema'].includes((value as { type?: unknown }).type as string),
        defaultMessage: () => 'response_format must be an object whose type is text, json_object or json_schema',
      },
    });
}

/** `tool_choice`: none, auto, required, or `{type: "function", function: {name}}`. */
function IsToolChoice() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isToolChoice',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => {
          if (['none', 'auto', 'required'].includes(value as string)) return true;
          const v = value as { type?: unknown; function?: { name?: unknown } } | null;
          return typeof v === 'object' && v !== null && v.type === 'function' && typeof v.function === 'object' && v.function !== null && typeof v.function.name === 'string' && Object.keys(v).length === 2;
        },
        defaultMessage: () => 'tool_choice must be none, auto, required or {"type": "function", "function": {"name": …}}',
      },
    });
}

export class ChatMessageDto {
  @ApiProperty({ enum: ['system', 'developer', 'user', 'assistant', 'tool'] })
  @IsIn(['system', 'developer', 'user', 'assistant', 'tool'])
  role!: 'system' | 'developer' | 'user' | 'assistant' | 'tool';

  @ApiProperty({
    nullable: true,
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object', properties: { type: { type: 'string', enum: ['text'] }, text: { type: 'string' } } } }],
    description: 'May be null (or left out) in an assistant message that has tool_calls',
  })
  @ValidateIf((m: ChatMessageDto) => !(m.role === 'assistant' && m.tool_calls !== undefined && (m.content === null || m.content === undefined)))
  @IsMessageContent()
  content!: string | { type: 'text'; text: string }[] | null;

  @ApiPropertyOptional({ type: [ToolCallDto], description: 'An assistant message: the tools it called (each answered by a following `tool` message)' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolCallDto)
  tool_calls?: ToolCallDto[];

  @ApiPropertyOptional({ description: 'A `tool` message: the id of the call whose result `content` is' })
  @ValidateIf((m: ChatMessageDto) => m.role === 'tool' || m.tool_call_id !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  tool_call_id?: string;

  @ApiPropertyOptional({ nullable: true, type: String, description: 'Accepted and ignored, so that a response message can be sent back as it is' })
  @IsOptional()
  @IsString()
  refusal?: string | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(64)
  name?: string;
}

export class StreamOptionsDto {
  @ApiPropertyOptional({ description: 'A last chunk with `usage` and no choices' })
  @IsOptional()
  @IsBoolean()
  include_usage?: boolean;

  @ApiPropertyOptional({ description: 'Accepted and ignored: chunks carry no obfuscation padding' })
  @IsOptional()
  @IsBoolean()
  include_obfuscation?: boolean;
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

  @ApiPropertyOptional({ description: 'Choices per request: only 1 is supported (any other value is 400 unsupported_parameter)', default: 1, minimum: 1, maximum: 128 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(128)
  n?: number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'number', minimum: -100, maximum: 100 },
    maxProperties: 1024,
    description:
      "Token id (of the model's tokenizer) to a bias added to the token's logit before sampling: -100 bans the token, 100 all but forces it, values in between shift its odds. An id outside the model's vocabulary fails the request with 400 invalid_request (param logit_bias)",
  })
  @IsOptional()
  @IsObject()
  logit_bias?: Record<string, number>;

  @ApiPropertyOptional({ description: 'End-user id; accepted and ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  user?: string;

  @ApiPropertyOptional({ description: 'Accepted and ignored: Gridline keeps no completions for later retrieval' })
  @IsOptional()
  @IsBoolean()
  store?: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string', maxLength: 512 }, maxProperties: 16, description: 'Accepted and ignored' })
  @IsOptional()
  @IsMetadata()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({ enum: SERVICE_TIERS, description: 'Accepted and ignored: every request is served alike' })
  @IsOptional()
  @IsIn(SERVICE_TIERS)
  service_tier?: string;
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

  @ApiPropertyOptional({ default: false, description: 'Return the log probability of each generated token (choices[].logprobs.content), from the generation pass itself' })
  @IsOptional()
  @IsBoolean()
  logprobs?: boolean;

  @ApiPropertyOptional({ minimum: 0, maximum: 20, description: 'With logprobs: true, the most likely tokens at each place, with their log probabilities' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  top_logprobs?: number;

  @ApiPropertyOptional({
    type: 'object',
    properties: {
      type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
      json_schema: { type: 'object', properties: { name: { type: 'string', maxLength: 64 }, description: { type: 'string' }, schema: { type: 'object', additionalProperties: true }, strict: { type: 'boolean', nullable: true } } },
    },
    description:
      "`json_object`: the output is JSON; `json_schema`: JSON valid against `json_schema.schema`, enforced by a grammar while generating. Schemas are held to what the grammar enforces, as tools' parameters (type, enum, const, oneOf, anyOf, $ref to $defs, properties, required, additionalProperties, items, prefixItems, min/max items, properties and length, string formats date, time, date-time): others are 400 unsupported_parameter, as is a JSON format with tools",
  })
  @IsOptional()
  @IsResponseFormat()
  response_format?: { type: string; json_schema?: { name?: string; description?: string; schema?: Record<string, unknown>; strict?: boolean | null } };

  @ApiPropertyOptional({ type: [ToolDto], description: 'Functions the model may call. Their parameters schemas constrain the arguments generated (a grammar), so only the keywords it honours are accepted; see the README' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @ValidateNested({ each: true })
  @Type(() => ToolDto)
  tools?: ToolDto[];

  @ApiPropertyOptional({
    oneOf: [{ type: 'string', enum: ['none', 'auto', 'required'] }, { type: 'object', properties: { type: { type: 'string', enum: ['function'] }, function: { type: 'object', properties: { name: { type: 'string' } } } } }],
    description: '`auto` (the default with tools): the model may call a function; `required`: it calls one; `{"type": "function", "function": {"name": …}}`: it calls that one; `none`: it answers in text',
  })
  @IsOptional()
  @IsToolChoice()
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

  @ApiPropertyOptional({ description: 'Accepted and ignored: a response holds at most one tool call' })
  @IsOptional()
  @IsBoolean()
  parallel_tool_calls?: boolean;
}

export class CreateCompletionDto extends InferenceBodyDto {
  @ApiProperty({ description: 'The text to continue, as is (no chat template)', maxLength: 1_000_000 })
  @IsString()
  @MaxLength(1_000_000)
  prompt!: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  stream?: boolean;

  @ApiPropertyOptional({ type: StreamOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => StreamOptionsDto)
  stream_options?: StreamOptionsDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 5, nullable: true, description: 'Return the log probability of each generated token and of the most likely `logprobs` tokens at its place (choices[].logprobs)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  logprobs?: number;

  @ApiPropertyOptional({ default: false, description: 'Only false is supported (true is 400 unsupported_parameter)' })
  @IsOptional()
  @IsBoolean()
  echo?: boolean;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 20, description: 'Only 1 is supported (others are 400 unsupported_parameter)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  best_of?: number;

  @ApiPropertyOptional({ description: 'Not supported: any value is 400 unsupported_parameter' })
  @IsOptional()
  @IsString()
  suffix?: string;
}

export class ChatCompletionMessageDto {
  @ApiProperty({ enum: ['assistant'] })
  role!: 'assistant';
  @ApiProperty({ nullable: true, type: String, description: 'null when the message is tool calls only' })
  content!: string | null;
  @ApiProperty({ nullable: true, type: String })
  refusal!: null;
  @ApiPropertyOptional({ type: [ToolCallDto], description: 'The tools the model called (finish_reason `tool_calls`)' })
  tool_calls?: ToolCallDto[];
}

export class TopLogprobDto {
  @ApiProperty()
  token!: string;
  @ApiProperty({ description: 'Natural log of the probability; -9999 for a token the sampler ruled out' })
  logprob!: number;
  @ApiProperty({ type: [Number], nullable: true, description: "The token's UTF-8 bytes" })
  bytes!: number[] | null;
}

export class ChatTokenLogprobDto extends TopLogprobDto {
  @ApiProperty({ type: [TopLogprobDto], description: 'The most likely tokens at this place (top_logprobs of them), most likely first' })
  top_logprobs!: TopLogprobDto[];
}

export class ChatLogprobsDto {
  @ApiProperty({ type: [ChatTokenLogprobDto], nullable: true })
  content!: ChatTokenLogprobDto[] | null;
  @ApiProperty({ type: [ChatTokenLogprobDto], nullable: true })
  refusal!: null;
}

export class ChatCompletionChoiceDto {
  @ApiProperty()
  index!: number;
  @ApiProperty({ type: ChatCompletionMessageDto })
  message!: ChatCompletionMessageDto;
  @ApiProperty({ type: ChatLogprobsDto, nullable: true, description: 'With logprobs: true; else null' })
  logprobs!: ChatLogprobsDto | null;
  @ApiProperty({ enum: ['stop', 'length', 'tool_calls'] })
  finish_reason!: 'stop' | 'length' | 'tool_calls';
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

/** What every completion answer carries besides its object and choices. */
abstract class CompletionEnvelopeDto {
  @ApiProperty({ example: 'chatcmpl-3f0c5f0e9d7c4c8f9b7f2b5c1d2e3f4a', description: '`chatcmpl-…` for chat, `cmpl-…` for plain completions' })
  id!: string;
  @ApiProperty({ description: 'Unix seconds' })
  created!: number;
  @ApiProperty()
  model!: string;
  @ApiProperty({ type: UsageDto })
  usage!: UsageDto;
  @ApiProperty({ example: 'gl-3b1f0c2a9d4e-c4096', description: 'The model file and the context it is served with; see the README' })
  system_fingerprint!: string;
}

export class ChatCompletionResponseDto extends CompletionEnvelopeDto {
  @ApiProperty({ enum: ['chat.completion'] })
  object!: 'chat.completion';
  @ApiProperty({ type: [ChatCompletionChoiceDto] })
  choices!: ChatCompletionChoiceDto[];
}

export class CompletionLogprobsDto {
  @ApiProperty({ type: [String] })
  tokens!: string[];
  @ApiProperty({ type: [Number] })
  token_logprobs!: number[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: { type: 'number' } }, description: 'Per token, the most likely tokens at its place and their log probabilities' })
  top_logprobs!: Record<string, number>[];
  @ApiProperty({ type: [Number], description: "Each token's offset in the text, in characters" })
  text_offset!: number[];
}

export class CompletionChoiceDto {
  @ApiProperty()
  index!: number;
  @ApiProperty()
  text!: string;
  @ApiProperty({ type: CompletionLogprobsDto, nullable: true, description: 'With logprobs set; else null' })
  logprobs!: CompletionLogprobsDto | null;
  @ApiProperty({ enum: ['stop', 'length'] })
  finish_reason!: 'stop' | 'length';
}

export class CompletionResponseDto extends CompletionEnvelopeDto {
  @ApiProperty({ enum: ['text_completion'] })
  object!: 'text_completion';
  @ApiProperty({ type: [CompletionChoiceDto] })
  choices!: CompletionChoiceDto[];
}

export class OpenAiModelDto {
  @ApiProperty({ example: 'demo' })
  id!: string;
  @ApiProperty({ enum: ['model'] })
  object!: 'model';
  @ApiProperty({ description: 'Unix seconds' })
  created!: number;
  @ApiProperty({ example: 'gridline', description: '`gridline` for a model of this installation, else the endpoint serving it' })
  owned_by!: string;
  @ApiProperty({ type: [String], example: ['local', 'peer-b'], description: 'Where it is served: `local` (this installation\'s fleet) and the endpoints that serve it under this name; not in OpenAI' })
  served_by!: string[];
}

export class ModelListDto {
  @ApiProperty({ enum: ['list'] })
  object!: 'list';
  @ApiProperty({ type: [OpenAiModelDto] })
  data!: OpenAiModelDto[];
}
