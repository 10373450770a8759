/**
 * The `data` payloads of a server-sent event stream, in order (multi-line data joined with
 * `\n`; comments and other fields skipped). Ends at the stream's end.
 */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const at = buffer.search(/\r\n|\r|\n/);
      if (at < 0) break;
      const line = buffer.slice(0, at);
      // A lone \r at the buffer's end may be the first half of \r\n: wait for more.
      if (buffer[at] === '\r' && at + 1 === buffer.length && !final) break;
      buffer = buffer.slice(at + (buffer.startsWith('\r\n', at) ? 2 : 1));
      yield line;
    }
  };
  const take = function* (line: string): Generator<string> {
    if (line === '') {
      if (data.length > 0) yield data.join('\n');
      data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    data.push(value);
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) yield* take(line);
  }
  buffer += decoder.decode();
  for (const line of lines(true)) yield* take(line);
  if (buffer !== '') yield* take(buffer);
  if (data.length > 0) yield data.join('\n');
}
