import { chatRequest } from '@gridline/contract';
import OpenAI from 'openai';
import { Client } from 'pg';
import { signingFetch } from '@gridline/auth';
import { RunningStack, startRunner, startStack } from '@gridline/testing';

/**
 * The three built processes on real Postgres, Redis and llama.cpp, driven through the
 * official `openai` client whose fetch signs each request with the bootstrap keypair.
 */
describe('chat completion through the whole stack', () => {
  let stack: RunningStack;
  let openai: OpenAI;
  const messages = [
    { role: 'system' as const, content: 'You are a terse assistant.' },
    { role: 'user' as const, content: 'Say something about rivers.' },
  ];

  beforeAll(async () => {
    stack = await startStack({ modelName: 'tiny-e2e' });
    openai = new OpenAI({
      baseURL: `${stack.url}/v1`,
      apiKey: 'not-used-requests-are-signed',
      fetch: signingFetch({ accessKey: stack.accessKey, secretKey: stack.secretKey }),
      maxRetries: 0,
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists the model the agent serves', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny-e2e']);
  });

  it('answers with llama.cpp text and usage that matches what the agent generated', async () => {
    const { data: completion, response } = await openai.chat.completions
      .create({ model: 'tiny-e2e', messages, max_tokens: 20, temperature: 0 })
      .withResponse();
    const content = completion.choices[0].message.content ?? '';
    expect(content.trim().length).toBeGreaterThan(0);
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage).toEqual({
      prompt_tokens: expect.any(Number),
      completion_tokens: 20,
      total_tokens: (completion.usage?.prompt_tokens ?? 0) + 20,
      prompt_tokens_details: { cached_tokens: expect.any(Number) },
    });

    // The agent's own record of the job (its log line) and the job row agree with the response.
    const jobId = response.headers.get('x-gridline-job-id') ?? '';
    expect(completion.id).toBe(`chatcmpl-${jobId.replace(/-/g, '')}`);
    const line = await stack.agent.waitFor(new RegExp(`\\{[^\\n]*"jobId":"${jobId}"[^\\n]*"msg":"job done"[^\\n]*\\}`));
    const logged = JSON.parse(line[0]) as { promptTokens: number; completionTokens: number };
    expect(logged).toMatchObject({ promptTokens: completion.usage?.prompt_tokens, completionTokens: 20 });

    const pg = new Client({ connectionString: stack.db.url });
    await pg.connect();
    try {
      let row: { status: string; prompt_tokens: number; completion_tokens: number } | undefined;
      for (let i = 0; i < 100 && row?.status !== 'succeeded'; i++) {
        row = (await pg.query('SELECT status, prompt_tokens, completion_tokens FROM jobs WHERE id = $1', [jobId])).rows[0];
        if (row?.status !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
      }
      expect(row).toEqual({ status: 'succeeded', prompt_tokens: completion.usage?.prompt_tokens, completion_tokens: 20 });
    } finally {
      await pg.end();
    }

    // The same generation run directly in a runner (same file, greedy) gives the same text and counts.
    const runner = startRunner();
    try {
      await runner.start('cpu');
      await runner.load({ modelPath: stack.modelPath, gpuLayers: 0, contextSize: 2048, parallel: 1, threads: 1 });
      const direct = await runner.generate('direct', chatRequest(messages, { maxTokens: 20, sampling: { temperature: 0, topP: 1 } }));
      expect(content).toBe(direct.text);
      expect(completion.usage?.prompt_tokens).toBe(direct.promptTokens);
      expect(direct.completionTokens).toBe(20);
    } finally {
      await runner.stop();
    }
  });

  it('streams the same text as server-sent events, with usage at the end', async () => {
    const whole = await openai.chat.completions.create({ model: 'tiny-e2e', messages, max_tokens: 12, temperature: 0 });
    const { data: stream, response } = await openai.chat.completions
      .create({ model: 'tiny-e2e', messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('x-gridline-job-id')).toMatch(/^[0-9a-f-]{36}$/);
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe('length');
    // The same request once more: its sequence held all of the prompt, and evaluated only its last token again.
    const promptTokens = whole.usage?.prompt_tokens ?? 0;
    expect(usage).toEqual({ ...whole.usage, prompt_tokens_details: { cached_tokens: promptTokens - 1 } });
  });

  it('passes sampling parameters through to llama.cpp: top_k 1 at temperature 1 is the greedy answer, without it the seed decides', async () => {
    const create = (extra: Record<string, unknown>) =>
      openai.chat.completions.create({ model: 'tiny-e2e', messages, max_tokens: 16, ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming).then((c) => c.choices[0].message.content);
    const greedy = await create({ temperature: 0 });
    expect(await create({ temperature: 1, top_k: 1, seed: 5 })).toBe(greedy);
    const sampled = await create({ temperature: 1, seed: 5 });
    expect(sampled).not.toBe(greedy);
    expect(await create({ temperature: 1, seed: 5 })).toBe(sampled);
    await expect(create({ top_k: -1 })).rejects.toMatchObject({ status: 400, code: 'validation_failed' });
  });

  it('refuses a request signed with the wrong secret', async () => {
    const wrong = new OpenAI({
      baseURL: `${stack.url}/v1`,
      apiKey: 'x',
      fetch: signingFetch({ accessKey: stack.accessKey, secretKey: 'W'.repeat(40) }),
      maxRetries: 0,
    });
    await expect(wrong.models.list()).rejects.toMatchObject({ status: 401, code: 'signature_mismatch' });
  });

  it('answers an unknown model with OpenAI not-found error', async () => {
    await expect(openai.chat.completions.create({ model: 'nope', messages })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });
});
