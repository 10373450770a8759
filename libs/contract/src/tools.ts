import { PayloadError, assertShape } from './shape';

/**
 * Function calling in the normalized request (OpenAI's `tools`, `tool_choice` and the tool
 * calls and results of a conversation). The api checks a request's tools with
 * `toolsProblem` before a job exists; the runner hands them to node-llama-cpp, which
 * documents them in the prompt with the model's chat template and constrains a call's
 * arguments to the function's parameters schema with a grammar.
 */

/** A call the model made: `arguments` is the JSON text of its arguments, as OpenAI carries it. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A function the model may call. `parameters` is a JSON schema of the subset `toolSchemaProblem` accepts. */
export interface ToolFunction {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

/**
 * `none`: the model answers in text, the tools are not shown to it. `auto`: it may call one.
 * `required`: it calls one of them. `{ name }`: it calls that one.
 */
export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export const TOOL_LIMITS = {
  tools: 128,
  /** OpenAI's rule for a function's name. */
  name: /^[a-zA-Z0-9_-]{1,64}$/,
  description: 8192,
  /** Nesting of a parameters schema. */
  schemaDepth: 16,
} as const;

/**
 * The JSON-schema keywords node-llama-cpp's grammar honours (GbnfJsonSchema), and annotations
 * that constrain nothing. Any other keyword (`minimum`, `pattern`, `allOf`, …) would be
 * ignored by the grammar, so arguments could break it: refused instead.
 */
const GRAMMAR_KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties', 'items', 'prefixItems', 'minItems', 'maxItems',
  'enum', 'const', 'oneOf', 'anyOf', 'minLength', 'maxLength', 'format', '$ref', '$defs',
]);
const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', '$schema', '$id', '$comment', 'strict', 'nullable', 'deprecated', 'readOnly', 'writeOnly']);
const SIMPLE_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

/**
 * What in a parameters schema the grammar cannot honour, as a sentence naming where
 * (`at` is its path, e.g. `parameters.properties.city`); null when it can. A schema is an
 * object of known keywords; `anyOf` is honoured as `oneOf` is (the value generated matches
 * one of the schemas); `$ref` must point into the schema's own `$defs`.
 */
