import { ModelRepository } from '@gridline/db';
import { ApiTestApp, startApiTestApp } from '../testing/api-test-app';

type OpenAiError = { error: { message: string; type: string; param: string | null; code: string } };

/**
 * Function calling at the OpenAI edge, before any model runs: what is accepted (it reaches the
 * model lookup) and what is refused with 400 naming the field, with no job created. Calls
 * themselves are in e2e/openai-tools and the runner's int test.
 */
describe('OpenAI tools and tool_choice validation (in-process, real Postgres and Redis)', () => {
  let t: ApiTestApp;
  const jobCount = async () => (await t.pg.query('SELECT count(*)::int AS n FROM jobs')).rows[0].n as number;
  const post = (path: string, body: unknown) => t.root(path, { method: 'POST', body });
  const user = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const fn = (name: string, parameters?: unknown) => ({ type: 'function', function: { name, ...(parameters !== undefined ? { parameters } : {}) } });
  const weather = fn('get_weather', { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] });
  const call = { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };

  beforeAll(async () => {
    t = await startApiTestApp();
    await t.app.get(ModelRepository).upsert({ name: 'visible', sha256: 'ab'.repeat(32), sizeBytes: 1000, facts: { architecture: 'llama', contextLength: 512, layers: 2, serving: { contextTokens: 512, maxTokenBytes: 16 } } as never });
  });

  afterAll(() => t?.close());

  /** Past validation: the request reaches the catalog, which has no such model. */
  async function expectAccepted(body: Record<string, unknown>, path = '/v1/chat/completions') {
    const res = await post(path, { model: 'no-such-model', messages: user, ...body });
    expect([res.status, (res.body as OpenAiError).error?.code]).toEqual([404, 'model_not_found']);
  }

  it('accepts tools, every tool_choice, parallel_tool_calls, strict, and a history of calls and results as clients send it', async () => {
    for (const tool_choice of [undefined, 'none', 'auto', 'required', { type: 'function', function: { name: 'get_weather' } }]) {
      await expectAccepted({ tools: [weather, fn('no_params')], ...(tool_choice ? { tool_choice } : {}), parallel_tool_calls: true });
    }
    await expectAccepted({ tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object', properties: {} }, strict: true } }] });
    // The openai client sends the assistant message back as it received it (content null, refusal null); LangChain sends content "".
    for (const assistant of [{ role: 'assistant', content: null, refusal: null, tool_calls: [call] }, { role: 'assistant', content: '', tool_calls: [call] }, { role: 'assistant', tool_calls: [call] }]) {
      await expectAccepted({ tools: [weather], messages: [...user, assistant, { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '{"temperature": 21}' }] }] });
    }
  });

  it('accepts the schemas zod and pydantic write: $schema, title, default, anyOf, $defs and $ref', async () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Args',
      type: 'object',
      properties: {
        city: { type: 'string', title: 'City', description: 'where' },
        unit: { anyOf: [{ type: 'string', enum: ['c', 'f'] }, { type: 'null' }], default: null },
        when: { $ref: '#/$defs/Day' },
        tags: { type: 'array', items: { type: 'string', maxLength: 10 }, maxItems: 3 },
      },
      required: ['city', 'unit', 'when', 'tags'],
      additionalProperties: false,
      $defs: { Day: { type: 'string', format: 'date' } },
    };
    await expectAccepted({ tools: [fn('f', schema)], tool_choice: 'required' });
  });

  it.each([
    ['a name with a space', [fn('get weather')], 'tools', /tools\[0\]\.function\.name/],
    ['a name given twice', [weather, weather], 'tools', /get_weather is given twice/],
    ['parameters that are not an object schema', [fn('f', { type: 'string' })], 'tools', /parameters must be a JSON schema of type object/],
    ['a keyword the grammar does not honour (minimum)', [fn('f', { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } })], 'tools', /properties\.n\.minimum is not supported/],
    ['a keyword the grammar does not honour (pattern)', [fn('f', { type: 'object', properties: { s: { type: 'string', pattern: '^a' } } })], 'tools', /pattern is not supported/],
    ['a $ref outside the schema', [fn('f', { type: 'object', properties: { s: { $ref: 'https://example.com/s.json' } } })], 'tools', /\$ref must point into the schema's own \$defs/],
    ['an unknown type', [fn('f', { type: 'object', properties: { s: { type: 'text' } } })], 'tools', /type must be object, array, string/],
  ])('refuses %s with 400 naming tools, and creates no job', async (_what, tools, param, message) => {
    const res = await post('/v1/chat/completions', { model: 'visible', messages: user, tools });
    expect(res.status).toBe(400);
    expect((res.body as OpenAiError).error).toEqual({ message: expect.stringMatching(message), type: 'invalid_request_error', param, code: 'validation_failed' });
    expect(await jobCount()).toBe(0);
  });

  it.each([
    ['required without tools', 'tool_choice', { tool_choice: 'required' }],
    ['a named function that is not a tool', 'tool_choice', { tools: [weather], tool_choice: { type: 'function', function: { name: 'other' } } }],
    ['a malformed choice', 'tool_choice', { tools: [weather], tool_choice: { name: 'get_weather' } }],
    ['a tool message answering no call', 'messages', { messages: [...user, { role: 'tool', tool_call_id: 'call_9', content: 'x' }] }],
    ['a tool message without tool_call_id', 'messages[2].tool_call_id', { messages: [...user, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', content: 'x' }] }],
    ['an unanswered call', 'messages', { messages: [...user, { role: 'assistant', content: null, tool_calls: [call] }] }],
    ['arguments that are not JSON', 'messages', { messages: [...user, { role: 'assistant', content: null, tool_calls: [{ ...call, function: { name: 'get_weather', arguments: '{city' } }] }, { role: 'tool', tool_call_id: 'call_1', content: 'x' }] }],
    ['null content without tool calls', 'messages[1].content', { messages: [...user, { role: 'assistant', content: null }] }],
  ])('refuses %s with 400 naming %s', async (_what, param, body) => {
    const res = await post('/v1/chat/completions', { model: 'visible', messages: user, ...body });
    expect(res.status).toBe(400);
    expect((res.body as OpenAiError).error).toMatchObject({ type: 'invalid_request_error', param, code: 'validation_failed' });
    expect(await jobCount()).toBe(0);
  });

  it('the async jobs API takes a history with tool calls and results, and refuses tools (its result has no tool calls)', async () => {
    const history = [...user, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' }];
    // The jobs API answers in problem+json (code and param at the top level).
    const accepted = await post('/api/v1/jobs', { model: 'no-such-model', messages: history });
    expect([accepted.status, (accepted.body as { code: string }).code]).toEqual([404, 'model_not_found']);
    const refused = await post('/api/v1/jobs', { model: 'visible', messages: user, tools: [weather] });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ param: 'tools', code: 'validation_failed' });
    const unanswered = await post('/api/v1/jobs', { model: 'visible', messages: history.slice(0, 2) });
    expect([unanswered.status, unanswered.body]).toEqual([400, expect.objectContaining({ param: 'messages', code: 'validation_failed' })]);
    expect(await jobCount()).toBe(0);
  });
});
