import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import type { TeamRecord } from '@gridline/db';
import { PageOf, PageQueryDto } from '../../common/dto/page.dto';
import { INT4_MAX } from '../../common/validators';

export class TeamQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Part of the name' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  name?: string;
}

export class CreateTeamDto {
  @ApiProperty({ example: 'research' })
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/, { message: 'name must be 2-63 lower-case letters, digits or -' })
  name!: string;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  weight?: number;

  @ApiPropertyOptional({ nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  quotaGpus?: number | null;

  @ApiPropertyOptional({ nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  quotaGpuMemoryBytes?: number | null;

  @ApiPropertyOptional({ default: false, description: "Its jobs run on this installation's replicas only: no endpoint's model is offered to it" })
  @IsOptional()
  @IsBoolean()
  localOnly?: boolean;
}

export class UpdateTeamDto extends PartialType(CreateTeamDto) {}

export class TeamDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'research' }) name!: string;
  @ApiProperty({ description: 'Fair-share weight' }) weight!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no limit' }) quotaGpus!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no limit' }) quotaGpuMemoryBytes!: number | null;
  @ApiProperty({ description: "Its jobs run on this installation's replicas only" }) localOnly!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export const TeamPageDto = PageOf(TeamDto, 'TeamPageDto');
export type TeamPageDto = InstanceType<typeof TeamPageDto>;

export function toTeamDto(t: TeamRecord): TeamDto {
  return {
    id: t.id,
    name: t.name,
    weight: t.weight,
    quotaGpus: t.quotaGpus,
    quotaGpuMemoryBytes: t.quotaGpuMemoryBytes,
    localOnly: t.localOnly,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}
