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
 * Describes a real-size llama model quantized like Q4_K_M, without weights: encode it with
 * `headerOnly`. Kept for the runner's tests and the CLI; see {@link buildPresetHeader}.
 */
export function buildLlamaHeader(shape: LlamaShape): GgufDocument {
  return buildPresetHeader({ ...shape, architecture: 'llama' }, 'Q4_K_M');
}

/** Quantizations the presets come in. */
export const PRESET_QUANTIZATIONS = ['Q4_0', 'Q4_K_M', 'Q5_K_M', 'Q8_0', 'F16'] as const;
export type PresetQuantization = (typeof PRESET_QUANTIZATIONS)[number];

/** `general.file_type` (llama.cpp's `llama_ftype`) of each preset quantization. */
const FILE_TYPE: Readonly<Record<PresetQuantization, number>> = { F16: 1, Q4_0: 2, Q8_0: 7, Q4_K_M: 15, Q5_K_M: 17 };

/** Published architecture hyper-parameters of a model (its `config.json`), enough to lay out its GGUF. */
export interface ModelPreset extends LlamaShape {
  architecture: 'llama' | 'qwen2';
  /** No `output.weight`: the output reuses `token_embd` (Llama 3.2 1B/3B). */
  tiedEmbeddings?: boolean;
  /** Biases on the Q, K and V projections (Qwen2). */
  attentionBias?: boolean;
  /** Mixture of experts: experts per layer and experts used per token. */
  experts?: { count: number; used: number };
}

const llama31 = { architecture: 'llama', contextLength: 131072, vocab: 128256, ropeFreqBase: 500000 } as const;
const qwen25 = { architecture: 'qwen2', contextLength: 32768, vocab: 152064, ropeFreqBase: 1000000, attentionBias: true } as const;
const qwen7b = { embedding: 3584, layers: 28, heads: 28, kvHeads: 4, feedForward: 18944 } as const;
const qwen14b = { embedding: 5120, layers: 48, heads: 40, kvHeads: 8, feedForward: 13824 } as const;
const qwen32b = { embedding: 5120, layers: 64, heads: 40, kvHeads: 8, feedForward: 27648 } as const;
const llama8b = { embedding: 4096, layers: 32, heads: 32, kvHeads: 8, feedForward: 14336 } as const;
const llama70b = { embedding: 8192, layers: 80, heads: 64, kvHeads: 8, feedForward: 28672 } as const;
/** DeepSeek-R1 distills keep their base model's shape, with a 128K context (Qwen's at a RoPE base of 10000). */
const r1Qwen = { ...qwen25, contextLength: 131072, ropeFreqBase: 10000 } as const;

/** Well-known models, from their published configurations. */
export const MODEL_PRESETS = {
  'llama-3-8b': { ...LLAMA_PRESETS['llama-3-8b'], architecture: 'llama' },
  'llama-3-70b': { ...LLAMA_PRESETS['llama-3-70b'], architecture: 'llama' },
  'llama-3.2-1b': { ...llama31, name: 'Llama-3.2-1B-Instruct', embedding: 2048, layers: 16, heads: 32, kvHeads: 8, feedForward: 8192, tiedEmbeddings: true },
  'llama-3.2-3b': { ...llama31, name: 'Llama-3.2-3B-Instruct', embedding: 3072, layers: 28, heads: 24, kvHeads: 8, feedForward: 8192, tiedEmbeddings: true },
  'llama-3.1-8b': { ...llama31, ...llama8b, name: 'Meta-Llama-3.1-8B-Instruct' },
  'llama-3.1-70b': { ...llama31, ...llama70b, name: 'Meta-Llama-3.1-70B-Instruct' },
  'qwen2.5-7b': { ...qwen25, ...qwen7b, name: 'Qwen2.5-7B-Instruct' },
  'qwen2.5-14b': { ...qwen25, ...qwen14b, name: 'Qwen2.5-14B-Instruct' },
  'qwen2.5-32b': { ...qwen25, ...qwen32b, name: 'Qwen2.5-32B-Instruct' },
  'qwen2.5-72b': { ...qwen25, name: 'Qwen2.5-72B-Instruct', embedding: 8192, layers: 80, heads: 64, kvHeads: 8, feedForward: 29568 },
  'mistral-7b': { architecture: 'llama', name: 'Mistral-7B-Instruct-v0.3', contextLength: 32768, vocab: 32768, ropeFreqBase: 1000000, ...llama8b },
  'mixtral-8x7b': {
    architecture: 'llama',
    name: 'Mixtral-8x7B-Instruct-v0.1',
    contextLength: 32768,
    vocab: 32000,
    ropeFreqBase: 1000000,
    ...llama8b,
    experts: { count: 8, used: 2 },
  },
  'deepseek-r1-distill-qwen-7b': { ...r1Qwen, ...qwen7b, name: 'DeepSeek-R1-Distill-Qwen-7B' },
  'deepseek-r1-distill-qwen-14b': { ...r1Qwen, ...qwen14b, name: 'DeepSeek-R1-Distill-Qwen-14B' },
  'deepseek-r1-distill-qwen-32b': { ...r1Qwen, ...qwen32b, name: 'DeepSeek-R1-Distill-Qwen-32B' },
  'deepseek-r1-distill-llama-8b': { ...llama31, ...llama8b, name: 'DeepSeek-R1-Distill-Llama-8B' },
  'deepseek-r1-distill-llama-70b': { ...llama31, ...llama70b, name: 'DeepSeek-R1-Distill-Llama-70B' },
} as const satisfies Record<string, ModelPreset>;

