import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateUserDto, MeDto, UpdateUserDto, UserDto, UserPageDto, UserQueryDto } from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() p: Principal): Promise<MeDto> {
    return this.users.me(p);
  }

  @Get()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: UserPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: UserQueryDto): Promise<UserPageDto> {
    return this.users.list(p, q);
  }

  /** Superadmins create any user (optionally in a team); team admins create members of their own team. */
  @Post()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrors(BODY_ERRORS, 'not_found', 'email_taken')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateUserDto, @Origin() origin: RequestOrigin): Promise<UserDto> {
    return this.users.create(p, dto, origin);
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(ID_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<UserDto> {
    return this.users.get(p, id);
  }

  @Patch(':id')
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS)
  update(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: UpdateUserDto, @Origin() origin: RequestOrigin): Promise<UserDto> {
    return this.users.update(p, id, dto, origin);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiNoContentResponse({ description: 'Deleted, with its memberships, keypairs and tokens' })
  @ApiErrors(ID_ERRORS)
  delete(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.users.delete(p, id, origin);
  }
}
