import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import { TeamRepository, UserRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { PageQueryDto, toPageDto } from '../common/dto/page.dto';
import { notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { MembershipPageDto, MembershipRoleDto, SetMembershipDto, toMembershipDto } from './dto/membership.dto';

/**
 * Who belongs to a team, with which role. Superadmins manage every team's members; team admins
 * their own team's, and never a superadmin's membership (the repositories hide superadmins from
 * a team scope, so it answers 404 like any row the caller cannot see).
 */
@Injectable()
export class MembershipsService {
  constructor(
    private readonly teams: TeamRepository,
    private readonly users: UserRepository,
    private readonly audit: AuditService,
  ) {}

  async list(p: Principal, teamId: string, q: PageQueryDto): Promise<MembershipPageDto> {
    const page = await this.users.members(scopeFor(p), teamId, q);
    if (!page) throw notFound('team', teamId, 'id');
    return toPageDto(page, toMembershipDto);
  }

  /** Adds a user to the team or changes its role. A superadmin may add any user; a team admin only changes roles of its team's users. */
  async set(p: Principal, teamId: string, userId: string, dto: SetMembershipDto, origin: RequestOrigin): Promise<MembershipRoleDto> {
    const scope = scopeFor(p);
    if (!(await this.teams.get(scope, teamId))) throw notFound('team', teamId, 'id');
    if (!(await this.users.get(scope, userId)) || !(await this.users.setMembership(scope, teamId, userId, dto.role))) throw notFound('user', userId, 'userId');
    await this.audit.record(p, origin, { action: 'membership.set', targetType: 'user', targetId: userId, teamId, details: { role: dto.role } });
    return { teamId, userId, role: dto.role };
  }

  async remove(p: Principal, teamId: string, userId: string, origin: RequestOrigin): Promise<void> {
    if (userId === p.userId && teamId === p.teamId) throw new ApiError('forbidden', 'you cannot remove yourself from the team your credential acts for');
    if (!(await this.users.removeMembership(scopeFor(p), teamId, userId))) {
      throw new ApiError('not_found', `user ${quote(userId)} is not a member of team ${quote(teamId)}`, { param: 'userId' });
    }
    await this.audit.record(p, origin, { action: 'membership.remove', targetType: 'user', targetId: userId, teamId });
  }
}
