import OpenAI, { APIError } from 'openai';
import { signingFetch } from '@gridline/auth';
import { DOUBLE_ANSWER, OpenAiDouble, RunningStack, StackClient, scrapeMetrics, startOpenAiDouble, startStack, sumSamples, until } from '@gridline/testing';

interface EndpointView {
  id: string;
  name: string;
  state: 'unknown' | 'healthy' | 'unhealthy';
  circuit: 'closed' | 'open';
  routable: boolean;
  lastError: string | null;
  lastCheckAt: string | null;
  remoteVersion: string | null;
  models: { remoteModel: string; alias: string; listed: boolean }[];
}

interface JobView {
  id: string;
  status: string;
  model: string;
  endpoint_id: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  error: { code: string } | null;
}

/** Health settings that make a stopped peer unhealthy within about three seconds (checks every second, two failures). */
const FAST_HEALTH = { intervalSeconds: 1, timeoutSeconds: 2, unhealthyThreshold: 2, healthyThreshold: 1, breakerFailures: 3, breakerOpenSeconds: 2 };

/**
 * The mesh through real stacks: stack A registers stack B (another Gridline, its own database,
 * Redis namespace and port) as a peer with a keypair B issued, and an OpenAI-compatible server
 * double as an external endpoint; chats sent to A are served there, with usage on both sides,
 * health that follows B going away and coming back, 429s and timeouts relayed, cancellations
 * carried to the remote.
 */
