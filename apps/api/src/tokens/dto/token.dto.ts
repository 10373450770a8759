import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { TokenRecord } from '@gridline/db';
import { PageOf, PageQueryDto } from '../../common/dto/page.dto';
import { IsTimestamp, toBool } from '../../common/validators';

const SCOPES = ['inference', 'management'] as const;

export class TokenQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  includeRevoked?: boolean;
}

export class CreateTokenDto {
  @ApiProperty({ example: 'notebook' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  @ApiProperty({ enum: SCOPES })
  @IsIn(SCOPES)
  scope!: (typeof SCOPES)[number];

  @ApiPropertyOptional({ type: [String], description: 'Models the token may use (default: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  models?: string[];

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO-8601, in the future; the token stops working then' })
  @IsOptional()
  @IsTimestamp({ future: true })
  expiresAt?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Owner (default: the caller; team admins may pick a member)' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Team the token acts for (superadmin; default: the caller’s team)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;
}

/** A bearer token as the admin API shows it: its prefix, never the token or its hash. */
export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ example: 'notebook' }) name!: string;
  @ApiProperty({ example: 'gl_3f9a', description: 'The first characters of the token, to recognise it' }) prefix!: string;
  @ApiProperty({ enum: SCOPES }) scope!: string;
  @ApiProperty({ type: [String], nullable: true, description: 'null: every model' }) models!: string[] | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The user who created it' }) createdBy!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** A token just created: the only response that carries it. */
export class NewTokenDto extends TokenDto {
  @ApiProperty({ description: 'Shown once; Gridline keeps only its hash' }) token!: string;
}

export const TokenPageDto = PageOf(TokenDto, 'TokenPageDto');
export type TokenPageDto = InstanceType<typeof TokenPageDto>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toTokenDto(t: TokenRecord): TokenDto {
  return {
    id: t.id,
    teamId: t.teamId,
    userId: t.userId,
    name: t.name,
    prefix: t.prefix,
    scope: t.scope,
    models: t.models,
    expiresAt: iso(t.expiresAt),
    lastUsedAt: iso(t.lastUsedAt),
    revokedAt: iso(t.revokedAt),
    createdBy: t.createdBy,
    createdAt: t.createdAt.toISOString(),
  };
}
