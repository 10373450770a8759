import { InferenceRequest, chatRequest } from '@gridline/contract';
import { ChunkPieces, ToolCallAssembler, openAiPath, readChunk, toOpenAiBody } from './openai-wire';

const completion = (prompt: string, rest: Partial<InferenceRequest> = {}): InferenceRequest => ({ input: { kind: 'completion', prompt }, sampling: {}, ...rest });

/** A chunk's choice as OpenAI streams it. */
const chatChunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, logprobs: null, finish_reason: null, ...choice }],
  ...extra,
});

const nothing: ChunkPieces = { text: '', toolCallParts: [], finishReason: null, usage: null };

describe('openAiPath', () => {
  it('sends chat to chat completions and a prompt to legacy completions', () => {
    expect(openAiPath(chatRequest([{ role: 'user', content: 'hi' }]))).toBe('/v1/chat/completions');
    expect(openAiPath(completion('Once'))).toBe('/v1/completions');
  });
});

describe('toOpenAiBody', () => {
  it('always streams and asks for the usage chunk', () => {
    expect(toOpenAiBody(chatRequest([{ role: 'user', content: 'hi' }]), 'remote-model')).toEqual({
      model: 'remote-model',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('maps tool calls and tool results to OpenAI’s message shape', () => {
    const body = toOpenAiBody(
      chatRequest([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}' }] },
        { role: 'tool', content: '{"celsius":18}', toolCallId: 'call_1' },
        { role: 'assistant', content: 'Let me check.', toolCalls: [{ id: 'call_2', name: 'clock', arguments: '{}' }] },
      ]),
      'm',
    );
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', content: '{"celsius":18}', tool_call_id: 'call_1' },
      { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'clock', arguments: '{}' } }] },
    ]);
  });

  it('keeps an assistant message’s empty content when it calls no tool', () => {
    const body = toOpenAiBody(chatRequest([{ role: 'assistant', content: '', toolCalls: [] }]), 'm');
    expect(body.messages).toEqual([{ role: 'assistant', content: '' }]);
  });

  it('names sampling parameters as OpenAI does, and passes stop and max_tokens', () => {
    const body = toOpenAiBody(
      chatRequest([{ role: 'user', content: 'hi' }], { sampling: { temperature: 0, topP: 0.9, seed: 42, topK: 40, frequencyPenalty: 0.5, presencePenalty: -0.5 }, stop: ['\n\n', 'END'], maxTokens: 64 }),
      'm',
    );
    expect(body).toEqual(
      expect.objectContaining({ temperature: 0, top_p: 0.9, seed: 42, top_k: 40, frequency_penalty: 0.5, presence_penalty: -0.5, stop: ['\n\n', 'END'], max_tokens: 64 }),
    );
  });

  it('leaves out what the request leaves out', () => {
    const body = toOpenAiBody({ ...chatRequest([{ role: 'user', content: 'hi' }]), stop: [], tools: [] }, 'm');
    expect(Object.keys(body).sort()).toEqual(['messages', 'model', 'stream', 'stream_options']);
  });

  it('maps tools and each kind of tool choice', () => {
    const tools = [
      { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'clock' },
    ];
    const request = chatRequest([{ role: 'user', content: 'hi' }], { tools, toolChoice: { name: 'weather' } });
    expect(toOpenAiBody(request, 'm')).toEqual(
      expect.objectContaining({
        tools: [
          { type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
          { type: 'function', function: { name: 'clock' } },
        ],
        tool_choice: { type: 'function', function: { name: 'weather' } },
      }),
    );
    for (const choice of ['none', 'auto', 'required'] as const) expect(toOpenAiBody({ ...request, toolChoice: choice }, 'm').tool_choice).toBe(choice);
  });

  it('passes logit_bias as is', () => {
    expect(toOpenAiBody({ ...chatRequest([{ role: 'user', content: 'hi' }]), logitBias: { '50256': -100, '13': 5 } }, 'm').logit_bias).toEqual({ '50256': -100, '13': 5 });
  });

  it('asks chat for logprobs with top_logprobs, and completions for logprobs as a count', () => {
    const chat = chatRequest([{ role: 'user', content: 'hi' }]);
    expect(toOpenAiBody({ ...chat, logprobs: { top: 3 } }, 'm')).toEqual(expect.objectContaining({ logprobs: true, top_logprobs: 3 }));
    const noTop = toOpenAiBody({ ...chat, logprobs: { top: 0 } }, 'm');
    expect(noTop.logprobs).toBe(true);
    expect(noTop).not.toHaveProperty('top_logprobs');
    const legacy = toOpenAiBody(completion('Once', { logprobs: { top: 2 } }), 'm');
    expect(legacy.logprobs).toBe(2);
    expect(legacy).not.toHaveProperty('top_logprobs');
  });

  it('maps both response formats', () => {
    const chat = chatRequest([{ role: 'user', content: 'hi' }]);
    expect(toOpenAiBody({ ...chat, responseFormat: { type: 'json_object' } }, 'm').response_format).toEqual({ type: 'json_object' });
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    expect(toOpenAiBody({ ...chat, responseFormat: { type: 'json_schema', name: 'verdict', schema } }, 'm').response_format).toEqual({ type: 'json_schema', json_schema: { name: 'verdict', schema } });
  });

  it('sends a completion’s prompt and no messages', () => {
    const body = toOpenAiBody(completion('Once upon a time', { maxTokens: 8, stop: ['.'], sampling: { temperature: 0.7 } }), 'davinci');
    expect(body).toEqual({ model: 'davinci', stream: true, stream_options: { include_usage: true }, prompt: 'Once upon a time', max_tokens: 8, stop: ['.'], temperature: 0.7 });
  });
});

