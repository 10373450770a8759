import { loadabilityProblems } from '../catalog/model-facts';
import { ModelShape, ModelShapeError, modelShape } from '../catalog/model-shape';
import { decodeGgufHeader } from '../gguf/gguf-reader';
import { encodeGguf } from '../gguf/gguf-writer';
import { GgmlType, gguf } from '../gguf/gguf.types';
import { MODEL_PRESETS, ModelPresetName, PRESET_QUANTIZATIONS, PresetQuantization, buildPresetHeader } from '../gguf/header-only-presets';
import { buildTinyLlama } from '../gguf/tiny-llama';
import { splitAcrossGpus } from './gpu-split';
import { GiB, MiB, MemoryRequirements, RuntimeSettings, estimateRequirements } from './memory-requirements';

const shapes = new Map<string, ModelShape>();
/** A preset written header-only, read back and measured: the path a registered file takes. */
function shapeOf(preset: ModelPresetName, quant: PresetQuantization): ModelShape {
  const key = `${preset}/${quant}`;
  let shape = shapes.get(key);
  if (!shape) {
    shape = modelShape(decodeGgufHeader(encodeGguf(buildPresetHeader(MODEL_PRESETS[preset], quant), { headerOnly: true })));
    shapes.set(key, shape);
  }
  return shape;
}

const sumLayers = (r: MemoryRequirements) => r.layers.reduce((a, l) => a + l.bytes, 0);
const gib = (bytes: number) => (bytes / GiB).toFixed(2);

/**
 * gguf-parser's published VRAM figures (its README, "VRAM 0 NONUMA": full offload, flash
 * attention off, batch 2048 / ubatch 512, f16 KV cache, one sequence), with the file size it
 * printed, which the preset must reproduce.
 */
const REFERENCES: { preset: ModelPresetName; quant: PresetQuantization; context: number; fileGiB: number | null; publishedGiB: number; source: string }[] = [
  { preset: 'llama-3.1-70b', quant: 'Q4_K_M', context: 2048, fileGiB: 39.59, publishedGiB: 40.49, source: 'Ollama llama3.3, --ol-usage' },
  { preset: 'llama-3.1-70b', quant: 'Q4_K_M', context: 131072, fileGiB: 39.59, publishedGiB: 95.86, source: 'Ollama llama3.3' },
  { preset: 'qwen2.5-72b', quant: 'Q4_K_M', context: 32768, fileGiB: 44.15, publishedGiB: 58.18, source: 'bartowski/Qwen2.5-72B-Instruct-GGUF' },
  { preset: 'deepseek-r1-distill-qwen-7b', quant: 'Q4_K_M', context: 131072, fileGiB: 4.36, publishedGiB: 18.89, source: 'unsloth/DeepSeek-R1-Distill-Qwen-7B-GGUF' },
  { preset: 'deepseek-r1-distill-qwen-7b', quant: 'F16', context: 131072, fileGiB: 14.19, publishedGiB: 27.99, source: 'unsloth (ModelScope)' },
  { preset: 'qwen2.5-7b', quant: 'Q8_0', context: 131072, fileGiB: 7.54, publishedGiB: 21.82, source: 'Qwen/Qwen2.5-7B-Instruct-GGUF' },
  { preset: 'llama-3.1-70b', quant: 'Q4_0', context: 131072, fileGiB: 37.35, publishedGiB: 93.62, source: 'bartowski/openbuddy-llama3.3-70b-v24.1-131k-GGUF' },
  { preset: 'llama-3-8b', quant: 'Q5_K_M', context: 8192, fileGiB: null, publishedGiB: 7.04, source: 'QuantFactory/Meta-Llama-3-8B-Instruct-GGUF' },
];

