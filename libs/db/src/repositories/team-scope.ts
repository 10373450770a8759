declare const scopeBrand: unique symbol;

/**
 * Which teams a read or write may touch. Team-owned repository methods require one, and it
 * can only be made here, so forgetting the scope (or passing a bare team id) does not compile.
 */
export type TeamScope = { readonly [scopeBrand]: true } & ({ readonly all: true } | { readonly all: false; readonly teamId: string });

export const TeamScope = {
  /** Every team: platform administrators only. */
  all: (): TeamScope => ({ all: true }) as TeamScope,
  /** One team. */
  team: (teamId: string): TeamScope => ({ all: false, teamId }) as TeamScope,
};

/** The team id a scope pins, or null for all teams. */
export function scopedTeam(scope: TeamScope): string | null {
  return scope.all ? null : scope.teamId;
}

/** A TypeORM `where` for team-owned rows (a `teamId` column) within the scope. */
export function teamWhere<T extends Record<string, unknown>>(scope: TeamScope, extra: T): T & { teamId?: string } {
  const team = scopedTeam(scope);
  return { ...(team ? { teamId: team } : {}), ...extra };
}

/**
 * A TypeORM `where` for credentials (keypairs, tokens) within the scope. Under a team scope a
 * superadmin's credentials are invisible: superadmins are platform accounts, not rows a team
 * may read or change, even when they are members of the team.
 */
export function credentialWhere<T extends Record<string, unknown>>(scope: TeamScope, extra: T): T & { teamId?: string; user?: { isSuperadmin: false } } {
  const team = scopedTeam(scope);
  return team ? { ...extra, teamId: team, user: { isSuperadmin: false } } : extra;
}

export interface PageRequest {
  limit: number;
  offset: number;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