describe('readChunk', () => {
  it('reads a content delta', () => {
    expect(readChunk(chatChunk({ delta: { content: 'Hel' } }))).toEqual({ ...nothing, text: 'Hel' });
  });

  it('reads a role-only delta as no text', () => {
    expect(readChunk(chatChunk({ delta: { role: 'assistant', content: '' } }))).toEqual(nothing);
    expect(readChunk(chatChunk({ delta: { role: 'assistant' } }))).toEqual(nothing);
  });

  it('reads the finish reason, mapping OpenAI’s others onto ours', () => {
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'stop' }))?.finishReason).toBe('stop');
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'length' }))?.finishReason).toBe('length');
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'tool_calls' }))?.finishReason).toBe('tool_calls');
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'function_call' }))?.finishReason).toBe('tool_calls');
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'content_filter' }))?.finishReason).toBe('stop');
    expect(readChunk(chatChunk({ delta: {}, finish_reason: 'something_new' }))?.finishReason).toBe('stop');
  });

  it('reads the usage chunk, whose choices are empty, with cached tokens when reported', () => {
    const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 8 }, completion_tokens_details: { reasoning_tokens: 0 } };
    expect(readChunk({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage })).toEqual({ ...nothing, usage: { promptTokens: 12, completionTokens: 5, cachedPromptTokens: 8 } });
    expect(readChunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })?.usage).toEqual({ promptTokens: 3, completionTokens: 1, cachedPromptTokens: null });
  });

  it('reads `usage: null` on an ordinary chunk as no usage', () => {
    expect(readChunk(chatChunk({ delta: { content: 'x' } }, { usage: null }))).toEqual({ ...nothing, text: 'x' });
  });

  it('reads a legacy completion chunk’s text', () => {
    const legacy = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'davinci', choices: [{ text: ' upon', index: 0, logprobs: null, finish_reason: null }] };
    expect(readChunk(legacy)).toEqual({ ...nothing, text: ' upon' });
  });

  it('reads a non-streamed answer (a server that ignored `stream`): its message text, its calls by position, finish and usage', () => {
    const whole = { object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } };
    expect(readChunk(whole)).toEqual({ ...nothing, text: 'Hi', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1, cachedPromptTokens: null } });
    const calls = {
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'g', arguments: '{"x":1}' } }] },
          finish_reason: 'tool_calls',
        },
      ],
    };
    expect(readChunk(calls)?.toolCallParts).toEqual([
      { index: 0, id: 'a', name: 'f', arguments: '{}' },
      { index: 1, id: 'b', name: 'g', arguments: '{"x":1}' },
    ]);
  });

  it('reads tool-call deltas by index', () => {
    const first = chatChunk({ delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] } });
    expect(readChunk(first)?.toolCallParts).toEqual([{ index: 0, id: 'call_a', name: 'weather', arguments: '' }]);
    const later = chatChunk({ delta: { tool_calls: [{ index: 1, function: { arguments: '{"ci' } }] } });
    expect(readChunk(later)?.toolCallParts).toEqual([{ index: 1, arguments: '{"ci' }]);
  });

  it('reads chat logprobs, with the bytes of a token when the server leaves them out', () => {
    const lp = { content: [{ token: 'é', logprob: -0.1, bytes: [195, 169], top_logprobs: [{ token: 'é', logprob: -0.1, bytes: [195, 169] }, { token: 'e', logprob: -2.5 }] }] };
    expect(readChunk(chatChunk({ delta: { content: 'é' }, logprobs: lp }))?.logprobs).toEqual([
      { token: 'é', logprob: -0.1, bytes: [195, 169], top: [{ token: 'é', logprob: -0.1, bytes: [195, 169] }, { token: 'e', logprob: -2.5, bytes: [101] }] },
    ]);
  });

  it('reads what is not an answer chunk as null', () => {
    expect(readChunk(null)).toBeNull();
    expect(readChunk('[DONE]')).toBeNull();
    expect(readChunk({ object: 'list', data: [] })).toBeNull();
  });
});

describe('ToolCallAssembler', () => {
  it('joins streamed pieces into whole calls, by index', () => {
    const calls = new ToolCallAssembler();
    const deltas = [
      [{ index: 0, id: 'call_a', name: 'weather', arguments: '' }],
      [{ index: 0, arguments: '{"city":' }],
      [{ index: 1, id: 'call_b', name: 'clock', arguments: '{' }],
      [{ index: 0, arguments: '"Paris"}' }],
      [{ index: 1, arguments: '}' }],
    ];
    for (const parts of deltas) calls.add(parts);
    expect(calls.done()).toEqual([
      { id: 'call_a', name: 'weather', arguments: '{"city":"Paris"}' },
      { id: 'call_b', name: 'clock', arguments: '{}' },
    ]);
  });

  it('reads the same calls from real chunks as from parts', () => {
    const calls = new ToolCallAssembler();
    const chunks = [
      chatChunk({ delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_x', type: 'function', function: { name: 'lookup', arguments: '' } }] } }),
      chatChunk({ delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":"a' } }] } }),
      chatChunk({ delta: { tool_calls: [{ index: 0, function: { arguments: 'b"}' } }] } }),
      chatChunk({ delta: {}, finish_reason: 'tool_calls' }),
    ];
    for (const c of chunks) calls.add(readChunk(c)?.toolCallParts ?? []);
    expect(calls.done()).toEqual([{ id: 'call_x', name: 'lookup', arguments: '{"q":"ab"}' }]);
  });

  it('names a call the server gave no id, and skips indexes never sent', () => {
    const calls = new ToolCallAssembler();
    calls.add([{ index: 2, name: 'clock', arguments: '{}' }]);
    expect(calls.done()).toEqual([{ id: 'call_0', name: 'clock', arguments: '{}' }]);
  });
});