describe('estimateRequirements against published figures', () => {
  const rows = REFERENCES.map((ref) => {
    const shape = shapeOf(ref.preset, ref.quant);
    const ours = estimateRequirements(shape, { contextSize: ref.context }).totalBytes;
    const published = ref.publishedGiB * GiB;
    const tolerance = Math.max(0.05 * published, 256 * MiB);
    const errorPct = ((ours / published - 1) * 100).toFixed(2);
    return { ...ref, shape, ours, oursGiB: gib(ours), published, tolerance, errorPct };
  });

  it.each(rows)(
    '$preset $quant at $context tokens: published $publishedGiB GiB, ours $oursGiB GiB (error $errorPct %)',
    ({ ours, published, tolerance }) => {
      expect(Math.abs(ours - published)).toBeLessThanOrEqual(tolerance);
    },
  );

  it.each(rows.filter((r) => r.fileGiB !== null))('$preset $quant reproduces the published file size of $fileGiB GiB', ({ shape, fileGiB }) => {
    expect(Math.abs(shape.fileBytes / GiB - (fileGiB ?? 0))).toBeLessThan(0.02 * (fileGiB ?? 0));
  });

  const splitReq = estimateRequirements(shapeOf('llama-3.1-70b', 'Q4_K_M'), { contextSize: 1024 });
  const first = splitReq.perGpu.baseBytes + splitReq.layers.slice(0, 36).reduce((a, l) => a + l.bytes, 0);
  const second = splitReq.perGpu.baseBytes + splitReq.layers.slice(36).reduce((a, l) => a + l.bytes, 0) + splitReq.perGpu.outputExtraBytes;
  const splitName =
    `splits the 70B at 1,024 tokens over two GPUs like gguf-parser: 36 layers published 17.83 GiB, ours ${gib(first)} GiB; ` +
    `44 layers + output published 22.83 GiB, ours ${gib(second)} GiB`;
  it(splitName, () => {
    const req = splitReq;
    expect(Math.abs(first / GiB - 17.83)).toBeLessThan(0.05 * 17.83);
    expect(Math.abs(second / GiB - 22.83)).toBeLessThan(0.05 * 22.83);
    const split = splitAcrossGpus(req, [first, second]);
    expect(split).toMatchObject({ fits: true, gpus: [{ layers: [0, 35], holdsOutput: false }, { layers: [36, 79], holdsOutput: true }] });
  });
});

