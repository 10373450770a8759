import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import { TeamRecord, TeamRepository } from '@gridline/db';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { toPageDto } from '../common/dto/page.dto';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { MeshViews } from '../mesh/mesh-views';
import { CreateTeamDto, TeamDto, TeamPageDto, TeamQueryDto, UpdateTeamDto, toTeamDto } from './dto/team.dto';

/** Teams: everyone reads its own (superadmins all); only superadmins create, change and delete them. */
@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamRepository,
    private readonly audit: AuditService,
    private readonly mesh: MeshViews,
  ) {}

  async list(p: Principal, q: TeamQueryDto): Promise<TeamPageDto> {
    return toPageDto(await this.teams.list(scopeFor(p), { name: q.name }, q), toTeamDto);
  }

  async get(p: Principal, id: string): Promise<TeamDto> {
    const team = await this.teams.get(scopeFor(p), id);
    if (!team) throw notFound('team', id, 'id');
    return toTeamDto(team);
  }

  async create(p: Principal, dto: CreateTeamDto, origin: RequestOrigin): Promise<TeamDto> {
    const team = await this.uniqueName(dto.name, () => this.teams.create(dto));
    // Routing reads which teams are local-only: this process sees the new team's at once.
    this.mesh.forget();
    await this.audit.record(p, origin, { action: 'team.create', targetType: 'team', targetId: team.id, teamId: team.id, details: { ...dto } });
    return toTeamDto(team);
  }

  async update(p: Principal, id: string, dto: UpdateTeamDto, origin: RequestOrigin): Promise<TeamDto> {
    const team = await this.uniqueName(dto.name, () => this.teams.update(scopeFor(p), id, dto));
    if (!team) throw notFound('team', id, 'id');
    this.mesh.forget();
    await this.audit.record(p, origin, { action: 'team.update', targetType: 'team', targetId: id, teamId: id, details: { ...dto } });
    return toTeamDto(team);
  }

  async delete(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    if (id === p.teamId) throw new ApiError('forbidden', 'a credential cannot delete the team it acts for');
    if (!(await this.teams.delete(scopeFor(p), id))) throw notFound('team', id, 'id');
    await this.audit.record(p, origin, { action: 'team.delete', targetType: 'team', targetId: id, teamId: null });
  }

  /** A write that may take a name another team has: 409 team_exists. */
  private async uniqueName<T extends TeamRecord | null>(name: string | undefined, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('team_exists', `a team named ${quote(name)} already exists`, { param: 'name' });
      throw e;
    }
  }
}
