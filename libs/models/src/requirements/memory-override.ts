import type { ModelShape } from '../catalog/model-shape';
import { MemoryRequirements, RuntimeSettings, estimateRequirements } from './memory-requirements';

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

/** The context a requirement is computed for when none is asked: 4,096 tokens, or less when the model was trained for less. */
export const DEFAULT_CONTEXT_SIZE = 4096;

/**
 * What a replica is planned with: the estimate at the given settings (a default context when
 * none is given), or the admin's figure in its place.
 */
export function plannedRequirements(shape: ModelShape, settings: Omit<RuntimeSettings, 'contextSize'> & { contextSize?: number }, overrideBytes: number | null): MemoryRequirements {
  const estimate = estimateRequirements(shape, { ...settings, contextSize: settings.contextSize ?? Math.min(DEFAULT_CONTEXT_SIZE, shape.trainedContext || DEFAULT_CONTEXT_SIZE) });
  return overrideBytes === null ? estimate : withMemoryOverride(estimate, overrideBytes);
}
