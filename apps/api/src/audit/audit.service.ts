import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditRepository } from '@gridline/db';
import { Principal } from '../auth/principal';

export interface AuditEvent {
  action: string;
  targetType: string;
  targetId: string | null;
  /** The team the change concerns; null for platform-wide changes. */
  teamId: string | null;
  details?: Record<string, unknown>;
}

/** Records every change an administrator makes. Details never hold secrets. */
@Injectable()
export class AuditService {
  constructor(private readonly audit: AuditRepository) {}

  async record(principal: Principal, req: Request & { id?: unknown }, event: AuditEvent): Promise<void> {
    await this.audit.record({
      actorUserId: principal.userId,
      actorCredential: principal.credential.label,
      teamId: event.teamId,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      details: event.details ?? {},
      ip: req.ip ?? null,
      requestId: req.id ? String(req.id) : null,
    });
  }
}
