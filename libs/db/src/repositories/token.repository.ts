import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { ApiTokenEntity, MembershipEntity, TeamRole, TokenScope, UserEntity } from '../entities';
import { Page, PageRequest, TeamScope, credentialWhere } from './team-scope';

export interface TokenRecord {
  id: string;
  teamId: string;
  userId: string;
  name: string;
  prefix: string;
  scope: TokenScope;
  models: string[] | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

export interface TokenCredential extends TokenRecord {
  isSuperadmin: boolean;
  role: TeamRole | null;
}

const toRecord = (t: ApiTokenEntity): TokenRecord => ({
  id: t.id,
  teamId: t.teamId,
  userId: t.userId,
  name: t.name,
  prefix: t.prefix,
  scope: t.scope,
  models: t.models,
  expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt,
  revokedAt: t.revokedAt,
  createdBy: t.createdBy,
  createdAt: t.createdAt,
});

/** Bearer tokens within a team scope: the team's, never a superadmin's (see `credentialWhere`). */
@Injectable()
export class TokenRepository {
  constructor(private readonly db: DataSource) {}

  async list(scope: TeamScope, filter: { userId?: string; includeRevoked?: boolean }, page: PageRequest): Promise<Page<TokenRecord>> {
    const where = credentialWhere(scope, { ...(filter.userId ? { userId: filter.userId } : {}), ...(filter.includeRevoked ? {} : { revokedAt: IsNull() }) });
    const [rows, total] = await this.db.getRepository(ApiTokenEntity).findAndCount({ where, order: { createdAt: 'DESC' }, take: page.limit, skip: page.offset });
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  async get(scope: TeamScope, id: string): Promise<TokenRecord | null> {
    const row = await this.db.getRepository(ApiTokenEntity).findOne({ where: credentialWhere(scope, { id }) });
    return row ? toRecord(row) : null;
  }

  async create(values: Omit<TokenRecord, 'id' | 'lastUsedAt' | 'revokedAt' | 'createdAt'> & { tokenHash: string }): Promise<TokenRecord> {
    const repo = this.db.getRepository(ApiTokenEntity);
    return toRecord(await repo.save(repo.create(values)));
  }

  async revoke(scope: TeamScope, id: string, at: Date): Promise<boolean> {
    if (!(await this.get(scope, id))) return false;
    const result = await this.db.getRepository(ApiTokenEntity).update({ id, revokedAt: IsNull() }, { revokedAt: at });
    return (result.affected ?? 0) > 0;
  }

  /** The live token with this hash, with its owner's standing in the token's team. */
  async findActiveByHash(tokenHash: string, now = new Date()): Promise<TokenCredential | null> {
    const row = await this.db
      .getRepository(ApiTokenEntity)
      .createQueryBuilder('t')
      .innerJoin(UserEntity, 'u', 'u.id = t.user_id')
      .leftJoin(MembershipEntity, 'm', 'm.user_id = t.user_id AND m.team_id = t.team_id')
      .addSelect('u.is_superadmin', 'is_superadmin')
      .addSelect('m.role', 'role')
      .where('t.token_hash = :tokenHash', { tokenHash })
      .andWhere('t.revoked_at IS NULL')
      .andWhere('(t.expires_at IS NULL OR t.expires_at > :now)', { now })
      .getRawAndEntities();
    const entity = row.entities[0];
    if (!entity) return null;
    const raw = row.raw[0] as { is_superadmin: boolean; role: TeamRole | null };
    return { ...toRecord(entity), isSuperadmin: raw.is_superadmin, role: raw.role };
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.db.getRepository(ApiTokenEntity).update({ id }, { lastUsedAt: at });
  }
}
