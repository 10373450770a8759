import { ApiError } from '@gridline/common';

/**
 * OpenAI parameters Gridline cannot honour yet, each with the one value that changes nothing
 * (the default a client may send explicitly). Any other value is refused with 400
 * `unsupported_parameter` naming the parameter: a client that asked for a second choice must
 * not get an answer that silently lacks it.
 * Honoured (see inference-body.ts and the runner): `frequency_penalty` / `presence_penalty`
 * (llama.cpp's penalties, -2 to 2), `logit_bias` (added to the logits; -100 bans a token),
 * `logprobs` / `top_logprobs` (chat) and `logprobs` (completions) from the generation pass
 * itself, `response_format` `json_object` and `json_schema` (a grammar; the schema subset of
 * tools.ts's toolSchemaProblem, others 400 `unsupported_parameter`), `tools` / `tool_choice`.
 * A model spanning several nodes refuses the sampling ones (400 `invalid_request` naming the
 * parameter).
 * The parameters OpenAI accepts that change nothing here (`store`, `metadata`, `user`,
 * `service_tier`, `parallel_tool_calls`, `stream_options.include_obfuscation`) are not in
 * this table: the DTOs validate and then ignore them.
 */
const UNSUPPORTED: { param: string; harmless: (value: unknown) => boolean; why: string }[] = [
  { param: 'n', harmless: (v) => v === 1, why: 'only one choice per request (n = 1) is supported' },
  { param: 'best_of', harmless: (v) => v === 1, why: 'only best_of = 1 is supported' },
  { param: 'echo', harmless: (v) => v === false, why: 'echoing the prompt is not supported' },
  { param: 'suffix', harmless: () => false, why: 'suffix (insertion) is not supported' },
];

/** The first parameter of a validated body whose value cannot be honoured, as a 400; null when all can. */
export function unsupportedParameter(body: object): ApiError | null {
  const fields = body as Record<string, unknown>;
  for (const { param, harmless, why } of UNSUPPORTED) {
    const value = fields[param];
    if (value !== undefined && value !== null && !harmless(value)) return new ApiError('unsupported_parameter', `${param}: ${why}`, { param });
  }
  return null;
}

/** The parameter names the table refuses, for the documentation test. */
export const UNSUPPORTED_PARAMETERS: readonly string[] = UNSUPPORTED.map((u) => u.param);
