import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { KV_CACHE_TYPES, MemoryRequirements, PRESET_QUANTIZATIONS } from '@gridline/models';
import { toBool } from '../../common/validators';

/** Runtime settings as query parameters, and optionally the GPUs to split over. */
export class RequirementsQueryDto {
  @ApiPropertyOptional({ default: 4096, minimum: 1, maximum: 1_048_576, description: 'Tokens of context per sequence' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_048_576)
  contextSize?: number;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 256 })
  @IsOptional()
  @Type(() => Number)
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
  @Transform(toBool)
  @IsBoolean()
  flashAttention?: boolean;

  @ApiPropertyOptional({ default: 2048 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65536)
  batchSize?: number;

  @ApiPropertyOptional({ default: 512 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65536)
  ubatchSize?: number;

  @ApiPropertyOptional({ description: 'Layers on GPUs (default: all, plus the output layer)' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10000)
  gpuLayers?: number;

  @ApiPropertyOptional({ example: '80,80', description: 'Free GiB of each GPU to split the layers over (whole layers per GPU)' })
  @IsOptional()
  @Matches(/^\d+(\.\d+)?(,\d+(\.\d+)?){0,15}$/, { message: 'must be up to 16 comma-separated GiB figures' })
  gpus?: string;
}

export class PresetRequirementsQueryDto extends RequirementsQueryDto {
  @ApiProperty({ enum: PRESET_QUANTIZATIONS })
  @IsIn(PRESET_QUANTIZATIONS)
  quantization!: (typeof PRESET_QUANTIZATIONS)[number];
}

export class GpuShareDto {
  @ApiProperty({ description: 'Position in `gpus`' }) gpu!: number;
  @ApiProperty({ type: [Number], nullable: true }) layers!: number[] | null;
  @ApiProperty() holdsOutput!: boolean;
  @ApiProperty() bytes!: number;
  @ApiProperty() freeBytes!: number;
}

export class GpuSplitDto {
  @ApiProperty() fits!: boolean;
  @ApiProperty({ type: [GpuShareDto] }) gpus!: GpuShareDto[];
  @ApiPropertyOptional() shortfallBytes?: number;
  @ApiPropertyOptional() message?: string;
}

/** GPU memory of one replica, by kind; figures in bytes. */
export class MemoryBreakdownDto {
  @ApiProperty() weightsBytes!: number;
  @ApiProperty() kvCacheBytes!: number;
  @ApiProperty() computeBytes!: number;
  @ApiProperty() overheadBytes!: number;
  @ApiProperty() totalBytes!: number;
  @ApiProperty({ description: 'Host memory: input embeddings, layers left on the CPU, logits' }) hostBytes!: number;
  @ApiProperty({ type: [String], description: 'What the estimate assumed or could not model' }) notes!: string[];
}

export function memoryBreakdown(r: MemoryRequirements): MemoryBreakdownDto {
  const { weightsBytes, kvCacheBytes, computeBytes, overheadBytes, totalBytes, hostBytes, notes } = r;
  return { weightsBytes, kvCacheBytes, computeBytes, overheadBytes, totalBytes, hostBytes, notes };
}

/** GPU memory a model needs at given settings, by kind, and how its layers split over given GPUs. */
export class RequirementsDto extends MemoryBreakdownDto {
  @ApiProperty() model!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The settings used, defaults filled in' }) settings!: Record<string, unknown>;
  @ApiProperty({ description: 'Repeating layers on GPUs' }) layers!: number;
  @ApiProperty({ description: 'Bytes of one layer (weights and KV cache), the largest' }) largestLayerBytes!: number;
  @ApiPropertyOptional({ type: GpuSplitDto, description: 'With `gpus`: whole layers per GPU' }) split?: GpuSplitDto;
}

export class ModelPresetDto {
  @ApiProperty({ example: 'llama-3.1-70b' }) name!: string;
  @ApiProperty({ example: 'Meta-Llama-3.1-70B-Instruct' }) title!: string;
  @ApiProperty({ example: 'llama' }) architecture!: string;
  @ApiProperty() layers!: number;
  @ApiProperty() embedding!: number;
  @ApiProperty() contextLength!: number;
  @ApiProperty({ enum: PRESET_QUANTIZATIONS, isArray: true }) quantizations!: string[];
}

export class ModelPresetListDto {
  @ApiProperty({ type: [ModelPresetDto] }) items!: ModelPresetDto[];
}
