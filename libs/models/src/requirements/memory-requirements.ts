import type { ModelShape } from '../catalog/model-shape';
import { GgmlType, tensorByteSize } from '../gguf/gguf.types';

/** KV cache element types llama.cpp accepts (`--cache-type-k` / `--cache-type-v`). */
export const KV_CACHE_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1'] as const;
export type KvCacheType = (typeof KV_CACHE_TYPES)[number];

const KV_GGML_TYPE: Readonly<Record<KvCacheType, GgmlType>> = {
  f32: GgmlType.F32,
  f16: GgmlType.F16,
  bf16: GgmlType.BF16,
  q8_0: GgmlType.Q8_0,
  q4_0: GgmlType.Q4_0,
  q4_1: GgmlType.Q4_1,
  q5_0: GgmlType.Q5_0,
  q5_1: GgmlType.Q5_1,
};

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/**
 * What a GPU loses before any tensor: the CUDA context with its loaded kernels, the cuBLAS
 * workspace and allocator slack, typically 300-600 MiB on a data-center GPU. (gguf-parser
 * counts 250 MiB for the platform and puts the ~260 MiB logits buffer on the GPU, where
 * llama.cpp keeps it in pinned host memory; both end near this figure.)
 */
export const DEFAULT_GPU_OVERHEAD_BYTES = 512 * MiB;

/** llama.cpp pads the KV cache to a multiple of this many cells. */
const KV_CELL_PADDING = 256;
/** ... and the attention mask's rows to a multiple of this (GGML_KQ_MASK_PAD). */
const KQ_MASK_PADDING = 64;

/** The runtime settings that change memory, named as in a deployment's `runtime` block. */
export interface RuntimeSettings {
  /** Tokens of context per sequence: what one request may use. */
  contextSize: number;
  /** Sequences decoded together; the KV cache holds `contextSize × parallel` cells. Default 1. */
  parallel?: number;
  /** Element type of the KV cache. Default `f16`. */
  kvCacheType?: KvCacheType;
  /** Default false, as in the published references. */
  flashAttention?: boolean;
  /** Logical batch (`-b`). Default 2048. */
  batchSize?: number;
  /** Physical batch (`-ub`): the compute buffers are sized for it. Default 512. */
  ubatchSize?: number;
  /** Layers on GPUs (`-ngl`): the last `gpuLayers` repeating layers, plus the output layer when it exceeds their count. Default all plus output. */
  gpuLayers?: number;
  /** Reserved per GPU before any tensor. Default {@link DEFAULT_GPU_OVERHEAD_BYTES}. */
  gpuOverheadBytes?: number;
}

export type ResolvedRuntimeSettings = Required<RuntimeSettings> & {
  /** KV cache cells: context × parallel, padded as llama.cpp pads them. */
  kvCells: number;
  /** Type the V cache actually gets (llama.cpp cannot quantize V without flash attention). */
  kvValueType: KvCacheType;
};

/** One repeating layer on a GPU. */
export interface LayerRequirement {
  index: number;
  weightsBytes: number;
  kvCacheBytes: number;
  /** weightsBytes + kvCacheBytes: what moves with the layer when it is placed on a GPU. */
  bytes: number;
}

