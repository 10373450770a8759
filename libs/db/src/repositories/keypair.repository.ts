import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeypairEntity } from '../entities';
import { Page, PageRequest, TeamScope, credentialWhere } from './team-scope';

/** A keypair as the admin API shows it: never its secret. */
export interface KeypairRecord {
  id: string;
  accessKey: string;
  userId: string;
  teamId: string;
  isActive: boolean;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

export interface KeypairFilter {
  userId?: string;
  isActive?: boolean;
}

const toRecord = (k: KeypairEntity): KeypairRecord => ({
  id: k.id,
  accessKey: k.accessKey,
  userId: k.userId,
  teamId: k.teamId,
  isActive: k.isActive,
  expiresAt: k.expiresAt,
  lastUsedAt: k.lastUsedAt,
  createdBy: k.createdBy,
  createdAt: k.createdAt,
});

/** Keypairs within a team scope: the team's, never a superadmin's (see `credentialWhere`). */
@Injectable()
export class KeypairRepository {
  constructor(private readonly db: DataSource) {}

  async list(scope: TeamScope, filter: KeypairFilter, page: PageRequest): Promise<Page<KeypairRecord>> {
    const where = credentialWhere(scope, {
      ...(filter.userId ? { userId: filter.userId } : {}),
      ...(filter.isActive !== undefined ? { isActive: filter.isActive } : {}),
    });
    const [rows, total] = await this.db.getRepository(KeypairEntity).findAndCount({ where, order: { createdAt: 'DESC' }, take: page.limit, skip: page.offset });
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  async get(scope: TeamScope, accessKey: string): Promise<KeypairRecord | null> {
    const row = await this.db.getRepository(KeypairEntity).findOne({ where: credentialWhere(scope, { accessKey }) });
    return row ? toRecord(row) : null;
  }

  async create(values: { accessKey: string; secretSealed: string; userId: string; teamId: string; expiresAt: Date | null; createdBy: string | null }): Promise<KeypairRecord> {
    const repo = this.db.getRepository(KeypairEntity);
    return toRecord(await repo.save(repo.create({ ...values, isActive: true })));
  }

  async update(scope: TeamScope, accessKey: string, changes: { isActive?: boolean; expiresAt?: Date | null }): Promise<KeypairRecord | null> {
    if (!(await this.get(scope, accessKey))) return null;
    await this.db.getRepository(KeypairEntity).update({ accessKey }, changes);
    return this.get(scope, accessKey);
  }

  async delete(scope: TeamScope, accessKey: string): Promise<boolean> {
    if (!(await this.get(scope, accessKey))) return false;
    return ((await this.db.getRepository(KeypairEntity).delete({ accessKey })).affected ?? 0) > 0;
  }
}
