import { Injectable } from '@nestjs/common';
import { AuditRepository } from '@gridline/db';
import { Principal, scopeFor } from '../auth/principal';
import { RequestOrigin } from '../common/request-origin';
import { toPageDto } from '../common/dto/page.dto';
import { AuditPageDto, AuditQueryDto, toAuditEntryDto } from './dto/audit.dto';

export interface AuditEvent {
  action: string;
  targetType: string;
  targetId: string | null;
  /** The team the change concerns; null for platform-wide changes. */
  teamId: string | null;
  details?: Record<string, unknown>;
}

/** Records every change an administrator makes (details never hold secrets), and reads them back. */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async record(principal: Principal, origin: RequestOrigin, event: AuditEvent): Promise<void> {
    await this.audit.record({
      actorUserId: principal.userId,
      actorCredential: principal.credential.label,
      teamId: event.teamId,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      details: event.details ?? {},
      ip: origin.ip,
      requestId: origin.requestId,
    });
  }

  /** Superadmins read every entry; team admins the entries about their team. */
  async list(p: Principal, q: AuditQueryDto): Promise<AuditPageDto> {
    const page = await this.audit.list(scopeFor(p), { action: q.action, actorUserId: q.actorUserId, since: q.since ? new Date(q.since) : undefined }, q);
    return toPageDto(page, toAuditEntryDto);
  }
}
