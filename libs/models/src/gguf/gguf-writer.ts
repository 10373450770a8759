import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgufDocument,
  GgufValue,
  GgufValueType,
  tensorByteSize,
} from './gguf.types';

/** Append-only little-endian byte builder. */
class ByteSink {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer | Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.chunks.push(buf);
    this.length += buf.length;
  }

  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v);
    this.push(b);
  }

  u64(v: bigint | number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }

  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.push(bytes);
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad > 0) this.push(Buffer.alloc(pad));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeScalar(sink: ByteSink, type: GgufValueType, value: number | bigint | boolean | string): void {
  const b8 = Buffer.allocUnsafe(8);
  switch (type) {
    case GgufValueType.Uint8:
      b8.writeUInt8(value as number);
      return sink.push(b8.subarray(0, 1));
    case GgufValueType.Int8:
      b8.writeInt8(value as number);
      return sink.push(b8.subarray(0, 1));
    case GgufValueType.Uint16:
      b8.writeUInt16LE(value as number);
      return sink.push(b8.subarray(0, 2));
    case GgufValueType.Int16:
      b8.writeInt16LE(value as number);
      return sink.push(b8.subarray(0, 2));
    case GgufValueType.Uint32:
      b8.writeUInt32LE(value as number);
      return sink.push(b8.subarray(0, 4));
    case GgufValueType.Int32:
      b8.writeInt32LE(value as number);
      return sink.push(b8.subarray(0, 4));
    case GgufValueType.Float32:
      b8.writeFloatLE(value as number);
      return sink.push(b8.subarray(0, 4));
    case GgufValueType.Bool:
      b8.writeUInt8(value ? 1 : 0);
      return sink.push(b8.subarray(0, 1));
    case GgufValueType.String:
      return sink.string(value as string);
    case GgufValueType.Uint64:
      b8.writeBigUInt64LE(value as bigint);
      return sink.push(b8);
    case GgufValueType.Int64:
      b8.writeBigInt64LE(value as bigint);
      return sink.push(b8);
    case GgufValueType.Float64:
      b8.writeDoubleLE(value as number);
      return sink.push(b8);
    case GgufValueType.Array:
      throw new TypeError('nested GGUF arrays are not supported');
    default: {
      const unknown: never = type;
      throw new TypeError(`unknown GGUF value type ${String(unknown)}`);
    }
  }
}

/** Byte size and writer of the 32-bit item types, for long arrays such as token types and scores. */
const FIXED_WRITERS: Partial<Record<GgufValueType, readonly [number, (b: Buffer, v: number, at: number) => void]>> = {
  [GgufValueType.Uint32]: [4, (b, v, at) => b.writeUInt32LE(v, at)],
  [GgufValueType.Int32]: [4, (b, v, at) => b.writeInt32LE(v, at)],
  [GgufValueType.Float32]: [4, (b, v, at) => b.writeFloatLE(v, at)],
};

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(value.type);
  if (value.type !== GgufValueType.Array) {
    writeScalar(sink, value.type, value.value);
    return;
  }
  sink.u32(value.itemType);
  sink.u64(value.value.length);
  if (value.itemType === GgufValueType.String) {
    // One buffer for the whole array: a vocabulary has 150,000 strings.
    const items = value.value;
    const lengths = items.map((item) => Buffer.byteLength(item, 'utf8'));
    const out = Buffer.allocUnsafe(lengths.reduce((a, n) => a + 8 + n, 0));
    let at = 0;
    items.forEach((item, i) => {
      out.writeBigUInt64LE(BigInt(lengths[i]), at);
      at += 8 + out.write(item, at + 8, 'utf8');
    });
    sink.push(out);
    return;
  }
  const fixed = FIXED_WRITERS[value.itemType];
  if (fixed) {
    const [size, write] = fixed;
    const out = Buffer.allocUnsafe(size * value.value.length);
    value.value.forEach((item, i) => write(out, item as number, i * size));
    sink.push(out);
    return;
  }
  for (const item of value.value) writeScalar(sink, value.itemType, item);
}

export interface EncodeOptions {
  /** Write metadata and tensor descriptors only, no tensor data (for validation fixtures). */
  headerOnly?: boolean;
}

/**
 * Encodes a GGUF v3 file. Tensor data is laid out in declaration order, each tensor
 * aligned to `general.alignment` (32 unless the metadata says otherwise).
 */
export function encodeGguf(doc: GgufDocument, options: EncodeOptions = {}): Buffer {
  const alignmentValue = doc.metadata.get('general.alignment');
  const alignment =
    alignmentValue && alignmentValue.type === GgufValueType.Uint32 ? alignmentValue.value : GGUF_DEFAULT_ALIGNMENT;

  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(doc.tensors.length);
  sink.u64(doc.metadata.size);
  for (const [key, value] of doc.metadata) {
    sink.string(key);
    writeValue(sink, value);
  }

  let offset = 0;
  const sizes: number[] = [];
  for (const tensor of doc.tensors) {
    const size = tensorByteSize(tensor.type, tensor.dims);
    if (!options.headerOnly && (!tensor.data || tensor.data.byteLength !== size)) {
      throw new RangeError(`tensor ${tensor.name} needs ${size} bytes of data, got ${tensor.data?.byteLength ?? 0}`);
    }
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(tensor.type);
    sink.u64(offset);
    sizes.push(size);
    offset += size + ((alignment - (size % alignment)) % alignment);
  }

  if (options.headerOnly) return sink.toBuffer();

  sink.padTo(alignment);
  doc.tensors.forEach((tensor) => {
    sink.push(tensor.data as Uint8Array);
    sink.padTo(alignment);
  });
  return sink.toBuffer();
}
