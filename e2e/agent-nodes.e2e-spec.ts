import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signingFetch } from '@gridline/auth';
import { DIST, ManagedProcess, RunningStack, StackClient, startStack, until } from '@gridline/testing';

interface NodeView {
  id: string;
  name: string;
  status: string;
  reason: string | null;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  lastHeartbeatAt: string;
  gpus: { name: string; simulated?: boolean; totalMemoryBytes: number }[];
  inventory: { cpuCores: number; diskFreeBytes: number | null };
}

const inventory = { agentVersion: 'test', backend: 'cpu', llamaCppVersion: null, gpus: [], cpuCores: 2, totalMemoryBytes: 1, freeMemoryBytes: 1, diskFreeBytes: null, capabilities: [], platform: 'linux', arch: 'x64' };

/**
 * Agents as an SRE runs them: real agent processes joining the api with join tokens, waiting
 * for approval, heartbeating, stopped and resumed with signals; and what the control plane
 * refuses: used, expired, revoked and unknown tokens, one node acting as another, a revoked node,
 * a credential replaced by a new join.
 */
describe('agents join the fleet and act only as themselves', () => {
  let stack: RunningStack;
  let client: StackClient;
  const dir = mkdtempSync(join(tmpdir(), 'gl-nodes-'));
  const agentEnv = (name: string, extra: Record<string, string> = {}) => ({ GRIDLINE_NODE_NAME: name, GRIDLINE_DATA_DIR: join(dir, name), ...extra });
  const token = async (body: Record<string, unknown> = {}) => {
    const res = await client.json<{ id: string; token: string; installCommand: string }>('POST', '/api/v1/join-tokens', body);
    expect(res.status).toBe(201);
    return res.body;
  };
  const nodes = async () => (await client.json<{ items: NodeView[] }>('GET', '/api/v1/nodes')).body.items;
  const node = async (name: string) => (await nodes()).find((n) => n.name === name);
  const joinDirectly = (tokenText: string, nodeName: string) =>
    fetch(`${stack.url}/api/v1/agent/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokenText, nodeName, labels: {}, taints: [], inventory }) });

  beforeAll(async () => {
    stack = await startStack({ modelName: 'tiny-nodes', env: { GRIDLINE_HEARTBEAT_SECONDS: '1', GRIDLINE_NODE_TIMEOUT_SECONDS: '3', GRIDLINE_NODE_LOST_SECONDS: '600' } });
    client = new StackClient(stack, stack.url);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('joins with a single-use token, waits in Pending until approved, then heartbeats; the token is spent', async () => {
    const t = await token({ description: 'rack 4', labels: { zone: 'b' } });
    expect(t.installCommand).toContain(`--server ${stack.url} --join-token ${t.token}`);
    const agent = stack.spawnAgent(agentEnv('gpu-a', { GRIDLINE_NODE_LABELS: 'pool=batch', GRIDLINE_NODE_TAINTS: 'dedicated=research:NoSchedule', GRIDLINE_SIMULATE_GPUS: '2xH100-80GB' }), t.token);
    await agent.waitFor(/registered as/);
    const pending = (await node('gpu-a')) as NodeView;
    expect(pending).toMatchObject({ status: 'Pending', labels: { zone: 'b', pool: 'batch' }, taints: [{ key: 'dedicated', value: 'research', effect: 'NoSchedule' }] });
    expect(pending.reason).toMatch(/approve/);
    expect(pending.gpus).toHaveLength(2);
    expect(pending.gpus[0]).toMatchObject({ simulated: true, totalMemoryBytes: 80 * 1024 ** 3 });
    expect(pending.inventory.cpuCores).toBeGreaterThan(0);
    // The credential is the agent's alone.
    expect(statSync(join(dir, 'gpu-a', 'node-credential.json')).mode & 0o777).toBe(0o600);

    const approved = await client.json<NodeView>('POST', `/api/v1/nodes/${pending.id}/approve`);
    expect(approved.body).toMatchObject({ status: 'Ready', reason: null });
    await until('a later heartbeat', async () => ((await node('gpu-a'))!.lastHeartbeatAt > approved.body.lastHeartbeatAt ? true : undefined), 10_000);

    // Spent: a second node cannot join with it, and the agent says why.
    const second = stack.spawnAgent(agentEnv('gpu-b'), t.token);
    await second.waitFor(/join_token_used/);
    expect(await second.waitExit()).toBe(1);
    expect(await node('gpu-b')).toBeUndefined();
    const listed = await client.json<{ items: { id: string; state: string; uses: number }[] }>('GET', '/api/v1/join-tokens');
    expect(listed.body.items.find((x) => x.id === t.id)).toMatchObject({ state: 'used', uses: 1 });
  });

  it('refuses an expired, a revoked and an unknown token, each with its reason, and creates no node', async () => {
    const expired = await token({ maxUses: null });
    await client.sql(`UPDATE join_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const revoked = await token({ maxUses: null });
    expect((await client.json('DELETE', `/api/v1/join-tokens/${revoked.id}`)).body).toMatchObject({ state: 'revoked' });
    for (const [text, code] of [
      [expired.token, 'join_token_expired'],
      [revoked.token, 'join_token_revoked'],
      ['gljt_not-a-token-anyone-issued', 'join_token_invalid'],
    ]) {
      const res = await joinDirectly(text, 'gpu-x');
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code, param: 'token' });
    }
    expect(await node('gpu-x')).toBeUndefined();
  });

  let agentC: ManagedProcess;

  it('lists the fleet in the CLI, simulated GPUs marked', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(DIST, 'tools/cli/gridline.js'), 'nodes'], {
      env: { ...process.env, GRIDLINE_URL: stack.url, GRIDLINE_ACCESS_KEY: stack.accessKey, GRIDLINE_SECRET_KEY: stack.secretKey },
    });
    expect(stdout).toMatch(/^NAME\s+STATUS\s+GPUS\s+REPLICAS/);
    expect(stdout).toMatch(/gpu-a\s+Ready\s+2× NVIDIA H100 80GB \(simulated\) 160\.0 GiB\/160\.0 GiB free/);
    expect(stdout).toMatch(new RegExp(`node-${stack.prefix}\\s+Ready\\s+CPU .*tiny-nodes Ready 0/2`));
  });

  it('marks a stopped agent NotReady and a resumed one Ready again', async () => {
    agentC = stack.spawnAgent(agentEnv('gpu-c'), (await token({ autoApprove: true })).token);
    const agent = agentC;
    await agent.waitFor(/registered as/);
    expect((await node('gpu-c'))!.status).toBe('Ready');
    agent.child.kill('SIGSTOP');
    try {
      const stale = await until('NotReady', async () => {
        const n = await node('gpu-c');
        return n?.status === 'NotReady' ? n : undefined;
      }, 15_000);
      expect(stale.reason).toMatch(/no heartbeat for \d+ s/);
    } finally {
      agent.child.kill('SIGCONT');
    }
    await until('Ready again', async () => ((await node('gpu-c'))?.status === 'Ready' ? true : undefined), 15_000);
  });

  it('lets a node act only as itself', async () => {
    const credential = JSON.parse(readFileSync(join(dir, 'gpu-c', 'node-credential.json'), 'utf8')) as { nodeId: string; accessKey: string; secretKey: string };
    const other = (await node(`node-${stack.prefix}`)) as NodeView;
    const signed = signingFetch(credential);
    const heartbeat = (nodeId: string) =>
      signed(`${stack.url}/api/v1/agent/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ nodeId, inventory, replicas: [], runningJobs: [], loads: [], shuttingDown: false }) });
    const forged = await heartbeat(other.id);
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'node_mismatch', param: 'nodeId' });
    // The other node still serves its model: the forged heartbeat changed nothing.
    expect((await node(other.name))!.status).toBe('Ready');
    const chat = await client.json('POST', '/v1/chat/completions', { model: 'tiny-nodes', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
    expect(chat.status).toBe(200);
    // A user's keypair is no node credential, and a node credential is no user's.
    const asUser = await client.json('POST', '/api/v1/agent/heartbeat', { nodeId: other.id, inventory, replicas: [], runningJobs: [], loads: [], shuttingDown: false });
    expect(asUser.status).toBe(401);
    expect((await signed(`${stack.url}/api/v1/nodes`)).status).toBe(401);

    // An agent given another node's credential refuses to start as itself.
    const impostor = stack.spawnAgent({ GRIDLINE_NODE_NAME: 'gpu-d', GRIDLINE_DATA_DIR: join(dir, 'gpu-c') });
    await impostor.waitFor(/holds the credential of node gpu-c, not gpu-d/, 20_000);
    expect(await impostor.waitExit()).toBe(1);
  });

  it('sets labels and taints, refusing bad ones with the field named and nothing changed', async () => {
    const n = (await node('gpu-c')) as NodeView;
    const set = await client.json<NodeView>('PATCH', `/api/v1/nodes/${n.id}`, { labels: { 'gridline.dev/pool': 'a' }, taints: [{ key: 'maintenance', effect: 'NoExecute' }] });
    expect(set.body).toMatchObject({ labels: { 'gridline.dev/pool': 'a' }, taints: [{ key: 'maintenance', effect: 'NoExecute' }] });
    const bad = await client.json('PATCH', `/api/v1/nodes/${n.id}`, { labels: { 'bad key!': 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'validation_failed', param: 'labels' });
    const badTaint = await client.json('PATCH', `/api/v1/nodes/${n.id}`, { taints: [{ key: 'ok', effect: 'NoSchedule' }, { key: 'bad key!', effect: 'NoSchedule' }] });
    expect(badTaint.status).toBe(400);
    expect(badTaint.body).toMatchObject({ code: 'validation_failed', param: 'taints[1]' });
    expect((await node('gpu-c'))!.taints).toEqual([{ key: 'maintenance', effect: 'NoExecute' }]);
    expect((await node('gpu-c'))!.labels).toEqual({ 'gridline.dev/pool': 'a' });
  });

  it('refuses a revoked node: its agent stops, it cannot join again under its name, and then it can be deleted', async () => {
    const n = (await node('gpu-c')) as NodeView;
    const cordoned = await client.json<NodeView>('POST', `/api/v1/nodes/${n.id}/cordon`);
    expect(cordoned.body.status).toBe('Cordoned');
    const refused = await client.json('DELETE', `/api/v1/nodes/${n.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'node_not_removable' });

    // With its agent paused, nothing but the revocation itself tells the api's cache: a route
    // other than the heartbeat refuses the credential within about a second.
    const signed = signingFetch(JSON.parse(readFileSync(join(dir, 'gpu-c', 'node-credential.json'), 'utf8')) as { accessKey: string; secretKey: string });
    const modelFile = async () => (await signed(`${stack.url}/api/v1/agent/models/${randomUUID()}/file`)).status;
    expect(await modelFile()).toBe(404);
    agentC.child.kill('SIGSTOP');
    try {
      const revoked = await client.json<NodeView>('POST', `/api/v1/nodes/${n.id}/revoke`);
      expect(revoked.body).toMatchObject({ status: 'NotReady', reason: 'the node credential was revoked' });
      await until('the revoked credential refused', async () => ((await modelFile()) === 401 ? true : undefined), 5_000);
    } finally {
      agentC.child.kill('SIGCONT');
    }
    await agentC.waitFor(/refused this node's credential \((node_revoked|signature_mismatch)/, 15_000);
    expect(await agentC.waitExit()).toBe(1);
    const again = await joinDirectly((await token()).token, 'gpu-c');
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ code: 'node_revoked' });
    expect((await client.json('DELETE', `/api/v1/nodes/${n.id}`)).status).toBe(204);
    expect(await node('gpu-c')).toBeUndefined();
  });

  it('refuses a heartbeat from the moment its node is revoked or its credential replaced by a new join', async () => {
    const t = await token({ maxUses: null, autoApprove: true });
    const joinAs = async () => {
      const res = await joinDirectly(t.token, 'gpu-e');
      expect(res.status).toBe(201);
      return (await res.json()) as { nodeId: string; accessKey: string; secretKey: string };
    };
    const heartbeat = (credential: { nodeId: string; accessKey: string; secretKey: string }) =>
      signingFetch(credential)(`${stack.url}/api/v1/agent/heartbeat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ nodeId: credential.nodeId, inventory, replicas: [], runningJobs: [], loads: [], shuttingDown: false }),
      });
    const first = await joinAs();
    expect((await heartbeat(first)).status).toBe(200);

    const second = await joinAs();
    expect(second.nodeId).toBe(first.nodeId);
    const replaced = await heartbeat(first);
    expect(replaced.status).toBe(401);
    expect(await replaced.json()).toMatchObject({ code: 'signature_mismatch' });
    expect((await heartbeat(second)).status).toBe(200);

    expect((await client.json<NodeView>('POST', `/api/v1/nodes/${second.nodeId}/revoke`)).body).toMatchObject({ reason: 'the node credential was revoked' });
    const revoked = await heartbeat(second);
    expect(revoked.status).toBe(403);
    expect(await revoked.json()).toMatchObject({ code: 'node_revoked' });
    expect((await client.json('DELETE', `/api/v1/nodes/${second.nodeId}`)).status).toBe(204);
  });
});
