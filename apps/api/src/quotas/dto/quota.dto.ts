import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUUID, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import { REQUEST_LIMITS } from '@gridline/contract';
import { INT4_MAX } from '../../common/validators';

const NO_LIMIT = 'null or left out: no limit';

/** The limits of one scope. Each is a whole number ≥ 0 (0 refuses everything), or null: no limit. */
export class QuotaLimitsDto {
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: INT4_MAX, description: `Jobs in flight at once (synchronous requests while they run; asynchronous jobs from submission to their end). ${NO_LIMIT}` })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  maxConcurrentJobs?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: INT4_MAX, description: `Asynchronous jobs waiting to start. ${NO_LIMIT}` })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  maxQueuedJobs?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: INT4_MAX, description: `Requests admitted per UTC minute. ${NO_LIMIT}` })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  requestsPerMinute?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, description: `Prompt and completion tokens per UTC minute (reserved at admission, settled at the end). ${NO_LIMIT}` })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  tokensPerMinute?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, description: `Prompt and completion tokens per UTC day. ${NO_LIMIT}` })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  tokensPerDay?: number | null;
}

const KEY_KINDS = ['keypair', 'token'] as const;

export class KeyQuotaInputDto {
  @ApiProperty({ enum: KEY_KINDS, description: 'A keypair or an API token of the team' })
  @IsIn(KEY_KINDS)
  kind!: (typeof KEY_KINDS)[number];

  @ApiProperty({ format: 'uuid', description: "The keypair's or the token's id" })
  @IsUUID()
  id!: string;

  @ApiProperty({ type: QuotaLimitsDto })
  @ValidateNested()
  @Type(() => QuotaLimitsDto)
  limits!: QuotaLimitsDto;
}

export class ModelQuotaInputDto {
  @ApiProperty({ example: 'llama-3.2-1b', description: 'A model the team may use' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(REQUEST_LIMITS.modelName)
  model!: string;

  @ApiProperty({ type: QuotaLimitsDto })
  @ValidateNested()
  @Type(() => QuotaLimitsDto)
  limits!: QuotaLimitsDto;
}

/** Every quota of a team at once: what is left out has no limit afterwards. */
export class PutTeamQuotasDto {
  @ApiPropertyOptional({ type: QuotaLimitsDto, nullable: true, description: "The team's own limits: every request of the team counts" })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @ValidateNested()
  @Type(() => QuotaLimitsDto)
  limits?: QuotaLimitsDto | null;

  @ApiPropertyOptional({ type: [KeyQuotaInputDto], description: "Per key: the requests made with that keypair or token count (besides the team's)" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => KeyQuotaInputDto)
  keys?: KeyQuotaInputDto[];

  @ApiPropertyOptional({ type: [ModelQuotaInputDto], description: "Per model: the team's requests for that model count (besides the team's)" })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @ValidateNested({ each: true })
  @Type(() => ModelQuotaInputDto)
  models?: ModelQuotaInputDto[];
}

/** A limit's current use, in its current window. Null where the limit is not set (nothing is counted). */
export class QuotaUsageDto {
  @ApiProperty({ type: Number, nullable: true, description: 'Concurrency slots held now' }) concurrentJobs!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Queue places held now' }) queuedJobs!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Requests admitted in the current UTC minute' }) requestsThisMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Tokens charged in the current UTC minute (reservations in flight included)' }) tokensThisMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Tokens charged in the current UTC day (reservations in flight included)' }) tokensToday!: number | null;
}

export class QuotaLimitValuesDto {
  @ApiProperty({ type: Number, nullable: true }) maxConcurrentJobs!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxQueuedJobs!: number | null;
  @ApiProperty({ type: Number, nullable: true }) requestsPerMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokensPerMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokensPerDay!: number | null;
}

export class KeyQuotaDto {
  @ApiProperty({ enum: KEY_KINDS }) kind!: (typeof KEY_KINDS)[number];
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: QuotaLimitValuesDto }) limits!: QuotaLimitValuesDto;
  @ApiProperty({ type: QuotaUsageDto, nullable: true, description: 'null when Redis could not be read' }) usage!: QuotaUsageDto | null;
}

export class ModelQuotaDto {
  @ApiProperty() model!: string;
  @ApiProperty({ type: QuotaLimitValuesDto }) limits!: QuotaLimitValuesDto;
  @ApiProperty({ type: QuotaUsageDto, nullable: true, description: 'null when Redis could not be read' }) usage!: QuotaUsageDto | null;
}

export class TeamQuotasDto {
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty({ type: QuotaLimitValuesDto, nullable: true, description: "The team's own limits; null: none" }) limits!: QuotaLimitValuesDto | null;
  @ApiProperty({ type: QuotaUsageDto, nullable: true, description: "The team's use of its own limits; null when it has none or Redis could not be read" }) usage!: QuotaUsageDto | null;
  @ApiProperty({ type: [KeyQuotaDto] }) keys!: KeyQuotaDto[];
  @ApiProperty({ type: [ModelQuotaDto] }) models!: ModelQuotaDto[];
}
