import { ChatMessage, ToolFunction, chatRequest } from '@gridline/contract';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyLlama, encodeGguf } from '@gridline/models';
import { RunnerClient } from './runner-client';

/** The runner as `npm run build` emits it (Jest runs the TypeScript sources, the runner must be the built ESM file). */
const BUILT_RUNNER = join(__dirname, '..', '..', '..', '..', 'dist', 'libs', 'runtime', 'src', 'runner', 'llama-runner.mjs');

const WEATHER: ToolFunction = {
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, unit: { enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', enum: [1, 2, 3] } },
    required: ['city', 'unit', 'days'],
    additionalProperties: false,
  },
};
const TIME: ToolFunction = { name: 'get_time', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 } }, required: ['city'] } };
const greedy = { temperature: 0, topP: 1 };
const ask: ChatMessage[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

/**
 * Function calling in the built runner, on real llama.cpp with the tiny random-weight model of
 * libs/models. Its template is ChatML, which node-llama-cpp serves with its ChatML wrapper and
 * the generic `||call: name(params)` syntax documented in the system prompt. The model never
 * chooses a call by itself (random weights), so calls are forced (tool_choice required or named).
 */
describe('llama runner function calling (tiny ChatML model)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-runner-tools-'));
  const tinyPath = join(dir, 'tiny.gguf');
  const runner = new RunnerClient(BUILT_RUNNER);

  beforeAll(async () => {
    writeFileSync(tinyPath, encodeGguf(buildTinyLlama({ seed: 42 })));
    await runner.start('cpu');
    await runner.load({ modelPath: tinyPath, gpuLayers: 0, contextSize: 2048, parallel: 1, threads: 1 });
  });

  afterAll(() => runner.stop());

  /** A call's arguments, parsed, checked against the weather schema: exactly its properties, each one of its values. */
  function weatherArguments(json: string): Record<string, unknown> {
    const args = JSON.parse(json) as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(['city', 'days', 'unit']);
    expect(['Paris', 'Oslo', 'Lima']).toContain(args.city);
    expect(['celsius', 'fahrenheit']).toContain(args.unit);
    expect([1, 2, 3]).toContain(args.days);
    return args;
  }

  it('forces a call of the named function: its arguments are JSON valid against its schema, and no text', async () => {
    const req = chatRequest(ask, { maxTokens: 200, sampling: greedy, tools: [WEATHER, TIME], toolChoice: { name: 'get_weather' } });
    const chunks: string[] = [];
    const done = await runner.generate('named', req, (t) => chunks.push(t));
    expect(done).toMatchObject({ finishReason: 'tool_calls', text: '' });
    expect(chunks.join('')).toBe('');
    expect(done.toolCalls).toEqual([{ id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'get_weather', arguments: expect.any(String) }]);
    weatherArguments(done.toolCalls![0].arguments);
    expect(done.completionTokens).toBeGreaterThan(10);
    // Greedy: the same call again (with a new id).
    const again = await runner.generate('named-again', req);
    expect(again.toolCalls?.[0].arguments).toBe(done.toolCalls![0].arguments);
    expect(again.toolCalls?.[0].id).not.toBe(done.toolCalls![0].id);
  });

  it('with tool_choice required, calls one of the tools, with arguments valid against that one\'s schema', async () => {
    const done = await runner.generate('required', chatRequest(ask, { maxTokens: 200, sampling: greedy, tools: [TIME, WEATHER], toolChoice: 'required' }));
    expect(done.finishReason).toBe('tool_calls');
    expect(done.toolCalls).toHaveLength(1);
    const call = done.toolCalls![0];
    expect(['get_time', 'get_weather']).toContain(call.name);
    if (call.name === 'get_weather') weatherArguments(call.arguments);
    else {
      const args = JSON.parse(call.arguments) as { city: string };
      expect(Object.keys(args)).toEqual(['city']);
      expect(typeof args.city).toBe('string');
      expect(args.city.length).toBeLessThanOrEqual(8);
    }
  });

  it('forces a call of a function without parameters: its arguments are {}', async () => {
    const done = await runner.generate('ping', chatRequest(ask, { maxTokens: 60, sampling: greedy, tools: [{ name: 'ping' }, WEATHER], toolChoice: { name: 'ping' } }));
    expect(done).toMatchObject({ finishReason: 'tool_calls', toolCalls: [{ name: 'ping', arguments: '{}' }] });
  });

  it('counts the tools the template documents in the prompt: auto shows them, none does not', async () => {
    const plain = await runner.generate('plain', chatRequest(ask, { maxTokens: 4, sampling: greedy }));
    const none = await runner.generate('none', chatRequest(ask, { maxTokens: 4, sampling: greedy, tools: [WEATHER, TIME], toolChoice: 'none' }));
    const auto = await runner.generate('auto', chatRequest(ask, { maxTokens: 4, sampling: greedy, tools: [WEATHER, TIME] }));
    expect(none.promptTokens).toBe(plain.promptTokens);
    expect(none.text).toBe(plain.text);
    // The functions' documentation (names, descriptions, parameter schemas) in the system prompt.
    expect(auto.promptTokens).toBeGreaterThan(plain.promptTokens + 100);
    // A forced call adds the call syntax's prefix, evaluated before the name is generated.
    const forced = await runner.generate('forced', chatRequest(ask, { maxTokens: 200, sampling: greedy, tools: [WEATHER, TIME], toolChoice: 'required' }));
    expect(forced.promptTokens).toBeGreaterThan(auto.promptTokens);
  });

  it('with tool_choice auto the random-weight model answers in text (it never starts the call syntax by itself)', async () => {
    const chunks: string[] = [];
    const done = await runner.generate('auto-text', chatRequest(ask, { maxTokens: 16, sampling: greedy, tools: [WEATHER, TIME], toolChoice: 'auto' }), (t) => chunks.push(t));
    expect(done).toMatchObject({ finishReason: 'length', completionTokens: 16 });
    expect(done.toolCalls).toBeUndefined();
    expect(done.text.length).toBeGreaterThan(0);
    expect(chunks.join('')).toBe(done.text);
  });

  it('continues a conversation after a tool result: the call and its result are in the prompt, and the answer is text', async () => {
    const call = (await runner.generate('call', chatRequest(ask, { maxTokens: 200, sampling: greedy, tools: [WEATHER], toolChoice: { name: 'get_weather' } }))).toolCalls![0];
    const after = (result: string) =>
      chatRequest([...ask, { role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', toolCallId: call.id, content: result }], { maxTokens: 12, sampling: greedy, tools: [WEATHER] });
    const short = await runner.generate('result-short', after('{"temperature": 21}'));
    // The same history again: the same answer (greedy), its prompt reused from the sequence.
    const again = await runner.generate('result-again', after('{"temperature": 21}'));
    expect(again.text).toBe(short.text);
    expect(again.cachedPromptTokens).toBe(again.promptTokens - 1);
    const long = await runner.generate('result-long', after('{"temperature": 21, "sky": "clear", "wind": "light from the west"}'));
    for (const done of [short, long]) {
      expect(done).toMatchObject({ finishReason: 'length', completionTokens: 12 });
      expect(done.text.trim().length).toBeGreaterThan(0);
      expect(done.toolCalls).toBeUndefined();
    }
    // The result's text is rendered into the prompt.
    expect(long.promptTokens).toBeGreaterThan(short.promptTokens + 10);
    const question = await runner.generate('question', chatRequest(ask, { maxTokens: 1, sampling: greedy, tools: [WEATHER] }));
    expect(short.promptTokens).toBeGreaterThan(question.promptTokens);
  });

  it('a call cut by max_tokens ends with length and no call', async () => {
    const done = await runner.generate('cut', chatRequest(ask, { maxTokens: 5, sampling: greedy, tools: [WEATHER], toolChoice: 'required' }));
    expect(done).toMatchObject({ finishReason: 'length', text: '' });
    expect(done.toolCalls).toBeUndefined();
    expect(done.completionTokens).toBe(5);
  });

  it('refuses, before generating, a request whose tools do not fit the context with the messages', async () => {
    const probe = await runner.generate('probe', chatRequest([{ role: 'user', content: 'x' }], { maxTokens: 1, sampling: greedy }));
    // Fits without tools: 2048 - 16 prompt tokens and 16 to generate.
    const messages: ChatMessage[] = [{ role: 'user', content: 'x'.repeat(2048 - 16 - probe.promptTokens + 1) }];
    const fits = await runner.generate('fits', chatRequest(messages, { maxTokens: 16, sampling: greedy }));
    expect(fits.promptTokens).toBe(2048 - 16);
    await expect(runner.generate('over', chatRequest(messages, { maxTokens: 16, sampling: greedy, tools: [WEATHER, TIME] }))).rejects.toMatchObject({
      code: 'context_length_exceeded',
      message: expect.stringMatching(/However, you requested \d+ tokens \(\d+ in the messages, 16 in the completion\)/),
    });
  }, 60_000);
});