describe('estimateRequirements', () => {
  const llama8b = () => shapeOf('llama-3.1-8b', 'Q4_K_M');

  it.each<RuntimeSettings>([
    { contextSize: 4096 },
    { contextSize: 32768, parallel: 4, kvCacheType: 'q8_0', flashAttention: true },
    { contextSize: 8192, gpuLayers: 20 },
    { contextSize: 8192, gpuLayers: 0 },
  ])('reports weights, KV, compute and overhead that add up, and layers + fixed = total (%o)', (settings) => {
    const r = estimateRequirements(llama8b(), settings);
    expect(r.totalBytes).toBe(r.weightsBytes + r.kvCacheBytes + r.computeBytes + r.overheadBytes);
    expect(r.totalBytes).toBe(sumLayers(r) + r.fixedBytes);
    for (const l of r.layers) expect(l.bytes).toBe(l.weightsBytes + l.kvCacheBytes);
  });

  it('sizes the f16 KV cache as layers × cells × 2 × KV heads × head size × 2 bytes', () => {
    const r = estimateRequirements(llama8b(), { contextSize: 8192 });
    expect(r.kvCacheBytes).toBe(32 * 8192 * 2 * 8 * 128 * 2);
    expect(r.kvCacheBytes / GiB).toBe(1);
  });

  it('grows the KV cache with context and with parallel sequences (context × parallel cells)', () => {
    const at = (contextSize: number, parallel = 1) => estimateRequirements(llama8b(), { contextSize, parallel });
    const sizes = [1024, 4096, 16384, 131072].map((c) => at(c).kvCacheBytes);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]);
    expect(at(4096, 4).kvCacheBytes).toBe(at(16384).kvCacheBytes);
    expect(at(4096, 4).settings.kvCells).toBe(16384);
  });

  it('pads the cells to 256 as llama.cpp does', () => {
    expect(estimateRequirements(llama8b(), { contextSize: 1000 }).settings.kvCells).toBe(1024);
    expect(estimateRequirements(llama8b(), { contextSize: 1025 }).settings.kvCells).toBe(1280);
  });

  it('makes a q8_0 KV cache smaller than f16, and q4_0 smaller still with flash attention', () => {
    const kv = (kvCacheType: RuntimeSettings['kvCacheType'], flashAttention = true) =>
      estimateRequirements(llama8b(), { contextSize: 8192, kvCacheType, flashAttention }).kvCacheBytes;
    expect(kv('q8_0')).toBeLessThan(kv('f16'));
    expect(kv('q4_0')).toBeLessThan(kv('q8_0'));
    expect(kv('f16')).toBeLessThan(kv('f32'));
    expect(kv('q8_0')).toBe((kv('f16') * 34) / 64);
  });

  it('keeps the V cache f16 when quantized without flash attention, and says so', () => {
    const r = estimateRequirements(llama8b(), { contextSize: 8192, kvCacheType: 'q8_0' });
    expect(r.settings.kvValueType).toBe('f16');
    expect(r.notes.join('\n')).toMatch(/V cache stays f16/);
    expect(r.kvCacheBytes).toBe((1 * GiB * (34 / 64 + 1)) / 2);
  });

  it('makes flash attention shrink the compute buffer, the more the longer the context', () => {
    const compute = (contextSize: number, flashAttention: boolean) => estimateRequirements(llama8b(), { contextSize, flashAttention }).computeBytes;
    expect(compute(8192, true)).toBeLessThan(compute(8192, false));
    expect(compute(131072, false) - compute(131072, true)).toBeGreaterThan(compute(8192, false) - compute(8192, true));
    // Without it, the attention scores of one ubatch dominate: cells × 512 × heads × 4 bytes.
    expect(compute(131072, false)).toBeGreaterThan(131072 * 512 * 32 * 4);
  });

  it('grows the compute buffer with the ubatch', () => {
    const compute = (ubatchSize: number) => estimateRequirements(llama8b(), { contextSize: 8192, ubatchSize }).computeBytes;
    expect(compute(1024)).toBeGreaterThan(compute(512));
    expect(compute(256)).toBeLessThan(compute(512));
  });

  it('puts the last gpuLayers layers on the GPU and the output layer only beyond all of them', () => {
    const shape = llama8b();
    const partial = estimateRequirements(shape, { contextSize: 4096, gpuLayers: 10 });
    expect(partial.layers.map((l) => l.index)).toEqual(Array.from({ length: 10 }, (_, i) => 22 + i));
    expect(partial.outputWeightsBytes).toBe(0);
    const all = estimateRequirements(shape, { contextSize: 4096, gpuLayers: 32 });
    expect(all.layers).toHaveLength(32);
    expect(all.outputWeightsBytes).toBe(0);
    const full = estimateRequirements(shape, { contextSize: 4096 });
    expect(full.outputWeightsBytes).toBe(shape.outputWeightBytes);
    expect(full.totalBytes).toBeGreaterThan(all.totalBytes);
    expect(partial.hostBytes).toBeGreaterThan(full.hostBytes);
    const none = estimateRequirements(shape, { contextSize: 4096, gpuLayers: 0 });
    expect(none.layers).toEqual([]);
    expect(none.totalBytes).toBe(none.computeBytes + none.overheadBytes);
  });

  it('keeps the token embeddings in host memory and, when tied, copies them to the GPU as the output', () => {
    const tied = shapeOf('llama-3.2-1b', 'Q4_K_M');
    expect(tied.tiedEmbeddings).toBe(true);
    expect(tied.outputWeightBytes).toBeGreaterThan(tied.inputWeightBytes);
    const r = estimateRequirements(tied, { contextSize: 4096 });
    expect(r.weightsBytes).toBe(tied.layerWeightBytes.reduce((a, b) => a + b, 0) + tied.outputWeightBytes);
  });

  it('refuses settings llama.cpp would refuse', () => {
    expect(() => estimateRequirements(llama8b(), { contextSize: 0 })).toThrow(/contextSize/);
    expect(() => estimateRequirements(llama8b(), { contextSize: 4096, ubatchSize: 4096, batchSize: 2048 })).toThrow(/ubatchSize/);
    expect(() => estimateRequirements(llama8b(), { contextSize: 4096, kvCacheType: 'q2' as never })).toThrow(/kvCacheType/);
  });

  it('notes a context beyond the trained one', () => {
    expect(estimateRequirements(shapeOf('mistral-7b', 'Q4_K_M'), { contextSize: 65536 }).notes.join()).toMatch(/beyond the 32768/);
  });

  it('sizes a mixture of experts by all experts’ weights and the used experts’ activations', () => {
    const moe = shapeOf('mixtral-8x7b', 'Q4_K_M');
    const dense = shapeOf('mistral-7b', 'Q4_K_M');
    expect(moe.expertCount).toBe(8);
    expect(moe.expertUsedCount).toBe(2);
    expect(moe.fileBytes / GiB).toBeGreaterThan(24);
    expect(moe.fileBytes / GiB).toBeLessThan(28.5);
    const ffnOnly = { contextSize: 512, flashAttention: true };
    expect(estimateRequirements(moe, ffnOnly).computeBytes).toBeGreaterThan(estimateRequirements(dense, ffnOnly).computeBytes);
  });
});

