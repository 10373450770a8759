import { MemoryRequirements } from './memory-requirements';
import { withMemoryOverride } from './memory-override';

const estimate = {
  weightsBytes: 700,
  kvCacheBytes: 200,
  computeBytes: 70,
  overheadBytes: 30,
  totalBytes: 1000,
  layers: [0, 1, 2].map((index) => ({ index, weightsBytes: 200, kvCacheBytes: 60, bytes: 260 })),
  fixedBytes: 220,
  perGpu: { baseBytes: 100, outputExtraBytes: 120 },
  notes: [],
} as unknown as MemoryRequirements;

describe('withMemoryOverride', () => {
  it.each([1000, 1500, 777, 1])('scales every part to %i bytes, the parts adding up exactly', (total) => {
    const r = withMemoryOverride(estimate, total);
    expect(r.totalBytes).toBe(total);
    expect(r.weightsBytes + r.kvCacheBytes + r.computeBytes + r.overheadBytes).toBe(total);
    expect(r.layers.reduce((s, l) => s + l.bytes, 0) + r.fixedBytes).toBe(total);
    expect(r.layers).toHaveLength(3);
    expect(r.notes.at(-1)).toContain('the estimate was 1000');
  });

  it('refuses what is not a positive whole number of bytes', () => {
    for (const bad of [0, -5, 1.5, Number.NaN]) expect(() => withMemoryOverride(estimate, bad)).toThrow(RangeError);
  });
});