export function toolSchemaProblem(schema: unknown, at = 'parameters', depth = 0, defs: ReadonlySet<string> = new Set()): string | null {
  if (!isObject(schema)) return `${at} must be a JSON schema object`;
  if (depth > TOOL_LIMITS.schemaDepth) return `${at} is nested deeper than ${TOOL_LIMITS.schemaDepth} levels`;
  const known = new Set(defs);
  if (schema.$defs !== undefined) {
    if (!isObject(schema.$defs)) return `${at}.$defs must be an object`;
    for (const name of Object.keys(schema.$defs)) known.add(name);
  }
  for (const key of Object.keys(schema)) {
    if (!GRAMMAR_KEYWORDS.has(key) && !ANNOTATIONS.has(key)) return `${at}.${key} is not supported (grammar-constrained arguments honour type, properties, required, additionalProperties, items, prefixItems, enum, const, oneOf, anyOf, min/maxLength, min/maxItems, min/maxProperties, format, $defs/$ref)`;
  }
  const sub = (v: unknown, path: string) => toolSchemaProblem(v, path, depth + 1, known);
  if (schema.$defs !== undefined) {
    for (const [name, d] of Object.entries(schema.$defs as Record<string, unknown>)) {
      const p = sub(d, `${at}.$defs.${name}`);
      if (p) return p;
    }
  }
  if (schema.$ref !== undefined) {
    const m = typeof schema.$ref === 'string' ? /^#\/\$defs\/(.+)$/.exec(schema.$ref) : null;
    if (!m || !known.has(m[1])) return `${at}.$ref must point into the schema's own $defs ("#/$defs/<name>")`;
    return null;
  }
  if (schema.const !== undefined) return isScalar(schema.const) ? null : `${at}.const must be a string, number, boolean or null`;
  if (schema.enum !== undefined) return Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every(isScalar) ? null : `${at}.enum must be a non-empty list of strings, numbers, booleans or nulls`;
  for (const union of ['oneOf', 'anyOf'] as const) {
    if (schema[union] === undefined) continue;
    const options = schema[union];
    if (!Array.isArray(options) || options.length === 0) return `${at}.${union} must be a non-empty list of schemas`;
    for (const [i, o] of options.entries()) {
      const p = sub(o, `${at}.${union}[${i}]`);
      if (p) return p;
    }
    return schema.type === undefined ? null : `${at} has both ${union} and type: put the type in each option`;
  }
  const type = schema.type;
  if (type === undefined) return `${at}.type is required (or enum, const, oneOf, anyOf, $ref)`;
  if (Array.isArray(type)) {
    return type.length > 0 && type.every((t) => SIMPLE_TYPES.has(t as string)) ? null : `${at}.type as a list may hold string, number, integer, boolean and null only`;
  }
  switch (type) {
    case 'object': {
      if (schema.properties !== undefined && !isObject(schema.properties)) return `${at}.properties must be an object`;
      for (const [name, p] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
        const problem = sub(p, `${at}.properties.${name}`);
        if (problem) return problem;
      }
      if (schema.required !== undefined && !(Array.isArray(schema.required) && schema.required.every((r) => typeof r === 'string'))) return `${at}.required must be a list of property names`;
      const extra = schema.additionalProperties;
      if (extra !== undefined && typeof extra !== 'boolean') {
        const problem = sub(extra, `${at}.additionalProperties`);
        if (problem) return problem;
      }
      for (const k of ['minProperties', 'maxProperties']) if (schema[k] !== undefined && !isCount(schema[k])) return `${at}.${k} must be a whole number`;
      return null;
    }
    case 'array': {
      if (schema.items !== undefined && typeof schema.items !== 'boolean') {
        const problem = sub(schema.items, `${at}.items`);
        if (problem) return problem;
      }
      if (schema.prefixItems !== undefined) {
        if (!Array.isArray(schema.prefixItems)) return `${at}.prefixItems must be a list of schemas`;
        for (const [i, o] of schema.prefixItems.entries()) {
          const problem = sub(o, `${at}.prefixItems[${i}]`);
          if (problem) return problem;
        }
      }
      for (const k of ['minItems', 'maxItems']) if (schema[k] !== undefined && !isCount(schema[k])) return `${at}.${k} must be a whole number`;
      return null;
    }
    case 'string':
      if (schema.format !== undefined && !STRING_FORMATS.has(schema.format as string)) return `${at}.format must be date-time, time or date`;
      if (schema.format !== undefined && (schema.minLength !== undefined || schema.maxLength !== undefined)) return `${at} cannot have both format and a length`;
      for (const k of ['minLength', 'maxLength']) if (schema[k] !== undefined && !isCount(schema[k])) return `${at}.${k} must be a whole number`;
      return null;
    default:
      return SIMPLE_TYPES.has(type as string) ? null : `${at}.type must be object, array, string, number, integer, boolean or null`;
  }
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/**
 * A parameters schema as node-llama-cpp's grammar takes it (after `toolSchemaProblem` found
 * nothing): `anyOf` as `oneOf`, annotations other than `description` left out.
 */
export function grammarSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) && key !== 'description') continue;
    if (key === 'anyOf' || key === 'oneOf') out.oneOf = (v as Record<string, unknown>[]).map(grammarSchema);
    else if (key === 'properties' || key === '$defs') out[key] = Object.fromEntries(Object.entries(v as Record<string, Record<string, unknown>>).map(([k, s]) => [k, grammarSchema(s)]));
    else if ((key === 'items' || key === 'additionalProperties') && isObject(v)) out[key] = grammarSchema(v);
    else if (key === 'prefixItems') out[key] = (v as Record<string, unknown>[]).map(grammarSchema);
    else out[key] = v;
  }
  return out;
}

