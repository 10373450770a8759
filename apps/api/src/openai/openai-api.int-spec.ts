import { ModelRepository } from '@gridline/db';
import { ApiTestApp, startApiTestApp } from '../testing/api-test-app';
import { createTeamFixture } from '../testing/tenancy-fixture';

type OpenAiError = { error: { message: string; type: string; param: string | null; code: string } };

/**
 * The OpenAI-compatible surface's answers that need no model to run: parameter acceptance and
 * refusal, error fields, request ids, one model. Generation itself is in e2e/openai-client.
 */
describe('OpenAI-compatible routes (in-process, real Postgres and Redis)', () => {
  let t: ApiTestApp;
  const jobCount = async () => (await t.pg.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n as number;
  const post = (path: string, body: unknown) => t.root(path, { method: 'POST', body });
  const user = [{ role: 'user', content: 'hi' }];

  beforeAll(async () => {
    t = await startApiTestApp();
    const models = t.app.get(ModelRepository);
    for (const name of ['visible', 'hidden']) {
      await models.upsert({ name, sha256: 'ab'.repeat(32), sizeBytes: 1000, facts: { architecture: 'llama', contextLength: 512, layers: 2, serving: { contextTokens: 512, maxTokenBytes: 16 } } as never });
    }
  });

  afterAll(() => t?.close());

  it.each([
    ['chat', '/v1/chat/completions', { messages: user }],
    ['completions', '/v1/completions', { prompt: 'Once upon a time' }],
  ])('%s: accepts and ignores store, metadata, user, service_tier, include_obfuscation and default values of unsupported parameters', async (_what, path, body) => {
    const res = await post(path, {
      model: 'no-such-model',
      ...body,
      store: false,
      metadata: { run: 'ci' },
      user: 'u-1',
      service_tier: 'auto',
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
      n: 1,
      frequency_penalty: 0,
      presence_penalty: 0,
      logit_bias: {},
      ...(path === '/v1/chat/completions' ? { logprobs: false, top_logprobs: 0, response_format: { type: 'text' }, tools: [], tool_choice: 'none', parallel_tool_calls: false } : { echo: false, best_of: 1 }),
    });
    // Past validation: the request reaches the catalog, which has no such model.
    expect(res).toEqual({ status: 404, body: { error: { message: "The model 'no-such-model' does not exist", type: 'invalid_request_error', param: 'model', code: 'model_not_found' } } });
  });

  it.each([
    ['/v1/chat/completions', 'n', 2],
    ['/v1/completions', 'echo', true],
    ['/v1/completions', 'best_of', 2],
    ['/v1/completions', 'suffix', 'end'],
    ['/v1/completions', 'n', 3],
  ])('%s refuses %s = %j with 400 unsupported_parameter naming it, and creates no job', async (path, param, value) => {
    const input = path === '/v1/chat/completions' ? { messages: user } : { prompt: 'p' };
    const res = await post(path, { model: 'visible', ...input, [param]: value });
    expect(res.status).toBe(400);
    expect((res.body as OpenAiError).error).toEqual({ message: expect.stringMatching(new RegExp(`^${param}: `)), type: 'invalid_request_error', param, code: 'unsupported_parameter' });
    expect(await jobCount()).toBe(0);
  });

  const schema = { type: 'object', properties: { mood: { enum: ['happy', 'sad'] } }, required: ['mood'], additionalProperties: false };
  it.each([
    ['chat', '/v1/chat/completions', { messages: user, logprobs: true, top_logprobs: 20, response_format: { type: 'json_schema', json_schema: { name: 'mood', schema, strict: true } } }],
    ['chat', '/v1/chat/completions', { messages: user, response_format: { type: 'json_object' } }],
    ['completions', '/v1/completions', { prompt: 'Once', logprobs: 5 }],
  ])('%s: accepts penalties, token biases, log probabilities and JSON formats (%#)', async (_what, path, body) => {
    const res = await post(path, { model: 'no-such-model', ...body, frequency_penalty: -2, presence_penalty: 1.5, logit_bias: { '0': -100, '42': 100, '7': 0.5 } });
    // Past validation: the request reaches the catalog, which has no such model.
    expect([res.status, (res.body as OpenAiError).error.code]).toEqual([404, 'model_not_found']);
  });

  it.each([
    ['a token id that is no number', { logit_bias: { abc: 1 } }, 'logit_bias', 'validation_failed'],
    ['a negative token id', { logit_bias: { '-1': 1 } }, 'logit_bias', 'validation_failed'],
    ['a bias above 100', { logit_bias: { '5': 101 } }, 'logit_bias', 'validation_failed'],
    ['a frequency_penalty above 2', { frequency_penalty: 2.5 }, 'frequency_penalty', 'validation_failed'],
    ['a presence_penalty below -2', { presence_penalty: -3 }, 'presence_penalty', 'validation_failed'],
    ['top_logprobs without logprobs', { top_logprobs: 2 }, 'top_logprobs', 'validation_failed'],
    ['top_logprobs above 20', { logprobs: true, top_logprobs: 21 }, 'top_logprobs', 'validation_failed'],
    ['an unknown response_format type', { response_format: { type: 'yaml' } }, 'response_format', 'validation_failed'],
    ['a json_schema without a name', { response_format: { type: 'json_schema', json_schema: { schema } } }, 'response_format', 'validation_failed'],
    ['a json_schema without a schema', { response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format', 'unsupported_parameter'],
    ['a schema with pattern', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', pattern: '^a' } } } }, 'response_format', 'unsupported_parameter'],
    ['a schema with allOf', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { allOf: [{ type: 'string' }] } } } }, 'response_format', 'unsupported_parameter'],
    ['a JSON format with tools', { response_format: { type: 'json_object' }, tools: [{ type: 'function', function: { name: 'f' } }] }, 'response_format', 'unsupported_parameter'],
    ['a schema with minimum', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } } } } }, 'response_format', 'unsupported_parameter'],
    ['a $ref to nothing', { response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: '#/$defs/missing' } } } }, 'response_format', 'unsupported_parameter'],
  ])('chat refuses %s with 400 naming the parameter, and creates no job', async (_what, body, param, code) => {
    const res = await post('/v1/chat/completions', { model: 'visible', messages: user, ...body });
    expect(res.status).toBe(400);
    expect((res.body as OpenAiError).error).toMatchObject({ type: 'invalid_request_error', param, code });
    expect(await jobCount()).toBe(0);
  });

  it('completions refuse logprobs above 5 with 400 naming it', async () => {
    const res = await post('/v1/completions', { model: 'visible', prompt: 'p', logprobs: 6 });
    expect([res.status, (res.body as OpenAiError).error.param, (res.body as OpenAiError).error.code]).toEqual([400, 'logprobs', 'validation_failed']);
  });

  it.each([
    ['a role', { messages: [{ role: 'user', content: 'x' }, { role: 'robot', content: 'x' }] }, 'messages[1].role'],
    ['a content', { messages: [{ role: 'user', content: 7 }] }, 'messages[0].content'],
    ['max_tokens', { messages: user, max_tokens: 0 }, 'max_tokens'],
    ['temperature', { messages: user, temperature: 3 }, 'temperature'],
    ['an unknown field', { messages: user, frobnicate: true }, 'frobnicate'],
    ['a stream option', { messages: user, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage'],
    ['a missing model', { messages: user, model: undefined }, 'model'],
  ])('names the parameter of a validation error (%s)', async (_what, body, param) => {
    const res = await post('/v1/chat/completions', { model: 'visible', ...body });
    expect(res.status).toBe(400);
    expect((res.body as OpenAiError).error).toMatchObject({ type: 'invalid_request_error', param, code: 'validation_failed' });
  });

  it('names prompt when a completion has none', async () => {
    const res = await post('/v1/completions', { model: 'visible' });
    expect([res.status, (res.body as OpenAiError).error.param]).toEqual([400, 'prompt']);
  });

  it('carries an x-request-id on every answer: a malformed body, an unknown route, an unauthenticated call, a success', async () => {
    const answers = [
      await fetch(`${t.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' }),
      await fetch(`${t.base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: '{"model":' }),
      await fetch(`${t.base}/v1/no-such-route`),
      await fetch(`${t.base}/v1/models`),
    ];
    for (const res of answers) expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${t.base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'client-id-1' }, body: '{' });
    expect([echoed.status, echoed.headers.get('x-request-id'), ((await echoed.json()) as OpenAiError).error.code]).toEqual([400, 'client-id-1', 'invalid_json']);
  });

  describe('GET /v1/models/{model}', () => {
    it('answers a model in OpenAI shape, as the list shows it', async () => {
      const one = await t.root('/v1/models/visible');
      expect(one.status).toBe(200);
      expect(one.body).toEqual({ id: 'visible', object: 'model', created: expect.any(Number), owned_by: 'gridline', served_by: ['local'] });
      const list = (await t.root('/v1/models')).body as { data: unknown[] };
      expect(list.data).toContainEqual(one.body);
    });

    it('answers an unknown model, and one a token may not use, with 404 model_not_found', async () => {
      const made = await post('/api/v1/tokens', { name: 'sdk', scope: 'inference', models: ['visible'] });
      const asToken = t.asToken((made.body as { token: string }).token);
      expect((await asToken('/v1/models/visible')).status).toBe(200);
      for (const res of [await asToken('/v1/models/hidden'), await t.root('/v1/models/nothing')]) {
        expect(res.status).toBe(404);
        expect((res.body as OpenAiError).error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
      }
      expect(((await asToken('/v1/models')).body as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['visible']);
    });

    it("a team's own model is listed, retrieved and usable by its team only", async () => {
      const alpha = await createTeamFixture(t, 'alpha');
      const beta = await createTeamFixture(t, 'beta');
      await t.app.get(ModelRepository).register({ name: 'alpha-only', sizeBytes: 1000, facts: { architecture: 'llama', contextLength: 512, layers: 2 } as never, source: null, teamId: alpha.teamId, headerOnly: false });
      const names = async (call: typeof alpha.member.call) => ((await call('/v1/models')).body as { data: { id: string }[] }).data.map((m) => m.id);
      expect(await names(alpha.member.call)).toContain('alpha-only');
      expect(await names(beta.member.call)).not.toContain('alpha-only');
      expect((await alpha.member.call('/v1/models/alpha-only')).status).toBe(200);
      expect((await beta.member.call('/v1/models/alpha-only')).status).toBe(404);
      // Beta cannot run it either: the same 404 as a model that does not exist, and no job.
      const before = await jobCount();
      const chat = await beta.member.call('/v1/chat/completions', { method: 'POST', body: { model: 'alpha-only', messages: user } });
      expect([chat.status, (chat.body as OpenAiError).error.code]).toEqual([404, 'model_not_found']);
      expect(await jobCount()).toBe(before);
    });
  });
});
