import { randomBytes } from 'node:crypto';
import { RunningStack, StackClient, startOpenAiDouble, startStack, until } from '@gridline/testing';

/**
 * Plants unique canary strings in prompts, completions' stop strings, e-mails, names, tokens and
 * secret keys, drives every error path (validation, parse, text, size, auth, conflicts, a
 * database fault that forces a 500 on an admin route and on an inference route), and then reads
 * every process's output at the most verbose level: none of the canaries may be there.
 */
describe('no prompt, e-mail, secret, token or SQL parameter in any log line', () => {
  let stack: RunningStack;
  let client: StackClient;
  const tag = randomBytes(6).toString('hex');
  const canary = (what: string) => `canary${what}${tag}`;
  const PROMPT = canary('prompt');
  const EMAIL = `${canary('mail')}@example.com`;
  const canaries: string[] = [PROMPT, EMAIL, canary('name'), canary('stop'), canary('model'), canary('query'), canary('fault')];

  beforeAll(async () => {
    stack = await startStack({ modelName: 'tiny-logs', env: { LOG_LEVEL: 'trace' } });
    client = new StackClient(stack, stack.url);
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'tiny-logs', messages: [{ role: 'user', content }], max_tokens: 4, temperature: 0, ...extra });

  it('keeps every canary out of the api, scheduler, agent and runner output', async () => {
    // Inference that succeeds, synchronously, streamed and as a job.
    expect((await client.json('POST', '/v1/chat/completions', chat(PROMPT, { stop: [canary('stop')] }))).status).toBe(200);
    expect((await client.stream(chat(PROMPT))).done).toBe(true);
    const job = await client.json<{ id: string }>('POST', '/api/v1/jobs', chat(PROMPT));
    expect(job.status).toBe(202);
    await until('the job to end', async () => ((await client.json<{ status: string }>('GET', `/api/v1/jobs/${job.body.id}`)).body.status === 'succeeded' ? true : undefined));
    // A client that goes away mid-stream.
    await client.stream(chat(PROMPT, { max_tokens: 64 }), (_e, i) => i >= 1);

    // Refused inference: validation, text, parse, size, unknown model.
    expect((await client.json('POST', '/v1/chat/completions', chat(PROMPT, { max_tokens: -1 }))).status).toBe(400);
    expect((await client.json('POST', '/v1/chat/completions', { ...chat(PROMPT), [canary('name')]: PROMPT })).status).toBe(400);
    expect((await client.json('POST', '/v1/chat/completions', chat(`${PROMPT}\u0000`))).status).toBe(400);
    expect((await client.json('POST', '/v1/chat/completions', { ...chat(PROMPT), model: canary('model') })).status).toBe(404);
    const raw = (body: string, type = 'application/json') => client.fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await raw(`{"model":"tiny-logs","messages":[{"role":"user","content":"${PROMPT}"`)).status).toBe(400);
    expect((await raw(JSON.stringify(chat(PROMPT)), 'application/json; charset=latin1')).status).toBe(415);
    expect((await raw(JSON.stringify(chat(PROMPT.repeat(200_000))))).status).toBe(413);

    // Admin: e-mails and names, a conflict, a filter in the query string, credentials.
    const user = await client.json<{ id: string }>('POST', '/api/v1/users', { email: EMAIL, displayName: canary('name') });
    expect(user.status).toBe(201);
    expect((await client.json('POST', '/api/v1/users', { email: EMAIL, displayName: canary('name') })).status).toBe(409);
    expect((await client.json('GET', `/api/v1/users?email=${encodeURIComponent(EMAIL)}`)).status).toBe(200);
    expect((await client.json('GET', `/api/v1/teams?name=${canary('query')}`)).status).toBe(200);
    const token = await client.json<{ token: string }>('POST', '/api/v1/tokens', { name: canary('name'), scope: 'inference' });
    expect(token.status).toBe(201);
    canaries.push(token.body.token);
    const bearer = (t: string) => fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${t}` } });
    expect((await bearer(token.body.token)).status).toBe(200);
    expect((await bearer(`${token.body.token.slice(0, -4)}AAAA`)).status).toBe(401);
    const keypair = await client.json<{ secretKey: string; accessKey: string }>('POST', '/api/v1/keypairs', {});
    canaries.push(keypair.body.secretKey);

    // Endpoints: an API key and a keypair secret given at registration (accepted and refused), a
    // prompt relayed to an endpoint, an endpoint answering errors.
    const apiKey = `sk-${canary('apikey')}`;
    canaries.push(apiKey);
    const double = await startOpenAiDouble({ apiKey, models: ['ext-logs'] });
    try {
      const ext = { name: 'ext', kind: 'openai', url: double.url, credentials: { apiKey } };
      expect((await client.json('POST', '/api/v1/endpoints', { ...ext, credentials: { apiKey: `${apiKey}x` } })).status).toBe(422);
      expect((await client.json('POST', '/api/v1/endpoints', ext)).status).toBe(201);
      expect((await client.json('POST', '/v1/chat/completions', { ...chat(PROMPT), model: 'ext-logs' })).status).toBe(200);
      double.script({ kind: 'error', status: 500 });
      expect((await client.json('POST', '/v1/chat/completions', { ...chat(PROMPT), model: 'ext-logs' })).status).toBe(200);
      // A peer that is this very stack, signed with the keypair above (and with a wrong secret).
      const peer = { name: 'self', kind: 'gridline', url: stack.url, credentials: { accessKey: keypair.body.accessKey, secretKey: keypair.body.secretKey } };
      expect((await client.json('POST', '/api/v1/endpoints', { ...peer, credentials: { ...peer.credentials, secretKey: canary('secret') } })).status).toBe(422);
      canaries.push(canary('secret'));
      expect((await client.json('POST', '/api/v1/endpoints', peer)).status).toBe(201);
    } finally {
      await double.close();
    }

    // A database fault: the failing queries carry the e-mail and the prompt as parameters.
    await client.sql('ALTER TABLE users RENAME TO users_away');
    await client.sql('ALTER TABLE jobs RENAME TO jobs_away');
    try {
      const admin500 = await client.json<{ code: string; detail: string }>('POST', '/api/v1/users', { email: `${canary('fault')}@example.com`, displayName: canary('fault') });
      expect([admin500.status, admin500.body.code]).toEqual([500, 'internal_error']);
      const inference500 = await client.json<{ error: { code: string } }>('POST', '/v1/chat/completions', chat(`${PROMPT} ${canary('fault')}`));
      expect([inference500.status, inference500.body.error.code]).toEqual([500, 'internal_error']);
      expect(JSON.stringify([admin500.body, inference500.body])).not.toContain(canary('fault'));
    } finally {
      await client.sql('ALTER TABLE users_away RENAME TO users');
      await client.sql('ALTER TABLE jobs_away RENAME TO jobs');
    }

    await new Promise((r) => setTimeout(r, 500));
    const outputs = { api: stack.api.output, scheduler: stack.scheduler.output, agent: stack.agent.output };
    // The capture is real and verbose: requests, the faults and the database's complaint are there.
    expect(outputs.api).toContain('"url":"/v1/chat/completions"');
    expect(outputs.api).toContain('request failed');
    expect(outputs.api).toMatch(/query failed.*42P01|42P01.*query failed/);
    expect(outputs.agent.length).toBeGreaterThan(0);
    for (const [name, output] of Object.entries(outputs)) {
      for (const c of canaries) {
        if (output.includes(c)) throw new Error(`the ${name} logged a canary (${c.slice(0, 12)}…): ${output.slice(Math.max(0, output.indexOf(c) - 300), output.indexOf(c) + 100)}`);
      }
    }
  }, 120_000);
});