/** GPU memory a model needs at given settings, by kind and by layer; everything in bytes. */
export interface MemoryRequirements {
  settings: ResolvedRuntimeSettings;
  /** Weights on GPUs: offloaded layers, plus the output layer when offloaded. */
  weightsBytes: number;
  /** KV cache of the offloaded layers. */
  kvCacheBytes: number;
  /** Compute buffer (activations of one ubatch), on a single GPU. */
  computeBytes: number;
  /** Per-GPU reserve ({@link RuntimeSettings.gpuOverheadBytes}), on a single GPU. */
  overheadBytes: number;
  /** weightsBytes + kvCacheBytes + computeBytes + overheadBytes = Σ layers[].bytes + fixedBytes. */
  totalBytes: number;
  /** The offloaded repeating layers, in order. */
  layers: LayerRequirement[];
  /** What is not in a repeating layer: output weights on GPU, compute buffer, overhead. */
  fixedBytes: number;
  /** Weights of the output layer on the GPU (0 when it stays in host memory). */
  outputWeightsBytes: number;
  /**
   * For a layer split: what every GPU holding layers pays (overhead and the compute buffer
   * of the layers' stages), and what the GPU with the output layer pays on top of that
   * (output weights and the larger compute buffer of the output stage).
   */
  perGpu: { baseBytes: number; outputExtraBytes: number };
  /** Host memory: input embeddings, layers left on the CPU with their KV cache, the logits buffer. */
  hostBytes: number;
  /** Settings the estimate had to change or could not model, in words. */
  notes: string[];
}

function rowBytes(type: GgmlType, elements: number): number {
  return elements === 0 ? 0 : tensorByteSize(type, [elements]);
}

function padTo(n: number, multiple: number): number {
  return Math.ceil(n / multiple) * multiple;
}

