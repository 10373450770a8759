import type { GgufHeader, GgufPlainValue, GgufTensorInfo } from '../gguf/gguf-reader';
import { GgmlType } from '../gguf/gguf.types';

/** llama.cpp's `llama_ftype` names for `general.file_type`. */
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  32: 'BF16',
};

/** llama.cpp's name of a `general.file_type` (`15` → `Q4_K_M`), or null when absent or unknown. */
export function fileTypeName(fileType: number | null): string | null {
  return fileType === null ? null : (FILE_TYPE_NAMES[fileType] ?? null);
}

/**
 * What the catalog stores about a model and what the memory estimate needs, read from a
 * GGUF header alone (a header-only file gives the same shape as the full one).
 */
export interface ModelShape {
  architecture: string;
  name: string | null;
  /** `general.file_type` as llama.cpp names it (`Q4_K_M`), or null when absent or unknown. */
  fileType: string | null;
  /** Tensors per ggml type name, e.g. `{ Q4_K: 441, Q6_K: 161, F32: 161 }`. */
  tensorTypes: Record<string, number>;
  /** Elements of every tensor together. */
  parameterCount: number;
  /** Repeating blocks (`block_count`). */
  layers: number;
  /** Query heads (the largest, when the file gives one per layer). */
  heads: number;
  /** KV heads of each layer (`head_count_kv`, a scalar or an array; `head_count` when absent). */
  kvHeadsPerLayer: number[];
  /** Key and value size per head (`attention.key_length` / `value_length`, else embedding / heads). */
  headKeySize: number;
  headValueSize: number;
  embedding: number;
  /** Feed-forward width (the largest, when given per layer); per expert for a mixture of experts. */
  feedForward: number;
  vocab: number;
  /** Experts in each MoE layer and how many each token uses; 0 for a dense model. */
  expertCount: number;
  expertUsedCount: number;
  /** Context the model was trained with (`context_length`). */
  trainedContext: number;
  /** Bytes of tensor data of each repeating layer `blk.N.*`, by N. */
  layerWeightBytes: number[];
  /** Bytes of the input layer (`token_embd` and other tensors llama.cpp keeps in host memory). */
  inputWeightBytes: number;
  /** Bytes of the output layer (`output_norm`, `output`; a copy of `token_embd` when the embeddings are tied). */
  outputWeightBytes: number;
  /** True when there is no `output.weight` and llama.cpp reuses `token_embd` for the output. */
  tiedEmbeddings: boolean;
  /** Sum of all tensors' bytes. */
  tensorBytes: number;
  /** Size of the whole file, weights included, as its header lays it out. */
  fileBytes: number;
}

/** Thrown when a header lacks what the shape needs; the message names the key. */
export class ModelShapeError extends Error {
  override readonly name = 'ModelShapeError';
}

function asNumber(v: GgufPlainValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return null;
}

/** A scalar, or an array (one value per layer), as numbers; null when absent. */
function perLayer(v: GgufPlainValue | undefined, layers: number): number[] | null {
  if (Array.isArray(v)) {
    const values = v.map(asNumber);
    if (values.length !== layers || values.some((x) => x === null)) return null;
    return values as number[];
  }
  const n = asNumber(v);
  return n === null ? null : Array.from({ length: layers }, () => n);
}

const LAYER_TENSOR = /^blk\.(\d+)\./;
const OUTPUT_TENSOR = /^(output|output_norm)\./;

function elements(t: GgufTensorInfo): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

/** Reads the shape of a model from its GGUF header. */
export function modelShape(header: GgufHeader): ModelShape {
  const md = header.metadata;
  const architecture = md['general.architecture'];
  if (typeof architecture !== 'string') throw new ModelShapeError('general.architecture is missing');
  const key = (k: string) => md[`${architecture}.${k}`];
  /** A positive number, or the largest of a per-layer array. */
  const required = (k: string): number => {
    const v = key(k);
    const n = Array.isArray(v) ? Math.max(0, ...v.map((x) => asNumber(x) ?? 0)) : asNumber(v);
    if (!n) throw new ModelShapeError(`${architecture}.${k} is missing`);
    return n;
  };

  const layers = required('block_count');
  const embedding = required('embedding_length');
  const heads = required('attention.head_count');
  const kvKey = key('attention.head_count_kv') === undefined ? 'attention.head_count' : 'attention.head_count_kv';
  const kvHeadsPerLayer = perLayer(key(kvKey), layers);
  if (!kvHeadsPerLayer) throw new ModelShapeError(`${architecture}.attention.head_count_kv does not give one value per layer`);
  const headKeySize = asNumber(key('attention.key_length')) ?? embedding / heads;
  const headValueSize = asNumber(key('attention.value_length')) ?? embedding / heads;

  const tensorTypes: Record<string, number> = {};
  const layerWeightBytes = Array.from({ length: layers }, () => 0);
  let inputWeightBytes = 0;
  let outputWeightBytes = 0;
  let parameterCount = 0;
  let fileEnd = header.dataOffset;
  let embeddingBytes = 0;
  let embeddingRows = 0;
  let hasOutput = false;
  for (const t of header.tensors) {
    const typeName = GgmlType[t.type];
    tensorTypes[typeName] = (tensorTypes[typeName] ?? 0) + 1;
    parameterCount += elements(t);
    fileEnd = Math.max(fileEnd, header.dataOffset + t.offset + t.byteSize);
    const layer = LAYER_TENSOR.exec(t.name);
    if (layer) {
      const index = Number(layer[1]);
      if (index >= layers) throw new ModelShapeError(`tensor ${t.name} is beyond block_count ${layers}`);
      layerWeightBytes[index] += t.byteSize;
    } else if (OUTPUT_TENSOR.test(t.name)) {
      outputWeightBytes += t.byteSize;
      if (t.name === 'output.weight') hasOutput = true;
    } else {
      inputWeightBytes += t.byteSize;
      if (t.name === 'token_embd.weight') {
        embeddingBytes = t.byteSize;
        embeddingRows = t.dims[1] ?? 0;
      }
    }
  }
  const tiedEmbeddings = !hasOutput && embeddingBytes > 0;
  if (tiedEmbeddings) outputWeightBytes += embeddingBytes;

  const vocab =
    asNumber(key('vocab_size')) ??
    (Array.isArray(md['tokenizer.ggml.tokens']) ? (md['tokenizer.ggml.tokens'] as GgufPlainValue[]).length : embeddingRows);
  const fileTypeNumber = asNumber(md['general.file_type']);

  return {
    architecture,
    name: typeof md['general.name'] === 'string' ? (md['general.name'] as string) : null,
    fileType: fileTypeName(fileTypeNumber),
    tensorTypes,
    parameterCount,
    layers,
    heads,
    kvHeadsPerLayer,
    headKeySize,
    headValueSize,
    embedding,
    feedForward: required('feed_forward_length'),
    vocab,
    expertCount: asNumber(key('expert_count')) ?? 0,
    expertUsedCount: asNumber(key('expert_used_count')) ?? 0,
    trainedContext: required('context_length'),
    layerWeightBytes,
    inputWeightBytes,
    outputWeightBytes,
    tiedEmbeddings,
    tensorBytes: header.tensorBytes,
    fileBytes: fileEnd,
  };
}
