import { Injectable } from '@nestjs/common';
import { DataSource, MoreThanOrEqual } from 'typeorm';
import { AuditEntryEntity } from '../entities';
import { Page, PageRequest, TeamScope, scopedTeam } from './team-scope';

export interface AuditRecord {
  id: string;
  createdAt: Date;
  actorUserId: string | null;
  actorCredential: string | null;
  teamId: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  requestId: string | null;
}

export type NewAuditEntry = Omit<AuditRecord, 'id' | 'createdAt'>;

@Injectable()
export class AuditRepository {
  constructor(private readonly db: DataSource) {}

  async record(entry: NewAuditEntry): Promise<void> {
    const repo = this.db.getRepository(AuditEntryEntity);
    await repo.save(repo.create(entry));
  }

  async list(scope: TeamScope, filter: { action?: string; actorUserId?: string; since?: Date }, page: PageRequest): Promise<Page<AuditRecord>> {
    const team = scopedTeam(scope);
    const where = {
      ...(team ? { teamId: team } : {}),
      ...(filter.action ? { action: filter.action } : {}),
      ...(filter.actorUserId ? { actorUserId: filter.actorUserId } : {}),
      ...(filter.since ? { createdAt: MoreThanOrEqual(filter.since) } : {}),
    };
    const [rows, total] = await this.db.getRepository(AuditEntryEntity).findAndCount({ where, order: { createdAt: 'DESC' }, take: page.limit, skip: page.offset });
    return { items: rows, total, limit: page.limit, offset: page.offset };
  }
}
