import { ConsoleStack, StackClient, until, expectText, screenshot, startConsoleStack } from '@gridline/testing';
import type { Page } from 'playwright-core';

/** The web console in a real headless Chromium against the real stack and a simulated fleet of two nodes. */
describe('console', () => {
  let c: ConsoleStack;

  beforeAll(async () => {
    c = await startConsoleStack();
  }, 180_000);

  afterAll(async () => {
    await c?.stop();
  });

  /** A new team with one member, and a token the member minted with their own keypair (members mint their own). */
  async function memberToken(teamName: string, email: string, scope: 'management' | 'inference'): Promise<{ id: string; token: string }> {
    const team = await c.client.json<{ id: string }>('POST', '/api/v1/teams', { name: teamName });
    const user = await c.client.json<{ id: string }>('POST', '/api/v1/users', { email, displayName: email, teamId: team.body.id, role: 'member' });
    const keypair = await c.client.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
    expect([team.status, user.status, keypair.status]).toEqual([201, 201, 201]);
    const member = new StackClient({ ...keypair.body, db: c.stack.db }, c.stack.url);
    const token = await member.json<{ id: string; token: string }>('POST', '/api/v1/tokens', { name: 'console', scope });
    await member.close();
    expect(token.status).toBe(201);
    return token.body;
  }

  /** A fresh page signed in with a token, as a user types it. */
  async function signInWithToken(token: string): Promise<Page> {
    const page = await c.browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(c.url);
    await page.getByText('Token', { exact: true }).click();
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.getByTestId('whoami'), /./);
    return page;
  }

  it('refuses a wrong secret with the reason, and signs in with the right one', async () => {
    const { page, url, stack } = c;
    await page.goto(url);
    await page.getByLabel('Access key').fill(stack.accessKey);
    await page.getByLabel('Secret key').fill('not-the-secret-key-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.getByRole('alert'), /signature/i);
    await screenshot(page, '00-sign-in-refused');

    await c.signIn();
    await expectText(page.getByTestId('whoami'), /./);
    expect(await page.getByText('superadmin').first().isVisible()).toBe(true);
  }, 60_000);

  it('opens the queue board for a superadmin, behind a session the console asked for', async () => {
    const { page } = c;
    await c.signIn();
    const [board] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('button', { name: 'Queues' }).click()]);
    await board.waitForLoadState();
    expect(new URL(board.url()).pathname).toMatch(/^\/admin\/queues/);
    await board.getByText('inference', { exact: true }).first().waitFor();
    await screenshot(board, '80-queue-board');
    // Without the console's session the board refuses: a fresh browser context has no cookie.
    const stranger = await c.browser.newPage();
    const res = await stranger.goto(`${c.stack.url}/admin/queues`);
    expect(res?.status()).toBe(401);
    await stranger.close();
    await board.close();
  }, 60_000);

  it("shows a member with a token only what the member's role may see", async () => {
    const token = await memberToken('console-members', 'member@example.com', 'management');

    const page = await signInWithToken(token.token);
    const nav = await page.getByRole('navigation').innerText();
    expect(nav).toContain('Models');
    expect(nav).toContain('Playground');
    expect(nav).not.toContain('Nodes');
    expect(nav).not.toContain('Usage');
    expect(await page.getByRole('button', { name: 'Queues' }).count()).toBe(0);
    expect(new URL(page.url()).pathname).toBe('/console/models');
    await page.close();
  }, 60_000);

  it('ends the session when a stream request is refused 401 (a token revoked while signed in)', async () => {
    const token = await memberToken('console-revoked', 'revoked@example.com', 'inference');

    const page = await signInWithToken(token.token);
    await page.getByRole('navigation').getByRole('link', { name: 'Playground', exact: true }).click();
    await page.getByRole('combobox', { name: 'Model' }).click();
    await page.getByRole('option', { name: 'tiny', exact: true }).click();
    await page.getByLabel('Message').fill('Hello?');
    // Revoked now: the next request is the chat stream, which goes through the console's fetch, not the typed client.
    expect((await c.client.json('DELETE', `/api/v1/tokens/${token.id}`)).status).toBe(204);
    // The api caches a credential for a second: wait until the revocation is in effect.
    await until('the token refused', async () => ((await fetch(`${c.stack.url}/v1/models`, { headers: { authorization: `Bearer ${token.token}` } })).status === 401 ? true : undefined));
    await page.getByRole('button', { name: 'Send' }).click();
    await expectText(page.getByRole('status').filter({ hasText: 'Signed out by the api' }), /Signed out by the api/);
    expect(await page.getByTestId('whoami').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('moves between pages in one session, each page showing its own data', async () => {
    const { page } = c;
    const made = await c.client.json<{ id: string }>('POST', '/api/v1/deployments', { name: 'nav-tiny', model: 'tiny', replicas: 1, runtime: { contextSize: 512, parallel: 1 } });
    expect(made.status).toBe(201);
    await c.signIn();
    const nav = (name: string) => page.getByRole('navigation').getByRole('link', { name, exact: true });
    // The model page reads the fleet (the same nodes the Nodes page lists): its cache must serve both pages.
    await nav('Models').click();
    await page.getByTestId('model-card-tiny').getByRole('button', { name: 'Details' }).click();
    await expectText(page.getByTestId('fleet-fit-gpu-l4'), /gpu-l4/);
    await nav('Nodes').click();
    await expectText(page.getByRole('row').filter({ hasText: 'gpu-l4' }).first(), /gpu-l4/);
    await expectText(page.getByRole('row').filter({ hasText: 'gpu-t4' }).first(), /gpu-t4/);
    await nav('Deployments').click();
    await expectText(page.getByRole('row').filter({ hasText: 'nav-tiny' }).first(), /tiny/);
    await nav('Models').click();
    await expectText(page.getByTestId('model-card-llama-3.1-70b-q8'), /llama-3\.1-70b-q8/);
    expect(await page.getByTestId('page-error').count()).toBe(0);
    expect((await c.client.json('DELETE', `/api/v1/deployments/${made.body.id}`)).status).toBe(204);
  }, 90_000);
});
