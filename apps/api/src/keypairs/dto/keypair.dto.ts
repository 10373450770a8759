import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';
import type { KeypairRecord } from '@gridline/db';
import { PageOf, PageQueryDto } from '../../common/dto/page.dto';
import { IsTimestamp, toBool } from '../../common/validators';

export class KeypairQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  active?: boolean;
}

export class CreateKeypairDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'Owner (default: the caller). A member creates keys for itself only.' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Team the key acts for (superadmin; default: the caller’s team)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO-8601, in the future; the key stops working then' })
  @IsOptional()
  @IsTimestamp({ future: true })
  expiresAt?: string;
}

export class UpdateKeypairDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time', description: 'ISO-8601, in the future; null: never expires' })
  @IsOptional()
  @IsTimestamp({ future: true })
  expiresAt?: string | null;
}

export class RotateKeypairDto {
  @ApiProperty({ description: 'Seconds the old key keeps working (0 to 30 days)', minimum: 0, maximum: 2592000 })
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  graceSeconds!: number;
}

/** A keypair as the admin API shows it: never its secret. */
export class KeypairDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'AKIAIOSFODNN7EXAMPLE' }) accessKey!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty() isActive!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The user who created it' }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** A keypair just created or rotated: the only response that carries its secret. */
export class NewKeypairDto extends KeypairDto {
  @ApiProperty({ description: 'Shown once; Gridline keeps it encrypted and never shows it again' }) secretKey!: string;
}

export const KeypairPageDto = PageOf(KeypairDto, 'KeypairPageDto');
export type KeypairPageDto = InstanceType<typeof KeypairPageDto>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toKeypairDto(k: KeypairRecord): KeypairDto {
  return {
    id: k.id,
    accessKey: k.accessKey,
    userId: k.userId,
    teamId: k.teamId,
    isActive: k.isActive,
    expiresAt: iso(k.expiresAt),
    lastUsedAt: iso(k.lastUsedAt),
    createdBy: k.createdBy,
    createdAt: k.createdAt.toISOString(),
  };
}
