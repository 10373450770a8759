import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { ManagedProcess, RunningStack, StackClient, createJoinToken, startStack, until } from '@gridline/testing';

interface JobRow {
  id: string;
  status: string;
  attempt: number;
  node_id: string | null;
  completion_tokens: number | null;
  cached_prompt_tokens: number | null;
  prompt_tokens: number | null;
}

/**
 * A streaming chat whose agent is SIGKILLed mid-answer continues on the other node's replica:
 * the client's text is exactly the text of an uninterrupted greedy run, with no error, no token
 * lost or repeated, and the job's row shows the second attempt and every token counted.
 */
describe('a streaming job continues on another replica when its node is lost', () => {
  let stack: RunningStack;
  let client: StackClient;
  let db: Client;
  let second: ManagedProcess;
  const dir = mkdtempSync(join(tmpdir(), 'gl-resume-'));
  const agents = new Map<string, ManagedProcess>();
  let referenceText = '';
  let deploymentId = '';
  const body = { model: 'tiny-resume', messages: [{ role: 'user', content: 'Tell me a long story about the sea and its ships.' }], max_tokens: 300, temperature: 0, stream_options: { include_usage: true } };

  const jobOf = async (requestId: string) => (await db.query<JobRow>('SELECT id, status, attempt, node_id, completion_tokens, cached_prompt_tokens, prompt_tokens FROM jobs WHERE request_id = $1', [requestId])).rows[0];

  beforeAll(async () => {
    // Larger than the stack's default tiny model, so 300 tokens take long enough to kill a node in the middle.
    writeFileSync(join(dir, 'tiny-resume.gguf'), encodeGguf(buildTinyLlama({ seed: 17, embedding: 512, layers: 8, heads: 8, kvHeads: 4, feedForward: 1536 })));
    stack = await startStack({
      apiEnv: { GRIDLINE_MODEL_ROOTS: dir },
      agentEnv: { GRIDLINE_MODEL_PATH: '', GRIDLINE_SIMULATE_GPUS: '1xL4-24GB', GRIDLINE_NODE_NAME: 'node-a' },
      env: { GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '3', GRIDLINE_NODE_LOST_SECONDS: '4' },
      schedulerEnv: { GRIDLINE_RECONCILE_SECONDS: '1', GRIDLINE_SWEEP_SECONDS: '1' },
    });
    client = new StackClient(stack, stack.url);
    second = stack.spawnAgent({ GRIDLINE_SIMULATE_GPUS: '1xL4-24GB', GRIDLINE_NODE_NAME: 'node-b', GRIDLINE_DATA_DIR: join(dir, 'agent-b') }, await createJoinToken(stack.url, stack));
    await second.waitFor(/registered as/);
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    const nodes = await until('two nodes Ready', async () => {
      const items = (await client.json<{ items: { id: string; name: string; status: string }[] }>('GET', '/api/v1/nodes')).body.items;
      return items.filter((n) => n.status === 'Ready').length === 2 ? items : undefined;
    });
    for (const n of nodes) agents.set(n.id, n.name === 'node-a' ? stack.agent : second);
    expect((await client.json('POST', '/api/v1/models', { name: 'tiny-resume', source: `file://${join(dir, 'tiny-resume.gguf')}` })).status).toBe(201);
    const res = await client.json<{ id: string }>('POST', '/api/v1/deployments', { name: 'resume', model: 'tiny-resume', replicas: 2, placement: 'spread', runtime: { contextSize: 1024, parallel: 2 } });
    expect(res.status).toBe(201);
    deploymentId = res.body.id;
    await until('two replicas Ready', async () => ((await client.json<{ readyReplicas: number }>('GET', `/api/v1/deployments/${res.body.id}`)).body.readyReplicas === 2 ? true : undefined), 90_000);
  }, 150_000);

  afterAll(async () => {
    await db?.end();
    await client?.close();
    await stack?.stop();
  });

  it('gives the client exactly the uninterrupted text, once, after its agent is SIGKILLed mid-stream', async () => {
    const t0 = Date.now();
    const reference = await client.stream(body);
    const referenceMs = Date.now() - t0;
    referenceText = reference.text;
    expect(reference.status).toBe(200);
    expect(reference.done).toBe(true);
    const referenceJob = await until('the reference job settled', async () => {
      const j = await jobOf(reference.headers.get('x-request-id') as string);
      return j.status === 'succeeded' ? j : undefined;
    });
    expect(referenceJob).toMatchObject({ status: 'succeeded', attempt: 1, completion_tokens: 300 });

    let killedAt = 0;
    let firstAfterKill = 0;
    let chunks = 0;
    let requestId: string | null = null;
    const run = client.stream(body, (event) => {
      const content = (event.choices as { delta?: { content?: string } }[] | undefined)?.[0]?.delta?.content;
      if (!content) return false;
      chunks++;
      if (killedAt && !firstAfterKill) firstAfterKill = Date.now();
      return false;
    });
    // The job's node, a third of the way into the answer: SIGKILL its agent.
    await until('a third of the answer streamed', async () => (chunks >= 100 ? true : undefined), 30_000, 5);
    const row = await db.query<JobRow & { request_id: string }>(`SELECT id, node_id, request_id FROM jobs WHERE status IN ('dispatched', 'running') ORDER BY created_at DESC LIMIT 1`);
    const killedNode = row.rows[0].node_id as string;
    requestId = row.rows[0].request_id;
    const victim = agents.get(killedNode) as ManagedProcess;
    victim.child.kill('SIGKILL');
    killedAt = Date.now();
    const chunksAtKill = chunks;
    const result = await run;
    expect(result.status).toBe(200);
    expect(result.events.filter((e) => 'error' in e)).toEqual([]);
    expect(result.done).toBe(true);
    expect(result.text).toBe(reference.text);
    expect(chunks).toBeGreaterThan(chunksAtKill);

    const job = await until('the job settled', async () => {
      const j = await jobOf(requestId as string);
      return j.status === 'succeeded' ? j : undefined;
    }, 20_000);
    expect(job.attempt).toBe(2);
    expect(job.node_id).not.toBe(killedNode);
    expect(job.completion_tokens).toBe(300);
    expect(job.prompt_tokens).toBe(referenceJob.prompt_tokens);
    // The usage the client is told counts every token of the answer, from both nodes.
    expect(result.events.find((e) => e.usage)).toMatchObject({ usage: { completion_tokens: 300, prompt_tokens: referenceJob.prompt_tokens } });
    process.stdout.write(
      `stream resume: uninterrupted run ${referenceMs} ms; SIGKILL after ${chunksAtKill} chunks; text continued ${firstAfterKill - killedAt} ms after the kill on the other node; ` +
        `${result.text.length} chars identical to the uninterrupted run; cached prompt tokens on the new node: ${job.cached_prompt_tokens}\n`,
    );
  }, 120_000);

  it('gives a non-streaming client the same whole answer when the node running it is lost midway', async () => {
    // A third node, and a third replica placed on it (spread), so a replica is left wherever the job runs.
    const third = stack.spawnAgent({ GRIDLINE_SIMULATE_GPUS: '1xL4-24GB', GRIDLINE_NODE_NAME: 'node-c', GRIDLINE_DATA_DIR: join(dir, 'agent-c') }, await createJoinToken(stack.url, stack));
    await third.waitFor(/registered as/);
    const nodeC = await until('node-c Ready', async () => {
      const items = (await client.json<{ items: { id: string; name: string; status: string }[] }>('GET', '/api/v1/nodes')).body.items;
      return items.find((n) => n.name === 'node-c' && n.status === 'Ready');
    });
    agents.set(nodeC.id, third);
    // Preferred, or placement would put it beside the file node-b already holds.
    const patched = await client.json('PATCH', `/api/v1/deployments/${deploymentId}`, { replicas: 3, resource: { preferredNodes: ['node-c'] } });
    expect(patched.status).toBe(200);
    await until('a replica Ready on node-c', async () => {
      const d = (await client.json<{ readyReplicas: number; status: { replicas: { nodeName: string; state: string }[] } | null }>('GET', `/api/v1/deployments/${deploymentId}`)).body;
      return d.readyReplicas === 3 && d.status?.replicas.some((r) => r.nodeName === 'node-c' && r.state === 'Ready') ? true : undefined;
    }, 90_000);

    const since = new Date();
    const { stream_options: _unused, ...plain } = body;
    const pending = client.json<{ choices: { message: { content: string }; finish_reason: string }[]; usage: { completion_tokens: number } }>('POST', '/v1/chat/completions', plain);
    // The node running it is killed once the job has produced its first token.
    const running = await until('the job produced a token', async () => {
      const r = await db.query<{ id: string; node_id: string }>(`SELECT id, node_id FROM jobs WHERE created_at >= $1 AND first_token_at IS NOT NULL AND status = 'running'`, [since]);
      return r.rows[0];
    }, 30_000, 5);
    (agents.get(running.node_id) as ManagedProcess).child.kill('SIGKILL');
    const res = await pending;
    expect({ status: res.status, error: (res.body as { error?: unknown }).error }).toEqual({ status: 200, error: undefined });
    expect(res.body.choices[0].message.content).toBe(referenceText);
    expect(res.body.usage.completion_tokens).toBe(300);
    const job = await until('the job settled', async () => {
      const j = (await db.query<JobRow>('SELECT id, status, attempt, node_id, completion_tokens, cached_prompt_tokens, prompt_tokens FROM jobs WHERE id = $1', [running.id])).rows[0];
      return j.status === 'succeeded' ? j : undefined;
    }, 20_000);
    expect(job.attempt).toBe(2);
  }, 120_000);
});
