import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, BODY_ERRORS, ID_ERRORS } from '../common/api-errors.decorator';
import { ParseUuidPipe } from '../common/parse-uuid.pipe';
import { Origin, RequestOrigin } from '../common/request-origin';
import { PutTeamQuotasDto, TeamQuotasDto } from './dto/quota.dto';
import { QuotasService } from './quotas.service';

@ApiTags('quotas')
@Controller('api/v1/teams/:id/quotas')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get()
  @Authenticated({ scope: 'management' })
  @ApiOperation({ summary: "The team's inference quotas (its own, per key, per model) and their current use; members read their own team's" })
  @ApiOkResponse({ type: TeamQuotasDto })
  @ApiErrors(ID_ERRORS)
  get(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string): Promise<TeamQuotasDto> {
    return this.quotas.get(p, id);
  }

  @Put()
  @Authenticated({ scope: 'management', roles: ['superadmin'] })
  @ApiOperation({ summary: "Replaces every inference quota of the team (left out: no limit); api replicas apply it within GRIDLINE_QUOTA_CACHE_MS" })
  @ApiOkResponse({ type: TeamQuotasDto })
  @ApiErrors(ID_ERRORS, BODY_ERRORS, 'model_not_found')
  put(@CurrentPrincipal() p: Principal, @Param('id', ParseUuidPipe) id: string, @Body() dto: PutTeamQuotasDto, @Origin() origin: RequestOrigin): Promise<TeamQuotasDto> {
    return this.quotas.put(p, id, dto, origin);
  }
}
