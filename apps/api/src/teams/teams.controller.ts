import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateTeamDto, TeamDto, TeamPageDto, TeamQueryDto, UpdateTeamDto } from './dto/team.dto';
import { TeamsService } from './teams.service';

@ApiTags('teams')
@Controller('api/v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: TeamPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: TeamQueryDto): Promise<TeamPageDto> {
    return this.teams.list(p, q);
  }

  @Post()
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiCreatedResponse({ type: TeamDto })
  @ApiErrors(BODY_ERRORS, 'team_exists')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTeamDto, @Origin() origin: RequestOrigin): Promise<TeamDto> {
    return this.teams.create(p, dto, origin);
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(ID_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<TeamDto> {
    return this.teams.get(p, id);
  }

  @Patch(':id')
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiOkResponse({ type: TeamDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS, 'team_exists')
  update(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateTeamDto, @Origin() origin: RequestOrigin): Promise<TeamDto> {
    return this.teams.update(p, id, dto, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiNoContentResponse({ description: 'Deleted, with its memberships, keypairs, tokens and jobs' })
  @ApiErrors(ID_ERRORS)
  delete(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.teams.delete(p, id, origin);
  }
}
