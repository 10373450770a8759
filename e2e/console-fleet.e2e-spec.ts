import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { CONSOLE_FLEET, ConsoleStack, escapeRegExp as escape, expectText, formatBytes, screenshot, startConsoleStack, until } from '@gridline/testing';

interface NodeView {
  id: string;
  name: string;
  status: string;
  cordoned: boolean;
  approved: boolean;
  labels: Record<string, string>;
  gpus: { index: number; name: string; totalMemoryBytes: number; freeMemoryBytes: number; simulated?: boolean }[];
  replicas: { id: string; model: string; state: string }[];
}

interface DeploymentView {
  id: string;
  name: string;
  replicas: number;
  phase: string;
  conditions: { type: string; status: boolean }[];
  status: { replicas: { id: string; nodeName: string; state: string }[] } | null;
}

interface JoinTokenView {
  prefix: string;
  description: string;
  maxUses: number | null;
  autoApprove: boolean;
  labels: Record<string, string>;
  state: string;
}

/** The Nodes and Deployments pages in a real headless Chromium against the real stack and its simulated fleet of two nodes. */
describe('console: nodes and deployments', () => {
  let c: ConsoleStack;
  let page: Page;

  beforeAll(async () => {
    c = await startConsoleStack();
    page = c.page;
    await c.signIn();
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  /** A section of the console's navigation (breadcrumbs name them too). */
  const nav = (name: string) => page.getByRole('navigation').getByRole('link', { name });
  let deploymentId = '';
  const deployment = async () => {
    const res = await c.client.json<DeploymentView>('GET', `/api/v1/deployments/${deploymentId}`);
    if (res.status !== 200) throw new Error(`deployment ${deploymentId}: ${res.status}`);
    return res.body;
  };
  const nodes = async () => (await c.client.json<{ items: NodeView[] }>('GET', '/api/v1/nodes')).body.items;
  const nodeNamed = async (name: string) => {
    const n = (await nodes()).find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  };

  /** Each GPU of the row shows the used, free and total memory the api reports for the node now (figures move with loads). */
  const expectGpuFigures = async (row: Locator, name: string) => {
    const expected = (g: NodeView['gpus'][number]) => [`${formatBytes(g.totalMemoryBytes - g.freeMemoryBytes)} used`, `${formatBytes(g.freeMemoryBytes)} free / ${formatBytes(g.totalMemoryBytes)}`];
    await until(`${name}'s GPU figures`, async () => {
      const node = await nodeNamed(name);
      for (const g of node.gpus) {
        const text = await row.getByTestId(`gpu-${g.index}`).innerText();
        if (!expected(g).every((e) => text.includes(e))) return undefined;
      }
      return node.gpus.length > 0 ? true : undefined;
    });
  };

  it('shows both nodes with their GPUs, marked simulated, and the memory figures the api reports', async () => {
    await nav('Nodes').click();
    const fleet = await nodes();
    expect(fleet.map((n) => n.name).sort()).toEqual([CONSOLE_FLEET.large.name, CONSOLE_FLEET.small.name].sort());
    for (const n of fleet) {
      const row = page.getByTestId(`node-row-${n.name}`);
      await row.waitFor();
      expect(await row.getByTestId('node-status').textContent()).toBe(n.status);
      await expectGpuFigures(row, n.name);
      for (const g of n.gpus) expect(await row.getByTestId(`gpu-${g.index}`).getByText('simulated', { exact: true }).count()).toBe(g.simulated ? 1 : 0);
      for (const [k, v] of Object.entries(n.labels)) expect(await row.innerText()).toContain(`${k}=${v}`);
    }
    // The fleet's L4s are 24 GiB each, the T4 1 GiB: the page says so.
    const l4 = page.getByTestId(`node-row-${CONSOLE_FLEET.large.name}`);
    expect(await l4.getByTestId('gpu-0').innerText()).toMatch(/NVIDIA L4 24GB[\s\S]*\/ 24\.0 GiB/);
    expect(await l4.getByTestId('gpu-1').innerText()).toContain('/ 24.0 GiB');
    expect(await page.getByTestId(`node-row-${CONSOLE_FLEET.small.name}`).getByTestId('gpu-0').innerText()).toContain('/ 1.0 GiB');
  }, 60_000);

  it('cordons a node from its row, and the api has it cordoned; uncordon puts it back', async () => {
    const name = CONSOLE_FLEET.small.name;
    const row = page.getByTestId(`node-row-${name}`);
    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Cordon' }).click();
    await expectText(row.getByTestId('node-status'), /^Cordoned$/);
    expect(await row.getByTestId('node-reason').innerText()).toMatch(/cordoned by an admin/);
    const cordoned = await nodeNamed(name);
    expect(cordoned).toMatchObject({ cordoned: true, status: 'Cordoned' });

    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Uncordon' }).click();
    await expectText(row.getByTestId('node-status'), /^Ready$/);
    expect(await nodeNamed(name)).toMatchObject({ cordoned: false, status: 'Ready' });
  }, 60_000);

  it('drains a node only after asking; with nothing on it, it shows Drained', async () => {
    const name = CONSOLE_FLEET.small.name;
    const row = page.getByTestId(`node-row-${name}`);
    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Drain…' }).click();
    const dialog = page.getByRole('dialog', { name: `Drain ${name}?` });
    // Cancel leaves it as it was.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await nodeNamed(name)).toMatchObject({ status: 'Ready' });

    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Drain…' }).click();
    await dialog.getByRole('button', { name: 'Drain', exact: true }).click();
    await expectText(row.getByTestId('node-status'), /^Drained$/);
    expect(await row.getByTestId('node-reason').innerText()).toMatch(/it can be removed/);
    expect(await nodeNamed(name)).toMatchObject({ status: 'Drained' });

    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Uncordon' }).click();
    await expectText(row.getByTestId('node-status'), /^Ready$/);
  }, 60_000);

  it('edits a node\'s labels in the dialog, and the api keeps them', async () => {
    const name = CONSOLE_FLEET.small.name;
    const row = page.getByTestId(`node-row-${name}`);
    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Edit labels…' }).click();
    const dialog = page.getByRole('dialog', { name: `Labels and taints of ${name}` });
    const before = (await nodeNamed(name)).labels;
    const blank = Object.keys(before).length + 1;
    await dialog.getByLabel(`Label key ${blank}`).fill('tier');
    await dialog.getByLabel(`Label value ${blank}`).fill('spot');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await until('the label on the page', async () => ((await row.innerText()).includes('tier=spot') ? true : undefined));
    expect((await nodeNamed(name)).labels).toEqual({ ...before, tier: 'spot' });
  }, 60_000);

  let installed = '';

  it('creates a join token in the Add node dialog and prints its install command once', async () => {
    await page.getByRole('button', { name: 'Add node' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a node' });
    await dialog.getByLabel('Description').fill('rack 7');
    const labels = dialog.getByLabel('Labels');
    await labels.fill('pool=extra');
    await labels.press('Enter');
    await dialog.getByLabel('Uses', { exact: true }).fill('3');
    await dialog.getByRole('button', { name: 'Create join token' }).click();

    const command = page.getByTestId('install-command');
    await command.waitFor();
    const text = await command.innerText();
    expect(text).toMatch(new RegExp(`^gridline-agent install --server ${escape(c.stack.url)} --join-token \\S+$`));
    const token = text.split('--join-token ')[1];
    const made = (await c.client.json<{ items: JoinTokenView[] }>('GET', '/api/v1/join-tokens')).body.items.find((t) => t.description === 'rack 7');
    expect(made).toMatchObject({ maxUses: 3, autoApprove: false, labels: { pool: 'extra' }, state: 'active' });
    expect(token.startsWith(made?.prefix ?? '?')).toBe(true);
    await screenshot(page, '12-join-token');

    // Shown once: closing forgets it; the list names the token by its prefix only.
    await page.getByRole('button', { name: 'Done' }).click();
    await command.waitFor({ state: 'detached' });
    await page.getByText(`${made?.prefix}…`).waitFor();
    expect(await page.locator('body').innerText()).not.toContain(token);
    installed = token;
  }, 60_000);

  it('shows a host that joined with that token as Pending with its labels, and approves it from its row', async () => {
    const name = 'gpu-a10';
    const agent = c.stack.spawnAgent({ GRIDLINE_NODE_NAME: name, GRIDLINE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-fleet-')), GRIDLINE_SIMULATE_GPUS: '1xA10-24GB', GRIDLINE_NODE_LABELS: 'zone=c' }, installed);
    await agent.waitFor(/registered as/);
    const row = page.getByTestId(`node-row-${name}`);
    await row.waitFor({ timeout: 20_000 });
    await expectText(row.getByTestId('node-status'), /^Pending$/);
    expect(await row.getByTestId('node-reason').innerText()).toMatch(/waiting for an admin to approve/);
    // The token's labels, under the host's own.
    expect(await row.innerText()).toMatch(/pool=extra[\s\S]*zone=c/);
    expect(await nodeNamed(name)).toMatchObject({ approved: false, status: 'Pending', labels: { pool: 'extra', zone: 'c' } });

    await row.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('menuitem', { name: 'Approve' }).click();
    await expectText(row.getByTestId('node-status'), /^Ready$/);
    expect(await nodeNamed(name)).toMatchObject({ approved: true, status: 'Ready' });
    expect(await row.getByTestId('gpu-0').innerText()).toContain('/ 24.0 GiB');
  }, 90_000);

  it('follows a deployment of tiny until Ready, with its conditions, replicas on their nodes and the node detail', async () => {
    const made = await c.client.json<DeploymentView>('POST', '/api/v1/deployments', { name: 'tiny-chat', model: 'tiny', replicas: 1, runtime: { contextSize: 512, parallel: 1 } });
    expect(made.status).toBe(201);
    deploymentId = made.body.id;

    await nav('Deployments').click();
    const row = page.getByTestId('deployment-row-tiny-chat');
    await row.waitFor();
    expect(await row.innerText()).toContain('tiny');
    await row.getByRole('link', { name: 'tiny-chat' }).click();
    await page.waitForURL(`**/console/deployments/${deploymentId}`);

    // The page follows the scheduler: Ready shows as the current condition, the replica as Ready on its node.
    await expectText(page.getByTestId('deployment-phase'), /^Ready$/, 120_000);
    const current = page.getByTestId('condition-current');
    expect(await current.textContent()).toMatch(/^Ready/);
    // The page and the api agree on the latest condition (the page refreshes: wait until it shows what the api has now).
    const ready = await until('the current condition as the api has it', async () => {
      const d = await deployment();
      const last = d.conditions.at(-1) as unknown as { reason: string; message: string } | undefined;
      const shown = await current.innerText();
      return last && shown.includes(last.reason) && shown.includes(last.message) ? d : undefined;
    });
    expect(ready.phase).toBe('Ready');
    // The history keeps the plan's acceptance below.
    expect(await page.getByTestId('deployment-conditions').innerText()).toContain('PlanAccepted');
    const replica = ready.status?.replicas[0];
    if (!replica) throw new Error('no replica in the status');
    const replicaRow = page.getByTestId(`replica-${replica.id}`);
    await expectText(replicaRow.getByTestId('replica-state'), /^Ready$/);
    expect(await replicaRow.innerText()).toContain(replica.nodeName);
    expect(await page.getByTestId('stat-ready-replicas').textContent()).toBe('1 / 1');
    expect(await page.getByTestId('deployment-yaml').innerText()).toMatch(/kind: Deployment[\s\S]*model: tiny/);
    await screenshot(page, '21-deployment-detail');

    await nav('Deployments').click();
    await expectText(page.getByTestId('deployment-row-tiny-chat').getByTestId('deployment-ready'), /^1\/1$/);
    expect(await page.getByTestId('deployment-row-tiny-chat').innerText()).toContain(replica.nodeName);
    await screenshot(page, '20-deployments');

    // The node that holds it lists the replica with its GPU memory.
    const node = await nodeNamed(replica.nodeName);
    await nav('Nodes').click();
    // The fleet with the replica loaded: its memory shows in the node's row.
    const holder = page.getByTestId(`node-row-${replica.nodeName}`);
    await until('the replica in the node row', async () => ((await holder.innerText()).includes('tiny') ? true : undefined));
    // Its memory is in use now: the bars' used and free figures are the api's.
    expect((await nodeNamed(replica.nodeName)).gpus.some((g) => g.freeMemoryBytes < g.totalMemoryBytes)).toBe(true);
    await expectGpuFigures(holder, replica.nodeName);
    await screenshot(page, '10-nodes');
    await page.getByRole('link', { name: replica.nodeName, exact: true }).click();
    await page.waitForURL(`**/console/nodes/${node.id}`);
    const replicas = page.getByTestId('node-replicas');
    await until('the replica on the node page', async () => ((await replicas.innerText()).includes('tiny') ? true : undefined));
    const held = (await nodeNamed(replica.nodeName)).replicas.find((r) => r.id === replica.id) as unknown as { memory: { gpuBytes: number } | null };
    expect(held?.memory).toBeTruthy();
    expect(await replicas.innerText()).toContain(formatBytes(held.memory?.gpuBytes ?? -1));
    const gpus = await page.getByTestId('node-gpus').innerText();
    for (const g of node.gpus) expect(gpus).toContain(`/ ${formatBytes(g.totalMemoryBytes)}`);
    await screenshot(page, '11-node-detail');
  }, 180_000);

  it('scales the deployment from its page, and deletes it after asking', async () => {
    await page.goto(`${c.url}/deployments/${deploymentId}`);
    await expectText(page.getByTestId('deployment-phase'), /./);
    await page.getByLabel('Replicas').fill('2');
    await page.getByRole('button', { name: 'Scale' }).click();
    await until('the api has 2 replicas', async () => ((await deployment()).replicas === 2 ? true : undefined));
    await expectText(page.getByTestId('stat-ready-replicas'), / \/ 2$/);

    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete tiny-chat?' });
    await dialog.getByRole('button', { name: 'Delete deployment' }).click();
    await page.waitForURL(/\/console\/deployments$/);
    const gone = await c.client.json('GET', `/api/v1/deployments/${deploymentId}`);
    expect(gone.status).toBe(404);
    await page.getByTestId('deployment-row-tiny-chat').waitFor({ state: 'detached' });
  }, 120_000);
});
