import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface DeploymentView {
  id: string;
  phase: string;
  readyReplicas: number;
  status: { desiredReplicas: number; replicas: { id: string; state: string }[] } | null;
  events: { reason: string; message: string }[];
  conditions: { type: string; reason: string }[];
}

/**
 * Models loaded on demand on a node whose one GPU holds a single replica: a job for a model that
 * is not loaded waits while it loads; a job for another model evicts the idle one to make room;
 * an idle replica unloads after its idle time.
 */
describe('scheduler: load on demand, eviction, idle unloading', () => {
  let stack: RunningStack;
  let client: StackClient;
  const dir = mkdtempSync(join(tmpdir(), 'gl-ondemand-'));
  const ids = new Map<string, string>();

  const deployment = async (name: string) => (await client.json<DeploymentView>('GET', `/api/v1/deployments/${ids.get(name)}`)).body;
  const chat = (model: string) => client.json<{ model: string; choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'Hello.' }], max_tokens: 4, temperature: 0 });

  beforeAll(async () => {
    stack = await startStack({
      apiEnv: { GRIDLINE_MODEL_ROOTS: dir },
      // One 1 GiB GPU: a tiny model's replica plans at about 0.52 GiB, so one fits and two do not.
      agentEnv: { GRIDLINE_MODEL_PATH: '', GRIDLINE_SIMULATE_GPUS: '1xT4-1GB' },
      schedulerEnv: { GRIDLINE_RECONCILE_SECONDS: '1' },
    });
    client = new StackClient(stack, stack.url);
    await until('the node Ready', async () => ((await client.json<{ items: { status: string }[] }>('GET', '/api/v1/nodes')).body.items[0]?.status === 'Ready' ? true : undefined));
    for (const [name, seed] of [['tiny-a', 21], ['tiny-b', 22]] as const) {
      writeFileSync(join(dir, `${name}.gguf`), encodeGguf(buildTinyLlama({ seed })));
      expect((await client.json('POST', '/api/v1/models', { name, source: `file://${join(dir, `${name}.gguf`)}` })).status).toBe(201);
      const res = await client.json<DeploymentView>('POST', '/api/v1/deployments', { name: `${name}-od`, model: name, replicas: 1, minReplicas: 0, idleSeconds: 10, runtime: { contextSize: 512, parallel: 1 } });
      expect(res.status).toBe(201);
      ids.set(name, res.body.id);
    }
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('loads nothing until a job asks, then serves the job once its model has loaded', async () => {
    const idle = await until('the scheduler has looked', async () => {
      const d = await deployment('tiny-a');
      return d.status ? d : undefined;
    });
    expect(idle).toMatchObject({ phase: 'Ready', readyReplicas: 0, status: { desiredReplicas: 0, replicas: [] } });
    expect(idle.conditions.at(-1)).toMatchObject({ type: 'Ready', reason: 'OnDemand' });

    const res = await chat('tiny-a');
    expect({ status: res.status, model: res.body.model }).toEqual({ status: 200, model: 'tiny-a' });
    const a = await deployment('tiny-a');
    expect(a.readyReplicas).toBe(1);
    expect(a.events.map((e) => e.reason)).toContain('Placed');
  }, 90_000);

  it('evicts the idle replica of another model when the GPU is full, and never the one serving', async () => {
    const res = await chat('tiny-b');
    expect({ status: res.status, model: res.body.model }).toEqual({ status: 200, model: 'tiny-b' });
    const a = await until('tiny-a evicted', async () => {
      const d = await deployment('tiny-a');
      return d.readyReplicas === 0 ? d : undefined;
    });
    expect(a.events.find((e) => e.reason === 'Evicted')?.message).toMatch(/unloaded to make room for tiny-b/);
    const b = await deployment('tiny-b');
    expect(b.readyReplicas).toBe(1);
    expect(b.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Evicting', 'Placed']));
  }, 90_000);

  it('unloads a replica idle for longer than its idle time', async () => {
    const b = await until('tiny-b unloaded after 10 s idle', async () => {
      const d = await deployment('tiny-b');
      return d.status?.replicas.length === 0 ? d : undefined;
    }, 40_000);
    expect(b.events.at(-1)).toMatchObject({ reason: 'IdleUnloaded', message: expect.stringMatching(/idle for 1\d s/) });
    expect(b).toMatchObject({ phase: 'Ready', readyReplicas: 0 });
  }, 60_000);
});