/** What is wrong with a request's tools and tool choice, naming the field; null when nothing is. */
export function toolsProblem(tools: readonly ToolFunction[] | undefined, choice: ToolChoice | undefined): string | null {
  const list = tools ?? [];
  if (list.length > TOOL_LIMITS.tools) return `tools: at most ${TOOL_LIMITS.tools} functions`;
  const names = new Set<string>();
  for (const [i, t] of list.entries()) {
    if (!isObject(t) || typeof t.name !== 'string' || !TOOL_LIMITS.name.test(t.name)) return `tools[${i}].function.name must be 1 to 64 letters, digits, underscores or dashes`;
    if (names.has(t.name)) return `tools[${i}].function.name: ${t.name} is given twice`;
    names.add(t.name);
    if (t.description !== undefined && (typeof t.description !== 'string' || t.description.length > TOOL_LIMITS.description)) return `tools[${i}].function.description must be a string of up to ${TOOL_LIMITS.description} characters`;
    if (t.parameters !== undefined) {
      if (!isObject(t.parameters) || t.parameters.type !== 'object') return `tools[${i}].function.parameters must be a JSON schema of type object`;
      const problem = toolSchemaProblem(t.parameters, `tools[${i}].function.parameters`);
      if (problem) return problem;
    }
  }
  if (choice === undefined || choice === 'none' || choice === 'auto') return null;
  if (list.length === 0) return 'tool_choice: no tools are given';
  if (choice === 'required') return null;
  if (!isObject(choice) || typeof choice.name !== 'string') return 'tool_choice must be none, auto, required or a function';
  return names.has(choice.name) ? null : `tool_choice: the function ${choice.name} is not among the tools`;
}

/**
 * What is wrong with the tool calls and results of a conversation, naming the message; null
 * when nothing is. As OpenAI: every call of an assistant message is answered by a `tool`
 * message with its id before the next message of another role; a tool message answers a
 * call; the arguments of a call are a JSON object.
 */
export function toolMessagesProblem(messages: readonly { role: string; toolCalls?: readonly ToolCall[]; toolCallId?: string }[]): string | null {
  let open = new Set<string>();
  for (const [i, m] of messages.entries()) {
    if (m.role === 'tool') {
      if (m.toolCallId === undefined || !open.has(m.toolCallId)) return `messages[${i}]: a tool message must answer a tool call of the assistant message before it (tool_call_id)`;
      open.delete(m.toolCallId);
      continue;
    }
    if (open.size > 0) return `messages[${i}]: the tool calls ${[...open].join(', ')} have no tool message answering them`;
    open = new Set();
    if (m.toolCalls === undefined) continue;
    if (m.role !== 'assistant') return `messages[${i}]: only assistant messages carry tool_calls`;
    for (const [j, c] of m.toolCalls.entries()) {
      if (!TOOL_LIMITS.name.test(c.name)) return `messages[${i}].tool_calls[${j}].function.name must be 1 to 64 letters, digits, underscores or dashes`;
      if (open.has(c.id)) return `messages[${i}].tool_calls[${j}].id is given twice`;
      let args: unknown;
      try {
        args = JSON.parse(c.arguments);
      } catch {
        return `messages[${i}].tool_calls[${j}].function.arguments must be JSON`;
      }
      if (!isObject(args)) return `messages[${i}].tool_calls[${j}].function.arguments must be a JSON object`;
      open.add(c.id);
    }
  }
  return open.size > 0 ? `messages: the tool calls ${[...open].join(', ')} have no tool message answering them` : null;
}

/** Checks the tool fields of a request read back from Redis or a JSON column (see assertInferenceRequest). */
export function assertToolFields(value: { tools?: unknown; toolChoice?: unknown }, messages: readonly unknown[] | null): void {
  if (value.tools !== undefined) {
    if (!Array.isArray(value.tools)) throw new PayloadError('request.tools must be an array');
    for (const t of value.tools) assertShape('tool', t, { name: 'string', description: 'string?', parameters: 'object?' });
  }
  if (value.toolChoice !== undefined && !['none', 'auto', 'required'].includes(value.toolChoice as string)) assertShape('request.toolChoice', value.toolChoice, { name: 'string' });
  for (const m of messages ?? []) {
    const msg = m as { toolCalls?: unknown; toolCallId?: unknown; role?: unknown };
    if (msg.toolCalls !== undefined) {
      if (!Array.isArray(msg.toolCalls)) throw new PayloadError('message.toolCalls must be an array');
      for (const c of msg.toolCalls) assertShape('tool call', c, { id: 'string', name: 'string', arguments: 'string' });
    }
    if (msg.role === 'tool' && typeof msg.toolCallId !== 'string') throw new PayloadError('a tool message needs toolCallId');
  }
  const problem = toolsProblem(value.tools as ToolFunction[] | undefined, value.toolChoice as ToolChoice | undefined);
  if (problem) throw new PayloadError(problem);
}
