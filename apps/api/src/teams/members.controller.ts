import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { PageQueryDto } from '../common/dto/page.dto';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { MembershipPageDto, MembershipRoleDto, SetMembershipDto } from './dto/membership.dto';
import { MembershipsService } from './memberships.service';

@ApiTags('teams')
@Controller('api/v1/teams/:id/members')
export class MembersController {
  constructor(private readonly memberships: MembershipsService) {}

  @Get()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: MembershipPageDto })
  @ApiErrors(ID_ERRORS, QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Query() q: PageQueryDto): Promise<MembershipPageDto> {
    return this.memberships.list(p, id, q);
  }

  /** Adds a user to the team or changes its role. Team admins may only change roles of their members. */
  @Put(':userId')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: MembershipRoleDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS)
  set(
    @CurrentPrincipal() p: Principal,
    @Param('id', ParseUuidPipe) id: string,
    @Param('userId', ParseUuidPipe) userId: string,
    @Body() dto: SetMembershipDto,
    @Origin() origin: RequestOrigin,
  ): Promise<MembershipRoleDto> {
    return this.memberships.set(p, id, userId, dto, origin);
  }

  @Delete(':userId')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiNoContentResponse({ description: 'The user is no longer a member of the team' })
  @ApiErrors(ID_ERRORS)
  remove(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Param('userId', ParseUuidPipe) userId: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.memberships.remove(p, id, userId, origin);
  }
}
