import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { quote } from '@gridline/common';
import type { Request } from 'express';
import { Page, TeamRepository, UserRecord, UserRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { conflict, forbidden, isUniqueViolation, notFound } from './admin-errors';
import { CreateUserDto, UpdateUserDto, UserQueryDto } from './dto/admin.dto';

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UserRepository,
    private readonly teams: TeamRepository,
    private readonly audit: AuditService,
  ) {}

  @Get('me')
  @Authenticated({ scope: 'management' })
  async me(@CurrentPrincipal() p: Principal): Promise<UserRecord & { teamId: string; role: string }> {
    const user = await this.users.get(scopeFor(p), p.userId);
    if (!user) throw notFound('user', p.userId);
    return { ...user, teamId: p.teamId, role: p.role };
  }

  @Get()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  list(@CurrentPrincipal() p: Principal, @Query() q: UserQueryDto): Promise<Page<UserRecord>> {
    return this.users.list(scopeFor(p), { email: q.email }, q);
  }

  /** Superadmins create any user (optionally in a team); team admins create members of their own team. */
  @Post()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateUserDto, @Req() req: Request): Promise<UserRecord> {
    const superadmin = p.role === 'superadmin';
    if (!superadmin && (dto.isSuperadmin || (dto.teamId && dto.teamId !== p.teamId))) {
      throw forbidden('team admins create users in their own team only, and never superadmins');
    }
    const teamId = superadmin ? dto.teamId : p.teamId;
    if (teamId && !(await this.teams.get(scopeFor(p), teamId))) throw notFound('team', teamId);
    let user: UserRecord;
    try {
      user = await this.users.create(
        { email: dto.email, displayName: dto.displayName, isSuperadmin: superadmin && dto.isSuperadmin === true },
        teamId ? { teamId, role: dto.role ?? 'member' } : undefined,
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('email_taken', `a user with the e-mail ${quote(dto.email)} already exists`);
      throw e;
    }
    await this.audit.record(p, req, {
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      teamId: teamId ?? null,
      details: { email: user.email, role: teamId ? (dto.role ?? 'member') : null, isSuperadmin: user.isSuperadmin },
    });
    return user;
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<UserRecord> {
    if (p.role === 'member' && id !== p.userId) throw notFound('user', id);
    const user = await this.users.get(scopeFor(p), id);
    if (!user) throw notFound('user', id);
    return user;
  }

  @Patch(':id')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  async update(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateUserDto, @Req() req: Request): Promise<UserRecord> {
    if (dto.isSuperadmin !== undefined && p.role !== 'superadmin') throw forbidden('only superadmins grant or revoke superadmin');
    if (dto.isSuperadmin === false && id === p.userId) throw forbidden('you cannot revoke your own superadmin flag');
    const user = await this.users.update(scopeFor(p), id, dto);
    if (!user) throw notFound('user', id);
    await this.audit.record(p, req, { action: 'user.update', targetType: 'user', targetId: id, teamId: p.role === 'superadmin' ? null : p.teamId, details: { ...dto } });
    return user;
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  async delete(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Req() req: Request): Promise<void> {
    if (id === p.userId) throw forbidden('you cannot delete yourself');
    if (!(await this.users.delete(scopeFor(p), id))) throw notFound('user', id);
    await this.audit.record(p, req, { action: 'user.delete', targetType: 'user', targetId: id, teamId: null });
  }
}
