import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { AuditRecord } from '@gridline/db';
import { PageOf, PageQueryDto } from '../../common/dto/page.dto';
import { IsTimestamp } from '../../common/validators';

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'keypair.create' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  actorUserId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'ISO-8601' })
  @IsOptional()
  @IsTimestamp()
  since?: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) actorUserId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Access key or token prefix the change was made with' }) actorCredential!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The team the change concerns; null for platform-wide changes' }) teamId!: string | null;
  @ApiProperty({ example: 'keypair.create' }) action!: string;
  @ApiProperty({ example: 'keypair' }) targetType!: string;
  @ApiProperty({ type: String, nullable: true }) targetId!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed; never a secret' }) details!: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;
}

export const AuditPageDto = PageOf(AuditEntryDto, 'AuditPageDto');
export type AuditPageDto = InstanceType<typeof AuditPageDto>;

export function toAuditEntryDto(a: AuditRecord): AuditEntryDto {
  return {
    id: a.id,
    createdAt: a.createdAt.toISOString(),
    actorUserId: a.actorUserId,
    actorCredential: a.actorCredential,
    teamId: a.teamId,
    action: a.action,
    targetType: a.targetType,
    targetId: a.targetId,
    details: a.details,
    ip: a.ip,
    requestId: a.requestId,
  };
}
