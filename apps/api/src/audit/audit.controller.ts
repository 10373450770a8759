import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal } from '../auth/principal';
import { ApiErrors, QUERY_ERRORS } from '../common/api-errors.decorator';
import { AuditService } from './audit.service';
import { AuditPageDto, AuditQueryDto } from './dto/audit.dto';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Superadmins read every entry; team admins the entries about their team. */
  @Get()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrors(QUERY_ERRORS)
  list(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto): Promise<AuditPageDto> {
    return this.audit.list(p, q);
  }
}
