import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { QuotaLimits1796162797121 } from '../migrations/1796162797121-QuotaLimits';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { QuotaLimitValues, QuotaRepository } from './quota.repository';
import { TeamScope } from './team-scope';

const NONE: QuotaLimitValues = { maxConcurrentJobs: null, maxQueuedJobs: null, requestsPerMinute: null, tokensPerMinute: null, tokensPerDay: null };

/** Quota limits on the migrated Postgres: replace-all, order, tenancy, key ownership, cascades, constraints, and the migration of the old column. */
describe('QuotaRepository (Postgres)', () => {
  let db: TemplateClone;
  let ds: DataSource;
  let quotas: QuotaRepository;
  const ids = { teamA: '', teamB: '', user: '', keypair: '', token: '' };

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    quotas = new QuotaRepository(ds);
    const team = async (name: string) => ((await ds.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [name])) as { id: string }[])[0].id;
    ids.teamA = await team('team-a');
    ids.teamB = await team('team-b');
    ids.user = ((await ds.query(`INSERT INTO users (email, display_name) VALUES ('q@example.com', 'Q') RETURNING id`)) as { id: string }[])[0].id;
    ids.keypair = ((await ds.query(`INSERT INTO keypairs (access_key, secret_sealed, user_id, team_id, is_active) VALUES ('AKIAQUOTATEST0000001', 'sealed', $1, $2, true) RETURNING id`, [ids.user, ids.teamA])) as { id: string }[])[0].id;
    ids.token = randomUUID();
    await ds.query(`INSERT INTO api_tokens (id, team_id, user_id, name, prefix, token_hash, scope) VALUES ($1, $2, $3, 'bot', 'glt_q', 'hash', 'inference')`, [ids.token, ids.teamA, ids.user]);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('replaces a team’s entries as a whole and reads them back in order (team, keys, models), big token limits intact', async () => {
    await quotas.replace(TeamScope.all(), ids.teamA, [{ subject: { kind: 'model', model: 'm' }, limits: { ...NONE, tokensPerDay: 2 ** 40 } }]);
    const saved = await quotas.replace(TeamScope.all(), ids.teamA, [
      { subject: { kind: 'model', model: 'm' }, limits: { ...NONE, tokensPerMinute: 10 } },
      { subject: { kind: 'token', id: ids.token }, limits: { ...NONE, requestsPerMinute: 5 } },
      { subject: { kind: 'team' }, limits: { ...NONE, maxConcurrentJobs: 3, tokensPerDay: 2 ** 40 } },
      { subject: { kind: 'keypair', id: ids.keypair }, limits: { ...NONE, maxQueuedJobs: 0 } },
    ]);
    expect(saved?.map(({ subject, limits }) => ({ subject, limits }))).toEqual([
      { subject: { kind: 'team' }, limits: { ...NONE, maxConcurrentJobs: 3, tokensPerDay: 2 ** 40 } },
      ...[
        { subject: { kind: 'keypair', id: ids.keypair }, limits: { ...NONE, maxQueuedJobs: 0 } },
        { subject: { kind: 'token', id: ids.token }, limits: { ...NONE, requestsPerMinute: 5 } },
      ].sort((x, y) => x.subject.id.localeCompare(y.subject.id)),
      { subject: { kind: 'model', model: 'm' }, limits: { ...NONE, tokensPerMinute: 10 } },
    ]);
    expect(await quotas.forTeam(TeamScope.team(ids.teamB), ids.teamB)).toEqual([]);
  });

  it('keeps teams apart: another team’s scope reads and writes nothing; another team’s keys are foreign', async () => {
    expect(await quotas.forTeam(TeamScope.team(ids.teamB), ids.teamA)).toBeNull();
    expect(await quotas.replace(TeamScope.team(ids.teamB), ids.teamA, [])).toBeNull();
    expect(await quotas.forTeam(TeamScope.team(ids.teamA), ids.teamA)).toHaveLength(4);
    const unknown = randomUUID();
    expect(await quotas.foreignKeys(ids.teamB, { keypairs: [ids.keypair], tokens: [ids.token, unknown] })).toEqual({ keypairs: [ids.keypair], tokens: [ids.token, unknown] });
    expect(await quotas.foreignKeys(ids.teamA, { keypairs: [ids.keypair], tokens: [ids.token] })).toEqual({ keypairs: [], tokens: [] });
  });

  it('refuses two entries for one scope or a row naming two subjects, and drops a key’s entry with the key', async () => {
    await expect(quotas.replace(TeamScope.all(), ids.teamB, [{ subject: { kind: 'team' }, limits: NONE }, { subject: { kind: 'team' }, limits: NONE }])).rejects.toMatchObject({ code: '23505' });
    await expect(ds.query(`INSERT INTO quota_limits (team_id, keypair_id, model) VALUES ($1, $2, 'm')`, [ids.teamA, ids.keypair])).rejects.toMatchObject({ code: '23514' });
    // The failed replace changed nothing.
    expect(await quotas.forTeam(TeamScope.all(), ids.teamB)).toEqual([]);
    await ds.query(`DELETE FROM api_tokens WHERE id = $1`, [ids.token]);
    expect((await quotas.forTeam(TeamScope.all(), ids.teamA))?.map((e) => e.subject.kind)).toEqual(['team', 'keypair', 'model']);
  });

  it('the migration moves teams.quota_concurrent_jobs into team-scope rows and drops it', async () => {
    const runner = ds.createQueryRunner();
    try {
      await quotas.replace(TeamScope.all(), ids.teamA, []);
      await new QuotaLimits1796162797121().down(runner);
      await runner.query(`UPDATE teams SET quota_concurrent_jobs = 4 WHERE id = $1`, [ids.teamA]);
      await new QuotaLimits1796162797121().up(runner);
      expect(await quotas.forTeam(TeamScope.all(), ids.teamA)).toEqual([expect.objectContaining({ subject: { kind: 'team' }, limits: { ...NONE, maxConcurrentJobs: 4 } })]);
      expect(await quotas.forTeam(TeamScope.all(), ids.teamB)).toEqual([]);
      const columns = await runner.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'teams' AND column_name = 'quota_concurrent_jobs'`);
      expect(columns).toEqual([]);
    } finally {
      await runner.release();
    }
  });
});
