/**
 * Function calling in the runner: a request's tools as node-llama-cpp's ChatModelFunctions, a
 * conversation's tool calls and results as its ChatHistory, and its function calls back as the
 * contract's tool calls.
 *
 * node-llama-cpp documents the functions in the prompt through the model's chat wrapper: in the
 * template's own syntax where it has one (Llama 3.1, Qwen, Mistral, Functionary, a Jinja
 * template whose tool calls it recognises), else in its generic `||call: name(params)` syntax,
 * explained in the system prompt. Once the model starts a call, the function's name and then its
 * parameters are generated under a grammar built from its schema: the arguments are valid JSON,
 * valid against the schema.
 *
 * A call is forced (`tool_choice` "required" or a named function) by entering the call syntax
 * as soon as the prompt is evaluated: the chat wrapper is wrapped so that its context state asks
 * LlamaChat for that (`noPrefixTrigger` of type `functionCall`: the call prefix is put into the
 * sequence and the function's name generated under the name grammar, then its parameters). For
 * a named function only that function is offered to the grammar; all are documented.
 */
import { LlamaText, type ChatHistoryItem, type ChatModelFunctionCall, type ChatModelFunctions, type ChatWrapper, type ChatWrapperGenerateContextStateOptions, type ChatWrapperGeneratedContextState, type GbnfJsonSchema, type LlamaChatResponseFunctionCall } from 'node-llama-cpp';
import { randomBytes } from 'node:crypto';
import { grammarSchema } from '#gridline/contract';
import type { ChatMessage, InferenceRequest, ToolCall } from '@gridline/contract';

/** What a chat generation is given for function calling: nothing when the request has no tools or asks for none. */
export interface ChatFunctions {
  /** Offered to LlamaChat: the functions the model may call now. */
  functions: ChatModelFunctions;
  /** The chat wrapper to render and generate with (the model's, or one that forces a call). */
  wrapper: ChatWrapper;
  /** The tokens of the call prefix put into the sequence after the prompt when a call is forced (they count as prompt). */
  forcedPrefix: LlamaText | null;
}

/** The request's tools for a chat generation with `wrapper`, or null when the model is not to see them (none given, or `tool_choice` "none"). */
export function chatFunctions(request: InferenceRequest, wrapper: ChatWrapper): ChatFunctions | null {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return null;
  const all: Record<string, ChatModelFunctions[string]> = {};
  for (const t of tools) {
    all[t.name] = { ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { params: grammarSchema(t.parameters) as GbnfJsonSchema } : {}) };
  }
  if (choice === 'auto') return { functions: all, wrapper, forcedPrefix: null };
  const offered = choice === 'required' ? all : { [choice.name]: all[choice.name] };
  const prefix = LlamaText(wrapper.settings.functions.call.prefix);
  return { functions: offered, wrapper: forcingWrapper(wrapper, all, prefix), forcedPrefix: prefix };
}

/**
 * The model's chat wrapper, but whose context state enters the call syntax right after the
 * prompt (LlamaChat injects `prefix` and generates a function's name under its grammar), and
 * documents `documented` whatever functions LlamaChat offers.
 */
function forcingWrapper(base: ChatWrapper, documented: ChatModelFunctions, prefix: LlamaText): ChatWrapper {
  const generateContextState = (options: ChatWrapperGenerateContextStateOptions): ChatWrapperGeneratedContextState => {
    const state = base.generateContextState({ ...options, availableFunctions: documented, documentFunctionParams: true });
    return {
      contextText: state.contextText,
      stopGenerationTriggers: state.stopGenerationTriggers,
      noPrefixTrigger: { type: 'functionCall', inject: prefix },
      detectFunctionCalls: true,
    };
  };
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'generateContextState') return generateContextState;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A tool result as the chat wrapper renders it: its JSON value when it is JSON, else its text. */
function resultValue(content: string): unknown {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

/**
 * The messages as LlamaChat's history, ending with the model item it continues: an assistant
 * message's tool calls are function calls of its model item, with the results of the `tool`
 * messages that answer them (checked by the api: every call is answered, in order). When the
 * conversation ends with tool results, the model item of their calls is the one continued
 * (the model answers after the results, as node-llama-cpp does after calling functions itself);
 * else an empty one is added. `responseSoFar` is text the model already generated for it.
 */
export function chatHistory(messages: ChatMessage[], responseSoFar = ''): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  let calls: Map<string, ChatModelFunctionCall> | null = null;
  for (const m of messages) {
    if (m.role === 'tool') {
      const call = calls?.get(m.toolCallId ?? '');
      if (!call) throw new Error('a tool message answers no call of the assistant message before it');
      call.result = resultValue(m.content);
      continue;
    }
    calls = null;
    if (m.role === 'system') history.push({ type: 'system', text: m.content });
    else if (m.role === 'user') history.push({ type: 'user', text: m.content });
    else {
      const response: (string | ChatModelFunctionCall)[] = m.content ? [m.content] : [];
      if (m.toolCalls?.length) {
        calls = new Map();
        for (const c of m.toolCalls) {
          const call: ChatModelFunctionCall = { type: 'functionCall', name: c.name, params: JSON.parse(c.arguments) as unknown, result: null };
          calls.set(c.id, call);
          response.push(call);
        }
      }
      history.push({ type: 'model', response });
    }
  }
  const last = messages.at(-1);
  if (last?.role === 'tool') {
    const item = history.at(-1) as Extract<ChatHistoryItem, { type: 'model' }>;
    if (responseSoFar) item.response.push(responseSoFar);
  } else history.push({ type: 'model', response: responseSoFar ? [responseSoFar] : [] });
  return history;
}

/** An id for a call, in OpenAI's form. */
function callId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

/** LlamaChat's function calls as the contract's tool calls (arguments as JSON text). */
export function toolCalls(calls: readonly LlamaChatResponseFunctionCall<ChatModelFunctions>[]): ToolCall[] {
  return calls.map((c) => ({ id: callId(), name: c.functionName, arguments: JSON.stringify(c.params ?? {}) }));
}
