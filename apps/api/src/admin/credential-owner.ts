import { Injectable } from '@nestjs/common';
import { UserRepository } from '@gridline/db';
import { Principal, scopeFor } from '../auth/principal';
import { forbidden, notFound } from './admin-errors';

/**
 * Who a new keypair or token may belong to: members create their own; team admins create
 * them for members of their team; superadmins for any member of the chosen team (or a
 * superadmin).
 */
@Injectable()
export class CredentialOwner {
  constructor(private readonly users: UserRepository) {}

  async resolve(p: Principal, requested: { userId?: string; teamId?: string }): Promise<{ userId: string; teamId: string }> {
    const userId = requested.userId ?? p.userId;
    const teamId = p.role === 'superadmin' ? (requested.teamId ?? p.teamId) : p.teamId;
    if (p.role !== 'superadmin' && requested.teamId && requested.teamId !== p.teamId) throw forbidden('credentials can only be made for your own team');
    if (p.role === 'member' && userId !== p.userId) throw forbidden('members create credentials for themselves only');
    const user = await this.users.get(scopeFor(p), userId);
    if (!user) throw notFound('user', userId);
    if (!user.isSuperadmin && !(await this.users.roleIn(teamId, userId))) throw notFound('user', `${userId} in team ${teamId}`);
    return { userId, teamId };
  }
}

/** Members see and change only their own credentials. */
export function ownerFilter(p: Principal, requested?: string): string | undefined {
  return p.role === 'member' ? p.userId : requested;
}