describe('the mesh: peers and external endpoints behind one API', () => {
  let a: RunningStack;
  let b: RunningStack;
  let adminA: StackClient;
  let adminB: StackClient;
  let double: OpenAiDouble;
  let openaiA: OpenAI;
  /** The keypair B issued to A (a member of B's team `peer-a`). */
  let peerKey: { accessKey: string; secretKey: string };
  let peerTeamB: string;
  let peerB: EndpointView;
  const question: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Tell me about lighthouses.' }];

  beforeAll(async () => {
    [a, b, double] = await Promise.all([startStack({ modelName: 'tiny' }), startStack({ modelName: 'peer-only', seed: 7 }), startOpenAiDouble({ apiKey: 'sk-double-key', models: ['ext-model'] })]);
    adminA = new StackClient(a, a.url);
    adminB = new StackClient(b, b.url);
    const team = await adminB.json<{ id: string }>('POST', '/api/v1/teams', { name: 'peer-a' });
    peerTeamB = team.body.id;
    const user = await adminB.json<{ id: string }>('POST', '/api/v1/users', { email: 'gridline-a@example.com', displayName: 'Gridline A', teamId: peerTeamB, role: 'member' });
    const key = await adminB.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: peerTeamB });
    expect(key.status).toBe(201);
    peerKey = { accessKey: key.body.accessKey, secretKey: key.body.secretKey };
    openaiA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: await adminA.inferenceToken(), maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await adminA?.close();
    await adminB?.close();
    await double?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  const endpoint = async (id: string) => (await adminA.json<EndpointView>('GET', `/api/v1/endpoints/${id}`)).body;

  it('refuses a wrong peer credential at registration, saying so, and stores nothing', async () => {
    const wrong = await adminA.json<{ code: string; detail: string; param: string }>('POST', '/api/v1/endpoints', {
      name: 'peer-b',
      kind: 'gridline',
      url: b.url,
      credentials: { accessKey: peerKey.accessKey, secretKey: `${peerKey.secretKey.slice(0, -4)}XXXX` },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body).toMatchObject({ code: 'endpoint_credential_refused', param: 'credentials' });
    expect(wrong.body.detail).toMatch(/refused the credential/);
    expect(wrong.body.detail).not.toContain(peerKey.secretKey.slice(0, -4));
    const unknownKey = await adminA.json<{ code: string }>('POST', '/api/v1/endpoints', { name: 'peer-b', kind: 'gridline', url: b.url, credentials: { accessKey: 'AKIAAAAAAAAAAAAAAAAA', secretKey: peerKey.secretKey } });
    expect(unknownKey.body.code).toBe('endpoint_credential_refused');
    expect((await adminA.json<{ items: unknown[] }>('GET', '/api/v1/endpoints')).body.items).toEqual([]);
  });

  it('registers B as a peer with the keypair B issued: its catalog appears in A\'s /v1/models', async () => {
    const created = await adminA.json<EndpointView>('POST', '/api/v1/endpoints', { name: 'peer-b', kind: 'gridline', url: b.url, credentials: peerKey, health: FAST_HEALTH });
    expect(created.status).toBe(201);
    peerB = created.body;
    expect(peerB).toMatchObject({ name: 'peer-b', state: 'healthy', circuit: 'closed', routable: true, remoteVersion: '0.1.0', lastCheckAt: expect.any(String), lastError: null });
    expect(JSON.stringify(peerB)).not.toContain(peerKey.secretKey);
    expect(peerB.models).toEqual([expect.objectContaining({ remoteModel: 'peer-only', alias: 'peer-only', listed: true })]);
    const models = await openaiA.models.list();
    const ids = models.data.map((m) => m.id).sort();
    expect(ids).toEqual(['peer-only', 'tiny']);
    expect(models.data.find((m) => m.id === 'peer-only')).toMatchObject({ owned_by: 'peer-b', served_by: ['peer-b'] });
    expect(models.data.find((m) => m.id === 'tiny')).toMatchObject({ owned_by: 'gridline', served_by: ['local'] });
  });

  it('answers a streamed chat for a model only B serves through B, chunk by chunk, with usage recorded on both sides', async () => {
    const direct = await adminB.json<{ choices: { message: { content: string } }[] }>('POST', '/v1/chat/completions', { model: 'peer-only', messages: question, max_tokens: 12, temperature: 0 });
    expect(direct.status).toBe(200);
    const { data: stream, response } = await openaiA.chat.completions.create({ model: 'peer-only', messages: question, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } }).withResponse();
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    // Greedy: the same text B gives its own clients.
    expect(text).toBe(direct.body.choices[0].message.content);
    expect(chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(1);
    const usage = chunks[chunks.length - 1].usage;
    expect(usage).toMatchObject({ completion_tokens: 12, prompt_tokens: expect.any(Number) });
    // A records the job, served by peer-b, with B's usage.
    const jobId = response.headers.get('x-gridline-job-id') as string;
    const jobA = await until('the job on A to be settled', async () => {
      const j = (await adminA.json<JobView>('GET', `/api/v1/jobs/${jobId}`)).body;
      return j.status === 'succeeded' ? j : undefined;
    });
    expect(jobA).toMatchObject({ model: 'peer-only', endpoint_id: peerB.id, usage: { prompt_tokens: usage?.prompt_tokens, completion_tokens: 12 } });
    // B recorded it too, for the team whose keypair A signs with.
    const jobsB = await adminB.sql<{ team_id: string; prompt_tokens: number; completion_tokens: number; status: string }>(`SELECT team_id, prompt_tokens, completion_tokens, status FROM jobs WHERE team_id = $1`, [peerTeamB]);
    expect(jobsB).toEqual([{ team_id: peerTeamB, prompt_tokens: usage?.prompt_tokens, completion_tokens: 12, status: 'succeeded' }]);
  });

  it('B stopped: A reports it unhealthy within its check window and answers its model with a 503 in OpenAI\'s shape; B back: served again', async () => {
    await b.killApi();
    const stoppedAt = Date.now();
    const down = await until('A to report peer-b unhealthy', async () => {
      const e = await endpoint(peerB.id);
      return e.state === 'unhealthy' ? e : undefined;
    }, 20_000);
    // Two failed checks a second apart, each within its two-second timeout (the refused connection fails at once).
    expect(Date.now() - stoppedAt).toBeLessThan((FAST_HEALTH.unhealthyThreshold * FAST_HEALTH.intervalSeconds + FAST_HEALTH.timeoutSeconds) * 1000 + 3000);
    expect(down).toMatchObject({ routable: false, lastError: expect.stringMatching(/could not reach/) });
    const refused = await openaiA.chat.completions.create({ model: 'peer-only', messages: question, max_tokens: 4 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(APIError);
    const error = refused as APIError;
    expect(error.status).toBe(503);
    expect(error.error).toMatchObject({ type: 'api_error', code: 'endpoint_unavailable', param: 'model', message: expect.stringMatching(/no healthy endpoint serves the model 'peer-only'/) });
    expect(error.headers?.get('retry-after')).toBe('5');
    // Nothing written for a request refused before its job.
    const [{ n }] = await adminA.sql<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE model = 'peer-only' AND status <> 'succeeded'`);
    expect(n).toBe(0);

    await b.reviveApi();
    await until('A to report peer-b healthy again', async () => ((await endpoint(peerB.id)).state === 'healthy' ? true : undefined), 20_000);
    const again = await openaiA.chat.completions.create({ model: 'peer-only', messages: question, max_tokens: 5, temperature: 0 });
    expect(again.choices[0].message.content?.length).toBeGreaterThan(0);
    expect(again.usage?.completion_tokens).toBe(5);
  });

  it('a fallback chain serves a model nothing healthy serves, with the model that answered', async () => {
    const set = await adminA.json('PUT', '/api/v1/fallbacks/peer-only', { chain: ['tiny'] });
    expect(set.status).toBe(200);
    await b.killApi();
    await until('A to report peer-b unhealthy', async () => ((await endpoint(peerB.id)).state === 'unhealthy' ? true : undefined), 20_000);
    const served = await openaiA.chat.completions.create({ model: 'peer-only', messages: question, max_tokens: 3 });
    expect(served.model).toBe('tiny');
    expect(served.usage?.completion_tokens).toBe(3);
    expect((await adminA.json('DELETE', '/api/v1/fallbacks/peer-only')).status).toBe(204);
    await b.reviveApi();
  });

  describe('an OpenAI-compatible server as an external endpoint', () => {
    let ext: EndpointView;

    beforeAll(async () => {
      const wrong = await adminA.json<{ code: string }>('POST', '/api/v1/endpoints', { name: 'ext', kind: 'openai', url: double.url, credentials: { apiKey: 'sk-wrong' } });
      expect(wrong.body.code).toBe('endpoint_credential_refused');
      const made = await adminA.json<EndpointView>('POST', '/api/v1/endpoints', { name: 'ext', kind: 'openai', url: double.url, credentials: { apiKey: 'sk-double-key' }, health: { ...FAST_HEALTH, intervalSeconds: 30, timeoutSeconds: 1, requestTimeoutSeconds: 1 } });
      expect(made.status).toBe(201);
      ext = made.body;
    });

    it('chat, whole and streamed, with the server\'s usage and our bearer key sent to it', async () => {
      const whole = await openaiA.chat.completions.create({ model: 'ext-model', messages: [{ role: 'user', content: 'one two three' }] });
      expect(whole.choices[0].message.content).toBe(DOUBLE_ANSWER);
      expect(whole.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: DOUBLE_ANSWER.split(' ').length });
      const sent = double.requests.filter((r) => r.path === '/v1/chat/completions').at(-1);
      expect(sent?.headers.authorization).toBe('Bearer sk-double-key');
      expect(sent?.body).toMatchObject({ model: 'ext-model', stream: true, messages: [{ role: 'user', content: 'one two three' }] });
      const stream = await openaiA.chat.completions.create({ model: 'ext-model', messages: [{ role: 'user', content: 'hi' }], stream: true });
      const pieces: string[] = [];
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) pieces.push(chunk.choices[0].delta.content);
      expect(pieces.join('')).toBe(DOUBLE_ANSWER);
      expect(pieces.length).toBeGreaterThan(1);
    });

    it("relays the server's 429 as ours, with its Retry-After", async () => {
      double.script({ kind: 'rate_limited', retryAfterSeconds: 17 });
      const refused = (await openaiA.chat.completions.create({ model: 'ext-model', messages: question }).catch((e: unknown) => e)) as APIError;
      expect(refused).toBeInstanceOf(APIError);
      expect(refused.status).toBe(429);
      expect(refused.headers?.get('retry-after')).toBe('17');
      expect(refused.error).toMatchObject({ type: 'rate_limit_error', code: 'endpoint_rate_limited' });
    });

    it('a server that does not answer in time: 504 endpoint_timeout, its request abandoned; three in a row open its circuit (503 until it closes)', async () => {
      const before = double.requests.length;
      double.script({ kind: 'hang' }, { kind: 'hang' }, { kind: 'hang' });
      for (let i = 0; i < 3; i++) {
        const refused = (await openaiA.chat.completions.create({ model: 'ext-model', messages: question }).catch((e: unknown) => e)) as APIError;
        expect(refused.status).toBe(504);
        expect(refused.error).toMatchObject({ code: 'endpoint_timeout', message: "the endpoint 'ext' did not answer in time" });
        // Never its address.
        expect(JSON.stringify(refused.error)).not.toContain('127.0.0.1');
      }
      await double.idle();
      const tries = double.requests.slice(before).filter((r) => r.path === '/v1/chat/completions');
      // A timeout is not tried again on the endpoint that already had its whole wait.
      expect(tries).toHaveLength(3);
      expect(tries.every((r) => r.aborted)).toBe(true);
      expect((await endpoint(ext.id)).circuit).toBe('open');
      const open = (await openaiA.chat.completions.create({ model: 'ext-model', messages: question }).catch((e: unknown) => e)) as APIError;
      expect(open.status).toBe(503);
      expect(open.error).toMatchObject({ code: 'endpoint_unavailable' });
      expect(double.requests.slice(before).filter((r) => r.path === '/v1/chat/completions')).toHaveLength(3);
      await until('the circuit to close', async () => ((await endpoint(ext.id)).circuit === 'closed' ? true : undefined), 10_000);
    });

    it('a client that goes away cancels the remote request, and the job is cancelled', async () => {
      double.script({ kind: 'slow_stream', chunkDelayMs: 300, chunks: 30 });
      const before = double.requests.length;
      const client = new StackClient(a, a.url);
      const seen = await client.stream({ model: 'ext-model', messages: question }, (_event, i) => i >= 2);
      expect(seen.abortedAt).not.toBeNull();
      const jobId = seen.headers.get('x-gridline-job-id') as string;
      const job = await until('the job to be cancelled', async () => {
        const j = (await adminA.json<JobView>('GET', `/api/v1/jobs/${jobId}`)).body;
        return j.status === 'cancelled' ? j : undefined;
      });
      expect(job.endpoint_id).toBe(ext.id);
      await double.idle();
      const remote = double.requests.slice(before).find((r) => r.path === '/v1/chat/completions');
      expect(remote?.aborted).toBe(true);
    });

    it("quotas apply as for local models: the team's model limit, its x-ratelimit headers, a refusal that never reaches the endpoint", async () => {
      const team = await adminA.json<{ id: string }>('POST', '/api/v1/teams', { name: 'metered' });
      const user = await adminA.json<{ id: string }>('POST', '/api/v1/users', { email: 'metered@example.com', displayName: 'Metered', teamId: team.body.id, role: 'member' });
      const key = await adminA.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
      expect((await adminA.json('PUT', `/api/v1/teams/${team.body.id}/quotas`, { models: [{ model: 'ext-model', limits: { requestsPerMinute: 1 } }] })).status).toBe(200);
      const metered = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: signingFetch(key.body) });
      const { response } = await metered.chat.completions.create({ model: 'ext-model', messages: question }).withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('1');
      expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const before = double.requests.length;
      const refused = (await metered.chat.completions.create({ model: 'ext-model', messages: question }).catch((e: unknown) => e)) as APIError;
      expect(refused.status).toBe(429);
      expect(refused.error).toMatchObject({ code: 'rate_limit_exceeded' });
      expect(Number(refused.headers?.get('retry-after'))).toBeGreaterThan(0);
      expect(double.requests.length).toBe(before);
    });

    it('an asynchronous job for an endpoint model runs there and keeps its result', async () => {
      const submitted = await adminA.json<JobView>('POST', '/api/v1/jobs', { model: 'ext-model', messages: [{ role: 'user', content: 'four words are here' }] });
      expect(submitted.status).toBe(202);
      const done = await until('the asynchronous job to succeed', async () => {
        const j = (await adminA.json<JobView & { result: { text: string } | null }>('GET', `/api/v1/jobs/${submitted.body.id}`)).body;
        return j.status === 'succeeded' ? j : undefined;
      });
      expect(done).toMatchObject({ endpoint_id: ext.id, result: { text: DOUBLE_ANSWER }, usage: { prompt_tokens: 4, completion_tokens: DOUBLE_ANSWER.split(' ').length } });
    });

    it("peers registered both ways never pass a request on: B sees and reaches A's own models only, not A's endpoints'", async () => {
      const team = await adminA.json<{ id: string }>('POST', '/api/v1/teams', { name: 'peer-b' });
      const user = await adminA.json<{ id: string }>('POST', '/api/v1/users', { email: 'gridline-b@example.com', displayName: 'Gridline B', teamId: team.body.id, role: 'member' });
      const key = await adminA.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
      const back = await adminB.json<EndpointView>('POST', '/api/v1/endpoints', { name: 'peer-a', kind: 'gridline', url: a.url, credentials: { accessKey: key.body.accessKey, secretKey: key.body.secretKey } });
      expect(back.status).toBe(201);
      // A offers B what A serves itself, not what A reaches through its endpoints (ext-model, and B's own peer-only).
      expect(back.body.models.map((m) => m.remoteModel)).toEqual(['tiny']);
      const viaA = await adminB.json<{ model: string; choices: unknown[] }>('POST', '/v1/chat/completions', { model: 'tiny', messages: question, max_tokens: 2 });
      expect(viaA.status).toBe(200);
      const notOn = await adminB.json<{ error: { code: string } }>('POST', '/v1/chat/completions', { model: 'ext-model', messages: question, max_tokens: 2 });
      expect([notOn.status, notOn.body.error.code]).toEqual([404, 'model_not_found']);
      // A request that crossed one peer already is served by A's own fleet only, whatever its kind of client.
      const before = double.requests.length;
      const hopped = await adminA.json<{ error: { code: string } }>('POST', '/v1/chat/completions', { model: 'ext-model', messages: question, max_tokens: 2 }, { 'x-gridline-mesh-hop': '1' });
      expect([hopped.status, hopped.body.error.code]).toEqual([404, 'model_not_found']);
      expect(double.requests.length).toBe(before);
      expect((await adminB.json('DELETE', `/api/v1/endpoints/${back.body.id}`)).status).toBe(204);
    });

    it('a local-only team sees and reaches no endpoint model', async () => {
      const team = await adminA.json<{ id: string }>('POST', '/api/v1/teams', { name: 'onprem', localOnly: true });
      expect(team.status).toBe(201);
      const user = await adminA.json<{ id: string }>('POST', '/api/v1/users', { email: 'onprem@example.com', displayName: 'On prem', teamId: team.body.id, role: 'member' });
      const key = await adminA.json<{ accessKey: string; secretKey: string }>('POST', '/api/v1/keypairs', { userId: user.body.id, teamId: team.body.id });
      const local = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: 'unused', maxRetries: 0, fetch: signingFetch(key.body) });
      expect((await local.models.list()).data.map((m) => m.id)).toEqual(['tiny']);
      const refused = (await local.chat.completions.create({ model: 'ext-model', messages: question }).catch((e: unknown) => e)) as APIError;
      expect(refused.status).toBe(404);
      expect(refused.error).toMatchObject({ code: 'model_not_found' });
    });
  });

  it("shows every endpoint's state, circuit, catalog and requests on A's /metrics, as its API does", async () => {
    const page = await scrapeMetrics(a.metrics.api);
    const list = (await adminA.json<{ items: EndpointView[] }>('GET', '/api/v1/endpoints')).body.items;
    expect(list.map((e) => e.name)).toEqual(['ext', 'peer-b']);
    for (const e of list) {
      for (const state of ['unknown', 'healthy', 'unhealthy']) expect(sumSamples(page, 'gridline_endpoint_state', { endpoint: e.name, state })).toBe(e.state === state ? 1 : 0);
      expect(sumSamples(page, 'gridline_endpoint_up', { endpoint: e.name })).toBe(e.routable ? 1 : 0);
      expect(sumSamples(page, 'gridline_endpoint_models', { endpoint: e.name })).toBe(e.models.filter((m) => m.listed).length);
    }
    // What the tests above sent: three timeouts and a 429 from the double, B's refused connections while it was down.
    expect(sumSamples(page, 'gridline_endpoint_requests_total', { endpoint: 'ext', outcome: 'timeout' })).toBe(3);
    expect(sumSamples(page, 'gridline_endpoint_requests_total', { endpoint: 'ext', outcome: 'rate_limited' })).toBe(1);
    expect(sumSamples(page, 'gridline_endpoint_requests_total', { endpoint: 'ext', outcome: 'cancelled' })).toBe(1);
    expect(sumSamples(page, 'gridline_endpoint_requests_total', { endpoint: 'peer-b', outcome: 'succeeded' })).toBeGreaterThanOrEqual(2);
    expect(sumSamples(page, 'gridline_endpoint_checks_total', { endpoint: 'peer-b', result: 'failed' })).toBeGreaterThanOrEqual(FAST_HEALTH.unhealthyThreshold);
  });

  it('an api killed while it relays a job to an endpoint: the remote request ends with it and the sweeper fails the job', async () => {
    double.script({ kind: 'slow_stream', chunkDelayMs: 500, chunks: 200 });
    const before = double.requests.length;
    const client = new StackClient(a, a.url);
    const seen = client.stream({ model: 'ext-model', messages: question }).catch(() => null);
    const [remote] = await double.waitForRequests(before + 1, 10_000).then((all) => all.slice(before));
    const [row] = await until('the job to be running on the endpoint', async () => {
      const rows = await adminA.sql<{ id: string; status: string }>(`SELECT id, status FROM jobs WHERE endpoint_id IS NOT NULL AND status IN ('dispatched', 'running')`);
      return rows.length > 0 ? rows : undefined;
    });
    await a.killApi();
    await seen;
    await double.idle();
    expect(remote.aborted).toBe(true);
    // The relay's lease lapses (15 s) and the next sweep ends the job: nothing stays half-done.
    const ended = await until('the sweeper to fail the job', async () => {
      const [j] = await adminA.sql<{ status: string; error_code: string | null }>(`SELECT status, error_code FROM jobs WHERE id = $1`, [row.id]);
      return j.status === 'failed' ? j : undefined;
    }, 40_000, 500);
    expect(ended.error_code).toBe('endpoint_failed');
    await a.reviveApi();
  });
});