describe('splitAcrossGpus', () => {
  const req = estimateRequirements(shapeOf('llama-3.1-8b', 'Q8_0'), { contextSize: 8192 });
  const { baseBytes, outputExtraBytes } = req.perGpu;
  const layerBytes = (from: number, to: number) => req.layers.slice(from, to + 1).reduce((a, l) => a + l.bytes, 0);

  it('puts everything on one GPU whose free bytes equal the total, and fails one byte short', () => {
    expect(splitAcrossGpus(req, [req.totalBytes])).toEqual({
      fits: true,
      totalBytes: req.totalBytes,
      gpus: [{ gpu: 0, layers: [0, 31], holdsOutput: true, bytes: req.totalBytes, freeBytes: req.totalBytes }],
    });
    const short = splitAcrossGpus(req, [req.totalBytes - 1]);
    expect(short.fits).toBe(false);
  });

  it('splits by whole layers, a GPU taking exactly the layers its free bytes hold', () => {
    const first = baseBytes + layerBytes(0, 19);
    const second = baseBytes + layerBytes(20, 31) + outputExtraBytes;
    const split = splitAcrossGpus(req, [first, second]);
    expect(split).toEqual({
      fits: true,
      totalBytes: first + second,
      gpus: [
        { gpu: 0, layers: [0, 19], holdsOutput: false, bytes: first, freeBytes: first },
        { gpu: 1, layers: [20, 31], holdsOutput: true, bytes: second, freeBytes: second },
      ],
    });
    // One byte less on the first GPU moves layer 19 to the second, which then lacks room for it.
    const tight = splitAcrossGpus(req, [first - 1, second]);
    expect(tight.fits).toBe(false);
    expect(tight.gpus[0].layers).toEqual([0, 18]);
    // ... unless the second GPU has room for that layer too.
    const roomy = splitAcrossGpus(req, [first - 1, second + req.layers[19].bytes], { mode: 'fill' });
    expect(roomy).toMatchObject({ fits: true, gpus: [{ layers: [0, 18] }, { layers: [19, 31], holdsOutput: true }] });
  });

  it('balances the layers over every GPU by default, as llama.cpp does', () => {
    const split = splitAcrossGpus(req, [40 * GiB, 40 * GiB]);
    if (!split.fits) throw new Error('expected a fit');
    const [a, b] = split.gpus;
    expect([a.layers?.[0], b.layers?.[1], b.holdsOutput]).toEqual([0, 31, true]);
    expect(b.layers?.[0]).toBe((a.layers?.[1] ?? 0) + 1);
    // Within one layer of even; the second GPU's share includes the output layer.
    expect(Math.abs(a.bytes - b.bytes)).toBeLessThanOrEqual(Math.max(...req.layers.map((l) => l.bytes)));
    expect(split.totalBytes).toBe(req.totalBytes + baseBytes);
    // Twice the memory on the second GPU: about twice the layers there.
    const uneven = splitAcrossGpus(req, [20 * GiB, 40 * GiB]);
    expect(uneven).toMatchObject({ fits: true, gpus: [{ layers: [0, expect.any(Number)] }, { layers: [expect.any(Number), 31], holdsOutput: true }] });
    if (uneven.fits) expect(uneven.gpus[0].layers?.[1]).toBeGreaterThanOrEqual(8);
    if (uneven.fits) expect(uneven.gpus[0].layers?.[1]).toBeLessThanOrEqual(11);
  });

  it('in fill mode, leaves a GPU unused when the others hold everything, and skips one too small for any layer', () => {
    const split = splitAcrossGpus(req, [baseBytes, req.totalBytes, 80 * GiB], { mode: 'fill' });
    expect(split).toMatchObject({
      fits: true,
      gpus: [
        { gpu: 0, layers: null, bytes: 0 },
        { gpu: 1, layers: [0, 31], holdsOutput: true, bytes: req.totalBytes },
        { gpu: 2, layers: null, bytes: 0 },
      ],
    });
  });

  it('says what does not fit, with numbers', () => {
    const per = baseBytes + layerBytes(0, 9);
    const split = splitAcrossGpus(req, [per, per]);
    if (split.fits) throw new Error('expected a shortfall');
    expect(split.gpus.map((g) => g.layers)).toEqual([
      [0, 9],
      [10, 19],
    ]);
    expect(split.unplacedLayers).toEqual([20, 31]);
    expect(split.shortfallBytes).toBe(layerBytes(20, 31) + baseBytes + outputExtraBytes);
    expect(split.message).toBe(
      `insufficient GPU memory: needs ${gib(req.totalBytes)} GiB on one GPU, ${gib(2 * per)} GiB free on 2 GPU(s); ` +
        `layers 20–31 (${gib(layerBytes(20, 31))} GiB) and the output layer do not fit, about ${gib(split.shortfallBytes)} GiB more on another GPU`,
    );
  });

  it('places a model with no offloaded layers by its compute buffer alone', () => {
    const none = estimateRequirements(shapeOf('llama-3.1-8b', 'Q8_0'), { contextSize: 8192, gpuLayers: 0 });
    expect(splitAcrossGpus(none, [1 * MiB, none.fixedBytes])).toMatchObject({ fits: true, gpus: [{ bytes: 0 }, { gpu: 1, bytes: none.fixedBytes }] });
    expect(splitAcrossGpus(none, [none.fixedBytes - 1])).toMatchObject({ fits: false, shortfallBytes: none.fixedBytes });
  });
});

