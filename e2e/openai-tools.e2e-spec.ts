import OpenAI, { BadRequestError } from 'openai';
import { ChatOpenAI } from '@langchain/openai';
import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { RunningStack, startOpenAiStack } from '@gridline/testing';

/**
 * Function calling through the whole stack, with the official `openai` client and LangChain's
 * `ChatOpenAI`, unmodified, with a bearer token. The tiny model has random weights: it never
 * chooses to call a function by itself, so the calls here are forced (a named tool_choice), which
 * is deterministic; its ChatML template is served with node-llama-cpp's generic call syntax.
 */
describe('function calling with the openai client and LangChain', () => {
  let stack: RunningStack;
  let openai: OpenAI;
  let token: string;
  const model = 'tiny-tools';
  const weather: OpenAI.ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', enum: ['Paris', 'Oslo', 'Lima'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
      strict: true,
    },
  };
  const time: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'get_time', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 } }, required: ['city'] } } };
  const question: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const forced = { type: 'function', function: { name: 'get_weather' } } as const;

  /** The arguments of a weather call: JSON, exactly the schema's properties, each one of its values. */
  function checkWeather(json: string): { city: string; unit: string } {
    const args = JSON.parse(json) as { city: string; unit: string };
    expect(Object.keys(args).sort()).toEqual(['city', 'unit']);
    expect(['Paris', 'Oslo', 'Lima']).toContain(args.city);
    expect(['celsius', 'fahrenheit']).toContain(args.unit);
    return args;
  }

  beforeAll(async () => {
    ({ stack, openai, token } = await startOpenAiStack(model));
  }, 120_000);

  afterAll(() => stack?.stop());

  describe('the openai client', () => {
    it('a forced call: message.tool_calls in OpenAI shape, content null, finish_reason tool_calls; then the tool result and a final answer', async () => {
      const first = await openai.chat.completions.create({ model, messages: question, tools: [weather, time], tool_choice: forced, parallel_tool_calls: false, max_tokens: 200, temperature: 0 });
      const expected: OpenAI.ChatCompletion['choices'] = [
        {
          index: 0,
          message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: expect.stringMatching(/^call_[0-9a-f]{24}$/), type: 'function', function: { name: 'get_weather', arguments: expect.any(String) } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ];
      expect(first.choices).toEqual(expected);
      expect(first.usage?.completion_tokens).toBeGreaterThan(0);
      const call = first.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      const args = checkWeather(call.function.arguments);

      // The assistant message goes back as the client received it, then the tool's result.
      const history: OpenAI.ChatCompletionMessageParam[] = [...question, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ city: args.city, temperature: 21 }) }];
      const final = await openai.chat.completions.create({ model, messages: history, tools: [weather, time], max_tokens: 12, temperature: 0 });
      expect(final.choices).toEqual([{ index: 0, message: { role: 'assistant', content: expect.any(String), refusal: null }, logprobs: null, finish_reason: 'length' }]);
      expect(final.choices[0].message.content!.length).toBeGreaterThan(0);
      // The call and its result are part of the prompt.
      expect(final.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
    });

    it('streaming: delta.tool_calls chunks accumulate into the non-streamed call (by hand and with the client\'s own stream helper)', async () => {
      const body = { model, messages: question, tools: [weather, time], tool_choice: forced, max_tokens: 200, temperature: 0 };
      const whole = await openai.chat.completions.create(body);
      const wholeCall = whole.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;

      const stream = await openai.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
      const calls: { id: string; name: string; arguments: string }[] = [];
      const reasons: (string | null)[] = [];
      for await (const chunk of stream) {
        expect(chunk.object).toBe('chat.completion.chunk');
        for (const choice of chunk.choices) {
          reasons.push(choice.finish_reason);
          for (const part of choice.delta.tool_calls ?? []) {
            expect(part).toMatchObject({ index: expect.any(Number) });
            const acc = (calls[part.index] ??= { id: '', name: '', arguments: '' });
            acc.id += part.id ?? '';
            acc.name += part.function?.name ?? '';
            acc.arguments += part.function?.arguments ?? '';
          }
        }
      }
      expect(calls).toEqual([{ id: expect.stringMatching(/^call_[0-9a-f]{24}$/), name: 'get_weather', arguments: wholeCall.function.arguments }]);
      expect(reasons.at(-1)).toBe('tool_calls');
      expect(reasons.slice(0, -1).every((r) => r === null)).toBe(true);

      const helped = await openai.chat.completions.stream(body).finalChatCompletion();
      expect(helped.choices[0].finish_reason).toBe('tool_calls');
      const helpedCall = helped.choices[0].message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
      expect(helpedCall).toMatchObject({ type: 'function', function: { name: 'get_weather', arguments: wholeCall.function.arguments } });
      expect(helped.choices[0].message.tool_calls).toHaveLength(1);
    });

    it('tool_choice none answers in text, as without tools', async () => {
      const plain = await openai.chat.completions.create({ model, messages: question, max_tokens: 6, temperature: 0 });
      const none = await openai.chat.completions.create({ model, messages: question, tools: [weather], tool_choice: 'none', max_tokens: 6, temperature: 0 });
      expect(none.choices[0]).toMatchObject({ message: { content: plain.choices[0].message.content }, finish_reason: 'length' });
      expect(none.choices[0].message.tool_calls).toBeUndefined();
      expect(none.usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens);
    });

    it.each([
      ['a bad function name', 'tools', { tools: [{ type: 'function', function: { name: 'get weather' } }] }],
      ['a schema keyword the grammar cannot honour', 'tools', { tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 1 } } } } }] }],
      ['a named choice that is not a tool', 'tool_choice', { tools: [weather], tool_choice: { type: 'function', function: { name: 'get_time' } } }],
      ['a tool message that answers no call', 'messages', { messages: [...question, { role: 'tool', tool_call_id: 'call_1', content: '{}' }] }],
      [
        'a call left unanswered',
        'messages',
        { messages: [...question, { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] }, { role: 'user', content: 'and?' }] },
      ],
    ])('refuses %s with a BadRequestError naming %s', async (_what, param, extra) => {
      const error = await openai.chat.completions.create({ model, messages: question, max_tokens: 4, ...(extra as object) } as OpenAI.ChatCompletionCreateParamsNonStreaming).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(BadRequestError);
      expect(error).toMatchObject({ status: 400, param, type: 'invalid_request_error', code: 'validation_failed' });
    });
  });

  describe("LangChain's ChatOpenAI", () => {
    const getWeather = tool(async ({ city, unit }: { city: string; unit: string }) => JSON.stringify({ city, unit, temperature: 21 }), {
      name: 'get_weather',
      description: 'The weather in a city',
      schema: z.object({ city: z.enum(['Paris', 'Oslo', 'Lima']), unit: z.enum(['celsius', 'fahrenheit']) }),
    });
    const llm = () => new ChatOpenAI({ model, apiKey: token, configuration: { baseURL: `${stack.url}/v1` }, temperature: 0, maxTokens: 200, maxRetries: 0 });

    it('bindTools with a forced tool_choice: a tool call, the tool run on it, and a final answer', async () => {
      const withTools = llm().bindTools([getWeather], { tool_choice: 'get_weather' });
      const human = new HumanMessage('What is the weather in Paris?');
      const reply = await withTools.invoke([human]);
      expect(reply).toBeInstanceOf(AIMessage);
      expect(reply.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), name: 'get_weather', args: expect.any(Object), type: 'tool_call' }]);
      checkWeather(JSON.stringify(reply.tool_calls![0].args));
      expect(reply.response_metadata).toMatchObject({ finish_reason: 'tool_calls' });

      const result = await getWeather.invoke(reply.tool_calls![0]);
      expect(result).toBeInstanceOf(ToolMessage);
      const final = await llm().bindTools([getWeather]).invoke([human, reply, result]);
      expect(typeof final.content).toBe('string');
      expect((final.content as string).length).toBeGreaterThan(0);
      expect(final.tool_calls).toEqual([]);
    });

    it('streamed tool call chunks concatenate into the same call as invoke', async () => {
      const withTools = llm().bindTools([getWeather], { tool_choice: 'get_weather' });
      const input = [new HumanMessage('What is the weather in Paris?')];
      const whole = await withTools.invoke(input);
      let acc: AIMessageChunk | undefined;
      let chunks = 0;
      for await (const chunk of await withTools.stream(input)) {
        chunks++;
        acc = acc ? acc.concat(chunk) : chunk;
      }
      expect(chunks).toBeGreaterThan(1);
      expect(acc?.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), name: 'get_weather', args: whole.tool_calls![0].args, type: 'tool_call' }]);
    });
  });
});
