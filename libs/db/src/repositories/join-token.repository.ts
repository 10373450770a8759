import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JoinTokenEntity } from '../entities';

export interface JoinTokenRecord {
  id: string;
  prefix: string;
  description: string;
  expiresAt: Date;
  maxUses: number | null;
  uses: number;
  autoApprove: boolean;
  labels: Record<string, string>;
  revokedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

/** Why a presented token cannot be used; null when it was used just now. */
export type JoinTokenRefusal = 'unknown' | 'expired' | 'revoked' | 'used_up';

const toRecord = (e: JoinTokenEntity): JoinTokenRecord => ({
  id: e.id,
  prefix: e.prefix,
  description: e.description,
  expiresAt: e.expiresAt,
  maxUses: e.maxUses,
  uses: e.uses,
  autoApprove: e.autoApprove,
  labels: e.labels,
  revokedAt: e.revokedAt,
  createdBy: e.createdBy,
  createdAt: e.createdAt,
});

@Injectable()
export class JoinTokenRepository {
  constructor(private readonly db: DataSource) {}

  async create(values: Omit<JoinTokenRecord, 'id' | 'uses' | 'revokedAt' | 'createdAt'> & { tokenHash: string }): Promise<JoinTokenRecord> {
    const repo = this.db.getRepository(JoinTokenEntity);
    return toRecord(await repo.save(repo.create(values)));
  }

  async list(): Promise<JoinTokenRecord[]> {
    return (await this.db.getRepository(JoinTokenEntity).find({ order: { createdAt: 'DESC' } })).map(toRecord);
  }

  async get(id: string): Promise<JoinTokenRecord | null> {
    const row = await this.db.getRepository(JoinTokenEntity).findOne({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** Revokes a token; false when it does not exist. Revoking twice keeps the first time. */
  async revoke(id: string, at: Date): Promise<JoinTokenRecord | null> {
    await this.db.query(`UPDATE join_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1`, [id, at]);
    return this.get(id);
  }

  /**
   * Uses a token once, atomically: two agents racing for a single-use token cannot both join.
   * Returns the token, or why it was refused.
   */
  async use(tokenHash: string, at: Date): Promise<{ token: JoinTokenRecord } | { refused: JoinTokenRefusal }> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [used]: [{ id: string }[], number] = await this.db.query(
      `UPDATE join_tokens SET uses = uses + 1
       WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND (max_uses IS NULL OR uses < max_uses)
       RETURNING id`,
      [tokenHash, at],
    );
    if (used[0]) return { token: (await this.get(used[0].id)) as JoinTokenRecord };
    const row = await this.db.getRepository(JoinTokenEntity).findOne({ where: { tokenHash } });
    if (!row) return { refused: 'unknown' };
    if (row.revokedAt) return { refused: 'revoked' };
    if (row.expiresAt <= at) return { refused: 'expired' };
    return { refused: 'used_up' };
  }
}
