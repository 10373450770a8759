/** What the benchmarks that go through the OpenAI routes share: a bearer token, and a streamed chat read as a client reads it. */
import { RunningStack, StackClient } from '@gridline/testing';

/** A new inference token of the stack's admin (what the SDKs send). */
export async function inferenceToken(stack: RunningStack): Promise<string> {
  const client = new StackClient(stack, stack.url);
  try {
    const created = await client.json<{ token: string }>('POST', '/api/v1/tokens', { name: 'bench', scope: 'inference' });
    if (created.status !== 201) throw new Error(`creating a token answered ${created.status}`);
    return created.body.token;
  } finally {
    await client.close();
  }
}

export interface StreamedChat {
  /** Milliseconds from the request to the first chunk that carries text. */
  ttftMs: number;
  totalMs: number;
  completionTokens: number;
  headers: Headers;
}

/** POSTs a streamed chat completion (`stream_options.include_usage` on) and reads it to its end. */
export async function streamChat(url: string, token: string, body: Record<string, unknown>): Promise<StreamedChat> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`the stack answered ${res.status}: ${await res.text()}`);
  let ttftMs = -1;
  let text = '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    text += decoder.decode(r.value, { stream: true });
    // The first chunk that carries text (the role chunk goes out with it).
    if (ttftMs < 0 && /"content":"[^"]/.test(text)) ttftMs = performance.now() - started;
  }
  const totalMs = performance.now() - started;
  const usage = /"completion_tokens":(\d+)/.exec(text);
  if (ttftMs < 0 || !usage) throw new Error('the stream carried no text or no usage');
  return { ttftMs, totalMs, completionTokens: Number(usage[1]), headers: res.headers };
}
