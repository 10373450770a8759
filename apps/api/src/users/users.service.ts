import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import { TeamRepository, UserRecord, UserRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { toPageDto } from '../common/dto/page.dto';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { CreateUserDto, MeDto, UpdateUserDto, UserDto, UserPageDto, UserQueryDto, toUserDto } from './dto/user.dto';

/**
 * Users. Superadmins manage everyone; team admins the users of their team, never a superadmin
 * (the repositories hide superadmins from a team scope: 404, as for any row the caller cannot
 * see); members see themselves only.
 */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly teams: TeamRepository,
    private readonly audit: AuditService,
  ) {}

  async me(p: Principal): Promise<MeDto> {
    const user = await this.users.get(scopeFor(p), p.userId);
    if (!user) throw notFound('user', p.userId);
    return { ...toUserDto(user), teamId: p.teamId, role: p.role };
  }

  async list(p: Principal, q: UserQueryDto): Promise<UserPageDto> {
    return toPageDto(await this.users.list(scopeFor(p), { email: q.email }, q), toUserDto);
  }

  async get(p: Principal, id: string): Promise<UserDto> {
    const user = p.role === 'member' && id !== p.userId ? null : await this.users.get(scopeFor(p), id);
    if (!user) throw notFound('user', id, 'id');
    return toUserDto(user);
  }

  /** Superadmins create any user (optionally in a team); team admins create members of their own team. */
  async create(p: Principal, dto: CreateUserDto, origin: RequestOrigin): Promise<UserDto> {
    const superadmin = p.role === 'superadmin';
    if (!superadmin && (dto.isSuperadmin || (dto.teamId && dto.teamId !== p.teamId))) {
      throw new ApiError('forbidden', 'team admins create users in their own team only, and never superadmins');
    }
    const teamId = superadmin ? dto.teamId : p.teamId;
    if (teamId && !(await this.teams.get(scopeFor(p), teamId))) throw notFound('team', teamId, 'teamId');
    let user: UserRecord;
    try {
      user = await this.users.create(
        { email: dto.email, displayName: dto.displayName, isSuperadmin: superadmin && dto.isSuperadmin === true },
        teamId ? { teamId, role: dto.role ?? 'member' } : undefined,
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('email_taken', `a user with the e-mail ${quote(dto.email)} already exists`, { param: 'email' });
      throw e;
    }
    await this.audit.record(p, origin, {
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      teamId: teamId ?? null,
      details: { email: user.email, role: teamId ? (dto.role ?? 'member') : null, isSuperadmin: user.isSuperadmin },
    });
    return toUserDto(user);
  }

  async update(p: Principal, id: string, dto: UpdateUserDto, origin: RequestOrigin): Promise<UserDto> {
    if (dto.isSuperadmin !== undefined && p.role !== 'superadmin') throw new ApiError('forbidden', 'only superadmins grant or revoke superadmin', { param: 'isSuperadmin' });
    if (dto.isSuperadmin === false && id === p.userId) throw new ApiError('forbidden', 'you cannot revoke your own superadmin flag', { param: 'isSuperadmin' });
    const user = await this.users.update(scopeFor(p), id, dto);
    if (!user) throw notFound('user', id, 'id');
    await this.audit.record(p, origin, { action: 'user.update', targetType: 'user', targetId: id, teamId: p.role === 'superadmin' ? null : p.teamId, details: { ...dto } });
    return toUserDto(user);
  }

  async delete(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    if (id === p.userId) throw new ApiError('forbidden', 'you cannot delete yourself');
    if (!(await this.users.delete(scopeFor(p), id))) throw notFound('user', id, 'id');
    await this.audit.record(p, origin, { action: 'user.delete', targetType: 'user', targetId: id, teamId: null });
  }
}
