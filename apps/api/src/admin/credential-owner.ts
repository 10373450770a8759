import { Injectable } from '@nestjs/common';
import { TeamRepository, TeamScope, UserRepository } from '@gridline/db';
import { Principal, scopeFor } from '../auth/principal';
import { forbidden, notFound } from './admin-errors';

/**
 * Who may hold, and who may manage, keypairs and tokens. Members: their own. Team admins:
 * those of their team's users, never a superadmin's (that would hand out platform rights).
 * Superadmins: anyone's, for a team that exists and the user belongs to. Credentials are
 * minted with keypairs only: a bearer token cannot create or rotate credentials, so a
 * restricted token cannot turn into an unrestricted one.
 */
@Injectable()
export class CredentialOwner {
  constructor(
    private readonly users: UserRepository,
    private readonly teams: TeamRepository,
  ) {}

  async resolve(p: Principal, requested: { userId?: string; teamId?: string }): Promise<{ userId: string; teamId: string }> {
    assertMintingCaller(p);
    const userId = requested.userId ?? p.userId;
    const teamId = p.role === 'superadmin' ? (requested.teamId ?? p.teamId) : p.teamId;
    if (p.role !== 'superadmin' && requested.teamId && requested.teamId !== p.teamId) throw forbidden('credentials can only be made for your own team');
    if (p.role === 'member' && userId !== p.userId) throw forbidden('members create credentials for themselves only');
    if (!(await this.teams.get(scopeFor(p), teamId))) throw notFound('team', teamId);
    const user = await this.users.get(scopeFor(p), userId);
    if (!user || (user.isSuperadmin && p.role !== 'superadmin')) throw notFound('user', userId);
    if (!user.isSuperadmin && !(await this.users.roleIn(teamId, userId))) throw notFound('user', `${userId} in team ${teamId}`);
    return { userId, teamId };
  }

  /** Whether the caller may see and manage a credential owned by `ownerId` (already team-scoped). */
  async mayManage(p: Principal, ownerId: string): Promise<boolean> {
    if (p.role === 'superadmin' || ownerId === p.userId) return true;
    if (p.role === 'member') return false;
    const owner = await this.users.get(TeamScope.all(), ownerId);
    return owner !== null && !owner.isSuperadmin;
  }
}

/** Creating or rotating credentials needs a keypair, not a bearer token. */
export function assertMintingCaller(p: Principal): void {
  if (p.credential.kind === 'token') throw forbidden('credentials are created and rotated with a keypair, not with a token');
}

/** Members see and change only their own credentials. */
export function ownerFilter(p: Principal, requested?: string): string | undefined {
  return p.role === 'member' ? p.userId : requested;
}
