import { GgmlType, GgufDocument, GgufTensor, GgufValue, gguf } from './gguf.types';

export interface LlamaShape {
  name: string;
  contextLength: number;
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  vocab: number;
  ropeFreqBase: number;
}

/** Published shapes of real models, for header-only validation fixtures. */
export const LLAMA_PRESETS = {
  'llama-3-8b': {
    name: 'Meta-Llama-3-8B-Instruct',
    contextLength: 8192,
    embedding: 4096,
    layers: 32,
    heads: 32,
    kvHeads: 8,
    feedForward: 14336,
    vocab: 128256,
    ropeFreqBase: 500000,
  },
  'llama-3-70b': {
    name: 'Meta-Llama-3-70B-Instruct',
    contextLength: 8192,
    embedding: 8192,
    layers: 80,
    heads: 64,
    kvHeads: 8,
    feedForward: 28672,
    vocab: 128256,
    ropeFreqBase: 500000,
  },
} as const satisfies Record<string, LlamaShape>;

export type LlamaPresetName = keyof typeof LLAMA_PRESETS;

export function isLlamaPresetName(name: string): name is LlamaPresetName {
  return Object.prototype.hasOwnProperty.call(LLAMA_PRESETS, name);
}

/**
 * Describes a real-size llama model quantized like Q4_K_M (Q4_K for most matrices, Q6_K
 * for `attn_v`, `ffn_down` and `output`), without weights: encode it with `headerOnly`.
 */
export function buildLlamaHeader(shape: LlamaShape): GgufDocument {
  const headDim = shape.embedding / shape.heads;
  const kvDim = headDim * shape.kvHeads;
  const t = (name: string, dims: number[], type: GgmlType): GgufTensor => ({ name, dims, type });
  const tensors: GgufTensor[] = [t('token_embd.weight', [shape.embedding, shape.vocab], GgmlType.Q4_K)];
  for (let l = 0; l < shape.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      t(`${p}attn_norm.weight`, [shape.embedding], GgmlType.F32),
      t(`${p}attn_q.weight`, [shape.embedding, shape.embedding], GgmlType.Q4_K),
      t(`${p}attn_k.weight`, [shape.embedding, kvDim], GgmlType.Q4_K),
      t(`${p}attn_v.weight`, [shape.embedding, kvDim], GgmlType.Q6_K),
      t(`${p}attn_output.weight`, [shape.embedding, shape.embedding], GgmlType.Q4_K),
      t(`${p}ffn_norm.weight`, [shape.embedding], GgmlType.F32),
      t(`${p}ffn_gate.weight`, [shape.embedding, shape.feedForward], GgmlType.Q4_K),
      t(`${p}ffn_up.weight`, [shape.embedding, shape.feedForward], GgmlType.Q4_K),
      t(`${p}ffn_down.weight`, [shape.feedForward, shape.embedding], GgmlType.Q6_K),
    );
  }
  tensors.push(t('output_norm.weight', [shape.embedding], GgmlType.F32), t('output.weight', [shape.embedding, shape.vocab], GgmlType.Q6_K));

  const tokens = Array.from({ length: shape.vocab }, (_, i) => `<t${i}>`);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gguf.str('llama')],
    ['general.name', gguf.str(shape.name)],
    ['general.alignment', gguf.u32(32)],
    ['general.file_type', gguf.u32(15)],
    ['llama.context_length', gguf.u32(shape.contextLength)],
    ['llama.embedding_length', gguf.u32(shape.embedding)],
    ['llama.block_count', gguf.u32(shape.layers)],
    ['llama.feed_forward_length', gguf.u32(shape.feedForward)],
    ['llama.attention.head_count', gguf.u32(shape.heads)],
    ['llama.attention.head_count_kv', gguf.u32(shape.kvHeads)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(1e-5)],
    ['llama.rope.dimension_count', gguf.u32(headDim)],
    ['llama.rope.freq_base', gguf.f32(shape.ropeFreqBase)],
    ['llama.vocab_size', gguf.u32(shape.vocab)],
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    ['tokenizer.ggml.tokens', gguf.strings(tokens)],
    ['tokenizer.ggml.token_type', gguf.i32s(tokens.map(() => 1))],
    ['tokenizer.ggml.bos_token_id', gguf.u32(0)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(1)],
  ]);
  return { metadata, tensors };
}