export type ModelPresetName = keyof typeof MODEL_PRESETS;

export function isModelPresetName(name: string): name is ModelPresetName {
  return Object.prototype.hasOwnProperty.call(MODEL_PRESETS, name);
}

/** llama.cpp's `use_more_bits`: the first and last eighth of the layers, and every third one between. */
function useMoreBits(i: number, n: number): boolean {
  return i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2;
}

/** llama.cpp's fallback when a row is not a multiple of the k-quant block of 256. */
function fitRow(type: GgmlType, rowElements: number): GgmlType {
  if (rowElements % 256 === 0) return type;
  if (type === GgmlType.Q4_K) return GgmlType.Q5_0;
  if (type === GgmlType.Q5_K) return GgmlType.Q5_1;
  if (type === GgmlType.Q6_K) return GgmlType.Q8_0;
  return type;
}

type TensorRole = 'token_embd' | 'output' | 'attn_q' | 'attn_k' | 'attn_v' | 'attn_output' | 'ffn_gate' | 'ffn_up' | 'ffn_down';

/**
 * The ggml type a 2-D weight gets. F16 and Q8_0 are uniform; Q4_0 is uniform but for a
 * Q6_K output. For Q4_K_M and Q5_K_M this approximates llama.cpp's `llama_tensor_get_type`:
 * Q4_K (Q5_K) by default; Q6_K for the output and for `attn_v` and `ffn_down` in the layers
 * `use_more_bits` picks; Q5_K for the other `attn_v` of 80-layer (70B-class) models; Q8_0
 * for `attn_k`/`attn_v` and Q5_K for `attn_output` with 8 experts; the Q5_0/Q8_0 fallback
 * for rows that are not a multiple of 256. Importance-matrix and per-architecture
 * refinements are left out, so a real file can differ by a few percent.
 */
function weightType(quant: PresetQuantization, role: TensorRole, layer: number, preset: ModelPreset): GgmlType {
  if (quant === 'F16') return GgmlType.F16;
  if (quant === 'Q8_0') return GgmlType.Q8_0;
  const outputLike = role === 'output' || (role === 'token_embd' && preset.tiedEmbeddings === true);
  if (quant === 'Q4_0') return outputLike ? GgmlType.Q6_K : GgmlType.Q4_0;
  const base = quant === 'Q5_K_M' ? GgmlType.Q5_K : GgmlType.Q4_K;
  const moreBits = useMoreBits(layer, preset.layers);
  const eightExperts = preset.experts?.count === 8;
  switch (role) {
    case 'output':
      return GgmlType.Q6_K;
    case 'token_embd':
      return outputLike ? GgmlType.Q6_K : base;
    case 'attn_k':
      return eightExperts ? GgmlType.Q8_0 : base;
    case 'attn_v':
      if (eightExperts) return GgmlType.Q8_0;
      if (moreBits) return GgmlType.Q6_K;
      return preset.layers === 80 ? GgmlType.Q5_K : base;
    case 'attn_output':
      return eightExperts ? GgmlType.Q5_K : base;
    case 'ffn_down':
      return moreBits ? GgmlType.Q6_K : base;
    case 'attn_q':
    case 'ffn_gate':
    case 'ffn_up':
      return base;
    default: {
      const unknown: never = role;
      throw new TypeError(`unknown tensor role ${String(unknown)}`);
    }
  }
}

const tokenCache = new Map<number, string[]>();
function placeholderTokens(vocab: number): string[] {
  let tokens = tokenCache.get(vocab);
  if (!tokens) {
    tokens = Array.from({ length: vocab }, (_, i) => `<t${i}>`);
    tokenCache.set(vocab, tokens);
  }
  return tokens;
}

/**
 * Describes a real-size model without weights, with llama.cpp's tensor names, shapes and
 * (for Q4_K_M, approximately) per-tensor types, and the metadata llama.cpp reads; encode it
 * with `encodeGguf(doc, { headerOnly: true })`. The vocabulary is placeholder tokens.
 */