describe('presets', () => {
  const names = Object.keys(MODEL_PRESETS) as ModelPresetName[];

  it.each(names)('%s round-trips through the writer, the reader and modelShape', (name) => {
    const preset = MODEL_PRESETS[name];
    const header = decodeGgufHeader(encodeGguf(buildPresetHeader(preset, 'Q4_K_M'), { headerOnly: true }));
    expect(loadabilityProblems(header)).toEqual([]);
    const shape = modelShape(header);
    shapes.set(`${name}/Q4_K_M`, shape);
    expect(shape).toMatchObject({
      architecture: preset.architecture,
      name: preset.name,
      fileType: 'Q4_K_M',
      layers: preset.layers,
      heads: preset.heads,
      embedding: preset.embedding,
      feedForward: preset.feedForward,
      vocab: preset.vocab,
      trainedContext: preset.contextLength,
      headKeySize: preset.embedding / preset.heads,
      tiedEmbeddings: 'tiedEmbeddings' in preset,
    });
    expect(shape.kvHeadsPerLayer).toEqual(Array.from({ length: preset.layers }, () => preset.kvHeads));
    expect(shape.tensorTypes.Q4_K).toBeGreaterThan(0);
    expect(shape.tensorTypes.Q6_K).toBeGreaterThan(0);
    const sum = shape.layerWeightBytes.reduce((a, b) => a + b, 0) + shape.inputWeightBytes + shape.outputWeightBytes;
    expect(sum - (shape.tiedEmbeddings ? shape.inputWeightBytes : 0)).toBe(shape.tensorBytes);
    // Q4_K_M spends between 4.5 and 5.6 bits per weight.
    expect((shape.tensorBytes * 8) / shape.parameterCount).toBeGreaterThan(4.5);
    expect((shape.tensorBytes * 8) / shape.parameterCount).toBeLessThan(5.6);
  });

  it.each(PRESET_QUANTIZATIONS)('writes llama-3.2-3b at %s with the types of that quantization', (quant) => {
    const shape = shapeOf('llama-3.2-3b', quant);
    expect(shape.fileType).toBe(quant);
    const bitsPerWeight = (shape.tensorBytes * 8) / shape.parameterCount;
    const expected = { F16: [15.9, 16.1], Q8_0: [8.4, 8.6], Q5_K_M: [5.4, 6.4], Q4_K_M: [4.5, 6], Q4_0: [4.4, 5.4] }[quant];
    expect(bitsPerWeight).toBeGreaterThan(expected[0]);
    expect(bitsPerWeight).toBeLessThan(expected[1]);
    expect(Object.keys(shape.tensorTypes).sort()).toEqual({
      F16: ['F16', 'F32'],
      Q8_0: ['F32', 'Q8_0'],
      Q5_K_M: ['F32', 'Q5_K', 'Q6_K'],
      Q4_K_M: ['F32', 'Q4_K', 'Q6_K'],
      Q4_0: ['F32', 'Q4_0', 'Q6_K'],
    }[quant]);
  });

  it('falls back from k-quants where a row is not a multiple of 256 (Qwen2.5-72B’s feed-forward of 29568)', () => {
    const shape = shapeOf('qwen2.5-72b', 'Q4_K_M');
    expect(shape.tensorTypes.Q5_0).toBeGreaterThan(0);
    expect(shape.tensorTypes.Q8_0).toBeGreaterThan(0);
  });
});

