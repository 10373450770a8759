import { RunningStack, StackClient, startStack } from '@gridline/testing';

interface UsageView {
  groupBy: string[];
  items: { model: string | null; key: { kind: string; label: string } | null; requests: number; promptTokens: number; completionTokens: number; outcomes: { succeeded: number }; firstTokenMs: { p50: number | null } }[];
}

/** Usage through the real stack: what the jobs table says, per model and key, as JSON and CSV; bad queries refused naming the parameter. */
describe('usage', () => {
  let stack: RunningStack;
  let client: StackClient;

  beforeAll(async () => {
    stack = await startStack();
    client = new StackClient(stack, stack.url);
    for (const content of ['Hello.', 'Tell me about the river.']) {
      const res = await client.json('POST', '/v1/chat/completions', { model: stack.modelName, messages: [{ role: 'user', content }], max_tokens: 6, temperature: 0 });
      expect(res.status).toBe(200);
    }
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it("sums the jobs table per model and key, for the caller's view", async () => {
    const res = await client.json<UsageView>('GET', '/api/v1/usage?groupBy=model,key');
    expect(res.status).toBe(200);
    const [expected] = await client.sql<{ n: number; prompt: number; completion: number }>(`SELECT count(*)::int AS n, sum(prompt_tokens)::int AS prompt, sum(completion_tokens)::int AS completion FROM jobs`);
    expect(res.body.groupBy).toEqual(['model', 'key']);
    expect(res.body.items).toEqual([
      expect.objectContaining({ model: stack.modelName, key: expect.objectContaining({ kind: 'keypair', label: stack.accessKey }), requests: expected.n, promptTokens: expected.prompt, completionTokens: expected.completion, outcomes: expect.objectContaining({ succeeded: 2 }) }),
    ]);
    expect(expected.completion).toBeGreaterThan(0);
    expect(res.body.items[0].firstTokenMs.p50).toBeGreaterThan(0);
  });

  it('exports CSV: a header, then one line per group', async () => {
    const res = await client.fetch(`${stack.url}/api/v1/usage?groupBy=model&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    expect(lines[0].split(',').slice(0, 4)).toEqual(['model', 'requests', 'succeeded', 'failed']);
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3))).toEqual([[stack.modelName, '2', '2']]);
  });

  it('refuses a bad query with a 400 naming the parameter, before reading anything', async () => {
    const badGroup = await client.json<{ code: string; param: string }>('GET', '/api/v1/usage?groupBy=model,colour');
    expect(badGroup.status).toBe(400);
    expect(badGroup.body).toMatchObject({ code: 'validation_failed', param: 'groupBy' });
    const backwards = await client.json<{ code: string; param: string }>('GET', '/api/v1/usage?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z');
    expect(backwards.status).toBe(400);
    expect(backwards.body).toMatchObject({ code: 'validation_failed', param: 'from' });
  });
});
