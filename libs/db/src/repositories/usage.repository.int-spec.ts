import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { TeamScope } from './team-scope';
import { UsageRepository } from './usage.repository';

const T0 = new Date('2031-03-01T23:59:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

/** Usage aggregated from real job rows on the real Postgres: sums, outcomes, timings, groups, scope, period bounds. */
describe('UsageRepository (Postgres)', () => {
  let db: TemplateClone;
  let ds: DataSource;
  let usage: UsageRepository;
  const ids = { teamA: '', teamB: '', user: '', keypair: '', token: '' };

  const job = (values: Record<string, unknown>) =>
    ds.query(
      `INSERT INTO jobs (team_id, keypair_id, api_token_id, user_id, kind, mode, model, status, request, attempt, prompt_tokens, cached_prompt_tokens, completion_tokens, created_at, deadline_at, started_at, first_token_at, finished_at, endpoint_id)
       VALUES ($1, $2, $3, $4, 'chat', 'sync', $5, $6, '{}', 1, $7, $8, $9, $10, $10::timestamptz + interval '1 hour', $11, $12, $13, $14)`,
      [values.team, values.keypair ?? null, values.token ?? null, ids.user, values.model, values.status, values.prompt ?? null, values.cached ?? null, values.completion ?? null, values.created, values.started ?? null, values.first ?? null, values.finished ?? null, values.endpoint ?? null],
    );

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 2 });
    await ds.initialize();
    usage = new UsageRepository(ds);
    const team = async (name: string) => ((await ds.query(`INSERT INTO teams (name) VALUES ($1) RETURNING id`, [name])) as { id: string }[])[0].id;
    ids.teamA = await team('team-a');
    ids.teamB = await team('team-b');
    ids.user = ((await ds.query(`INSERT INTO users (email, display_name) VALUES ('ann@example.com', 'Ann') RETURNING id`)) as { id: string }[])[0].id;
    ids.keypair = ((await ds.query(`INSERT INTO keypairs (access_key, secret_sealed, user_id, team_id, is_active) VALUES ('AKIAUSAGETEST0000001', 'sealed', $1, $2, true) RETURNING id`, [ids.user, ids.teamA])) as { id: string }[])[0].id;
    ids.token = randomUUID();
    await ds.query(`INSERT INTO api_tokens (id, team_id, user_id, name, prefix, token_hash, scope) VALUES ($1, $2, $3, 'ci-bot', 'glt_x', 'hash', 'inference')`, [ids.token, ids.teamA, ids.user]);
    // Team A, model m1: two succeeded jobs on the first day (one by keypair, one by token), one failed on the next.
    await job({ team: ids.teamA, keypair: ids.keypair, model: 'm1', status: 'succeeded', prompt: 10, cached: 4, completion: 20, created: at(0), started: at(100), first: at(300), finished: at(1000) });
    await job({ team: ids.teamA, token: ids.token, model: 'm1', status: 'succeeded', prompt: 30, cached: 0, completion: 40, created: at(1000), started: at(1300), first: at(1700), finished: at(4000) });
    await job({ team: ids.teamA, keypair: ids.keypair, model: 'm1', status: 'failed', prompt: 5, created: at(120_000), started: at(120_500) });
    // Team A, model m2, still queued; team B, model m1.
    await job({ team: ids.teamA, keypair: ids.keypair, model: 'm2', status: 'queued', created: at(30_000) });
    await job({ team: ids.teamB, model: 'm1', status: 'cancelled', created: at(10_000) });
    // Outside the period asked (the end is exclusive).
    await job({ team: ids.teamA, keypair: ids.keypair, model: 'm1', status: 'succeeded', prompt: 999, completion: 999, created: at(24 * 3600 * 1000) });
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const period = { from: at(-1000), to: at(24 * 3600 * 1000) };

  it('sums tokens and outcomes per team, model and UTC day, with queue wait, first token and total time', async () => {
    const rows = await usage.aggregate({ scope: TeamScope.all(), ...period, groupBy: ['team', 'model', 'day'] });
    const a1 = rows.filter((r) => r.team?.name === 'team-a' && r.model === 'm1');
    expect(a1.map((r) => r.day)).toEqual(['2031-03-01', '2031-03-02']);
    expect(a1[0]).toMatchObject({
      requests: 2,
      outcomes: { succeeded: 2, failed: 0, cancelled: 0, expired: 0, open: 0 },
      promptTokens: 40,
      cachedPromptTokens: 4,
      completionTokens: 60,
      queueWaitMs: { mean: 200, p50: 200 },
      firstTokenMs: { mean: 500, p50: 500 },
      totalMs: { mean: 2000, p50: 2000 },
    });
    // Times of a job that never reached a point do not count: the failed one never streamed.
    expect(a1[1]).toMatchObject({ requests: 1, outcomes: { failed: 1 }, promptTokens: 5, completionTokens: 0, queueWaitMs: { mean: 500 }, firstTokenMs: { mean: null }, totalMs: { mean: null } });
    expect(rows.find((r) => r.team?.name === 'team-a' && r.model === 'm2')).toMatchObject({ requests: 1, outcomes: { open: 1 } });
    expect(rows.find((r) => r.team?.name === 'team-b')).toMatchObject({ requests: 1, outcomes: { cancelled: 1 } });
    // The period's end is exclusive: the 999-token job of the next day is not counted.
    expect(rows.reduce((s, r) => s + r.promptTokens, 0)).toBe(45);
  });

  it("groups by credential (a keypair's access key, a token's name) and user, within one team's scope", async () => {
    const rows = await usage.aggregate({ scope: TeamScope.team(ids.teamA), ...period, groupBy: ['key', 'user'] });
    expect(rows.map((r) => [r.key?.kind, r.key?.label, r.user?.email, r.requests])).toEqual(
      expect.arrayContaining([
        ['keypair', 'AKIAUSAGETEST0000001', 'ann@example.com', 3],
        ['token', 'ci-bot', 'ann@example.com', 1],
      ]),
    );
    // Team B's job is outside the scope.
    expect(rows.reduce((s, r) => s + r.requests, 0)).toBe(4);
  });

  it('groups by the endpoint that served the jobs: local ones under null, a removed endpoint by its id with no name', async () => {
    const endpoint = async (name: string) =>
      ((await ds.query(`INSERT INTO endpoints (name, kind, url, credentials_sealed, credential_hint, health) VALUES ($1, 'openai', 'http://peer.invalid', 'sealed', 'sk-…abcd', '{}') RETURNING id`, [name])) as { id: string }[])[0].id;
    const east = await endpoint('east-peer');
    const gone = randomUUID(); // jobs.endpoint_id has no foreign key: the jobs outlive their endpoint.
    // Two days after the other tests' period, so their totals stay as they are.
    const day3 = 2 * 24 * 3600 * 1000;
    await job({ team: ids.teamA, model: 'm1', status: 'succeeded', prompt: 1, completion: 2, created: at(day3), endpoint: east });
    await job({ team: ids.teamB, model: 'm1', status: 'failed', prompt: 3, created: at(day3 + 1000), endpoint: east });
    await job({ team: ids.teamA, model: 'm1', status: 'succeeded', prompt: 7, completion: 8, created: at(day3 + 2000) });
    await job({ team: ids.teamA, model: 'm2', status: 'succeeded', prompt: 20, created: at(day3 + 3000), endpoint: gone });
    const rows = await usage.aggregate({ scope: TeamScope.all(), from: at(day3), to: at(day3 + 60_000), groupBy: ['endpoint'] });
    expect(rows.map((r) => [r.endpoint, r.requests, r.promptTokens])).toEqual(
      expect.arrayContaining([
        [null, 1, 7],
        [{ id: east, name: 'east-peer' }, 2, 4],
        [{ id: gone, name: null }, 1, 20],
      ]),
    );
    expect(rows).toHaveLength(3);
    // Within a team's scope, with the model: team B's job on the endpoint is not counted.
    const a = await usage.aggregate({ scope: TeamScope.team(ids.teamA), from: at(day3), to: at(day3 + 60_000), groupBy: ['model', 'endpoint'] });
    expect(a.map((r) => [r.model, r.endpoint === null ? 'local' : r.endpoint.name, r.requests])).toEqual(expect.arrayContaining([['m1', 'local', 1], ['m1', 'east-peer', 1], ['m2', null, 1]]));
    expect(a).toHaveLength(3);
    // Not asked for, the endpoint is left out.
    expect((await usage.aggregate({ scope: TeamScope.all(), from: at(day3), to: at(day3 + 60_000), groupBy: ['model'] })).map((r) => r.endpoint)).toEqual([null, null]);
  });

  it('totals everything in one row without groups', async () => {
    expect(await usage.aggregate({ scope: TeamScope.all(), ...period, groupBy: [] })).toEqual([expect.objectContaining({ requests: 5, team: null, model: null, day: null, promptTokens: 45, completionTokens: 60 })]);
  });
});
