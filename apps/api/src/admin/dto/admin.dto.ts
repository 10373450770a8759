import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidationArguments,
  registerDecorator,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

const INT4_MAX = 2_147_483_647;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 date-time with a zone that JavaScript and Postgres both read the same way. */
function IsTimestamp() {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimestamp',
      target: target.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => value === null || (typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value))),
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'value'} must be an ISO-8601 date-time with a time zone, e.g. 2030-01-31T12:00:00Z`,
      },
    });
}

export class PageQueryDto {
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: 1000000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  offset = 0;
}

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

  @ApiPropertyOptional({ nullable: true, type: Number })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(INT4_MAX)
  quotaConcurrentJobs?: number | null;
}

export class UpdateTeamDto extends PartialType(CreateTeamDto) {}

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

  @ApiPropertyOptional({ description: 'Team to join (superadmin; a team admin always adds to its own team)' })
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

export class SetMembershipDto {
  @ApiProperty({ enum: ['team_admin', 'member'] })
  @IsIn(['team_admin', 'member'])
  role!: 'team_admin' | 'member';
}

export class KeypairQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
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
  @ApiPropertyOptional({ description: 'Owner (default: the caller). A member creates keys for itself only.' })
  @IsOptional()
  @IsUUID()
  userId?: string;

  @ApiPropertyOptional({ description: 'Team the key acts for (superadmin; default: the caller’s team)' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ description: 'ISO-8601; the key stops working then' })
  @IsOptional()
  @IsTimestamp()
  expiresAt?: string;
}

export class UpdateKeypairDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  isActive?: boolean;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsTimestamp()
  expiresAt?: string | null;
}

export class RotateKeypairDto {
  @ApiProperty({ description: 'Seconds the old key keeps working (0 to 30 days)', minimum: 0, maximum: 2592000 })
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  graceSeconds!: number;
}

export class TokenQueryDto extends PageQueryDto {
  @ApiPropertyOptional()
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

  @ApiProperty({ enum: ['inference', 'management'] })
  @IsIn(['inference', 'management'])
  scope!: 'inference' | 'management';

  @ApiPropertyOptional({ type: [String], description: 'Models the token may use (default: all)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  models?: string[];

  @ApiPropertyOptional({ description: 'ISO-8601' })
  @IsOptional()
  @IsTimestamp()
  expiresAt?: string;

  @ApiPropertyOptional({ description: 'Owner (default: the caller; team admins may pick a member)' })
  @IsOptional()
  @IsUUID()
  userId?: string;
}

export class AuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'keypair.create' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  action?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsUUID()
  actorUserId?: string;

  @ApiPropertyOptional({ description: 'ISO-8601' })
  @IsOptional()
  @IsTimestamp()
  since?: string;
}
