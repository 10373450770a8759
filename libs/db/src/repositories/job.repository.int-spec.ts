import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource } from '../data-source';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { JobRepository, NewJob } from './job.repository';
import { TeamScope } from './team-scope';

/** Job rows written on the real Postgres: a burst goes in as few inserts as it can, each caller gets its own row. */
describe('JobRepository.create (Postgres)', () => {
  let db: TemplateClone;
  let ds: DataSource;
  let jobs: JobRepository;
  let teamId = '';

  const newJob = (over: Partial<NewJob> = {}): NewJob => ({
    teamId,
    keypairId: null,
    kind: 'chat',
    mode: 'sync',
    model: 'm',
    request: { n: randomUUID() },
    requestId: null,
    createdAt: new Date(),
    deadlineAt: new Date(Date.now() + 60_000),
    idempotencyKey: null,
    requestHash: null,
    ...over,
  });

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    jobs = new JobRepository(ds);
    teamId = ((await ds.query(`INSERT INTO teams (name) VALUES ('burst') RETURNING id`)) as { id: string }[])[0].id;
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('gives each of 200 simultaneous submissions its own queued row, written in fewer inserts than rows', async () => {
    const before = Number(((await ds.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)) as { xact_commit: string }[])[0].xact_commit);
    const asked = Array.from({ length: 200 }, (_, i) => newJob({ model: `m${i}`, priority: i % 3 }));
    const made = await Promise.all(asked.map((j) => jobs.create(j)));
    const commits = Number(((await ds.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)) as { xact_commit: string }[])[0].xact_commit) - before;
    expect(new Set(made.map((m) => m.job.id)).size).toBe(200);
    made.forEach((m, i) => {
      expect(m.created).toBe(true);
      expect(m.job).toMatchObject({ model: `m${i}`, request: asked[i].request, priority: i % 3, status: 'queued', attempt: 1, teamId });
    });
    const stored = await jobs.list(TeamScope.team(teamId), { limit: 500 });
    expect(stored).toHaveLength(200);
    // Batched: far fewer commits than rows (the statistics count every transaction of the database, a few besides ours).
    expect(commits).toBeLessThan(100);
  });

  it("fails only the row the database refuses: the others of its batch are written", async () => {
    const results = await Promise.allSettled([newJob({ model: 'ok-1' }), newJob({ teamId: randomUUID(), model: 'orphan' }), newJob({ model: 'ok-2' })].map((j) => jobs.create(j)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: '23503' });
    const models = (await jobs.list(TeamScope.team(teamId), { limit: 500 })).map((j) => j.model);
    expect(models).toEqual(expect.arrayContaining(['ok-1', 'ok-2']));
    expect(models).not.toContain('orphan');
  });

  it('returns the first job for a repeated idempotency key, also when both arrive at once', async () => {
    const [a, b] = await Promise.all([jobs.create(newJob({ idempotencyKey: 'k-1', requestHash: 'h' })), jobs.create(newJob({ idempotencyKey: 'k-1', requestHash: 'h' }))]);
    expect(a.job.id).toBe(b.job.id);
    expect([a.created, b.created].sort()).toEqual([false, true]);
  });
});
