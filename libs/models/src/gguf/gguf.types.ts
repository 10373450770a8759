/** GGUF metadata value types, as numbered by the GGUF v3 specification. */
export enum GgufValueType {
  Uint8 = 0,
  Int8 = 1,
  Uint16 = 2,
  Int16 = 3,
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
  Int64 = 11,
  Float64 = 12,
}

/** ggml tensor types (the subset Gridline writes or needs to size). */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  BF16 = 30,
}

/** [elements per block, bytes per block] for each tensor type. */
const BLOCK_LAYOUT: Readonly<Record<GgmlType, readonly [number, number]>> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.Q4_0]: [32, 18],
  [GgmlType.Q4_1]: [32, 20],
  [GgmlType.Q5_0]: [32, 22],
  [GgmlType.Q5_1]: [32, 24],
  [GgmlType.Q8_0]: [32, 34],
  [GgmlType.Q8_1]: [32, 36],
  [GgmlType.Q2_K]: [256, 84],
  [GgmlType.Q3_K]: [256, 110],
  [GgmlType.Q4_K]: [256, 144],
  [GgmlType.Q5_K]: [256, 176],
  [GgmlType.Q6_K]: [256, 210],
  [GgmlType.Q8_K]: [256, 292],
  [GgmlType.I8]: [1, 1],
  [GgmlType.I16]: [1, 2],
  [GgmlType.I32]: [1, 4],
  [GgmlType.I64]: [1, 8],
  [GgmlType.F64]: [1, 8],
  [GgmlType.BF16]: [1, 2],
};

export function isKnownGgmlType(type: number): type is GgmlType {
  return Object.prototype.hasOwnProperty.call(BLOCK_LAYOUT, type);
}

/** Bytes a tensor of `type` with these dimensions occupies in the file. */
export function tensorByteSize(type: GgmlType, dims: readonly number[]): number {
  const [blockElements, blockBytes] = BLOCK_LAYOUT[type];
  const elements = dims.reduce((a, b) => a * b, 1);
  if (dims.length === 0 || dims[0] % blockElements !== 0) {
    throw new RangeError(
      `tensor of type ${GgmlType[type]} needs its first dimension to be a multiple of ${blockElements}, got [${dims.join(', ')}]`,
    );
  }
  return (elements / blockElements) * blockBytes;
}

export type GgufScalar =
  | { type: GgufValueType.Uint8 | GgufValueType.Int8 | GgufValueType.Uint16 | GgufValueType.Int16; value: number }
  | { type: GgufValueType.Uint32 | GgufValueType.Int32 | GgufValueType.Float32 | GgufValueType.Float64; value: number }
  | { type: GgufValueType.Uint64 | GgufValueType.Int64; value: bigint }
  | { type: GgufValueType.Bool; value: boolean }
  | { type: GgufValueType.String; value: string };

export type GgufArrayValue =
  | { type: GgufValueType.Array; itemType: GgufValueType.String; value: readonly string[] }
  | { type: GgufValueType.Array; itemType: GgufValueType.Bool; value: readonly boolean[] }
  | { type: GgufValueType.Array; itemType: GgufValueType.Uint64 | GgufValueType.Int64; value: readonly bigint[] }
  | {
      type: GgufValueType.Array;
      itemType: Exclude<
        GgufValueType,
        GgufValueType.String | GgufValueType.Bool | GgufValueType.Array | GgufValueType.Uint64 | GgufValueType.Int64
      >;
      value: readonly number[];
    };

export type GgufValue = GgufScalar | GgufArrayValue;

/** Constructors for typed metadata values, so call sites read like the spec. */
export const gguf = {
  u32: (value: number): GgufValue => ({ type: GgufValueType.Uint32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.Int32, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.Float32, value }),
  u64: (value: bigint): GgufValue => ({ type: GgufValueType.Uint64, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.Bool, value }),
  str: (value: string): GgufValue => ({ type: GgufValueType.String, value }),
  strings: (value: readonly string[]): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.String, value }),
  f32s: (value: readonly number[]): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.Float32, value }),
  i32s: (value: readonly number[]): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.Int32, value }),
};

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) dimension. */
  dims: readonly number[];
  type: GgmlType;
  /** Raw tensor bytes; absent in a header-only file. */
  data?: Uint8Array;
}

export interface GgufDocument {
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: readonly GgufTensor[];
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
