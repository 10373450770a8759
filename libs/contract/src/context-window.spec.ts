import { INPUT_PARAM, certainOverflow, completionBudget, contextOverflow, keptInputBytes, promptTokensLowerBound } from './context-window';
import { REQUEST_LIMITS, assertInferenceRequest, chatRequest } from './inference-request';

describe('context window', () => {
  it("states an overflow as OpenAI does, with both numbers and the field's name", () => {
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2044, maxTokens: 256 })).toBe(
      "This model's maximum context length is 2048 tokens. However, you requested 2300 tokens (2044 in the messages, 256 in the completion). Please reduce the length of the messages or completion.",
    );
    expect(contextOverflow({ kind: 'completion', contextTokens: 2048, promptTokens: 10, maxTokens: 32768, estimated: true })).toBe(
      "This model's maximum context length is 2048 tokens. However, you requested at least 32778 tokens (at least 10 in the prompt, 32768 in the completion). Please reduce the length of the prompt or completion.",
    );
    expect(INPUT_PARAM).toEqual({ chat: 'messages', completion: 'prompt' });
  });

  it('lets prompt plus max_tokens reach the context exactly, not beyond', () => {
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2000, maxTokens: 48 })).toBeNull();
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2000, maxTokens: 49 })).toMatch(/requested 2049 tokens/);
  });

  it('without max_tokens, needs room for one completion token (or what the runtime keeps free)', () => {
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2047 })).toBeNull();
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2048 })).toBe(
      "This model's maximum context length is 2048 tokens. However, your messages resulted in 2048 tokens, which leaves no room for the completion. Please reduce the length of the messages.",
    );
    expect(contextOverflow({ kind: 'completion', contextTokens: 2048, promptTokens: 5000, estimated: true })).toBe(
      "This model's maximum context length is 2048 tokens. However, your prompt resulted in at least 5000 tokens. Please reduce the length of the prompt.",
    );
    expect(contextOverflow({ kind: 'chat', contextTokens: 2048, promptTokens: 2047, maxTokens: 1, promptLimit: 2046 })).toMatch(/resulted in 2047 tokens, which leaves no room/);
  });

  it('gives a request without max_tokens the rest of the context, capped by the request limit', () => {
    expect(completionBudget(2048, 2000)).toBe(48);
    expect(completionBudget(2048, 2000, 16)).toBe(16);
    expect(completionBudget(1_000_000, 10)).toBe(REQUEST_LIMITS.maxTokens.max);
    expect(completionBudget(2048, 3000)).toBe(0);
  });

  it('counts the UTF-8 bytes every rendering keeps: the prompt whole, system and user texts trimmed', () => {
    expect(keptInputBytes({ kind: 'completion', prompt: '  a€😀 ' })).toBe(2 + 1 + 3 + 4 + 1);
    expect(
      keptInputBytes({
        kind: 'chat',
        messages: [
          { role: 'system', content: '\n  sys \t' },
          { role: 'user', content: 'é x' },
          { role: 'assistant', content: '<think>a long thought</think>ok' },
        ],
      }),
    ).toBe(3 + 4);
    expect(keptInputBytes({ kind: 'completion', prompt: '\ud800' })).toBe(3);
  });

  it('trims megabyte runs of whitespace', () => {
    const content = ' '.repeat(2_000_000) + 'x' + ' '.repeat(2_000_000);
    expect(keptInputBytes({ kind: 'chat', messages: [{ role: 'user', content }] })).toBe(1);
  });

  it('bounds the prompt tokens from below: each token covers at most the longest token in bytes', () => {
    expect(promptTokensLowerBound({ kind: 'completion', prompt: 'x'.repeat(70) }, 7)).toBe(10);
    expect(promptTokensLowerBound({ kind: 'completion', prompt: 'x'.repeat(71) }, 7)).toBe(11);
  });

  it("refuses before queueing only what certainly overflows, once an agent announced the model's context", () => {
    const served = { contextTokens: 2048, maxTokenBytes: 7 };
    const fits = chatRequest([{ role: 'user', content: 'x'.repeat(7 * 1792) }], { maxTokens: 256 });
    expect(certainOverflow(served, fits)).toBeNull();
    expect(certainOverflow(served, { ...fits, maxTokens: 257 })).toBe(
      "This model's maximum context length is 2048 tokens. However, you requested at least 2049 tokens (at least 1792 in the messages, 257 in the completion). Please reduce the length of the messages or completion.",
    );
    expect(certainOverflow(served, chatRequest([{ role: 'user', content: 'x'.repeat(7 * 2048) }]))).toMatch(/your messages resulted in at least 2048 tokens/);
    expect(certainOverflow(undefined, { ...fits, maxTokens: 32768 })).toBeNull();
    expect(certainOverflow({ contextTokens: 2048, maxTokenBytes: null }, { ...fits, maxTokens: 32768 })).toBeNull();
  });

  it('takes a request without max_tokens, and still refuses a bad one', () => {
    const request = chatRequest([{ role: 'user', content: 'hi' }]);
    expect(request).not.toHaveProperty('maxTokens');
    expect(() => assertInferenceRequest(JSON.parse(JSON.stringify(request)))).not.toThrow();
    expect(() => assertInferenceRequest({ ...request, maxTokens: 0 })).toThrow(/maxTokens/);
    expect(() => assertInferenceRequest({ ...request, maxTokens: null })).toThrow(/maxTokens/);
  });
});
