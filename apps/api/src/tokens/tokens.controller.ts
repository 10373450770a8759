import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS, QUERY_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { CreateTokenDto, NewTokenDto, TokenDto, TokenPageDto, TokenQueryDto } from './dto/token.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: TokenPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: TokenQueryDto): Promise<TokenPageDto> {
    return this.tokens.list(p, q);
  }

  /** Creates a bearer token. The token is in this response only; Gridline keeps its hash. */
  @Post()
  @Authenticated({ scope: 'management' })
  @ApiCreatedResponse({ type: NewTokenDto, description: 'The token record, with the token itself (shown this once)' })
  @ApiErrors(BODY_ERRORS, 'forbidden', 'not_found')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateTokenDto, @Origin() origin: RequestOrigin): Promise<NewTokenDto> {
    return this.tokens.create(p, dto, origin);
  }

  @Get(':id')
  @Authenticated({ scope: 'management' })
  @ApiOkResponse({ type: TokenDto })
  @ApiErrors(ID_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<TokenDto> {
    return this.tokens.get(p, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ scope: 'management' })
  @ApiNoContentResponse({ description: 'Revoked; the token stops working within a second' })
  @ApiErrors(ID_ERRORS)
  revoke(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Origin() origin: RequestOrigin): Promise<void> {
    return this.tokens.revoke(p, id, origin);
  }
}
