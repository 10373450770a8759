import { ApiError } from '@gridline/common';
import { ChatMessage, InferenceRequest, ToolCall, ToolChoice, ToolFunction, toolMessagesProblem, toolsProblem } from '@gridline/contract';
import type { RelayedOutput } from '../jobs/job-relay';
import type { ChatMessageDto, CreateChatCompletionDto } from './dto/chat-completion.dto';
import type { ToolCallDto } from './dto/tool.dto';

/**
 * Function calling at the OpenAI edge: `tools` and `tool_choice` as the contract's request
 * fields, checked before any job exists (names, schemas the grammar can honour, a named
 * choice among the tools: 400 `validation_failed` naming `tools` or `tool_choice`).
 */
export function toolFields(dto: Pick<CreateChatCompletionDto, 'tools' | 'tool_choice'>): Pick<InferenceRequest, 'tools' | 'toolChoice'> {
  const tools: ToolFunction[] | undefined = dto.tools?.map((t) => ({
    name: t.function.name,
    ...(t.function.description !== undefined ? { description: t.function.description } : {}),
    ...(t.function.parameters !== undefined ? { parameters: t.function.parameters } : {}),
  }));
  const c = dto.tool_choice;
  const choice: ToolChoice | undefined = c === undefined ? undefined : typeof c === 'string' ? c : { name: c.function.name };
  const problem = toolsProblem(tools, choice);
  if (problem) throw new ApiError('validation_failed', problem, { param: problem.startsWith('tool_choice') ? 'tool_choice' : 'tools' });
  return {
    ...(tools && tools.length > 0 ? { tools } : {}),
    // No tools: nothing to choose from (`none` and `auto` alike), so nothing is carried.
    ...(choice !== undefined && tools && tools.length > 0 ? { toolChoice: choice } : {}),
  };
}

/** An OpenAI message's tool fields as the contract's. */
export function messageToolFields(m: ChatMessageDto): Pick<ChatMessage, 'toolCalls' | 'toolCallId'> {
  return {
    ...(m.tool_calls ? { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })) } : {}),
    ...(m.role === 'tool' && m.tool_call_id !== undefined ? { toolCallId: m.tool_call_id } : {}),
  };
}

/** Refuses a conversation whose tool calls and results do not pair up (400 naming `messages`). */
export function checkToolMessages(messages: ChatMessage[]): void {
  const problem = toolMessagesProblem(messages);
  if (problem) throw new ApiError('validation_failed', problem, { param: 'messages' });
}

/** The tool-call fields of a chat response's message: its calls, and null content when it is calls only. */
export function toolCallsMessage(output: RelayedOutput): { content?: null; tool_calls?: ToolCallDto[] } {
  if (!output.toolCalls?.length) return {};
  return {
    ...(output.text === '' ? { content: null } : {}),
    tool_calls: output.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
  };
}

/** A streamed chunk's choice carrying one whole call (id, name and all its arguments), as OpenAI's `delta.tool_calls`. */
export function toolCallChunk(index: number, call: ToolCall): Record<string, unknown> {
  return { index: 0, delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }] }, logprobs: null, finish_reason: null };
}
