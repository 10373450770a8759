import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import type { UserRecord } from '@gridline/db';
import { PageOf, PageQueryDto } from '../../common/dto/page.dto';

export class UserQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Part of the e-mail address' })
  @IsOptional()
  @IsString()
  @MaxLength(320)
  email?: string;
}

export class CreateUserDto {
  @ApiProperty({ example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(320)
  email!: string;

  @ApiProperty({ example: 'Ada Lovelace' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  displayName!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Team to join (superadmin; a team admin always adds to its own team)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ enum: ['team_admin', 'member'], default: 'member' })
  @IsOptional()
  @IsIn(['team_admin', 'member'])
  role?: 'team_admin' | 'member';

  @ApiPropertyOptional({ description: 'Superadmin only' })
  @IsOptional()
  @IsBoolean()
  isSuperadmin?: boolean;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  displayName?: string;

  @ApiPropertyOptional({ description: 'Superadmin only' })
  @IsOptional()
  @IsBoolean()
  isSuperadmin?: boolean;
}

export class UserDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ example: 'Ada Lovelace' }) displayName!: string;
  @ApiProperty() isSuperadmin!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

/** The caller: its user, and the team and role its credential acts with. */
export class MeDto extends UserDto {
  @ApiProperty({ format: 'uuid', description: 'The team the credential acts for' }) teamId!: string;
  @ApiProperty({ enum: ['superadmin', 'team_admin', 'member'] }) role!: string;
}

export const UserPageDto = PageOf(UserDto, 'UserPageDto');
export type UserPageDto = InstanceType<typeof UserPageDto>;

export function toUserDto(u: UserRecord): UserDto {
  return { id: u.id, email: u.email, displayName: u.displayName, isSuperadmin: u.isSuperadmin, createdAt: u.createdAt.toISOString() };
}