function positiveInteger(name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${v}`);
}

/**
 * Estimates the GPU memory llama.cpp uses to run a model, from its shape alone (no GPU is
 * consulted): weights of the offloaded layers and the output layer, KV cache, the compute
 * buffer of the largest stage of one ubatch (attention scores without flash attention,
 * the feed-forward block or the logits), and a fixed reserve per GPU. The token
 * embeddings stay in host memory, as llama.cpp keeps them there.
 */
export function estimateRequirements(shape: ModelShape, settings: RuntimeSettings): MemoryRequirements {
  const notes: string[] = [];
  const s = {
    contextSize: settings.contextSize,
    parallel: settings.parallel ?? 1,
    kvCacheType: settings.kvCacheType ?? 'f16',
    flashAttention: settings.flashAttention ?? false,
    batchSize: settings.batchSize ?? 2048,
    ubatchSize: settings.ubatchSize ?? 512,
    gpuLayers: Math.min(settings.gpuLayers ?? shape.layers + 1, shape.layers + 1),
    gpuOverheadBytes: settings.gpuOverheadBytes ?? DEFAULT_GPU_OVERHEAD_BYTES,
  };
  positiveInteger('contextSize', s.contextSize);
  positiveInteger('parallel', s.parallel);
  positiveInteger('batchSize', s.batchSize);
  positiveInteger('ubatchSize', s.ubatchSize);
  positiveInteger('gpuLayers', s.gpuLayers, 0);
  if (s.ubatchSize > s.batchSize) throw new RangeError(`ubatchSize ${s.ubatchSize} is larger than batchSize ${s.batchSize}`);
  if (!(KV_CACHE_TYPES as readonly string[]).includes(s.kvCacheType)) throw new RangeError(`unknown kvCacheType ${s.kvCacheType}`);

  const kvCells = padTo(s.contextSize * s.parallel, KV_CELL_PADDING);
  let kvValueType: KvCacheType = s.kvCacheType;
  if (!s.flashAttention && !['f32', 'f16', 'bf16'].includes(s.kvCacheType)) {
    kvValueType = 'f16';
    notes.push(`the V cache stays f16: llama.cpp quantizes it (${s.kvCacheType}) only with flash attention`);
  }
  if (s.contextSize > shape.trainedContext) {
    notes.push(`contextSize ${s.contextSize} is beyond the ${shape.trainedContext} tokens the model was trained with`);
  }
  const resolved: ResolvedRuntimeSettings = { ...s, kvCells, kvValueType };

  // KV cache: per layer, K and V rows of kvHeads × head size for every cell.
  const kType = KV_GGML_TYPE[s.kvCacheType];
  const vType = KV_GGML_TYPE[kvValueType];
  const kvOfLayer = (i: number): number => {
    const kvHeads = shape.kvHeadsPerLayer[i];
    return kvCells * (rowBytes(kType, kvHeads * shape.headKeySize) + rowBytes(vType, kvHeads * shape.headValueSize));
  };

  // Offload: llama.cpp puts the last `gpuLayers` layers on GPUs; beyond the layer count, the output layer too.
  const firstGpuLayer = Math.max(0, shape.layers - s.gpuLayers);
  const outputOnGpu = s.gpuLayers > shape.layers;
  const layers: LayerRequirement[] = [];
  let hostBytes = shape.inputWeightBytes;
  for (let i = 0; i < shape.layers; i++) {
    const weightsBytes = shape.layerWeightBytes[i];
    const kvCacheBytes = kvOfLayer(i);
    if (i >= firstGpuLayer) layers.push({ index: i, weightsBytes, kvCacheBytes, bytes: weightsBytes + kvCacheBytes });
    else hostBytes += weightsBytes + kvCacheBytes;
  }
  const outputWeightsBytes = outputOnGpu ? shape.outputWeightBytes : 0;
  if (!outputOnGpu) hostBytes += shape.outputWeightBytes;

  // Compute buffer: ggml's allocator reuses memory between the serial stages of the graph,
  // so the buffer is the inputs plus the largest stage, all f32 activations of one ubatch.
  const f32 = 4;
  const tokens = Math.min(s.ubatchSize, kvCells);
  const maxKvHeads = Math.max(...shape.kvHeadsPerLayer);
  const hidden = shape.embedding * tokens * f32;
  const inputs =
    hidden + // embeddings of the ubatch, copied from host
    tokens * 4 * 3 + // token ids, positions, output ids
    kvCells * padTo(tokens, KQ_MASK_PADDING) * (s.flashAttention ? 2 : f32); // attention mask
  const q = shape.heads * shape.headKeySize * tokens * f32;
  const kvCur = maxKvHeads * (shape.headKeySize + shape.headValueSize) * tokens * f32;
  const attnOut = shape.heads * shape.headValueSize * tokens * f32;
  const scores = s.flashAttention ? 0 : kvCells * tokens * shape.heads * f32; // KQ, softmaxed in place
  const attention = 2 * hidden + 2 * q + kvCur + attnOut + scores;
  const ffn =
    shape.expertCount > 0
      ? 2 * hidden +
        3 * shape.expertCount * tokens * f32 + // router logits, probabilities, weights
        3 * shape.feedForward * shape.expertUsedCount * tokens * f32 + // gate, up, activation of the chosen experts
        shape.embedding * shape.expertUsedCount * tokens * f32 // their outputs before the weighted sum
      : 2 * hidden + 3 * shape.feedForward * tokens * f32;
  const logits = 2 * hidden + shape.vocab * tokens * f32;
  const layerCompute = inputs + Math.max(attention, ffn);
  const computeBytes = outputOnGpu ? inputs + Math.max(attention, ffn, logits) : layerCompute;
  hostBytes += (shape.vocab + shape.embedding) * tokens * f32; // llama.cpp's output buffer, in pinned host memory
  if (s.gpuLayers > 0 && !outputOnGpu) {
    notes.push(`partial offload (${s.gpuLayers} of ${shape.layers + 1} layers): host-side compute is not estimated`);
  }

  const overheadBytes = s.gpuOverheadBytes;
  const weightsBytes = layers.reduce((a, l) => a + l.weightsBytes, 0) + outputWeightsBytes;
  const kvCacheBytes = layers.reduce((a, l) => a + l.kvCacheBytes, 0);
  const fixedBytes = outputWeightsBytes + computeBytes + overheadBytes;
  return {
    settings: resolved,
    weightsBytes,
    kvCacheBytes,
    computeBytes,
    overheadBytes,
    totalBytes: weightsBytes + kvCacheBytes + computeBytes + overheadBytes,
    layers,
    fixedBytes,
    outputWeightsBytes,
    perGpu: { baseBytes: overheadBytes + layerCompute, outputExtraBytes: outputWeightsBytes + computeBytes - layerCompute },
    hostBytes,
    notes,
  };
}
