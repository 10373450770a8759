import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { KV_CACHE_TYPES } from '@gridline/models';
import { toBool } from '../../common/validators';

export const DEPLOYMENT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PLACEMENTS = ['binpack', 'spread'] as const;
const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export class DryRunQueryDto {
  @ApiPropertyOptional({ default: false, description: 'Return the plan without applying it' })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  dryRun?: boolean;
}

/** The llama.cpp settings that change memory (and what each replica serves). */
export class RuntimeDto {
  @ApiPropertyOptional({ default: 4096, minimum: 256, maximum: 1_048_576, description: 'Tokens of context per sequence' })
  @IsOptional()
  @IsInt()
  @Min(256)
  @Max(1_048_576)
  contextSize?: number;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 256, description: 'Sequences decoded together (concurrent requests per replica)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(256)
  parallel?: number;

  @ApiPropertyOptional({ enum: KV_CACHE_TYPES, default: 'f16' })
  @IsOptional()
  @IsIn(KV_CACHE_TYPES)
  kvCacheType?: (typeof KV_CACHE_TYPES)[number];

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @IsBoolean()
  flashAttention?: boolean;

  @ApiPropertyOptional({ default: 2048, minimum: 1, maximum: 65536 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65536)
  batchSize?: number;

  @ApiPropertyOptional({ default: 512, minimum: 1, maximum: 65536 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65536)
  ubatchSize?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 10000, description: 'Layers on GPUs (default: all, plus the output layer)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10000)
  gpuLayers?: number;
}

export class SelectorRequirementDto {
  @ApiProperty() @IsString() @MaxLength(253) key!: string;
  @ApiProperty({ enum: SELECTOR_OPERATORS }) @IsIn(SELECTOR_OPERATORS) operator!: (typeof SELECTOR_OPERATORS)[number];
  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  values?: string[];
}

export class LabelSelectorDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { 'gridline.dev/gpu': 'a100' } })
  @IsOptional()
  @IsObject()
  matchLabels?: Record<string, string>;

  @ApiPropertyOptional({ type: [SelectorRequirementDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => SelectorRequirementDto)
  matchExpressions?: SelectorRequirementDto[];
}

/** Where replicas may go, in the shape KAITO users know. */
export class ResourceDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1024, description: 'The most nodes to use; the plan uses fewer when fewer hold the model, and says why' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024)
  count?: number;

  @ApiPropertyOptional({ example: 'Standard_NC24ads_A100_v4', description: 'One of GET /api/v1/instance-types' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  instanceType?: string;

  @ApiPropertyOptional({ type: [String], description: 'Node names tried first, in order' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(64)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  preferredNodes?: string[];

  @ApiPropertyOptional({ type: LabelSelectorDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => LabelSelectorDto)
  labelSelector?: LabelSelectorDto;
}

export class TolerationDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(253) key?: string;
  @ApiPropertyOptional({ enum: ['Equal', 'Exists'], default: 'Equal' }) @IsOptional() @IsIn(['Equal', 'Exists']) operator?: 'Equal' | 'Exists';
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(253) value?: string;
  @ApiPropertyOptional({ enum: TAINT_EFFECTS }) @IsOptional() @IsIn(TAINT_EFFECTS) effect?: (typeof TAINT_EFFECTS)[number];
}

export class CreateDeploymentDto {
  @ApiProperty({ example: 'chat-8b', description: 'Lower-case letters, digits and dashes, up to 63; unique in the team' })
  @IsString()
  @Matches(DEPLOYMENT_NAME, { message: 'must be 1 to 63 lower-case letters, digits or dashes, starting and ending with a letter or digit' })
  name!: string;

  @ApiProperty({ example: 'llama-3.1-8b-instruct-q4', description: 'A model of the catalog (GET /api/v1/models)' })
  @IsString()
  @MaxLength(128)
  model!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Owner team (superadmins only; default: the caller\'s team)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 64 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  replicas?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 64,
    description: 'Replicas kept loaded while no job asks for the model (default: `replicas`, all of them always). Below `replicas`, the rest load when jobs wait and unload after `idleSeconds`; 0 loads the model only on demand.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(64)
  minReplicas?: number;

  @ApiPropertyOptional({ default: 300, minimum: 10, maximum: 86400, description: 'Seconds a replica above `minReplicas` may stay idle before it is unloaded' })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(86400)
  idleSeconds?: number;

  @ApiPropertyOptional({ default: false, description: 'Pinned replicas are never evicted to make room for another model' })
  @IsOptional()
  @IsBoolean()
  pinned?: boolean;

  @ApiPropertyOptional({ type: RuntimeDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => RuntimeDto)
  runtime?: RuntimeDto;

  @ApiPropertyOptional({ enum: PLACEMENTS, default: 'binpack' })
  @IsOptional()
  @IsIn(PLACEMENTS)
  placement?: (typeof PLACEMENTS)[number];

  @ApiPropertyOptional({ type: ResourceDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => ResourceDto)
  resource?: ResourceDto;

  @ApiPropertyOptional({ type: [TolerationDto] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => TolerationDto)
  tolerations?: TolerationDto[];
}

/**
 * What can change on a deployment (its name, model and team stay); the result is planned again.
 * `runtime` is merged over the current settings; `resource` and `tolerations` replace theirs.
 */
export class UpdateDeploymentDto extends PartialType(PickType(CreateDeploymentDto, ['replicas', 'minReplicas', 'idleSeconds', 'pinned', 'runtime', 'placement', 'resource', 'tolerations'] as const)) {}
