import { GGUF_MAGIC, GgmlType, GgufValueType, gguf, tensorByteSize } from './gguf.types';
import { encodeGguf } from './gguf-writer';
import { GgufFormatError, decodeGgufHeader } from './gguf-reader';
import { LLAMA_PRESETS, buildLlamaHeader } from './header-only-presets';
import { buildTinyLlama, buildTinyVocab } from './tiny-llama';
import { loadabilityProblems, modelFacts } from '../catalog/model-facts';

describe('GGUF writer and reader', () => {
  const tiny = encodeGguf(buildTinyLlama({ seed: 7 }));
  const header = decodeGgufHeader(tiny);

  it('writes a GGUF v3 file with the magic and counts up front', () => {
    expect(tiny.readUInt32LE(0)).toBe(GGUF_MAGIC);
    expect(tiny.readUInt32LE(4)).toBe(3);
    expect(Number(tiny.readBigUInt64LE(8))).toBe(header.tensors.length);
  });

  it('reads back every metadata value the llama loader needs', () => {
    expect(header.metadata['general.architecture']).toBe('llama');
    expect(header.metadata['llama.embedding_length']).toBe(64);
    expect(header.metadata['llama.block_count']).toBe(2);
    expect(header.metadata['llama.feed_forward_length']).toBe(128);
    expect(header.metadata['llama.attention.head_count']).toBe(4);
    expect(header.metadata['llama.attention.head_count_kv']).toBe(2);
    expect(header.metadata['llama.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-5, 10);
    expect(header.metadata['tokenizer.ggml.model']).toBe('llama');
    expect(header.metadata['tokenizer.chat_template']).toContain('<|im_start|>');
    expect(loadabilityProblems(header)).toEqual([]);
  });

  it('has a ~400-token SPM vocabulary with 256 byte tokens and ChatML markers', () => {
    const tokens = header.metadata['tokenizer.ggml.tokens'] as string[];
    const types = header.metadata['tokenizer.ggml.token_type'] as number[];
    expect(tokens.length).toBeGreaterThan(350);
    expect(tokens.length).toBeLessThan(480);
    expect(types.filter((t) => t === 6)).toHaveLength(256);
    expect(tokens).toEqual(expect.arrayContaining(['<0x00>', '<0xFF>', '<|im_start|>', '<|im_end|>', '\u2581the']));
    expect(tokens[header.metadata['tokenizer.ggml.eos_token_id'] as number]).toBe('<|im_end|>');
  });

  it('lays out 9 tensors per block plus embeddings, norm and output, aligned to 32 bytes', () => {
    expect(header.tensors.map((t) => t.name)).toEqual(
      expect.arrayContaining(['token_embd.weight', 'output_norm.weight', 'output.weight', 'blk.1.ffn_down.weight', 'blk.0.attn_q.weight']),
    );
    expect(header.tensors).toHaveLength(2 * 9 + 3);
    expect(header.dataOffset % 32).toBe(0);
    for (const t of header.tensors) expect(t.offset % 32).toBe(0);
    const last = header.tensors.reduce((a, b) => (a.offset > b.offset ? a : b));
    expect(tiny.length).toBeGreaterThanOrEqual(header.dataOffset + last.offset + last.byteSize);
    expect(tiny.length).toBeLessThan(700_000);
  });

  it('stores tensor data where the descriptors say, with silent output rows zeroed', () => {
    const out = header.tensors.find((t) => t.name === 'output.weight')!;
    const vocab = buildTinyVocab();
    const rows = new Float32Array(tiny.buffer.slice(tiny.byteOffset + header.dataOffset + out.offset, tiny.byteOffset + header.dataOffset + out.offset + out.byteSize));
    const row = (id: number) => Array.from(rows.subarray(id * 64, (id + 1) * 64));
    for (const id of vocab.silent) expect(row(id).every((v) => v === 0)).toBe(true);
    const printable = vocab.tokens.indexOf('\u2581the');
    expect(row(printable).some((v) => v !== 0)).toBe(true);
    const norm = header.tensors.find((t) => t.name === 'output_norm.weight')!;
    expect(tiny.readFloatLE(header.dataOffset + norm.offset)).toBe(1);
  });

  it('is deterministic: same seed, same bytes; another seed, other weights', () => {
    expect(encodeGguf(buildTinyLlama({ seed: 7 })).equals(tiny)).toBe(true);
    expect(encodeGguf(buildTinyLlama({ seed: 8 })).equals(tiny)).toBe(false);
  });

  it('describes a real-size model header-only, with Q4_K_M-like sizes', () => {
    const bytes = encodeGguf(buildLlamaHeader(LLAMA_PRESETS['llama-3-8b']), { headerOnly: true });
    const h = decodeGgufHeader(bytes);
    expect(bytes.length).toBeLessThan(4_000_000);
    expect(h.tensors).toHaveLength(32 * 9 + 3);
    const facts = modelFacts(h);
    expect(facts).toMatchObject({ architecture: 'llama', layers: 32, embedding: 4096, contextLength: 8192 });
    expect(facts.parameterBytes / 1e9).toBeGreaterThan(4.5);
    expect(facts.parameterBytes / 1e9).toBeLessThan(5.5);
    const big = decodeGgufHeader(encodeGguf(buildLlamaHeader(LLAMA_PRESETS['llama-3-70b']), { headerOnly: true }));
    expect(big.tensorBytes / 1e9).toBeGreaterThan(38);
    expect(big.tensorBytes / 1e9).toBeLessThan(45);
  });

  it('sizes quantized tensors by block', () => {
    expect(tensorByteSize(GgmlType.Q8_0, [64, 2])).toBe(4 * 34);
    expect(tensorByteSize(GgmlType.Q4_K, [4096, 4096])).toBe((4096 * 4096 * 144) / 256);
    expect(() => tensorByteSize(GgmlType.Q4_K, [100])).toThrow(/multiple of 256/);
  });

  it('refuses tensor data of the wrong length', () => {
    const doc = { metadata: new Map([['general.architecture', gguf.str('llama')]]), tensors: [{ name: 'x', dims: [4], type: GgmlType.F32, data: new Uint8Array(8) }] };
    expect(() => encodeGguf(doc)).toThrow(/needs 16 bytes/);
  });

  it('reports files that would make llama.cpp abort', () => {
    const doc = buildTinyLlama();
    const metadata = new Map(doc.metadata);
    metadata.delete('llama.feed_forward_length');
    metadata.delete('llama.attention.head_count');
    const problems = loadabilityProblems(decodeGgufHeader(encodeGguf({ ...doc, metadata })));
    expect(problems).toEqual(['llama.feed_forward_length is missing', 'llama.attention.head_count is missing']);
  });

  it('gives the catalog a family, the quantization and whether the chat template takes tools', () => {
    expect(modelFacts(header)).toMatchObject({ family: 'llama', quantization: 'F32', toolSupport: false });
    const doc = buildTinyLlama();
    const metadata = new Map(doc.metadata);
    metadata.set('general.basename', gguf.str('Meta-Llama-3.1'));
    metadata.set('general.file_type', gguf.u32(15));
    metadata.set('tokenizer.chat_template', gguf.str("{% if tools %}{{ tools | tojson }}{% endif %}{% for m in messages %}{{ m['content'] }}{% endfor %}"));
    expect(modelFacts(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toMatchObject({ family: 'meta-llama-3.1', quantization: 'Q4_K_M', toolSupport: true });
    metadata.delete('tokenizer.chat_template');
    metadata.set('general.file_type', gguf.u32(9999));
    expect(modelFacts(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toMatchObject({ quantization: null, toolSupport: null });
  });

  it('refuses a file that is not GGUF or is cut short', () => {
    expect(() => decodeGgufHeader(Buffer.from('not a gguf file at all'))).toThrow(GgufFormatError);
    expect(() => decodeGgufHeader(tiny.subarray(0, 100))).toThrow(/ends inside its GGUF header/);
  });

  it('round-trips every scalar type', () => {
    const metadata = new Map([
      ['a.u8', { type: GgufValueType.Uint8, value: 255 } as const],
      ['a.i16', { type: GgufValueType.Int16, value: -300 } as const],
      ['a.u64', { type: GgufValueType.Uint64, value: 2n ** 40n } as const],
      ['a.f64', { type: GgufValueType.Float64, value: Math.PI } as const],
      ['a.bool', gguf.bool(true)],
    ]);
    const h = decodeGgufHeader(encodeGguf({ metadata, tensors: [] }));
    expect(h.metadata).toEqual({ 'a.u8': 255, 'a.i16': -300, 'a.u64': 2n ** 40n, 'a.f64': Math.PI, 'a.bool': true });
  });
});
