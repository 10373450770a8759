import { assertInferenceRequest, chatRequest } from './inference-request';
import { foldJobEvents, parseJobEvent } from './job-events';
import { grammarSchema, toolMessagesProblem, toolSchemaProblem, toolsProblem } from './tools';

describe('tools in the contract', () => {
  it('accepts the JSON-schema subset the grammar honours, with annotations', () => {
    expect(
      toolSchemaProblem({
        $schema: 'x',
        type: 'object',
        title: 'T',
        properties: { a: { type: ['string', 'null'] }, b: { anyOf: [{ const: 1 }, { $ref: '#/$defs/B' }] }, c: { type: 'array', prefixItems: [{ type: 'boolean' }], items: { enum: ['x'] } } },
        $defs: { B: { type: 'string', format: 'date' } },
      }),
    ).toBeNull();
  });

  it.each([
    [{ type: 'object', properties: { n: { type: 'number', maximum: 3 } } }, 'parameters.properties.n.maximum is not supported'],
    [{ type: 'object', allOf: [] }, 'parameters.allOf is not supported'],
    [{ type: 'object', properties: { r: { $ref: '#/$defs/Missing' } } }, "parameters.properties.r.$ref must point into the schema's own $defs"],
    [{ type: 'object', properties: { t: { type: ['object', 'null'] } } }, 'parameters.properties.t.type as a list'],
    [{ type: 'object', properties: { s: { type: 'string', format: 'email' } } }, 'parameters.properties.s.format must be date-time, time or date'],
  ])('refuses what the grammar would ignore, naming where (%j)', (schema, problem) => {
    expect(toolSchemaProblem(schema)).toContain(problem);
  });

  it('gives the grammar anyOf as oneOf, without annotations other than description', () => {
    expect(grammarSchema({ $schema: 'x', title: 'T', description: 'd', type: 'object', properties: { u: { anyOf: [{ type: 'null' }], default: null } } })).toEqual({
      description: 'd',
      type: 'object',
      properties: { u: { oneOf: [{ type: 'null' }] } },
    });
  });

  it('checks names and the choice against the tools', () => {
    expect(toolsProblem([{ name: 'a' }], { name: 'a' })).toBeNull();
    expect(toolsProblem([{ name: 'a' }], { name: 'b' })).toMatch(/^tool_choice: /);
    expect(toolsProblem([], 'required')).toMatch(/^tool_choice: /);
    expect(toolsProblem([{ name: 'a.b' }], 'auto')).toMatch(/^tools\[0\]/);
  });

  it('pairs every call with a tool message before the next message', () => {
    const call = { id: 'c1', name: 'f', arguments: '{}' };
    const ok = [{ role: 'user' }, { role: 'assistant', toolCalls: [call, { ...call, id: 'c2' }] }, { role: 'tool', toolCallId: 'c2' }, { role: 'tool', toolCallId: 'c1' }, { role: 'user' }];
    expect(toolMessagesProblem(ok)).toBeNull();
    expect(toolMessagesProblem(ok.filter((m) => m.toolCallId !== 'c1'))).toMatch(/c1 have no tool message/);
    expect(toolMessagesProblem([{ role: 'user' }, { role: 'tool', toolCallId: 'c1' }])).toMatch(/messages\[1\]/);
    expect(toolMessagesProblem([{ role: 'assistant', toolCalls: [{ ...call, arguments: '[1]' }] }, { role: 'tool', toolCallId: 'c1' }])).toMatch(/JSON object/);
  });

  it('validates tool fields of a request read back from Redis', () => {
    const call = { id: 'c1', name: 'f', arguments: '{}' };
    const req = chatRequest([{ role: 'user', content: 'q' }, { role: 'assistant', content: '', toolCalls: [call] }, { role: 'tool', content: '1', toolCallId: 'c1' }], { tools: [{ name: 'f' }], toolChoice: { name: 'f' } });
    expect(() => assertInferenceRequest(JSON.parse(JSON.stringify(req)))).not.toThrow();
    expect(() => assertInferenceRequest({ ...req, toolChoice: { name: 'g' } })).toThrow(/tool_choice/);
    expect(() => assertInferenceRequest({ ...req, tools: [{ name: 7 }] })).toThrow();
    expect(() => assertInferenceRequest({ input: { kind: 'completion', prompt: 'p' }, sampling: {}, tools: [{ name: 'f' }] })).toThrow(/completion takes no tools/);
  });

  it('carries tool calls through the event stream into the job output', () => {
    const call = parseJobEvent(JSON.stringify({ type: 'tool_call', index: 0, id: 'call_1', name: 'f', arguments: '{"a":1}' }));
    expect(call).toEqual({ type: 'tool_call', index: 0, id: 'call_1', name: 'f', arguments: '{"a":1}' });
    expect(parseJobEvent(JSON.stringify({ type: 'tool_call', index: 0, id: 'x', name: 'f' }))).toBeNull();
    expect(parseJobEvent(JSON.stringify({ type: 'error', code: 'invalid_request', message: 'm', param: 'tools' }))).toMatchObject({ param: 'tools' });
    const finished = parseJobEvent(JSON.stringify({ type: 'finished', finishReason: 'tool_calls', firstTokenMs: 1, totalMs: 2, deltas: 0 }));
    expect(finished).toMatchObject({ finishReason: 'tool_calls' });
    const folded = foldJobEvents([{ type: 'started', attempt: 1, nodeId: 'n' }, call!, { type: 'usage', promptTokens: 3, completionTokens: 4 }, finished!]);
    expect(folded).toEqual({ output: expect.objectContaining({ text: '', finishReason: 'tool_calls', toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }] }) });
  });
});
