import OpenAI from 'openai';
import { StackClient } from './stack-client';
import { RunningStack, startStack } from './stack';

/** A stack called as the SDKs call it: the official `openai` client, unmodified, with a bearer token of the inference scope. */
export interface OpenAiStack {
  stack: RunningStack;
  token: string;
  openai: OpenAI;
}

export async function startOpenAiStack(modelName: string): Promise<OpenAiStack> {
  const stack = await startStack({ modelName });
  try {
    const admin = new StackClient(stack, stack.url);
    const token = await admin.inferenceToken().finally(() => admin.close());
    return { stack, token, openai: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: token, maxRetries: 0 }) };
  } catch (e) {
    await stack.stop();
    throw e;
  }
}
