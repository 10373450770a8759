import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { AuditRecord, AuditRepository, Page } from '@gridline/db';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators';
import { Principal, scopeFor } from '../auth/principal';
import { AuditQueryDto } from './dto/admin.dto';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditRepository) {}

  /** Superadmins read every entry; team admins the entries about their team. */
  @Get()
  @Authenticated({ scope: 'management', roles: ['team_admin'] })
  list(@CurrentPrincipal() p: Principal, @Query() q: AuditQueryDto): Promise<Page<AuditRecord>> {
    return this.audit.list(scopeFor(p), { action: q.action, actorUserId: q.actorUserId, since: q.since ? new Date(q.since) : undefined }, q);
  }
}
