import type { GgufHeader, GgufPlainValue } from '../gguf/gguf-reader';
import { fileTypeName } from './model-shape';

export interface ModelFacts {
  architecture: string;
  name: string | null;
  contextLength: number | null;
  layers: number | null;
  embedding: number | null;
  /** Bytes of weights (the sum of tensor sizes). */
  parameterBytes: number;
  /** The model family for a catalog's filter: `general.basename` lower-cased, else the architecture. */
  family: string;
  /** `general.file_type` as llama.cpp names it (`Q4_K_M`), or null when absent or unknown. */
  quantization: string | null;
  /** Whether the chat template handles tool definitions (it mentions `tools`); null when the file has no chat template. */
  toolSupport: boolean | null;
}

/** A chat template that can render tool definitions refers to the `tools` variable (Llama 3.1, Qwen 2.5, Mistral, Hermes…). */
export function templateSupportsTools(template: string): boolean {
  return /\btools\b/.test(template);
}

function num(v: GgufPlainValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

export function modelFacts(header: GgufHeader): ModelFacts {
  const arch = typeof header.metadata['general.architecture'] === 'string' ? (header.metadata['general.architecture'] as string) : 'unknown';
  const name = header.metadata['general.name'];
  const basename = header.metadata['general.basename'];
  const template = header.metadata['tokenizer.chat_template'];
  return {
    architecture: arch,
    name: typeof name === 'string' ? name : null,
    contextLength: num(header.metadata[`${arch}.context_length`]),
    layers: num(header.metadata[`${arch}.block_count`]),
    embedding: num(header.metadata[`${arch}.embedding_length`]),
    parameterBytes: header.tensorBytes,
    family: typeof basename === 'string' && basename.trim() ? basename.trim().toLowerCase() : arch,
    quantization: fileTypeName(num(header.metadata['general.file_type'])),
    toolSupport: typeof template === 'string' ? templateSupportsTools(template) : null,
  };
}

/** Metadata without which llama.cpp aborts the process instead of failing the load. */
const REQUIRED_PER_ARCH = [
  'context_length',
  'embedding_length',
  'block_count',
  'feed_forward_length',
  'attention.head_count',
  'attention.layer_norm_rms_epsilon',
];
const REQUIRED_TOKENIZER = ['tokenizer.ggml.model', 'tokenizer.ggml.tokens'];

/** Problems that make a GGUF unsafe to hand to llama.cpp; empty when it may be loaded. */
export function loadabilityProblems(header: GgufHeader): string[] {
  const problems: string[] = [];
  const arch = header.metadata['general.architecture'];
  if (typeof arch !== 'string') return ['general.architecture is missing'];
  for (const key of REQUIRED_PER_ARCH) if (header.metadata[`${arch}.${key}`] === undefined) problems.push(`${arch}.${key} is missing`);
  for (const key of REQUIRED_TOKENIZER) if (header.metadata[key] === undefined) problems.push(`${key} is missing`);
  // llama.cpp asserts (aborts) on these rather than failing the load.
  const experts = num(header.metadata[`${arch}.expert_count`]) ?? 0;
  const expertsUsed = num(header.metadata[`${arch}.expert_used_count`]) ?? 0;
  if (experts > 0 && expertsUsed === 0) problems.push(`${arch}.expert_used_count is missing for ${experts} experts`);
  if (expertsUsed > experts) problems.push(`${arch}.expert_used_count ${expertsUsed} is more than expert_count ${experts}`);
  const layers = num(header.metadata[`${arch}.block_count`]);
  const kvHeads = header.metadata[`${arch}.attention.head_count_kv`];
  if (layers !== null && Array.isArray(kvHeads) && kvHeads.length !== layers) {
    problems.push(`${arch}.attention.head_count_kv has ${kvHeads.length} values for ${layers} layers`);
  }
  if (layers !== null && layers > 512) problems.push(`${arch}.block_count ${layers} is more than llama.cpp's 512`);
  if (header.tensors.length === 0) problems.push('the file has no tensors');
  return problems;
}
