import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { quote } from '@gridline/common';
import type { Request } from 'express';
import { MembershipRecord, Page, TeamRecord, TeamRepository, UserRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { conflict, forbidden, isUniqueViolation, notFound } from './admin-errors';
import { CreateTeamDto, PageQueryDto, SetMembershipDto, TeamQueryDto, UpdateTeamDto } from './dto/admin.dto';

@ApiTags('teams')
@Controller('api/v1/teams')
export class TeamsController {
  constructor(
    private readonly teams: TeamRepository,
    private readonly users: UserRepository,
    private readonly audit: AuditService,
  ) {}

  @Get()
  @Authenticated({ scope: 'management' })
  list(@CurrentPrincipal() p: Principal, @Query() q: TeamQueryDto): Promise<Page<TeamRecord>> {
    return this.teams.list(scopeFor(p), { name: q.name }, q);
  }

  @Post()
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  async create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTeamDto, @Req() req: Request): Promise<TeamRecord> {
    let team: TeamRecord;
    try {
      team = await this.teams.create(dto);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('team_exists', `a team named ${quote(dto.name)} already exists`);
      throw e;
    }
    await this.audit.record(p, req, { action: 'team.create', targetType: 'team', targetId: team.id, teamId: team.id, details: { ...dto } });
    return team;
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  async get(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string): Promise<TeamRecord> {
    const team = await this.teams.get(scopeFor(p), id);
    if (!team) throw notFound('team', id);
    return team;
  }

  @Patch(':id')
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  async update(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateTeamDto, @Req() req: Request): Promise<TeamRecord> {
    let team: TeamRecord | null;
    try {
      team = await this.teams.update(scopeFor(p), id, dto);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict('team_exists', `a team named ${quote(dto.name)} already exists`);
      throw e;
    }
    if (!team) throw notFound('team', id);
    await this.audit.record(p, req, { action: 'team.update', targetType: 'team', targetId: id, teamId: id, details: { ...dto } });
    return team;
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  async delete(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Req() req: Request): Promise<void> {
    if (id === p.teamId) throw forbidden('a credential cannot delete the team it acts for');
    if (!(await this.teams.delete(scopeFor(p), id))) throw notFound('team', id);
    await this.audit.record(p, req, { action: 'team.delete', targetType: 'team', targetId: id, teamId: null });
  }

  @Get(':id/members')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  async members(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Query() q: PageQueryDto): Promise<Page<MembershipRecord>> {
    const page = await this.users.members(scopeFor(p), id, q);
    if (!page) throw notFound('team', id);
    return page;
  }

  /** Adds a user to the team or changes its role. Team admins may only change roles of their members. */
  @Put(':id/members/:userId')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  async setMember(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUUIDPipe) id: string,
    @Param('userId', ParseUUIDPipe) userId: string,
    @Body() dto: SetMembershipDto,
    @Req() req: Request,
  ): Promise<{ teamId: string; userId: string; role: string }> {
    const scope = scopeFor(p);
    if (!(await this.teams.get(scope, id))) throw notFound('team', id);
    // A superadmin may add any user; a team admin only changes roles of users already in its team.
    if (!(await this.users.get(scope, userId))) throw notFound('user', userId);
    await this.users.setMembership(scope, id, userId, dto.role);
    await this.audit.record(p, req, { action: 'membership.set', targetType: 'user', targetId: userId, teamId: id, details: { role: dto.role } });
    return { teamId: id, userId, role: dto.role };
  }

  @Delete(':id/members/:userId')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  async removeMember(@CurrentPrincipal() p: Principal, @Param('id', ParseUUIDPipe) id: string, @Param('userId', ParseUUIDPipe) userId: string, @Req() req: Request): Promise<void> {
    if (userId === p.userId && id === p.teamId) throw forbidden('you cannot remove yourself from the team your credential acts for');
    if (!(await this.users.removeMembership(scopeFor(p), id, userId))) throw notFound('membership', `${id}/${userId}`);
    await this.audit.record(p, req, { action: 'membership.remove', targetType: 'user', targetId: userId, teamId: id });
  }
}