export function buildPresetHeader(preset: ModelPreset, quant: PresetQuantization): GgufDocument {
  const arch = preset.architecture;
  const headDim = preset.embedding / preset.heads;
  const kvDim = headDim * preset.kvHeads;
  const t = (name: string, dims: number[], type: GgmlType): GgufTensor => ({ name, dims, type: fitRow(type, dims[0]) });
  const w = (role: TensorRole, layer = 0) => weightType(quant, role, layer, preset);
  const tensors: GgufTensor[] = [t('token_embd.weight', [preset.embedding, preset.vocab], w('token_embd'))];
  for (let l = 0; l < preset.layers; l++) {
    const p = `blk.${l}.`;
    tensors.push(
      t(`${p}attn_norm.weight`, [preset.embedding], GgmlType.F32),
      t(`${p}attn_q.weight`, [preset.embedding, preset.embedding], w('attn_q', l)),
      t(`${p}attn_k.weight`, [preset.embedding, kvDim], w('attn_k', l)),
      t(`${p}attn_v.weight`, [preset.embedding, kvDim], w('attn_v', l)),
    );
    if (preset.attentionBias) {
      tensors.push(
        t(`${p}attn_q.bias`, [preset.embedding], GgmlType.F32),
        t(`${p}attn_k.bias`, [kvDim], GgmlType.F32),
        t(`${p}attn_v.bias`, [kvDim], GgmlType.F32),
      );
    }
    tensors.push(t(`${p}attn_output.weight`, [preset.embedding, preset.embedding], w('attn_output', l)), t(`${p}ffn_norm.weight`, [preset.embedding], GgmlType.F32));
    if (preset.experts) {
      const n = preset.experts.count;
      tensors.push(
        t(`${p}ffn_gate_inp.weight`, [preset.embedding, n], GgmlType.F32),
        t(`${p}ffn_gate_exps.weight`, [preset.embedding, preset.feedForward, n], w('ffn_gate', l)),
        t(`${p}ffn_up_exps.weight`, [preset.embedding, preset.feedForward, n], w('ffn_up', l)),
        t(`${p}ffn_down_exps.weight`, [preset.feedForward, preset.embedding, n], w('ffn_down', l)),
      );
    } else {
      tensors.push(
        t(`${p}ffn_gate.weight`, [preset.embedding, preset.feedForward], w('ffn_gate', l)),
        t(`${p}ffn_up.weight`, [preset.embedding, preset.feedForward], w('ffn_up', l)),
        t(`${p}ffn_down.weight`, [preset.feedForward, preset.embedding], w('ffn_down', l)),
      );
    }
  }
  tensors.push(t('output_norm.weight', [preset.embedding], GgmlType.F32));
  if (!preset.tiedEmbeddings) tensors.push(t('output.weight', [preset.embedding, preset.vocab], w('output')));

  const tokens = placeholderTokens(preset.vocab);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gguf.str(arch)],
    ['general.name', gguf.str(preset.name)],
    ['general.alignment', gguf.u32(32)],
    ['general.file_type', gguf.u32(FILE_TYPE[quant])],
    [`${arch}.context_length`, gguf.u32(preset.contextLength)],
    [`${arch}.embedding_length`, gguf.u32(preset.embedding)],
    [`${arch}.block_count`, gguf.u32(preset.layers)],
    [`${arch}.feed_forward_length`, gguf.u32(preset.feedForward)],
    [`${arch}.attention.head_count`, gguf.u32(preset.heads)],
    [`${arch}.attention.head_count_kv`, gguf.u32(preset.kvHeads)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(arch === 'qwen2' ? 1e-6 : 1e-5)],
    [`${arch}.rope.dimension_count`, gguf.u32(headDim)],
    [`${arch}.rope.freq_base`, gguf.f32(preset.ropeFreqBase)],
    [`${arch}.vocab_size`, gguf.u32(preset.vocab)],
  ]);
  if (preset.experts) {
    metadata.set(`${arch}.expert_count`, gguf.u32(preset.experts.count));
    metadata.set(`${arch}.expert_used_count`, gguf.u32(preset.experts.used));
  }
  metadata.set('tokenizer.ggml.model', gguf.str(arch === 'qwen2' || preset.vocab === 128256 ? 'gpt2' : 'llama'));
  metadata.set('tokenizer.ggml.tokens', gguf.strings(tokens));
  metadata.set('tokenizer.ggml.token_type', gguf.i32s(tokens.map(() => 1)));
  metadata.set('tokenizer.ggml.bos_token_id', gguf.u32(0));
  metadata.set('tokenizer.ggml.eos_token_id', gguf.u32(1));
  return { metadata, tensors };
}
