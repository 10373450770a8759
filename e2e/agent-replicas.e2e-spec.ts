import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface ReplicaView {
  id: string;
  model: string;
  origin: string;
  state: string;
  reason: string | null;
  pid: number | null;
  memory: { estimateBytes: number | null; gpuBytes: number; cpuBytes: number } | null;
}
interface NodeView {
  id: string;
  name: string;
  status: string;
  replicas: ReplicaView[];
}

/**
 * Several models on one agent, each in its own runner, loaded on command from the control
 * plane (the file pulled from the catalog into the node's store): served side by side, and a
 * runner killed mid-generation or a file llama.cpp must not see fails that replica only.
 */
describe('many models on one agent, and failures that stay with their replica', () => {
  let stack: RunningStack;
  let client: StackClient;
  let nodeId: string;
  const dir = mkdtempSync(join(tmpdir(), 'gl-replicas-'));
  const nodeView = async () => (await client.json<NodeView>('GET', `/api/v1/nodes/${nodeId}`)).body;
  const replicaOf = async (model: string) => (await nodeView()).replicas.find((r) => r.model === model);
  const chat = (model: string, maxTokens = 4) => client.json<{ model: string; choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'Tell me about rivers.' }], max_tokens: maxTokens, temperature: 0 });
  const register = async (name: string, bytes: Buffer) => {
    writeFileSync(join(dir, `${name}.gguf`), bytes);
    const res = await client.json('POST', '/api/v1/models', { name, source: `file://${join(dir, `${name}.gguf`)}` });
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  };
  const load = async (model: string) => {
    const res = await client.json<ReplicaView>('POST', `/api/v1/nodes/${nodeId}/replicas`, { model, contextSize: 1024, parallel: 2, threads: 1 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ model, state: 'Pending', desired: 'Loaded' });
    return res.body.id;
  };
  const settled = (model: string) =>
    until(`${model} settled`, async () => {
      const r = await replicaOf(model);
      return r && (r.state === 'Ready' || r.state === 'Failed') ? r : undefined;
    }, 60_000);

  beforeAll(async () => {
    // The agent's own model is a GGUF without its tokenizer model: llama.cpp may abort on such
    // files, so the agent must refuse it itself (the catalog refuses it at registration too).
    const doc = buildTinyLlama({ seed: 8 });
    const metadata = new Map(doc.metadata);
    metadata.delete('tokenizer.ggml.model');
    writeFileSync(join(dir, 'broken.gguf'), encodeGguf({ ...doc, metadata }));
    stack = await startStack({
      apiEnv: { GRIDLINE_MODEL_ROOTS: dir },
      agentEnv: { GRIDLINE_MODEL_PATH: join(dir, 'broken.gguf'), GRIDLINE_MODEL_NAME: 'tiny-broken' },
      env: { GRIDLINE_HEARTBEAT_SECONDS: '1' },
    });
    client = new StackClient(stack, stack.url);
    nodeId = (await client.json<{ items: NodeView[] }>('GET', '/api/v1/nodes')).body.items[0].id;
    await register('tiny-second', encodeGguf(buildTinyLlama({ seed: 7 })));
    await register('tiny-third', encodeGguf(buildTinyLlama({ seed: 9 })));
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('refuses a GGUF missing a required key before any runner sees it, and says so through the API; the agent lives on', async () => {
    const failed = await settled('tiny-broken');
    expect(failed).toMatchObject({ origin: 'local', state: 'Failed', pid: null });
    expect(failed.reason).toMatch(/tokenizer\.ggml\.model is missing/);
    expect(stack.agent.child.exitCode).toBeNull();
    const loads = await client.json<{ items: { model: string; outcome: string; reason: string }[] }>('GET', '/api/v1/nodes/loads?model=tiny-broken');
    expect(loads.body.items[0]).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('tokenizer.ggml.model is missing') });
  });

  it('pulls and loads two models on command, each in its own runner, reports their memory, and serves them side by side', async () => {
    const ids = [await load('tiny-second'), await load('tiny-third')];
    const [second, third] = [await settled('tiny-second'), await settled('tiny-third')];
    expect([second.id, third.id]).toEqual(ids);
    for (const r of [second, third]) {
      expect(r).toMatchObject({ state: 'Ready', reason: null, origin: 'control-plane' });
      expect(r.memory!.estimateBytes).toBeGreaterThan(0);
      expect(r.memory!.cpuBytes).toBeGreaterThan(0);
    }
    expect(second.pid).not.toBe(third.pid);

    const [a, b] = await Promise.all([chat('tiny-second'), chat('tiny-third')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect([a.body.model, b.body.model]).toEqual(['tiny-second', 'tiny-third']);
    // Two models, two sets of weights: the same greedy request gives different text.
    expect(a.body.choices[0].message.content).not.toEqual(b.body.choices[0].message.content);

    // The control plane keeps the estimate next to what the load took.
    const loads = await client.json<{ items: { model: string; outcome: string; estimateBytes: number; cpuBytes: number }[] }>('GET', `/api/v1/nodes/loads?nodeId=${nodeId}`);
    expect(loads.body.items.find((l) => l.model === 'tiny-second')).toMatchObject({ outcome: 'loaded', estimateBytes: second.memory!.estimateBytes, cpuBytes: second.memory!.cpuBytes });
  });

  it('survives a runner killed mid-generation: that job fails, the other model serves, the replica is restarted', async () => {
    const victim = (await replicaOf('tiny-second')) as ReplicaView;
    const stream = client.stream({ model: 'tiny-second', messages: [{ role: 'user', content: 'Write a very long story.' }], max_tokens: 900, temperature: 0, stream: true }, (_, i) => {
      if (i === 2) process.kill(victim.pid as number, 'SIGKILL');
      return false;
    });
    const result = await stream;
    // The client hears that its job failed, never a silent end.
    expect(JSON.stringify(result.events.at(-1))).toMatch(/runner_crashed|node_lost/);
    const failed = await until('the failure visible', async () => {
      const r = await replicaOf('tiny-second');
      return r?.state === 'Failed' ? r : undefined;
    }, 15_000);
    expect(failed.reason).toMatch(/runner exited while serving \(SIGKILL\)/);
    expect(stack.agent.child.exitCode).toBeNull();
    expect((await chat('tiny-third')).status).toBe(200);
    const back = await until('restarted', async () => {
      const r = await replicaOf('tiny-second');
      return r?.state === 'Ready' ? r : undefined;
    }, 60_000);
    expect(back.pid).not.toBe(victim.pid);
    expect((await chat('tiny-second')).status).toBe(200);
  });

  it('unloads a replica on command, and keeps the other', async () => {
    const r = (await replicaOf('tiny-second')) as ReplicaView;
    const res = await client.json('DELETE', `/api/v1/nodes/${nodeId}/replicas/${r.id}`);
    expect(res.status).toBe(204);
    await until('unloaded', async () => ((await replicaOf('tiny-second')) ? undefined : true), 20_000);
    expect((await nodeView()).replicas.map((x) => x.model).sort()).toEqual(['tiny-broken', 'tiny-third']);
    expect((await chat('tiny-third')).status).toBe(200);
  });

  it('shuts down gracefully: reports Draining, lets the running job finish, then exits', async () => {
    let draining: Promise<{ status: string; reason: string | null }> | null = null;
    let before = 0;
    const result = await client.stream({ model: 'tiny-third', messages: [{ role: 'user', content: 'Write a long story.' }], max_tokens: 400, temperature: 0, stream: true }, (_, i) => {
      if (i === 2) {
        before = stack.agent.output.length;
        stack.agent.child.kill('SIGTERM');
        draining = until('Draining', async () => {
          const n = await nodeView();
          return n.status === 'Draining' ? { status: n.status, reason: (n as NodeView & { reason: string | null }).reason } : undefined;
        }, 10_000);
      }
      return false;
    });
    // The job in flight ran to its end: no error, usage and [DONE].
    expect(result.events.filter((e) => 'error' in e)).toEqual([]);
    expect(result.done).toBe(true);
    expect(await (draining as unknown as Promise<unknown>)).toEqual({ status: 'Draining', reason: 'the agent is shutting down' });
    // It ends as a process asked to stop does: by the signal, once its work is done (Nest re-raises it after the shutdown hooks).
    await stack.agent.waitExit();
    expect({ code: stack.agent.child.exitCode, signal: stack.agent.child.signalCode }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(stack.agent.output.slice(before)).not.toMatch(/"level":50/);
  });
});
