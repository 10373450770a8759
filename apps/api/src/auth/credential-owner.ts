import { Injectable } from '@nestjs/common';
import { ApiError, quote } from '@gridline/common';
import { TeamRepository, UserRepository } from '@gridline/db';
import { notFound } from '../common/resource-errors';
import { Principal, scopeFor } from './principal';

/**
 * Who may hold, and who may manage, keypairs and tokens. Members: their own. Team admins:
 * those of their team's users, never a superadmin's (that would hand out platform rights; the
 * repositories hide superadmins and their credentials from a team scope). Superadmins: anyone's,
 * for a team that exists and the user belongs to. Credentials are minted with keypairs only: a
 * bearer token cannot create or rotate credentials, so a restricted token cannot turn into an
 * unrestricted one.
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
    if (!(await this.teams.get(scopeFor(p), teamId))) throw notFound('team', teamId, 'teamId');
    const user = await this.users.get(scopeFor(p), userId);
    if (!user) throw notFound('user', userId, 'userId');
    if (!user.isSuperadmin && !(await this.users.roleIn(teamId, userId))) {
      throw new ApiError('not_found', `user ${quote(userId)} is not a member of team ${quote(teamId)}`, { param: 'userId' });
    }
    return { userId, teamId };
  }

  /** Whether the caller may see and manage a credential owned by `ownerId`, read within its scope. */
  mayManage(p: Principal, ownerId: string): boolean {
    return p.role !== 'member' || ownerId === p.userId;
  }
}

function forbidden(detail: string): ApiError {
  return new ApiError('forbidden', detail);
}

/** Creating or rotating credentials needs a keypair, not a bearer token. */
export function assertMintingCaller(p: Principal): void {
  if (p.credential.kind === 'token') throw forbidden('credentials are created and rotated with a keypair, not with a token');
}

/** Members see and change only their own credentials. */
export function ownerFilter(p: Principal, requested?: string): string | undefined {
  return p.role === 'member' ? p.userId : requested;
}
