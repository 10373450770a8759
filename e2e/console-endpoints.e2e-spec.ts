import type { Page } from 'playwright-core';
import { ConsoleStack, OpenAiDouble, expectText, screenshot, startConsoleStack, startOpenAiDouble, until } from '@gridline/testing';

interface EndpointView {
  id: string;
  name: string;
  enabled: boolean;
  state: string;
  routable: boolean;
  credentialHint: string;
  models: { remoteModel: string; alias: string; enabled: boolean }[];
}

const API_KEY = 'sk-double-console-0001';

/** The Endpoints page in a real headless Chromium against the real stack and an OpenAI-compatible double it registers. */
describe('console: endpoints', () => {
  let c: ConsoleStack;
  let page: Page;
  let double: OpenAiDouble;

  beforeAll(async () => {
    double = await startOpenAiDouble({ apiKey: API_KEY, models: ['gpt-double-mini', 'gpt-double-large'] });
    c = await startConsoleStack();
    page = c.page;
    await c.signIn();
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
    await double?.close();
  });

  const endpoints = async () => (await c.client.json<{ items: EndpointView[] }>('GET', '/api/v1/endpoints')).body.items;
  const row = () => page.getByTestId('endpoint-row-double');

  it("adds an OpenAI-compatible server through the dialog: the api's refusal of a wrong key shows there, the right key registers it healthy with its models", async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Endpoints', exact: true }).click();
    await page.getByText('No endpoint yet').waitFor();

    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an endpoint' });
    await dialog.getByLabel('Name').fill('double');
    await dialog.getByLabel('Kind').click();
    await page.getByRole('option', { name: 'OpenAI-compatible server', exact: true }).click();
    await dialog.getByLabel('URL').fill(double.url);
    // The keypair fields give way to the API key for this kind.
    expect(await dialog.getByLabel('Access key').count()).toBe(0);
    await dialog.getByLabel('API key').fill('sk-wrong');
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await expectText(dialog.getByRole('alert'), /\(endpoint_credential_refused\)/);
    expect(await endpoints()).toEqual([]);

    await dialog.getByLabel('API key').fill(API_KEY);
    await dialog.getByRole('button', { name: 'Add endpoint' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await row().waitFor();
    await expectText(row().getByTestId('endpoint-state'), /^healthy$/);
    await expectText(row().getByTestId('endpoint-routable'), /^routable$/);
    expect(await row().getByTestId('endpoint-model-count').innerText()).toBe('2');
    expect(await row().innerText()).toContain(double.url);

    const [stored] = await endpoints();
    expect(stored).toMatchObject({ name: 'double', state: 'healthy', routable: true, enabled: true });
    expect(stored.credentialHint).not.toContain(API_KEY);
    expect(stored.models.map((m) => m.remoteModel).sort()).toEqual(['gpt-double-large', 'gpt-double-mini']);
    // The page never holds the key after the dialog closed.
    expect(await page.content()).not.toContain(API_KEY);

    // Its row opens on its models.
    await row().getByText('double', { exact: true }).click();
    const models = page.getByTestId('endpoint-models-double');
    await models.waitFor();
    expect(await models.innerText()).toMatch(/gpt-double-mini[\s\S]*gpt-double-large|gpt-double-large[\s\S]*gpt-double-mini/);
    await screenshot(page, 'console-endpoints');
  }, 90_000);

  it('withdraws one of its models with its switch, and the api stops offering it', async () => {
    await page.getByRole('switch', { name: 'Offer gpt-double-large' }).click();
    await until('gpt-double-large withdrawn', async () => ((await endpoints())[0].models.find((m) => m.remoteModel === 'gpt-double-large')?.enabled === false ? true : undefined));
    await expectText(row().getByTestId('endpoint-model-count'), /^1 \/ 2$/);
    await page.getByRole('switch', { name: 'Offer gpt-double-large' }).click();
    await expectText(row().getByTestId('endpoint-model-count'), /^2$/);
  }, 60_000);

  it('disables and enables it from its row; routable follows', async () => {
    await row().getByRole('button', { name: 'Actions for double' }).click();
    await page.getByRole('menuitem', { name: 'Disable' }).click();
    await expectText(row().getByTestId('endpoint-routable'), /^not routable$/);
    expect(await row().getByTestId('endpoint-reason').innerText()).toContain('disabled');
    expect((await endpoints())[0]).toMatchObject({ enabled: false, routable: false });

    await row().getByRole('button', { name: 'Actions for double' }).click();
    await page.getByRole('menuitem', { name: 'Enable' }).click();
    await expectText(row().getByTestId('endpoint-routable'), /^routable$/);
    expect((await endpoints())[0]).toMatchObject({ enabled: true });
  }, 60_000);

  it('removes it only after asking', async () => {
    await row().getByRole('button', { name: 'Actions for double' }).click();
    await page.getByRole('menuitem', { name: 'Remove…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove double?' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await endpoints()).toHaveLength(1);

    await row().getByRole('button', { name: 'Actions for double' }).click();
    await page.getByRole('menuitem', { name: 'Remove…' }).click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await row().waitFor({ state: 'detached' });
    expect(await endpoints()).toEqual([]);
  }, 60_000);
});
