import { open } from 'node:fs/promises';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType, isKnownGgmlType, tensorByteSize } from './gguf.types';

export type GgufPlainValue = number | bigint | boolean | string | GgufPlainValue[];

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: GgmlType;
  /** Offset relative to the start of the data section. */
  offset: number;
  byteSize: number;
}

export interface GgufHeader {
  version: number;
  metadata: Record<string, GgufPlainValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataOffset: number;
  /** Sum of all tensors' byte sizes: the weights' footprint. */
  tensorBytes: number;
}

/** Thrown for a file that is not a well-formed GGUF header. */
export class GgufFormatError extends Error {
  override readonly name = 'GgufFormatError';
}

class NeedMoreBytes extends Error {}

const MAX_STRING_BYTES = 1 << 26;
const MAX_ARRAY_ITEMS = 1 << 26;

class Cursor {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private take(n: number): number {
    if (this.pos + n > this.buf.length) throw new NeedMoreBytes();
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8 = () => this.buf.readUInt8(this.take(1));
  i8 = () => this.buf.readInt8(this.take(1));
  u16 = () => this.buf.readUInt16LE(this.take(2));
  i16 = () => this.buf.readInt16LE(this.take(2));
  u32 = () => this.buf.readUInt32LE(this.take(4));
  i32 = () => this.buf.readInt32LE(this.take(4));
  f32 = () => this.buf.readFloatLE(this.take(4));
  f64 = () => this.buf.readDoubleLE(this.take(8));
  u64 = () => this.buf.readBigUInt64LE(this.take(8));
  i64 = () => this.buf.readBigInt64LE(this.take(8));
  count(what: string, max: number): number {
    const v = this.u64();
    if (v > BigInt(max)) throw new GgufFormatError(`${what} of ${v} is larger than this reader accepts`);
    return Number(v);
  }
  string(): string {
    const n = this.count('string length', MAX_STRING_BYTES);
    const at = this.take(n);
    return this.buf.toString('utf8', at, at + n);
  }
}

function readScalar(c: Cursor, type: number): GgufPlainValue {
  switch (type) {
    case GgufValueType.Uint8:
      return c.u8();
    case GgufValueType.Int8:
      return c.i8();
    case GgufValueType.Uint16:
      return c.u16();
    case GgufValueType.Int16:
      return c.i16();
    case GgufValueType.Uint32:
      return c.u32();
    case GgufValueType.Int32:
      return c.i32();
    case GgufValueType.Float32:
      return c.f32();
    case GgufValueType.Bool:
      return c.u8() !== 0;
    case GgufValueType.String:
      return c.string();
    case GgufValueType.Uint64:
      return c.u64();
    case GgufValueType.Int64:
      return c.i64();
    case GgufValueType.Float64:
      return c.f64();
    case GgufValueType.Array: {
      const itemType = c.u32();
      const n = c.count('array length', MAX_ARRAY_ITEMS);
      const out: GgufPlainValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readScalar(c, itemType);
      return out;
    }
    default:
      throw new GgufFormatError(`unknown metadata value type ${type}`);
  }
}

function parseHeader(buf: Buffer): GgufHeader {
  const c = new Cursor(buf);
  if (c.u32() !== GGUF_MAGIC) throw new GgufFormatError('not a GGUF file (bad magic)');
  const version = c.u32();
  if (version < 2 || version > 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = c.count('tensor count', 1 << 20);
  const kvCount = c.count('metadata count', 1 << 20);

  const metadata: Record<string, GgufPlainValue> = {};
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    metadata[key] = readScalar(c, c.u32());
  }

  const tensors: GgufTensorInfo[] = [];
  let tensorBytes = 0;
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string();
    const nDims = c.u32();
    if (nDims < 1 || nDims > 4) throw new GgufFormatError(`tensor ${name} has ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.count('tensor dimension', Number.MAX_SAFE_INTEGER));
    const type = c.u32();
    if (!isKnownGgmlType(type)) throw new GgufFormatError(`tensor ${name} has unsupported type ${type}`);
    const offset = c.count('tensor offset', Number.MAX_SAFE_INTEGER);
    let byteSize: number;
    try {
      byteSize = tensorByteSize(type, dims);
    } catch (e) {
      throw new GgufFormatError((e as Error).message);
    }
    tensorBytes += byteSize;
    tensors.push({ name, dims, type, offset, byteSize });
  }

  const alignmentRaw = metadata['general.alignment'];
  const alignment = typeof alignmentRaw === 'number' && alignmentRaw > 0 ? alignmentRaw : GGUF_DEFAULT_ALIGNMENT;
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  return { version, metadata, tensors, alignment, dataOffset, tensorBytes };
}

/** Parses a GGUF header held in memory (the whole file or at least its header). */
export function decodeGgufHeader(buf: Buffer): GgufHeader {
  try {
    return parseHeader(buf);
  } catch (e) {
    if (e instanceof NeedMoreBytes) throw new GgufFormatError('file ends inside its GGUF header');
    throw e;
  }
}

/**
 * Reads only the header of a GGUF file on disk, growing the read window as needed, so a
 * 40 GB model costs a few megabytes of I/O.
 */
export async function readGgufHeader(path: string): Promise<GgufHeader> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let window = Math.min(size, 1 << 20);
    for (;;) {
      const buf = Buffer.alloc(window);
      await handle.read(buf, 0, window, 0);
      try {
        return parseHeader(buf);
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
        if (window >= size) throw new GgufFormatError('file ends inside its GGUF header');
        window = Math.min(size, window * 4);
      }
    }
  } finally {
    await handle.close();
  }
}
