import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface JobView {
  id: string;
  status: string;
  timings: { finished_at: string | null };
  error: { code: string } | null;
}

/**
 * Waiting jobs are served by fair share across teams, by priority within a team: one replica
 * with one sequence, a team that floods it, and another team that arrives late.
 */
describe('fair share between teams, priority within a team', () => {
  let stack: RunningStack;
  let flooder: StackClient;
  let latecomer: StackClient;

  beforeAll(async () => {
    // One sequence: every job but one waits.
    stack = await startStack({ parallel: 1, schedulerEnv: { GRIDLINE_QUEUE_MAX_PER_TEAM: '11' } });
    flooder = new StackClient(stack, stack.url);
    const team = await flooder.json<{ id: string }>('POST', '/api/v1/teams', { name: 'late' });
    const user = await flooder.json<{ id: string }>('POST', '/api/v1/users', { email: 'late@example.com', displayName: 'Late', teamId: team.body.id, role: 'team_admin' });
    const key = await flooder.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
    expect(key.status).toBe(201);
    latecomer = new StackClient({ ...stack, accessKey: key.body.accessKey, secretKey: key.body.secretKey }, stack.url);
  }, 120_000);

  afterAll(async () => {
    await flooder?.close();
    await latecomer?.close();
    await stack?.stop();
  });

  const submit = async (client: StackClient, content: string, priority?: number) => {
    const res = await client.json<JobView>('POST', '/api/v1/jobs', { model: stack.modelName, messages: [{ role: 'user', content }], max_tokens: 24, temperature: 0, ...(priority !== undefined ? { priority } : {}) });
    expect(res.status).toBe(202);
    return res.body.id;
  };

  it("serves a late team's jobs before the flooding team's backlog, a team's urgent job before its older ones, and refuses a team over its bound with 429 and Retry-After", async () => {
    // The node holds still while the queue forms, so the order is the queue's, not the arrival race's.
    stack.agent.child.kill('SIGSTOP');
    let resumed = false;
    try {
      const flood: string[] = [];
      for (let i = 0; i < 11; i++) flood.push(await submit(flooder, `Flood ${i}: tell me about rivers.`));
      const urgent = await submit(flooder, 'Urgent: tell me about rivers.', 10);
      // One job holds the sequence; the team's other eleven wait, its bound.
      await until("the flooder's jobs waiting", async () => {
        const page = await flooder.json<{ data: JobView[] }>('GET', '/api/v1/jobs?status=queued&limit=50');
        return page.body.data.length === 11 ? true : undefined;
      });
      const refused = await flooder.json<{ error: { code: string; type: string } }>('POST', '/v1/chat/completions', { model: stack.modelName, messages: [{ role: 'user', content: 'one too many' }], max_tokens: 4 });
      expect({ status: refused.status, code: refused.body.error.code, type: refused.body.error.type }).toEqual({ status: 429, code: 'queue_full', type: 'rate_limit_error' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const late = [await submit(latecomer, 'Late 1: tell me about rivers.'), await submit(latecomer, 'Late 2: tell me about rivers.')];
      stack.agent.child.kill('SIGCONT');
      resumed = true;

      const all = [...flood, urgent, ...late];
      const done = await until('every job finished', async () => {
        const views = await Promise.all(all.map(async (id) => (await (late.includes(id) ? latecomer : flooder).json<JobView>('GET', `/api/v1/jobs/${id}`)).body));
        return views.every((v) => v.timings.finished_at !== null) ? views : undefined;
      }, 180_000);
      expect(done.map((v) => v.status)).toEqual(all.map(() => 'succeeded'));
      const order = [...done].sort((a, b) => Date.parse(a.timings.finished_at!) - Date.parse(b.timings.finished_at!)).map((v) => v.id);
      const rank = (id: string) => order.indexOf(id);
      // First come, first served would finish the late team's jobs last (ranks 12 and 13). With
      // fair share they go as soon as the sequence frees, alternating with the flooder's backlog.
      process.stdout.write(`order: ${order.map((id) => (late.includes(id) ? `late${late.indexOf(id)}` : id === urgent ? "urgent" : `flood${flood.indexOf(id)}`)).join(" ")}\n`);
      // Both teams weigh 1 and neither had been served through the queue: the late team gets every
      // other freed sequence (ranks 1 and 3, or 2 and 4 when the flooder's turn came first).
      expect(Math.max(...late.map(rank))).toBeLessThanOrEqual(4);
      // Priority within the team: the urgent job overtakes the team's ten older waiting jobs.
      expect(rank(urgent)).toBeLessThanOrEqual(2);
      process.stdout.write(`fair share: the late team's jobs finished at ranks ${late.map(rank).join(', ')} of 14 (FIFO: 12, 13); the urgent job at ${rank(urgent)} (FIFO: 11)\n`);
    } finally {
      if (!resumed) stack.agent.child.kill('SIGCONT');
    }
  }, 240_000);
});
