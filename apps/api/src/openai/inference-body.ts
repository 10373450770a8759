import { InferenceInput, InferenceRequest, samplingFromOpenAi } from '@gridline/contract';
import type { ChatMessageDto, InferenceBodyDto } from './dto/chat-completion.dto';
import { unsupportedParameter } from './openai-parameters';
import { checkToolMessages, messageToolFields } from './tool-calls';

/**
 * OpenAI chat messages as the contract's: `developer` is a system message, text parts are
 * joined, an assistant's null content (tool calls only) is empty; tool calls and results must
 * pair up (400 naming `messages`).
 */
export function chatInput(messages: ChatMessageDto[]): InferenceInput {
  const out = messages.map((m) => ({
    role: m.role === 'developer' ? ('system' as const) : m.role,
    content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
    ...messageToolFields(m),
  }));
  checkToolMessages(out);
  return { kind: 'chat', messages: out };
}

/**
 * A validated OpenAI-shaped body as the normalized inference request. Without max_tokens the
 * request may use the rest of the model's context (the runner caps it). A parameter the
 * request cannot be served with is refused here (400 unsupported_parameter), before any job.
 */
export function toInferenceRequest(body: InferenceBodyDto, input: InferenceInput): InferenceRequest {
  const unsupported = unsupportedParameter(body);
  if (unsupported) throw unsupported;
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  return {
    input,
    sampling: samplingFromOpenAi(body),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(body.stop !== undefined ? { stop: typeof body.stop === 'string' ? [body.stop] : body.stop } : {}),
  };
}
