import { MemoryRequirements } from './memory-requirements';

/**
 * The estimate, scaled to the total an admin set for the model: every part (kinds, layers,
 * the fixed part) in proportion, so placement still moves whole layers and the parts still
 * add up to the total exactly. The estimate's own total stays in the notes.
 */
export function withMemoryOverride(req: MemoryRequirements, totalBytes: number): MemoryRequirements {
  if (!Number.isInteger(totalBytes) || totalBytes <= 0) throw new RangeError(`a memory override must be a positive whole number of bytes, got ${totalBytes}`);
  const factor = totalBytes / req.totalBytes;
  const scale = (n: number) => Math.round(n * factor);
  // Layers round down, so the fixed part (what is left) never goes below zero.
  const layers = req.layers.map((l) => {
    const weightsBytes = Math.floor(l.weightsBytes * factor);
    const kvCacheBytes = Math.floor(l.kvCacheBytes * factor);
    return { ...l, weightsBytes, kvCacheBytes, bytes: weightsBytes + kvCacheBytes };
  });
  const fixedBytes = totalBytes - layers.reduce((sum, l) => sum + l.bytes, 0);
  const weightsBytes = scale(req.weightsBytes);
  const kvCacheBytes = scale(req.kvCacheBytes);
  const computeBytes = scale(req.computeBytes);
  return {
    ...req,
    weightsBytes,
    kvCacheBytes,
    computeBytes,
    // What rounding left over lands on the overhead, so the kinds add up to the total.
    overheadBytes: totalBytes - weightsBytes - kvCacheBytes - computeBytes,
    totalBytes,
    layers,
    fixedBytes,
    perGpu: { baseBytes: scale(req.perGpu.baseBytes), outputExtraBytes: scale(req.perGpu.outputExtraBytes) },
    notes: [...req.notes, `an admin set ${totalBytes} bytes per replica; the estimate was ${req.totalBytes}`],
  };
}
