import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { ManagedProcess, RunningStack, StackClient, createJoinToken, startStack, until } from '@gridline/testing';

interface DeploymentView {
  id: string;
  phase: string;
  readyReplicas: number;
  status: { desiredReplicas: number; replicas: { id: string; nodeId: string; nodeName: string; state: string }[] } | null;
  events: { reason: string; message: string; nodeId?: string; replicaId?: string }[];
  conditions: { type: string; reason: string }[];
}
interface StreamOutcome {
  ok: boolean;
  /** Text the client had received when the request ended. */
  text: string;
  error: string | null;
  requestId: string | null;
}

/**
 * The scheduler with real processes: a deployment of two replicas placed one on each of two
 * agents; one agent SIGKILLed under a steady load (its replica placed again, every request
 * completes); the leading scheduler SIGKILLed while jobs wait (the standby takes
 * over; no job lost or dispatched twice).
 */
describe('scheduler: placement, node loss and leader failover', () => {
  let stack: RunningStack;
  let client: StackClient;
  let db: Client;
  let deploymentId: string;
  const dir = mkdtempSync(join(tmpdir(), 'gl-sched-'));
  const nodeIds = new Map<string, string>();
  /** The agent process of each node, by name. */
  const agents = new Map<string, ManagedProcess>();
  /** Chosen when the load runs: the node running the most jobs at that moment dies. */
  let victim = '';
  let survivor = '';
  const agentEnvOf = (name: string) => ({ GRIDLINE_SIMULATE_GPUS: '1xL4-24GB', GRIDLINE_NODE_NAME: name, GRIDLINE_DATA_DIR: join(dir, `agent-${name}`) });

  const deployment = async () => (await client.json<DeploymentView>('GET', `/api/v1/deployments/${deploymentId}`)).body;
  const chat = async (content: string, maxTokens: number): Promise<StreamOutcome> => {
    const r = await client.stream({ model: 'tiny-dep', messages: [{ role: 'user', content }], max_tokens: maxTokens, temperature: 0 });
    const last = r.events.at(-1) as { error?: { code?: string } } | undefined;
    const error = r.status !== 200 ? `HTTP ${r.status}: ${JSON.stringify(last)}` : last?.error ? String(last.error.code) : r.done ? null : 'stream ended without [DONE]';
    return { ok: error === null, text: r.text, error, requestId: r.headers.get('x-request-id') };
  };

  beforeAll(async () => {
    writeFileSync(join(dir, 'tiny-dep.gguf'), encodeGguf(buildTinyLlama({ seed: 11 })));
    stack = await startStack({
      apiEnv: { GRIDLINE_MODEL_ROOTS: dir },
      // Both agents simulate one 24 GB GPU each; neither serves a model of its own.
      agentEnv: { GRIDLINE_MODEL_PATH: '', ...agentEnvOf('node-a') },
      // Lost after 4 s of silence: the test sees the replacement without waiting five minutes.
      env: { GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '3', GRIDLINE_NODE_LOST_SECONDS: '4' },
      schedulerEnv: { GRIDLINE_RECONCILE_SECONDS: '1', GRIDLINE_SWEEP_SECONDS: '1' },
    });
    client = new StackClient(stack, stack.url);
    const second = stack.spawnAgent(agentEnvOf('node-b'), await createJoinToken(stack.url, stack));
    await second.waitFor(/registered as/);
    agents.set('node-a', stack.agent).set('node-b', second);
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    const nodes = await until('two nodes Ready', async () => {
      const items = (await client.json<{ items: { id: string; name: string; status: string }[] }>('GET', '/api/v1/nodes')).body.items;
      return items.filter((n) => n.status === 'Ready').length === 2 ? items : undefined;
    });
    for (const n of nodes) nodeIds.set(n.name, n.id);
    const res = await client.json('POST', '/api/v1/models', { name: 'tiny-dep', source: `file://${join(dir, 'tiny-dep.gguf')}` });
    expect(res.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await db?.end();
    await client?.close();
    await stack?.stop();
  });

  it('places a deployment of two replicas one on each node, says why, and serves it', async () => {
    const res = await client.json<DeploymentView>('POST', '/api/v1/deployments', { name: 'chat', model: 'tiny-dep', replicas: 2, placement: 'spread', runtime: { contextSize: 1024, parallel: 2 } });
    expect(res.status).toBe(201);
    deploymentId = res.body.id;
    const ready = await until('two replicas Ready', async () => {
      const d = await deployment();
      return d.readyReplicas === 2 ? d : undefined;
    }, 90_000);
    expect(ready.phase).toBe('Ready');
    expect(new Set(ready.status!.replicas.map((r) => r.nodeName))).toEqual(new Set(['node-a', 'node-b']));
    const placed = ready.events.filter((e) => e.reason === 'Placed');
    expect(placed).toHaveLength(2);
    expect(placed[0].message).toMatch(/placed on node-[ab] \(GPU 0: layers 0-\d+, [\d.]+ GiB\) by spread/);
    expect(ready.conditions.map((c) => c.type)).toEqual(expect.arrayContaining(['Placed', 'Ready']));
    expect((await chat('Hello there.', 4)).ok).toBe(true);
  }, 120_000);

  it('keeps serving through an agent SIGKILLed under 10 requests/s: its replica is placed again, every request completes (those that had streamed continue on the other node)', async () => {
    const outcomes: Promise<StreamOutcome>[] = [];
    let killedAt = 0;
    let replaced: Promise<{ d: DeploymentView; ms: number }> | null = null;
    for (let i = 0; i < 100; i++) {
      // 300 tokens (a few tenths of a second on this tiny model): both nodes are busy, and some
      // jobs are mid-stream on the node when it is killed.
      outcomes.push(chat(`Request ${i}: tell me about rivers.`, 300));
      if (i === 30) {
        // The node running the most jobs now dies (routing may favour one node while both have room).
        const busy = await db.query<{ node_id: string; n: number }>(`SELECT node_id, count(*)::int AS n FROM jobs WHERE status IN ('dispatched', 'running') AND node_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1`);
        const busiest = busy.rows[0]?.node_id ?? nodeIds.get('node-a');
        victim = [...nodeIds.entries()].find(([, id]) => id === busiest)![0];
        survivor = victim === 'node-a' ? 'node-b' : 'node-a';
        agents.get(victim)!.child.kill('SIGKILL');
        killedAt = Date.now();
        // Watched while the load goes on: the time from the kill to two replicas Ready again.
        replaced = until('the lost replica placed again and Ready', async () => {
          const d = await deployment();
          const nodes = d.status?.replicas.map((r) => r.nodeName) ?? [];
          return d.readyReplicas === 2 && nodes.every((n) => n === survivor) ? { d, ms: Date.now() - killedAt } : undefined;
        }, 60_000, 250);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const results = await Promise.all(outcomes);
    const failed = results.filter((r) => !r.ok);
    // Those that had not streamed are routed again; those that had continue on the other node.
    expect(failed.map((r) => r.error)).toEqual([]);
    const resumed = (stack.scheduler.output.match(/resumed: /g) ?? []).length;
    const requeued = (stack.scheduler.output.match(/requeued: /g) ?? []).length;
    process.stdout.write(`node loss under load: ${results.length - failed.length} of 100 completed; of the jobs on the killed node, ${requeued} routed again before their first token and ${resumed} continued on the other node after streaming\n`);

    const { d: again, ms } = await replaced!;
    expect(again.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['ReplicaLost']));
    expect(again.events.find((e) => e.reason === 'ReplicaLost')!.message).toMatch(new RegExp(`node ${victim} is Lost`));
    // The replacement went where the model's file already was: no download.
    expect(again.events.filter((e) => e.reason === 'Placed').at(-1)!.message).toMatch(new RegExp(`placed on ${survivor} .* where the file already is`));
    process.stdout.write(`replica Ready again ${ms} ms after the SIGKILL\n`);
    // No job stays dispatched to the dead node.
    const stuck = await db.query(`SELECT count(*)::int AS n FROM jobs WHERE node_id = $1 AND status IN ('dispatched', 'running')`, [nodeIds.get(victim)]);
    expect(stuck.rows[0].n).toBe(0);
  }, 180_000);

  it('loses no job and dispatches none twice when the leader is SIGKILLed while jobs wait', async () => {
    const standby = await stack.spawnScheduler();
    expect(standby.output).not.toMatch(/leader \(lease token/);
    const leader = stack.scheduler;
    const since = new Date();
    // Two replicas × two sequences: most of these wait for a sequence. The node holds still while
    // they arrive, so they are still waiting when the leader dies (a tiny model is that fast).
    const node = agents.get(survivor)!;
    node.child.kill('SIGSTOP');
    let outcomes: Promise<StreamOutcome>[] = [];
    let tookOver = 0;
    try {
      outcomes = Array.from({ length: 12 }, () => chat('Tell me a long story about the sea.', 48));
      const waiting = await until('jobs waiting for a sequence', async () => {
        const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE created_at >= $1 AND status = 'queued'`, [since]);
        return r.rows[0].n >= 8 ? r.rows[0].n : undefined;
      }, 10_000, 50);
      expect(waiting).toBeGreaterThanOrEqual(8);
      leader.child.kill('SIGKILL');
      tookOver = Date.now();
    } finally {
      node.child.kill('SIGCONT');
    }
    await standby.waitFor(/leader \(lease token/);
    process.stdout.write(`standby leads ${Date.now() - tookOver} ms after the leader's SIGKILL\n`);
    const results = await Promise.all(outcomes);
    expect(results.map((r) => r.error)).toEqual(results.map(() => null));
    // Greedy decoding of one prompt: every job's text is the same, none repeated or cut.
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    // Every row settles (the client may hear the end before the row is written).
    const rows = await until('every job settled', async () => {
      const r = await db.query<{ id: string; status: string; attempt: number }>(`SELECT id, status, attempt FROM jobs WHERE created_at >= $1`, [since]);
      return r.rows.every((x) => x.status !== 'queued' && x.status !== 'dispatched' && x.status !== 'running') ? r.rows : undefined;
    }, 20_000);
    expect(rows.map((r) => r.status)).toEqual(rows.map(() => 'succeeded'));
    // Each job ran once on a node. A second attempt is allowed only where the first never reached
    // one (the leader died between writing the dispatch and handing the job to the node; the new
    // leader's sweeper finds it on no node and routes it again).
    const runs = new Map<string, number>();
    for (const line of agents.get(survivor)!.output.split('\n')) {
      const m = /"jobId":"([0-9a-f-]{36})".*"msg":"job done"/.exec(line);
      if (m) runs.set(m[1], (runs.get(m[1]) ?? 0) + 1);
    }
    expect(rows.map((r) => runs.get(r.id) ?? 0)).toEqual(rows.map(() => 1));
    process.stdout.write(`leader failover: 12 of 12 jobs succeeded, each run once; ${rows.filter((r) => r.attempt > 1).length} routed again after the leader died between dispatch and hand-over\n`);
  }, 120_000);

  it('drains a node: replacements placed elsewhere first, its replicas unloaded once idle, the node reported Drained', async () => {
    // The killed node comes back (its agent keeps its credential) and takes the replacements.
    const back = stack.spawnAgent(agentEnvOf(victim));
    await back.waitFor(/registered as/);
    await until(`${victim} Ready again`, async () => ((await client.json<{ status: string }>('GET', `/api/v1/nodes/${nodeIds.get(victim)}`)).body.status === 'Ready' ? true : undefined));
    expect((await client.json('POST', `/api/v1/nodes/${nodeIds.get(survivor)}/drain`)).status).toBe(200);
    const moved = await until(`both replicas on ${victim}`, async () => {
      const d = await deployment();
      return d.readyReplicas === 2 && d.status!.replicas.every((r) => r.nodeName === victim) ? d : undefined;
    }, 60_000);
    expect(moved.events.filter((e) => e.reason === 'Drained')).toHaveLength(2);
    const drained = await until(`${survivor} Drained`, async () => {
      const n = (await client.json<{ status: string; reason: string }>('GET', `/api/v1/nodes/${nodeIds.get(survivor)}`)).body;
      return n.status === 'Drained' ? n : undefined;
    }, 30_000);
    expect(drained.reason).toMatch(/no replica loaded and no job running/);
    expect((await chat('Still there?', 4)).ok).toBe(true);
  }, 120_000);
});
