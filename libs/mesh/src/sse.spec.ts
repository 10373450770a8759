import fc from 'fast-check';
import { sseData } from './sse';

const utf8 = new TextEncoder();

async function* chunks(parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

/** The data payloads read from a stream delivered as these pieces (strings are UTF-8 encoded). */
async function read(parts: (string | Uint8Array)[]): Promise<string[]> {
  const out: string[] = [];
  for await (const data of sseData(chunks(parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p))))) out.push(data);
  return out;
}

/** The stream's bytes cut at these byte offsets (ascending, within the stream). */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
}

describe('sseData', () => {
  it('reads each event’s data in order', async () => {
    expect(await read(['data: one\n\ndata: two\n\n'])).toEqual(['one', 'two']);
  });

  it('takes \\n, \\r\\n and \\r as line ends', async () => {
    expect(await read(['data: a\r\n\r\ndata: b\r\rdata: c\n\n'])).toEqual(['a', 'b', 'c']);
  });

  it('joins the data lines of one event with \\n', async () => {
    expect(await read(['data: {"a":\ndata: 1}\n\n'])).toEqual(['{"a":\n1}']);
  });

  it('skips comments and other fields', async () => {
    const stream = ': keep-alive\n\nevent: message\nid: 7\nretry: 1000\ndata: kept\n: a comment inside an event\n\n';
    expect(await read([stream])).toEqual(['kept']);
  });

  it('drops one space after the colon, not more, and reads a field with no colon as empty', async () => {
    expect(await read(['data:tight\n\ndata:  spaced\n\ndata\n\n'])).toEqual(['tight', ' spaced', '']);
  });

  it('treats "data" as the field name only when it is the whole name', async () => {
    expect(await read(['database: no\ndata: yes\n\n'])).toEqual(['yes']);
  });

  it('reads a last event that has no blank line after it', async () => {
    expect(await read(['data: first\n\ndata: last'])).toEqual(['first', 'last']);
    expect(await read(['data: last\n'])).toEqual(['last']);
    expect(await read(['data: last\r'])).toEqual(['last']);
  });

  it('does not end a line at a \\r whose \\n is in the next chunk', async () => {
    // Read as two line ends, the \r\n would make a blank line and split the event in two.
    expect(await read(['data: a\r', '\ndata: b\r\n\r\n'])).toEqual(['a\nb']);
    expect(await read(['data: a\r', '\n', '\r', '\n'])).toEqual(['a']);
  });

  it('keeps a multi-byte character split across chunks whole', async () => {
    const bytes = utf8.encode('data: é🌍\n\n');
    const emoji = bytes.indexOf(0xf0);
    expect(await read([bytes.slice(0, emoji + 2), bytes.slice(emoji + 2)])).toEqual(['é🌍']);
    expect(await read([...bytes].map((b) => Uint8Array.of(b)))).toEqual(['é🌍']);
  });

  it('reads nothing from an empty stream or one of comments only', async () => {
    expect(await read([])).toEqual([]);
    expect(await read([': ping\n\n: ping\n\n'])).toEqual([]);
  });

  it('reads the same data wherever a stream is cut in one or two places', async () => {
    const bytes = utf8.encode(': hi\r\ndata: {"t":"é"}\r\n\r\ndata: x\rdata: 🌍\r\rid: 3\ndata: [DONE]\n\n');
    const whole = await read([bytes]);
    expect(whole).toEqual(['{"t":"é"}', 'x\n🌍', '[DONE]']);
    for (let i = 1; i < bytes.length; i++) {
      expect(await read(cut(bytes, [i]))).toEqual(whole);
      for (let j = i + 1; j < bytes.length; j++) expect(await read(cut(bytes, [i, j]))).toEqual(whole);
    }
  });

  it('reads the same data however a generated stream is chunked', async () => {
    const line = fc.string({ unit: fc.constantFrom('a', ' ', ':', 'é', '🌍', '{', '"'), maxLength: 8 });
    const event = fc.array(line, { minLength: 1, maxLength: 3 });
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 5 }), eol, fc.array(fc.nat(), { maxLength: 12 }), async (events, end, cuts) => {
        const text = events.map((lines) => lines.map((l) => `data: ${l}${end}`).join('') + end).join('');
        const bytes = utf8.encode(text);
        const at = [...new Set(cuts.map((c) => (bytes.length > 1 ? 1 + (c % (bytes.length - 1)) : 0)).filter((c) => c > 0))].sort((a, b) => a - b);
        expect(await read(cut(bytes, at))).toEqual(events.map((lines) => lines.join('\n')));
      }),
    );
  });
});
