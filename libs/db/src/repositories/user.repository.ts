import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MembershipEntity, TeamRole, UserEntity } from '../entities';
import { Page, PageRequest, TeamScope, scopedTeam } from './team-scope';

export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  isSuperadmin: boolean;
  createdAt: Date;
}

export interface MembershipRecord {
  teamId: string;
  userId: string;
  role: TeamRole;
  email: string;
  displayName: string;
  createdAt: Date;
}

const toRecord = ({ id, email, displayName, isSuperadmin, createdAt }: UserEntity): UserRecord => ({ id, email, displayName, isSuperadmin, createdAt });

/**
 * Users and their memberships. A team scope sees the users who are members of that team, never a
 * superadmin: platform accounts are not rows a team may read or change, even as its members.
 */
@Injectable()
export class UserRepository {
  constructor(private readonly db: DataSource) {}

  async list(scope: TeamScope, filter: { email?: string }, page: PageRequest): Promise<Page<UserRecord>> {
    const team = scopedTeam(scope);
    const qb = this.db.getRepository(UserEntity).createQueryBuilder('u');
    if (team) qb.innerJoin(MembershipEntity, 'm', 'm.user_id = u.id AND m.team_id = :team', { team }).andWhere('NOT u.is_superadmin');
    if (filter.email) qb.andWhere('u.email ILIKE :email', { email: `%${filter.email}%` });
    const [rows, total] = await qb.orderBy('u.email', 'ASC').take(page.limit).skip(page.offset).getManyAndCount();
    return { items: rows.map(toRecord), total, limit: page.limit, offset: page.offset };
  }

  async get(scope: TeamScope, id: string): Promise<UserRecord | null> {
    const team = scopedTeam(scope);
    const qb = this.db.getRepository(UserEntity).createQueryBuilder('u').where('u.id = :id', { id });
    if (team) qb.innerJoin(MembershipEntity, 'm', 'm.user_id = u.id AND m.team_id = :team', { team }).andWhere('NOT u.is_superadmin');
    const row = await qb.getOne();
    return row ? toRecord(row) : null;
  }

  async findByEmail(email: string): Promise<UserRecord | null> {
    const row = await this.db.getRepository(UserEntity).findOne({ where: { email: email.toLowerCase() } });
    return row ? toRecord(row) : null;
  }

  /** Creates a user, and its membership of `team` when given, in one transaction. */
  async create(values: { email: string; displayName: string; isSuperadmin?: boolean }, team?: { teamId: string; role: TeamRole }): Promise<UserRecord> {
    return this.db.transaction(async (tx) => {
      const users = tx.getRepository(UserEntity);
      const user = await users.save(users.create({ email: values.email.toLowerCase(), displayName: values.displayName, isSuperadmin: values.isSuperadmin ?? false }));
      if (team) await tx.getRepository(MembershipEntity).save({ teamId: team.teamId, userId: user.id, role: team.role });
      return toRecord(user);
    });
  }

  async update(scope: TeamScope, id: string, changes: { displayName?: string; isSuperadmin?: boolean }): Promise<UserRecord | null> {
    if (!(await this.get(scope, id))) return null;
    await this.db.getRepository(UserEntity).update({ id }, changes);
    return this.get(scope, id);
  }

  async delete(scope: TeamScope, id: string): Promise<boolean> {
    if (!(await this.get(scope, id))) return false;
    return ((await this.db.getRepository(UserEntity).delete({ id })).affected ?? 0) > 0;
  }

  async members(scope: TeamScope, teamId: string, page: PageRequest): Promise<Page<MembershipRecord> | null> {
    const team = scopedTeam(scope);
    if (team && team !== teamId) return null;
    const qb = this.db
      .getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.user', 'u')
      .where('m.team_id = :teamId', { teamId })
      .andWhere(team ? 'NOT u.is_superadmin' : 'TRUE')
      .orderBy('u.email', 'ASC')
      .take(page.limit)
      .skip(page.offset);
    const [rows, total] = await qb.getManyAndCount();
    return {
      items: rows.map((m) => ({ teamId: m.teamId, userId: m.userId, role: m.role, email: m.user?.email ?? '', displayName: m.user?.displayName ?? '', createdAt: m.createdAt })),
      total,
      limit: page.limit,
      offset: page.offset,
    };
  }

  async roleIn(teamId: string, userId: string): Promise<TeamRole | null> {
    const row = await this.db.getRepository(MembershipEntity).findOne({ where: { teamId, userId } });
    return row?.role ?? null;
  }

  /** Adds or changes a membership. Under a team scope, only of that team and never of a superadmin. */
  async setMembership(scope: TeamScope, teamId: string, userId: string, role: TeamRole): Promise<boolean> {
    const team = scopedTeam(scope);
    if (team && (team !== teamId || !(await this.isPlainUser(userId)))) return false;
    await this.db.getRepository(MembershipEntity).upsert({ teamId, userId, role }, { conflictPaths: ['teamId', 'userId'] });
    return true;
  }

  async removeMembership(scope: TeamScope, teamId: string, userId: string): Promise<boolean> {
    const team = scopedTeam(scope);
    if (team && (team !== teamId || !(await this.isPlainUser(userId)))) return false;
    return ((await this.db.getRepository(MembershipEntity).delete({ teamId, userId })).affected ?? 0) > 0;
  }

  /** A user that exists and is not a superadmin. */
  private async isPlainUser(userId: string): Promise<boolean> {
    return this.db.getRepository(UserEntity).exists({ where: { id: userId, isSuperadmin: false } });
  }
}
