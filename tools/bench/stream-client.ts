/** What the benchmarks that compare the OpenAI routes with a bare runner share: the two sides, and a streamed chat read as a client reads it. */
import type { RunnerClient } from '@gridline/runtime';
import { RunningStack, StackClient, startRunner, startStack } from '@gridline/testing';

/** A stack and, beside it, a runner of the same model with the same settings (the direct side of a comparison); and a bearer token for the stack. */
export async function stackBesideRunner(parallel: number, contextSize: number): Promise<{ stack: RunningStack; runner: RunnerClient; token: string; stop(): Promise<void> }> {
  const stack = await startStack({ modelName: 'bench', parallel, agentEnv: { GRIDLINE_CONTEXT_SIZE: String(contextSize) } });
  const runner = startRunner();
  const stop = async () => {
    await runner.stop().catch(() => undefined);
    await stack.stop();
  };
  try {
    const client = new StackClient(stack, stack.url);
    const token = await client.inferenceToken('bench').finally(() => client.close());
    await runner.start('cpu');
    await runner.load({ modelPath: stack.modelPath, gpuLayers: 0, contextSize, parallel, threads: 1 });
    return { stack, runner, token, stop };
  } catch (e) {
    await stop();
    throw e;
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