describe('modelShape', () => {
  it('reads the tiny model, its per-layer bytes summing to the blocks', () => {
    const shape = modelShape(decodeGgufHeader(encodeGguf(buildTinyLlama({ seed: 1 }))));
    expect(shape).toMatchObject({ architecture: 'llama', layers: 2, embedding: 64, heads: 4, kvHeadsPerLayer: [2, 2], headKeySize: 16, expertCount: 0 });
    expect(shape.layerWeightBytes[0]).toBeGreaterThan(0);
    expect(shape.layerWeightBytes[0]).toBe(shape.layerWeightBytes[1]);
  });

  it('takes per-layer KV heads and explicit key and value sizes', () => {
    const doc = buildTinyLlama({ seed: 1 });
    const metadata = new Map(doc.metadata);
    metadata.set('llama.attention.head_count_kv', gguf.i32s([2, 0]));
    metadata.set('llama.attention.key_length', gguf.u32(32));
    metadata.set('llama.attention.value_length', gguf.u32(24));
    const shape = modelShape(decodeGgufHeader(encodeGguf({ ...doc, metadata })));
    expect(shape).toMatchObject({ kvHeadsPerLayer: [2, 0], headKeySize: 32, headValueSize: 24 });
    const r = estimateRequirements(shape, { contextSize: 256 });
    expect(r.layers.map((l) => l.kvCacheBytes)).toEqual([256 * 2 * (32 + 24) * 2, 0]);
  });

  it('refuses per-layer KV heads that do not match the layers', () => {
    const doc = buildTinyLlama({ seed: 1 });
    const metadata = new Map(doc.metadata);
    metadata.set('llama.attention.head_count_kv', gguf.i32s([2, 2, 2]));
    expect(() => modelShape(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toThrow(/head_count_kv does not give one value per layer/);
  });

  it('names the key it misses', () => {
    const doc = buildTinyLlama({ seed: 1 });
    const metadata = new Map(doc.metadata);
    metadata.delete('llama.block_count');
    expect(() => modelShape(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toThrow(new ModelShapeError('llama.block_count is missing'));
  });

  it('adds the experts and per-layer KV heads to what makes llama.cpp abort', () => {
    const doc = buildTinyLlama({ seed: 1 });
    const metadata = new Map(doc.metadata);
    metadata.set('llama.expert_count', gguf.u32(8));
    metadata.set('llama.attention.head_count_kv', gguf.i32s([2, 2, 2]));
    expect(loadabilityProblems(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toEqual([
      'llama.expert_used_count is missing for 8 experts',
      'llama.attention.head_count_kv has 3 values for 2 layers',
    ]);
    metadata.set('llama.expert_used_count', gguf.u32(9));
    expect(loadabilityProblems(decodeGgufHeader(encodeGguf({ ...doc, metadata })))).toContain('llama.expert_used_count 9 is more than expert_count 8');
  });

  it('counts tensors per ggml type', () => {
    const shape = shapeOf('llama-3.1-8b', 'Q8_0');
    expect(shape.tensorTypes).toEqual({ [GgmlType[GgmlType.Q8_0]]: 32 * 7 + 2, F32: 32 * 2 + 1 });
  });
});

describe('the issue’s placement scenarios, from the estimate’s side', () => {
  const at4k = (preset: ModelPresetName, quant: PresetQuantization) => estimateRequirements(shapeOf(preset, quant), { contextSize: 4096 });

  it('fits a 70B at 8-bit on 2 × 80 GiB, split over both GPUs, and not on 1 × 24 GiB', () => {
    const req = at4k('llama-3.1-70b', 'Q8_0');
    expect(req.totalBytes / GiB).toBeGreaterThan(70);
    const split = splitAcrossGpus(req, [80 * GiB, 80 * GiB]);
    expect(split).toMatchObject({ fits: true, gpus: [{ layers: [0, expect.any(Number)] }, { layers: [expect.any(Number), 79], holdsOutput: true }] });
    const refused = splitAcrossGpus(req, [24 * GiB]);
    expect(refused.fits).toBe(false);
    if (!refused.fits) expect(refused.message).toMatch(/^insufficient GPU memory: needs 7\d\.\d\d GiB on one GPU, 24\.00 GiB free on 1 GPU\(s\); layers \d+–79/);
  });

  it('needs more than one node of 2 × 48 GiB for a 70B at 16-bit, and fits on 2 × 94 GiB', () => {
    const req = at4k('llama-3.1-70b', 'F16');
    expect(req.weightsBytes / GiB).toBeGreaterThan(128);
    expect(req.weightsBytes / GiB).toBeLessThan(133);
    expect(splitAcrossGpus(req, [48 * GiB, 48 * GiB]).fits).toBe(false);
    expect(splitAcrossGpus(req, [48 * GiB, 48 * GiB, 48 * GiB, 48 * GiB]).fits).toBe(true);
    expect(splitAcrossGpus(req, [94 * GiB, 94 * GiB]).fits).toBe(true);
  });

  it('fits an 8B on one GPU of 24 GiB', () => {
    expect(splitAcrossGpus(at4k('llama-3.1-8b', 'Q4_K_M'), [24 * GiB])).toMatchObject({ fits: true, gpus: [{ layers: [0, 31], holdsOutput: true }] });
  });
});
