import { ApiTestApp, Caller } from './api-test-app';

export interface TeamFixture {
  teamId: string;
  admin: { userId: string; accessKey: string; secretKey: string; call: Caller };
  member: { userId: string; accessKey: string; secretKey: string; call: Caller };
  /** A token of the member, with the management scope. */
  token: { id: string; token: string };
}

function expectStatus(what: string, res: { status: number; body: unknown }, status: number): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
}

/** A team with a team admin and a member, each with a keypair, made through the admin API as the superadmin. */
export async function createTeamFixture(t: ApiTestApp, name: string): Promise<TeamFixture> {
  const team = await t.root('/api/v1/teams', { method: 'POST', body: { name } });
  expectStatus('create team', team, 201);
  const teamId = (team.body as { id: string }).id;
  const person = async (role: 'team_admin' | 'member') => {
    const user = await t.root('/api/v1/users', { method: 'POST', body: { email: `${role}@${name}.example`, displayName: `${name} ${role}`, teamId, role } });
    expectStatus('create user', user, 201);
    const userId = (user.body as { id: string }).id;
    const key = await t.root('/api/v1/keypairs', { method: 'POST', body: { userId, teamId } });
    expectStatus('create keypair', key, 201);
    const { accessKey, secretKey } = key.body as { accessKey: string; secretKey: string };
    return { userId, accessKey, secretKey, call: t.asKeypair(accessKey, secretKey) };
  };
  const admin = await person('team_admin');
  const member = await person('member');
  const token = await member.call('/api/v1/tokens', { method: 'POST', body: { name: 'notebook', scope: 'management' } });
  expectStatus('create token', token, 201);
  return { teamId, admin, member, token: token.body as { id: string; token: string } };
}
