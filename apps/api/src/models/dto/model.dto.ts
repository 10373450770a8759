import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import type { ModelRecord } from '@gridline/db';
import { PageOf } from '../../common/dto/page.dto';

/** Model names are what clients pass as `model`: no slashes, so they are one path segment. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class RegisterModelDto {
  @ApiProperty({ example: 'llama-3.1-8b-instruct-q4', description: 'The id clients pass as `model`: letters, digits, `.` `_` `:` `-`, up to 128' })
  @IsString()
  @Matches(MODEL_NAME, { message: 'must be 1 to 128 letters, digits, dots, underscores, colons or dashes, starting with a letter or digit' })
  name!: string;

  @ApiProperty({
    example: 'file:///var/lib/gridline/models/llama-3.1-8b-instruct-q4_k_m.gguf',
    description: 'A `file://` path under the control plane\'s model directories, or an `http(s)://` URL serving byte ranges; only the GGUF header is read',
  })
  @IsString()
  @MaxLength(2048)
  source!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The owning team (superadmins only; default: global for superadmins, the caller\'s team for team admins)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;
}

/** What an admin may change on a model: its memory figure in place of the estimate. */
export class UpdateModelDto {
  @ApiProperty({ type: Number, nullable: true, description: 'GPU bytes per replica to plan with instead of the estimate, at any settings; null: back to the estimate' })
  @ValidateIf((_o, v) => v !== null)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  memoryOverrideBytes!: number | null;
}

/** A model of the catalog, with the facts read from its GGUF header. */
export class ModelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'llama-3.1-8b-instruct-q4' }) name!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: every team may use it' }) teamId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'null: announced by an agent' }) source!: string | null;
  @ApiProperty({ description: 'The file has no weights: it validates and plans, and never deploys' }) headerOnly!: boolean;
  @ApiProperty({ description: 'Bytes of the file' }) sizeBytes!: number;
  @ApiProperty({ type: String, nullable: true }) sha256!: string | null;
  @ApiProperty({ example: 'llama' }) architecture!: string;
  @ApiProperty({ example: 'llama', description: 'The family for filtering: the GGUF `general.basename` lower-cased, else the architecture' }) family!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Q4_K_M', description: '`general.file_type` as llama.cpp names it; null when the file does not say' }) quantization!: string | null;
  @ApiProperty({ type: Boolean, nullable: true, description: 'The chat template renders tool definitions (it mentions `tools`); null when the file has no chat template or was not read by the catalog' }) toolSupport!: boolean | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Context the model was trained for, in tokens' }) contextLength!: number | null;
  @ApiProperty({ type: Number, nullable: true }) layers!: number | null;
  @ApiProperty({ type: Number, nullable: true }) embedding!: number | null;
  @ApiProperty({ description: 'Bytes of weights (the sum of the tensors)' }) parameterBytes!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'GPU bytes per replica an admin set in place of the estimate' }) memoryOverrideBytes!: number | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export const ModelPageDto = PageOf(ModelDto, 'ModelPageDto');
export type ModelPageDto = InstanceType<typeof ModelPageDto>;

export function toModelDto(m: ModelRecord): ModelDto {
  return {
    id: m.id,
    name: m.name,
    teamId: m.teamId,
    source: m.source,
    headerOnly: m.headerOnly,
    sizeBytes: m.sizeBytes,
    sha256: m.sha256,
    architecture: m.facts.architecture,
    family: m.facts.family ?? m.facts.architecture,
    quantization: m.facts.quantization ?? (m.facts.shape as { fileType?: string | null } | undefined)?.fileType ?? null,
    toolSupport: m.facts.toolSupport ?? null,
    contextLength: m.facts.contextLength,
    layers: m.facts.layers,
    embedding: m.facts.embedding,
    parameterBytes: m.facts.parameterBytes,
    memoryOverrideBytes: m.memoryOverrideBytes,
    createdAt: m.createdAt.toISOString(),
  };
}
