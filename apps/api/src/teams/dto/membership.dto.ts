import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import type { MembershipRecord } from '@gridline/db';
import { PageOf } from '../../common/dto/page.dto';

const TEAM_ROLES = ['team_admin', 'member'] as const;
type TeamRole = (typeof TEAM_ROLES)[number];

export class SetMembershipDto {
  @ApiProperty({ enum: TEAM_ROLES })
  @IsIn(TEAM_ROLES)
  role!: TeamRole;
}

/** A membership as PUT answers it. */
export class MembershipRoleDto {
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty({ format: 'uuid' }) userId!: string;
  @ApiProperty({ enum: TEAM_ROLES }) role!: TeamRole;
}

/** A member of a team, with the user's name and e-mail. */
export class MembershipDto extends MembershipRoleDto {
  @ApiProperty() email!: string;
  @ApiProperty() displayName!: string;
  @ApiProperty({ format: 'date-time', description: 'When the user joined the team' }) createdAt!: string;
}

export const MembershipPageDto = PageOf(MembershipDto, 'MembershipPageDto');
export type MembershipPageDto = InstanceType<typeof MembershipPageDto>;

export function toMembershipDto(m: MembershipRecord): MembershipDto {
  return { teamId: m.teamId, userId: m.userId, role: m.role, email: m.email, displayName: m.displayName, createdAt: m.createdAt.toISOString() };
}
