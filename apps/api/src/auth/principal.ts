import { TeamScope } from '@gridline/db';

export type Role = 'superadmin' | 'team_admin' | 'member';
export type AccessScope = 'inference' | 'management';

export type PrincipalCredential =
  | { kind: 'keypair'; id: string; label: string }
  | { kind: 'token'; id: string; label: string; scope: AccessScope; models: string[] | null };

/** The authenticated caller, as handlers receive it. */
export interface Principal {
  userId: string;
  /** The team the credential acts for. */
  teamId: string;
  role: Role;
  credential: PrincipalCredential;
}

/** Which teams' rows the principal may see: all for superadmins, its own otherwise. */
export function scopeFor(p: Principal): TeamScope {
  return p.role === 'superadmin' ? TeamScope.all() : TeamScope.team(p.teamId);
}

export function roleOf(isSuperadmin: boolean, teamRole: 'team_admin' | 'member' | null): Role | null {
  if (isSuperadmin) return 'superadmin';
  return teamRole;
}
