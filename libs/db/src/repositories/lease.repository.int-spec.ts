import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource, EntityManager } from 'typeorm';
import { createDataSource } from '../data-source';
import { TemplateClone, cloneTemplate } from '../testing/template-database';
import { TeamEntity } from '../entities';
import { JobRecord, JobRepository } from './job.repository';
import { FencedError, LeaseRepository } from './lease.repository';
import { TeamRepository } from './team.repository';

/** The scheduler lease on the real Postgres (migrated template): who may lead, and which leader's writes land. */
describe('LeaseRepository (Postgres)', () => {
  const TTL = 300;
  const LONG = 60_000;
  let db: TemplateClone;
  let ds: DataSource;
  let leases: LeaseRepository;
  let jobs: JobRepository;
  let teamId: string;

  beforeAll(async () => {
    db = await cloneTemplate();
    ds = createDataSource(db.url, { poolSize: 4 });
    await ds.initialize();
    leases = new LeaseRepository(ds);
    jobs = new JobRepository(ds);
    teamId = (await new TeamRepository(ds).create({ name: 'lease-test' })).id;
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  // Each test starts with nobody holding the lease, as on a fresh install.
  beforeEach(() => ds.query(`DELETE FROM scheduler_leases`));

  const teamNamed = (name: string) => ds.getRepository(TeamEntity).findOne({ where: { name } });
  const queuedJob = async (): Promise<JobRecord> => {
    const createdAt = new Date();
    const { job } = await jobs.create({
      teamId,
      keypairId: null,
      kind: 'chat',
      mode: 'async',
      model: 'm',
      request: { messages: [{ role: 'user', content: 'hi' }] },
      requestId: null,
      createdAt,
      deadlineAt: new Date(createdAt.getTime() + LONG),
      idempotencyKey: null,
      requestHash: null,
    });
    return job;
  };
  const dispatch = (job: JobRecord, nodeId: string, fence: number) => jobs.transition(job.id, 'dispatch', { nodeId, replicaId: `${nodeId}/m`, dispatchedAt: new Date() }, { attempt: job.attempt, fence });

  it('refuses a second holder while the lease is live, and lets it take over with a higher token once it expired', async () => {
    const first = await leases.acquire('a', TTL);
    expect(first).toBe(1);
    expect(await leases.acquire('b', TTL)).toBeNull();
    expect(await leases.current()).toMatchObject({ holder: 'a', token: first });

    await sleep(TTL + 150);
    const second = await leases.acquire('b', LONG);
    expect(second).toBe(first! + 1);
    expect(await leases.current()).toMatchObject({ holder: 'b', token: second });
    // The deposed holder learns it at its next renewal, and cannot take the live lease back.
    expect(await leases.renew('a', first!, TTL)).toBe(false);
    expect(await leases.acquire('a', TTL)).toBeNull();
    expect(await leases.current()).toMatchObject({ holder: 'b', token: second });
  });

  it('keeps the lease live past its first expiry when renewed, with the same token', async () => {
    const token = await leases.acquire('a', TTL);
    await sleep(TTL / 2);
    expect(await leases.renew('a', token!, 1500)).toBe(true);
    await sleep(TTL); // past the first expiry, well within the renewed one
    expect(await leases.acquire('b', TTL)).toBeNull();
    expect(await leases.current()).toMatchObject({ holder: 'a', token });
    // Only the holder with its token renews.
    expect(await leases.renew('b', token!, LONG)).toBe(false);
    expect(await leases.renew('a', token! + 1, LONG)).toBe(false);
  });

  it('lets another holder take a released lease at once; a stale release frees nothing', async () => {
    const first = await leases.acquire('a', LONG);
    expect(await leases.acquire('b', LONG)).toBeNull();
    await leases.release('a', first!);
    const second = await leases.acquire('b', LONG);
    expect(second).toBe(first! + 1);

    // A late release from the old holder (or with the old token) leaves the new holder's lease alone.
    await leases.release('a', first!);
    await leases.release('b', first!);
    expect(await leases.acquire('c', LONG)).toBeNull();
    expect(await leases.current()).toMatchObject({ holder: 'b', token: second });
  });

  it('runs a fenced write under the current token, and refuses one under a stale token without writing anything', async () => {
    const first = await leases.acquire('a', LONG);
    await expect(leases.fenced(first!, (m) => m.getRepository(TeamEntity).save({ name: 'written-by-a' }).then((t) => t.name))).resolves.toBe('written-by-a');
    expect(await teamNamed('written-by-a')).not.toBeNull();

    await leases.release('a', first!);
    const second = await leases.acquire('b', LONG);
    const write = jest.fn((m: EntityManager) => m.getRepository(TeamEntity).save({ name: 'late-from-a' }));
    const refused = leases.fenced(first!, write);
    await expect(refused).rejects.toBeInstanceOf(FencedError);
    await expect(refused).rejects.toMatchObject({ token: first, message: `scheduler lease token ${first} is no longer current: another scheduler leads` });
    expect(write).not.toHaveBeenCalled();
    expect(await teamNamed('late-from-a')).toBeNull();

    await leases.fenced(second!, (m) => m.getRepository(TeamEntity).save({ name: 'written-by-b' }));
    expect(await teamNamed('written-by-b')).not.toBeNull();
  });

  it('makes a taking-over wait for a fenced write in progress to commit', async () => {
    const first = await leases.acquire('a', TTL);
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const writing = leases.fenced(first!, async (m) => {
      await m.getRepository(TeamEntity).save({ name: 'slow-write-by-a' });
      entered();
      await gate;
    });
    await inside;
    await sleep(TTL + 150); // a's lease has expired while its write is open

    let taken: number | null | undefined;
    const takeover = leases.acquire('b', LONG).then((t) => (taken = t));
    await sleep(300);
    expect(taken).toBeUndefined();

    finish();
    await writing;
    await takeover;
    expect(taken).toBe(first! + 1);
    expect(await teamNamed('slow-write-by-a')).not.toBeNull();
    await expect(leases.fenced(first!, async () => undefined)).rejects.toBeInstanceOf(FencedError);
  });

  it('dispatches a job under the current token and refuses a dispatch under a stale one, leaving the job queued', async () => {
    const nodeA = randomUUID();
    const nodeB = randomUUID();
    const first = await leases.acquire('a', TTL);
    const early = await queuedJob();
    expect(await dispatch(early, nodeA, first!)).toMatchObject({ id: early.id, status: 'dispatched', nodeId: nodeA, replicaId: `${nodeA}/m` });

    await sleep(TTL + 150);
    const second = await leases.acquire('b', LONG);
    const job = await queuedJob();
    expect(await dispatch(job, nodeA, first!)).toBeNull();
    expect(await jobs.get(job.id)).toMatchObject({ status: 'queued', nodeId: null, replicaId: null, dispatchedAt: null });

    expect(await dispatch(job, nodeB, second!)).toMatchObject({ id: job.id, status: 'dispatched', nodeId: nodeB, replicaId: `${nodeB}/m` });
    expect(await jobs.get(job.id)).toMatchObject({ status: 'dispatched', nodeId: nodeB });
  });
});
