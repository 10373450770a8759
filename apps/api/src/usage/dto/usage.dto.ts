import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsUUID, Matches } from 'class-validator';
import { USAGE_GROUPS, UsageRow } from '@gridline/db';

export class UsageQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Jobs created at or after this time; default: 30 days before `to`' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Jobs created before this time; default: now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ example: 'team,model,day', description: `Comma-separated, of ${USAGE_GROUPS.join(', ')}; default team,model,day` })
  @IsOptional()
  @Matches(new RegExp(`^(${USAGE_GROUPS.join('|')})(,(${USAGE_GROUPS.join('|')}))*$`), { message: `groupBy must be a comma-separated list of ${USAGE_GROUPS.join(', ')}` })
  groupBy?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Superadmins: one team only (team admins always see their own)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv: one line per group, a header line first' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}

class TimingDto {
  @ApiProperty({ nullable: true, type: Number }) mean!: number | null;
  @ApiProperty({ nullable: true, type: Number }) p50!: number | null;
}

class UsageTeamDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
}

class UsageKeyDto {
  @ApiProperty({ enum: ['keypair', 'token'] }) kind!: 'keypair' | 'token';
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: "The keypair's access key or the token's name" }) label!: string;
}

class UsageUserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String }) email!: string | null;
}

class UsageEndpointDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Null once the endpoint was removed' }) name!: string | null;
}

class UsageOutcomesDto {
  @ApiProperty() succeeded!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() cancelled!: number;
  @ApiProperty() expired!: number;
  @ApiProperty({ description: 'Not ended yet' }) open!: number;
}

export class UsageRowDto implements UsageRow {
  @ApiProperty({ nullable: true, type: UsageTeamDto }) team!: UsageRow['team'];
  @ApiProperty({ nullable: true, type: String }) model!: string | null;
  @ApiProperty({ nullable: true, type: UsageKeyDto, description: 'A keypair (its access key) or a bearer token (its name)' })
  key!: UsageRow['key'];
  @ApiProperty({ nullable: true, type: UsageUserDto }) user!: UsageRow['user'];
  @ApiProperty({ nullable: true, type: String, example: '2026-12-01', description: 'UTC day' }) day!: string | null;
  @ApiProperty({ nullable: true, type: UsageEndpointDto, description: 'The remote endpoint that served the jobs; null for jobs served by this cluster' })
  endpoint!: UsageRow['endpoint'];
  @ApiProperty() requests!: number;
  @ApiProperty({ type: UsageOutcomesDto }) outcomes!: UsageRow['outcomes'];
  @ApiProperty() promptTokens!: number;
  @ApiProperty({ description: 'Of promptTokens, those found in the replica\'s KV cache' }) cachedPromptTokens!: number;
  @ApiProperty() completionTokens!: number;
  @ApiProperty({ type: TimingDto, description: 'Created to started, ms' }) queueWaitMs!: TimingDto;
  @ApiProperty({ type: TimingDto, description: 'Created to first token, ms' }) firstTokenMs!: TimingDto;
  @ApiProperty({ type: TimingDto, description: 'Created to finished, ms' }) totalMs!: TimingDto;
}

export class UsageDto {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty({ type: [String], enum: USAGE_GROUPS }) groupBy!: string[];
  @ApiProperty({ type: [UsageRowDto] }) items!: UsageRowDto[];
}
