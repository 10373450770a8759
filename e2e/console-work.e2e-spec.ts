import type { Page } from 'playwright-core';
import { ConsoleStack, StackClient, escapeRegExp, expectText, screenshot, startConsoleStack, until } from '@gridline/testing';

interface Job {
  id: string;
  status: string;
  model: string;
  team_id: string;
  node_id: string | null;
  timings: { queued_at: string; started_at: string | null; first_token_at: string | null; finished_at: string | null };
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  result: { text: string } | null;
}

interface UsageItems {
  items: { model: string | null; requests: number; promptTokens: number; completionTokens: number }[];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The Playground, Jobs, Teams and Usage pages in a real Chromium against the real stack: a chat
 * streams from a real (tiny) model, then the same job is found with its timings, a keypair is
 * created and its secret shown once, a quota is set, and the usage page adds up what the api says.
 */
describe('console: playground, jobs, teams, usage', () => {
  let c: ConsoleStack;
  let page: Page;
  let chatJob: Job;
  let answer: string;

  beforeAll(async () => {
    c = await startConsoleStack();
    page = c.page;
    const made = await c.client.json<{ id: string }>('POST', '/api/v1/deployments', { name: 'tiny-chat', model: 'tiny', replicas: 1, runtime: { contextSize: 512, parallel: 2 } });
    expect(made.status).toBe(201);
    await until(
      'the tiny deployment Ready',
      async () => ((await c.client.json<{ readyReplicas: number }>('GET', `/api/v1/deployments/${made.body.id}`)).body.readyReplicas >= 1 ? true : undefined),
      90_000,
      250,
    );
    await c.signIn();
  }, 240_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('streams a chat in the Playground and shows what the job recorded', async () => {
    await page.goto(`${c.url}/playground`);
    await page.getByRole('combobox', { name: 'Model' }).click();
    await page.getByRole('option', { name: 'tiny', exact: true }).click();
    await page.getByLabel('Max tokens').fill('24');
    await page.getByLabel('Message').fill('Tell me a short story about a lighthouse.');
    await page.getByRole('button', { name: 'Send' }).click();

    // The answer ends with its usage (the last event of the stream).
    const completion = page.getByTestId('usage-completion');
    await until('the usage of the answer', async () => ((await completion.innerText()) !== '—' ? true : undefined), 60_000, 100);
    answer = await page.getByTestId('answer-text').innerText();
    expect(answer.length).toBeGreaterThan(0);

    const href = await page.getByTestId('job-link').getAttribute('href');
    const jobId = /\/jobs\/([0-9a-f-]{36})$/.exec(href ?? '')?.[1];
    expect(jobId).toBeDefined();
    chatJob = await until('the job row ended', async () => {
      const j = (await c.client.json<Job>('GET', `/api/v1/jobs/${jobId}`)).body;
      return j.status === 'succeeded' ? j : undefined;
    });
    // What streamed is what the job recorded, token counts included.
    expect(answer).toBe(chatJob.result?.text);
    expect(numberIn(await completion.innerText())).toBe(chatJob.usage?.completion_tokens);
    expect(numberIn(await page.getByTestId('usage-prompt').innerText())).toBe(chatJob.usage?.prompt_tokens);
    expect(await page.getByTestId('overhead-ms').innerText()).toMatch(/\d+(\.\d)? (ms|s)$/);
    expect(await page.getByTestId('ttft').innerText()).toMatch(/\d+(\.\d)? (ms|s)$/);
    await screenshot(page, '40-playground');
  }, 120_000);

  it('lists the job in Jobs with its timings, and opens its detail', async () => {
    await page.getByRole('link', { name: 'Jobs' }).click();
    const row = page.getByRole('row').filter({ hasText: chatJob.id.slice(0, 8) });
    await row.waitFor();
    const cells = await row.innerText();
    expect(cells).toMatch(/succeeded/i);
    expect(cells).toContain(`${chatJob.usage?.prompt_tokens} / ${chatJob.usage?.completion_tokens}`);
    // The node's name, not its id: the names come from another query, so wait for them.
    const node = (await c.client.json<{ name: string }>('GET', `/api/v1/nodes/${chatJob.node_id}`)).body;
    await expectText(row, new RegExp(escapeRegExp(node.name)));
    await screenshot(page, '50-jobs');

    await row.click();
    await page.getByTestId('job-status').waitFor();
    expect(await page.getByTestId('job-status').innerText()).toMatch(/succeeded/i);
    expect(await page.getByTestId('detail-result').innerText()).toBe(answer);
    expect(await page.getByTestId('detail-tokens').innerText()).toBe(`${chatJob.usage?.prompt_tokens} / ${chatJob.usage?.completion_tokens}`);
    const t = chatJob.timings;
    expectDuration(await page.getByTestId('detail-ttft').innerText(), Date.parse(t.first_token_at ?? '') - Date.parse(t.queued_at));
    expectDuration(await page.getByTestId('detail-total').innerText(), Date.parse(t.finished_at ?? '') - Date.parse(t.queued_at));
    expectDuration(await page.getByTestId('detail-queue-wait').innerText(), Date.parse(t.started_at ?? '') - Date.parse(t.queued_at));
    await expectText(page.getByTestId('detail-node'), new RegExp(`^${escapeRegExp(node.name)}$`));
    // A finished job offers no cancel.
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    await screenshot(page, '51-job-detail');

    // The list filters by team (superadmins): this team's jobs, none of an unknown team's.
    const mine = (await c.client.json<{ data: Job[] }>('GET', `/api/v1/jobs?teamId=${chatJob.team_id}`)).body.data;
    expect(mine.map((j) => j.id)).toContain(chatJob.id);
    expect((await c.client.json<{ data: Job[] }>('GET', '/api/v1/jobs?teamId=00000000-0000-4000-8000-000000000000')).body.data).toEqual([]);
  }, 60_000);

  it('cancels a waiting job from its detail, after a confirmation', async () => {
    // A model that fits on no node: its job waits in the queue.
    const submitted = await c.client.json<Job>('POST', '/api/v1/jobs', { model: 'llama-3.1-70b-q8', messages: [{ role: 'user', content: 'Hello.' }], max_tokens: 4 });
    expect(submitted.status).toBe(202);
    await page.goto(`${c.url}/jobs/${submitted.body.id}`);
    await expectText(page.getByTestId('job-status'), /queued/i);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await c.client.json<Job>('GET', `/api/v1/jobs/${submitted.body.id}`)).body.status).toBe('queued');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await expectText(page.getByTestId('job-status'), /cancelled/i);
    expect((await c.client.json<Job>('GET', `/api/v1/jobs/${submitted.body.id}`)).body.status).toBe('cancelled');
    // The dialog closes and an ended job offers no cancel.
    await until('no cancel button left', async () => ((await page.getByRole('button', { name: 'Cancel job' }).count()) === 0 ? true : undefined), 10_000);
  }, 60_000);

  it('creates a team and adds a member to it, as the api then lists them', async () => {
    await page.getByRole('link', { name: 'Teams and keys' }).click();
    await page.getByRole('button', { name: 'New team' }).click();
    await page.getByLabel('Name').fill('research');
    await page.getByLabel('Fair-share weight').fill('3');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.getByRole('heading', { name: 'research' }).waitFor();
    const teamId = /\/teams\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
    expect((await c.client.json<{ name: string; weight: number }>('GET', `/api/v1/teams/${teamId}`)).body).toMatchObject({ name: 'research', weight: 3 });

    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByLabel('E-mail').fill('ada@example.com');
    await page.getByLabel('Display name').fill('Ada Lovelace');
    await page.getByText('Team admin', { exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Add' }).click();
    await page.getByRole('row').filter({ hasText: 'ada@example.com' }).waitFor();
    const members = (await c.client.json<{ items: { email: string; role: string }[] }>('GET', `/api/v1/teams/${teamId}/members`)).body.items;
    expect(members).toEqual([expect.objectContaining({ email: 'ada@example.com', role: 'team_admin' })]);

    // A superadmin's token made on this team's page acts for this team, not the superadmin's own.
    await page.getByRole('tab', { name: 'API tokens' }).click();
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.getByRole('dialog').getByLabel('Name').fill('research-sdk');
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const token = (await page.getByTestId('new-token').innerText()).trim();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('row').filter({ hasText: 'research-sdk' }).waitFor();
    const made = (await c.client.json<{ items: { name: string; teamId: string; prefix: string }[] }>('GET', '/api/v1/tokens?limit=200')).body.items.filter((t) => t.name === 'research-sdk');
    expect(made).toEqual([expect.objectContaining({ teamId })]);
    expect(token.startsWith(made[0].prefix)).toBe(true);
    // The confirmation notice closes by itself (it would cover the header of the next screenshots).
    await page.getByText('Member added').waitFor({ state: 'hidden' });
  }, 60_000);

  it('creates a keypair in Teams, shows its secret once, and sets a quota read back through the api', async () => {
    const whoami = (await c.client.json<{ teamId: string }>('GET', '/api/v1/whoami')).body;
    const team = (await c.client.json<{ name: string }>('GET', `/api/v1/teams/${whoami.teamId}`)).body;
    await page.getByRole('link', { name: 'Teams and keys' }).click();
    await page.getByRole('row').filter({ hasText: 'research' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: team.name });
    await row.waitFor();
    await screenshot(page, '60-teams');
    await row.click();

    await page.getByRole('tab', { name: 'Keypairs' }).click();
    await page.getByRole('button', { name: 'Create keypair' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const secretBox = page.getByTestId('new-secret-key');
    await secretBox.waitFor();
    const accessKey = (await page.getByTestId('new-access-key').innerText()).trim();
    const secretKey = (await secretBox.innerText()).trim();
    await screenshot(page, '61-team-keys');
    // The secret works: a client signing with it is this user.
    const fresh = new StackClient({ accessKey, secretKey, db: c.stack.db }, c.stack.url);
    try {
      expect((await fresh.json<{ teamId: string }>('GET', '/api/v1/whoami')).body.teamId).toBe(whoami.teamId);
    } finally {
      await fresh.close();
    }
    // Shown once: closed, it is nowhere on the page; the key is listed.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('row').filter({ hasText: accessKey }).waitFor();
    expect(await page.content()).not.toContain(secretKey);

    await page.getByRole('tab', { name: 'Quotas' }).click();
    await page.getByRole('button', { name: 'Edit limits' }).click();
    await page.getByLabel('Tokens per day limit').fill('250000');
    await page.getByLabel('Requests per minute limit').fill('600');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await expectText(page.getByTestId('quota-tokensPerDay-limit'), /of 250,000 tokens/);
    const quotas = (await c.client.json<{ limits: Record<string, number | null> | null }>('GET', `/api/v1/teams/${whoami.teamId}/quotas`)).body;
    expect(quotas.limits).toMatchObject({ tokensPerDay: 250000, requestsPerMinute: 600, maxConcurrentJobs: null });
    expect(await page.getByTestId('quota-requestsPerMinute-limit').innerText()).toBe('of 600 requests');
    expect(await page.getByTestId('quota-maxConcurrentJobs-used').innerText()).toBe('No limit');
  }, 60_000);

  it("shows the chat's tokens on the usage page, as the api adds them up", async () => {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByTestId('usage-chart-days').waitFor();
    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.parse(`${today}T00:00:00.000Z`) - 13 * DAY_MS).toISOString();
    const to = new Date(Date.parse(`${today}T00:00:00.000Z`) + DAY_MS).toISOString();
    const usage = (await c.client.json<UsageItems>('GET', `/api/v1/usage?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&groupBy=team,model,day`)).body;
    const sum = (f: (i: UsageItems['items'][number]) => number) => usage.items.reduce((n, i) => n + f(i), 0);
    expect(sum((i) => i.completionTokens)).toBeGreaterThanOrEqual(chatJob.usage?.completion_tokens ?? Infinity);
    expect(numberIn(await page.getByTestId('usage-completion-tokens').innerText())).toBe(sum((i) => i.completionTokens));
    expect(numberIn(await page.getByTestId('usage-prompt-tokens').innerText())).toBe(sum((i) => i.promptTokens));
    expect(numberIn(await page.getByTestId('usage-requests').innerText())).toBe(sum((i) => i.requests));
    // The table's row for the model (grouped by team, model and day) carries the same totals.
    const tiny = usage.items.filter((i) => i.model === 'tiny');
    const row = page.getByTestId('usage-table').getByRole('row').filter({ hasText: 'tiny' });
    const cells = await row.innerText();
    expect(cells).toContain(today);
    expect(cells).toContain((tiny.reduce((n, i) => n + i.promptTokens + i.completionTokens, 0)).toLocaleString('en-US'));
    // The chart has a bar for today.
    expect(await page.getByTestId('usage-chart-days').locator('.recharts-bar-rectangle').count()).toBeGreaterThan(0);
    await screenshot(page, '70-usage');
  }, 60_000);
});

function numberIn(text: string): number {
  return Number(text.replace(/[^0-9.]/g, ''));
}

/** A duration as the console writes it ("412 ms", "1.3 s") agrees with the api's milliseconds to its rounding. */
function expectDuration(shown: string, ms: number): void {
  const m = /^(\d+(?:\.\d+)?) (ms|s)$/.exec(shown);
  expect(m).not.toBeNull();
  const value = Number(m?.[1]) * (m?.[2] === 's' ? 1000 : 1);
  expect(Math.abs(value - ms)).toBeLessThanOrEqual(m?.[2] === 's' ? 50 : 0.5);
}
