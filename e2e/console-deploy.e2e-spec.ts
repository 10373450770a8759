import type { Locator, Page } from 'playwright-core';
import { ConsoleStack, escapeRegExp as escape, expectText, formatBytes, screenshot, startConsoleStack, until } from '@gridline/testing';


interface Requirements {
  totalBytes: number;
}
interface Node {
  name: string;
  gpus: { totalMemoryBytes: number; freeMemoryBytes: number }[];
}
interface Deployment {
  id: string;
  name: string;
  model: string;
  phase: string;
  readyReplicas: number;
  runtime: { contextSize: number };
}

/**
 * The Models page and the deploy dialog in a real headless Chromium against the real stack and a
 * simulated fleet (gpu-l4: 2 × 24 GiB, gpu-t4: 1 × 1 GiB): the catalog, a model's requirements,
 * per-node fit verdicts with the server's numbers, an over-size model refused with them, and a
 * deployment applied from the reviewed (edited) YAML, followed until Ready.
 */
describe('console: models and the deploy dialog', () => {
  let c: ConsoleStack;
  const requirements = async (model: string, contextSize: number, parallel: number) =>
    (await c.client.json<Requirements>('GET', `/api/v1/models/${model}/requirements?contextSize=${contextSize}&parallel=${parallel}`)).body;
  const nodes = async () => (await c.client.json<{ items: Node[] }>('GET', '/api/v1/nodes')).body.items;
  const free = (n: Node) => n.gpus.reduce((a, g) => a + g.freeMemoryBytes, 0);

  beforeAll(async () => {
    c = await startConsoleStack();
    await c.signIn();
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('lists the catalog as cards with their GGUF facts, searches, and opens a model with its requirements and the nodes that could hold it', async () => {
    const { page, url } = c;
    await page.goto(`${url}/models`);
    const tiny = page.getByTestId('model-card-tiny');
    const big = page.getByTestId('model-card-llama-3.1-70b-q8');
    await tiny.waitFor();
    await big.waitFor();
    // Facts read from the GGUF: tiny is F32 with a ChatML template (no tools), the 70B header is Q8_0 without a template.
    expect(await tiny.innerText()).toMatch(/llama[\s\S]*F32[\s\S]*2K tokens[\s\S]*no tools/);
    expect(await big.innerText()).toMatch(/Q8_0[\s\S]*128K tokens[\s\S]*no chat template/);
    expect(await big.innerText()).toMatch(/header only/i);
    await screenshot(page, '30-models');

    await page.getByLabel('Search models').fill('q8');
    await tiny.waitFor({ state: 'detached' });
    expect(await big.isVisible()).toBe(true);
    await page.getByLabel('Search models').fill('tiny');
    await tiny.waitFor();
    expect(await big.isVisible()).toBe(false);

    await tiny.getByRole('button', { name: 'Details' }).click();
    await page.waitForURL(/\/models\/tiny$/);
    // Requirements at the trained context (2048) and one sequence, as the api computes them.
    const r = await requirements('tiny', 2048, 1);
    await expectText(page.getByTestId('requirement-total'), new RegExp(`^${escape(formatBytes(r.totalBytes))} of GPU memory per replica`));
    const fleet = await nodes();
    const holding = fleet.filter((n) => n.gpus.some((g) => g.freeMemoryBytes >= r.totalBytes)).length;
    await expectText(page.getByTestId('nodes-that-fit'), new RegExp(`^${holding} of ${fleet.length} nodes could hold a replica now`, 'i'));
    expect(await page.getByTestId('fleet-fit-gpu-l4').innerText()).toMatch(/fits/);
    await screenshot(page, '31-model-detail');
  }, 90_000);

  it('shows per-node fit verdicts with the numbers, follows the context size, and refuses an over-size model with the numbers', async () => {
    const { page, url } = c;
    await page.goto(`${url}/models/tiny`);
    await page.getByRole('button', { name: 'Deploy…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Server plan (dry run)').waitFor();

    // Each node's verdict: the api's requirement against the node's free GPU memory.
    const fleet = await nodes();
    const l4 = fleet.find((n) => n.name === 'gpu-l4')!;
    const t4 = fleet.find((n) => n.name === 'gpu-t4')!;
    const r = await requirements('tiny', 2048, 1);
    await expectText(dialog.getByTestId('fit-gpu-l4'), new RegExp(`needs ${escape(formatBytes(r.totalBytes))}, gpu-l4 has ${escape(formatBytes(free(l4)))} free → fits \\(`));
    const t4Fits = t4.gpus[0].freeMemoryBytes >= r.totalBytes;
    await expectText(dialog.getByTestId('fit-gpu-t4'), new RegExp(`needs ${escape(formatBytes(r.totalBytes))}, gpu-t4 has ${escape(formatBytes(free(t4)))} free → ${t4Fits ? 'fits' : 'does not fit'}`));
    await expectText(dialog.getByTestId('plan-verdict'), /^feasible$/i);
    expect(await dialog.getByTestId('rule-capacity').innerText()).toMatch(/passed[\s\S]*enough GPU memory/i);
    expect(await dialog.getByTestId('yaml-preview').innerText()).toMatch(/kind: Deployment[\s\S]*model: tiny/);
    expect(await dialog.getByTestId('quota').innerText()).toMatch(/no limit/);

    // KAITO's node selection: preferring a node counts it against the node count.
    await expectText(dialog.getByTestId('count-status'), /^need 1 more$/i);
    await dialog.getByLabel('Prefer gpu-l4').check();
    await expectText(dialog.getByTestId('count-status'), /^exact requirement met$/i);
    // …and the server plans again with it, trying it first.
    await expectText(dialog.getByTestId('rule-preferred-nodes'), /preferred nodes gpu-l4 are candidates/);
    await screenshot(page, '32-deploy-dialog-fit');

    // A larger context and more sequences: the verdicts follow with the api's new figure.
    await dialog.getByLabel('Parallel sequences', { exact: true }).fill('4');
    await dialog.getByLabel('Context size', { exact: true }).fill('32768');
    const larger = await requirements('tiny', 32768, 4);
    expect(larger.totalBytes).toBeGreaterThan(r.totalBytes);
    await expectText(dialog.getByTestId('fit-gpu-l4'), new RegExp(`needs ${escape(formatBytes(larger.totalBytes))}, gpu-l4 has`));
    await expectText(dialog.getByTestId('fit-gpu-t4'), new RegExp(`needs ${escape(formatBytes(larger.totalBytes))}, gpu-t4 has ${escape(formatBytes(free(t4)))} free → ${t4.gpus[0].freeMemoryBytes >= larger.totalBytes ? 'fits' : 'does not fit'}`));

    // The 70B at 8 bits, at a modest 4096 tokens and one sequence: every node short, the planner refuses with its numbers, Review & Deploy stays disabled.
    await dialog.getByLabel('Parallel sequences', { exact: true }).fill('1');
    await dialog.getByLabel('Context size', { exact: true }).fill('4096');
    await pickModel(page, dialog, 'llama-3.1-70b-q8');
    const big = await requirements('llama-3.1-70b-q8', 4096, 1);
    await expectText(dialog.getByTestId('fit-gpu-l4'), new RegExp(`needs ${escape(formatBytes(big.totalBytes))}, gpu-l4 has ${escape(formatBytes(free(l4)))} free → does not fit \\(${escape(formatBytes(big.totalBytes - free(l4)))} short\\)`));
    await expectText(dialog.getByTestId('plan-refusal'), /deployment_infeasible[\s\S]*insufficient GPU memory: needs \d+\.\d GiB/);
    await expectText(dialog.getByTestId('plan-verdict'), /^refused$/i);
    expect(await dialog.getByRole('button', { name: 'Review & Deploy' }).isDisabled()).toBe(true);
    await screenshot(page, '33-deploy-refused');
  }, 90_000);

  it('deploys tiny from the reviewed YAML, renamed there, and follows it until Ready', async () => {
    const { page, url } = c;
    await page.goto(`${url}/models/tiny`);
    await page.getByRole('button', { name: 'Deploy…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Server plan (dry run)').waitFor();
    await pickModel(page, dialog, 'tiny');
    await dialog.getByLabel('Parallel sequences', { exact: true }).fill('1');
    await dialog.getByLabel('Context size', { exact: true }).fill('2048');
    await expectText(dialog.getByTestId('plan-verdict'), /^feasible$/i);
    const review = dialog.getByRole('button', { name: 'Review & Deploy' });
    await until('Review & Deploy enabled', async () => ((await review.isDisabled()) ? undefined : true));
    await review.click();

    const yaml = dialog.getByLabel('Deployment YAML');
    await yaml.waitFor();
    const text = await yaml.inputValue();
    expect(text).toMatch(/metadata:\n {2}name: tiny\n/);
    await yaml.fill(text.replace(/metadata:\n {2}name: tiny\n/, 'metadata:\n  name: tiny-reviewed\n'));
    await screenshot(page, '34-deploy-review-yaml');
    await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();

    await dialog.getByTestId('deployment-ready').waitFor({ timeout: 120_000 });
    expect(await dialog.getByTestId('deployment-phase').innerText()).toMatch(/^ready$/i);
    expect(await dialog.getByRole('link', { name: 'Open deployment' }).getAttribute('href')).toMatch(/\/deployments\/[0-9a-f-]{36}$/);
    await screenshot(page, '35-deploy-ready');

    const stored = (await c.client.json<{ items: Deployment[] }>('GET', '/api/v1/deployments')).body.items;
    expect(stored.map((d) => d.name)).toEqual(['tiny-reviewed']);
    expect(stored[0]).toMatchObject({ model: 'tiny', phase: 'Ready', readyReplicas: 1, runtime: { contextSize: 2048 } });
  }, 180_000);
});

async function pickModel(page: Page, dialog: Locator, name: string): Promise<void> {
  await dialog.getByLabel('Model', { exact: true }).click();
  await page.getByRole('option', { name, exact: true }).click();
}
