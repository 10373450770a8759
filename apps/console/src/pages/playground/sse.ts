/** Server-sent events as the api writes them for a streamed completion: `data: <json>` blocks, ended by `data: [DONE]`. */

export interface ChatChunk {
  choices?: { index?: number; delta?: { role?: string; content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } | null;
  error?: { message: string; code?: string | null; param?: string | null; type?: string };
  id?: string;
  model?: string;
}

/**
 * Splits what has arrived so far into complete events; `rest` is the unfinished tail to prepend to
 * the next read. Lines other than `data:` (comments, `event:`) are skipped; a block's data lines are
 * joined with a line break, per the SSE rules.
 */
export function parseSse(buffer: string): { events: string[]; rest: string } {
  const normalized = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalized.split('\n\n');
  const rest = blocks.pop() ?? '';
  const events: string[] = [];
  for (const block of blocks) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''));
    if (data.length) events.push(data.join('\n'));
  }
  return { events, rest };
}

/** One event's payload: a chunk, the end marker, or null for a payload that is not JSON. */
export function chunkOf(data: string): ChatChunk | 'done' | null {
  if (data === '[DONE]') return 'done';
  try {
    return JSON.parse(data) as ChatChunk;
  } catch {
    return null;
  }
}

/** The text a chunk adds to the answer. */
export function deltaText(chunk: ChatChunk): string {
  return (chunk.choices ?? []).map((c) => c.delta?.content ?? '').join('');
}

/** Reads a streamed answer, calling `onChunk` for each chunk as it arrives; resolves at the end marker or the end of the body. */
export async function readChatStream(body: ReadableStream<Uint8Array>, onChunk: (chunk: ChatChunk) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    buffer += decoder.decode(value, { stream: !done });
    const { events, rest } = parseSse(done ? `${buffer}\n\n` : buffer);
    buffer = rest;
    for (const e of events) {
      const c = chunkOf(e);
      if (c === 'done') return;
      if (c) onChunk(c);
    }
    if (done) return;
  }
}
