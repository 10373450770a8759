import { chunkOf, deltaText, parseSse, readChatStream, type ChatChunk } from './sse';

describe('parseSse', () => {
  it('gives the complete events and keeps the unfinished tail', () => {
    const { events, rest } = parseSse('data: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c"');
    expect(events).toEqual(['{"a":1}', '{"b":2}']);
    expect(rest).toBe('data: {"c"');
  });

  it('skips comments and joins multi-line data; CRLF is a line break', () => {
    expect(parseSse(': keep-alive\r\n\r\nevent: x\r\ndata: one\r\ndata: two\r\n\r\n').events).toEqual(['one\ntwo']);
  });
});

describe('chunkOf / deltaText', () => {
  it('reads the end marker, a chunk and its text, and ignores a payload that is not JSON', () => {
    expect(chunkOf('[DONE]')).toBe('done');
    expect(chunkOf('not json')).toBeNull();
    const c = chunkOf('{"choices":[{"index":0,"delta":{"content":"Hel"}}]}') as ChatChunk;
    expect(deltaText(c)).toBe('Hel');
    expect(deltaText({ choices: [{ delta: { role: 'assistant' } }] })).toBe('');
  });
});

describe('readChatStream', () => {
  it('delivers chunks split anywhere across reads, in order, and stops at [DONE]', async () => {
    const payload = 'data: {"choices":[{"delta":{"content":"Hé"}}]}\n\ndata: {"choices":[{"delta":{"content":"llo"}}]}\n\ndata: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\ndata: [DONE]\n\ndata: {"choices":[{"delta":{"content":"after"}}]}\n\n';
    const bytes = new TextEncoder().encode(payload);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        // Split inside the multi-byte é and inside a JSON body.
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.slice(i, i + 7));
        controller.close();
      },
    });
    const chunks: ChatChunk[] = [];
    await readChatStream(body, (c) => chunks.push(c));
    expect(chunks.map(deltaText).join('')).toBe('Héllo');
    expect(chunks.at(-1)?.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });
});
