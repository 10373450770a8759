import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KeypairEntity, MembershipEntity, TeamEntity, TeamRole, UserEntity } from '../entities';

/** What authentication needs to know about an access key. */
export interface KeypairCredential {
  keypairId: string;
  accessKey: string;
  secretSealed: string;
  userId: string;
  teamId: string;
  isSuperadmin: boolean;
  /** The user's role in the keypair's team; null when it is no longer a member. */
  role: TeamRole | null;
}

export interface BootstrapAdminInput {
  teamName: string;
  email: string;
  displayName: string;
  accessKey: string;
  secretSealed: string;
}

/** Teams, users and keypairs: the identity tables. */
@Injectable()
export class IdentityRepository {
  constructor(private readonly db: DataSource) {}

  /** An active, unexpired keypair with its owner; null otherwise. */
  async findActiveCredential(accessKey: string, now = new Date()): Promise<KeypairCredential | null> {
    const row = await this.db
      .getRepository(KeypairEntity)
      .createQueryBuilder('k')
      .innerJoin(UserEntity, 'u', 'u.id = k.user_id')
      .leftJoin(MembershipEntity, 'm', 'm.user_id = k.user_id AND m.team_id = k.team_id')
      .select(['k.id AS id', 'k.access_key AS access_key', 'k.secret_sealed AS secret_sealed', 'k.user_id AS user_id', 'k.team_id AS team_id'])
      .addSelect('u.is_superadmin', 'is_superadmin')
      .addSelect('m.role', 'role')
      .where('k.access_key = :accessKey', { accessKey })
      .andWhere('k.is_active = true')
      .andWhere('(k.expires_at IS NULL OR k.expires_at > :now)', { now })
      .getRawOne<{ id: string; access_key: string; secret_sealed: string; user_id: string; team_id: string; is_superadmin: boolean; role: TeamRole | null }>();
    if (!row) return null;
    return {
      keypairId: row.id,
      accessKey: row.access_key,
      secretSealed: row.secret_sealed,
      userId: row.user_id,
      teamId: row.team_id,
      isSuperadmin: row.is_superadmin,
      role: row.role,
    };
  }

  /**
   * Whether a superadmin credential still stands: the keypair active and unexpired, or the
   * management token unrevoked and unexpired, still the user's, and the user still a superadmin.
   */
  async isLiveSuperadminCredential(kind: 'keypair' | 'token', credentialId: string, userId: string, now = new Date()): Promise<boolean> {
    const sql =
      kind === 'keypair'
        ? `SELECT 1 FROM keypairs c JOIN users u ON u.id = c.user_id
            WHERE c.id = $1 AND c.user_id = $2 AND u.is_superadmin AND c.is_active AND (c.expires_at IS NULL OR c.expires_at > $3)`
        : `SELECT 1 FROM api_tokens c JOIN users u ON u.id = c.user_id
            WHERE c.id = $1 AND c.user_id = $2 AND u.is_superadmin AND c.scope = 'management' AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > $3)`;
    if (!/^[0-9a-f-]{36}$/i.test(credentialId) || !/^[0-9a-f-]{36}$/i.test(userId)) return false;
    const rows = (await this.db.query(sql, [credentialId, userId, now])) as unknown[];
    return rows.length > 0;
  }

  async touchKeypair(keypairId: string, at: Date): Promise<void> {
    await this.db.getRepository(KeypairEntity).update({ id: keypairId }, { lastUsedAt: at });
  }


  async hasSuperadmin(): Promise<boolean> {
    return this.db.getRepository(UserEntity).exists({ where: { isSuperadmin: true } });
  }

  /**
   * Creates (or completes) the first team, the superadmin and one keypair in one transaction.
   * Idempotent: existing rows with the same names are reused; an existing access key is left alone.
   */
  async bootstrapAdmin(input: BootstrapAdminInput): Promise<{ created: boolean; teamId: string; userId: string }> {
    return this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['gridline.bootstrap']);
      const teams = tx.getRepository(TeamEntity);
      const users = tx.getRepository(UserEntity);
      const keypairs = tx.getRepository(KeypairEntity);
      const team = (await teams.findOne({ where: { name: input.teamName } })) ?? (await teams.save(teams.create({ name: input.teamName })));
      let user = await users.findOne({ where: { email: input.email } });
      if (!user) user = await users.save(users.create({ email: input.email, displayName: input.displayName, isSuperadmin: true }));
      await tx.getRepository(MembershipEntity).upsert({ teamId: team.id, userId: user.id, role: 'team_admin' }, { conflictPaths: ['teamId', 'userId'] });
      if (await keypairs.exists({ where: { accessKey: input.accessKey } })) return { created: false, teamId: team.id, userId: user.id };
      await keypairs.save(
        keypairs.create({ accessKey: input.accessKey, secretSealed: input.secretSealed, userId: user.id, teamId: team.id, isActive: true }),
      );
      return { created: true, teamId: team.id, userId: user.id };
    });
  }
}
