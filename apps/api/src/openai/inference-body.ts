import { InferenceInput, InferenceRequest, REQUEST_LIMITS, samplingFromOpenAi } from '@gridline/contract';
import type { ChatMessageDto, InferenceBodyDto } from './dto/chat-completion.dto';

/** OpenAI chat messages as the contract's: `developer` is a system message, text parts are joined. */
export function chatInput(messages: ChatMessageDto[]): InferenceInput {
  return {
    kind: 'chat',
    messages: messages.map((m) => ({
      role: m.role === 'developer' ? 'system' : m.role,
      content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
    })),
  };
}

/** A validated OpenAI-shaped body as the normalized inference request. */
export function toInferenceRequest(body: InferenceBodyDto, input: InferenceInput): InferenceRequest {
  return {
    input,
    sampling: samplingFromOpenAi(body),
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? REQUEST_LIMITS.maxTokens.default,
    ...(body.stop !== undefined ? { stop: typeof body.stop === 'string' ? [body.stop] : body.stop } : {}),
  };
}
