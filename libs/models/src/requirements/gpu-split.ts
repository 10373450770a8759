import { GiB, MemoryRequirements } from './memory-requirements';

/** The share of one GPU in a layer split. */
export interface GpuShare {
  /** Position of the GPU in the `gpuFreeBytes` given. */
  gpu: number;
  /** First and last layer index on this GPU, inclusive; null for a GPU left unused. */
  layers: [number, number] | null;
  /** True for the GPU that holds the output layer (the one with the last layer). */
  holdsOutput: boolean;
  /** Bytes this GPU needs: its layers, its overhead and compute buffer, the output layer if it holds it. */
  bytes: number;
  freeBytes: number;
}

export type GpuSplit =
  | { fits: true; gpus: GpuShare[]; totalBytes: number }
  | {
      fits: false;
      gpus: GpuShare[];
      /** Layers that found no GPU, as [first, last]. */
      unplacedLayers: [number, number] | null;
      /** Bytes that did not fit: the unplaced layers, the output layer, and one more GPU's base cost. */
      shortfallBytes: number;
      message: string;
    };

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(2)} GiB`;
}

export interface SplitOptions {
  /**
   * `balance` (default) uses every GPU given, as llama.cpp does, and spreads the layers so
   * that the largest fraction of free memory used on any GPU is as small as it can be;
   * `fill` fills the GPUs in order and leaves the rest unused (the fewest GPUs).
   */
  mode?: 'balance' | 'fill';
}

/**
 * Fills the GPUs in order, each up to `fraction` of its free bytes, with consecutive whole
 * layers; returns the shares and the index of the first layer left over.
 */
function fill(req: MemoryRequirements, gpuFreeBytes: readonly number[], fraction: number): { gpus: GpuShare[]; next: number } {
  const { baseBytes, outputExtraBytes } = req.perGpu;
  const layers = req.layers;
  const gpus: GpuShare[] = [];
  let next = 0;
  gpuFreeBytes.forEach((freeBytes, gpu) => {
    const capacity = fraction === 1 ? freeBytes : fraction * freeBytes;
    // Take the most layers that fit; the cost grows with each layer and jumps by the output
    // layer at the last one, so the layers that fit are a prefix.
    let taken = 0;
    let bytes = 0;
    let cost = baseBytes;
    for (let k = 1; next + k <= layers.length; k++) {
      cost += layers[next + k - 1].bytes;
      const withOutput = next + k === layers.length ? cost + outputExtraBytes : cost;
      if (withOutput > capacity) break;
      taken = k;
      bytes = withOutput;
    }
    if (taken === 0) {
      gpus.push({ gpu, layers: null, holdsOutput: false, bytes: 0, freeBytes });
      return;
    }
    const holdsOutput = next + taken === layers.length;
    gpus.push({ gpu, layers: [layers[next].index, layers[next + taken - 1].index], holdsOutput, bytes, freeBytes });
    next += taken;
  });
  return { gpus, next };
}

/**
 * Splits the offloaded layers across GPUs by whole layers, as llama.cpp's layer split does:
 * consecutive layers in GPU order. Every GPU that holds a layer pays its overhead and
 * compute buffer; the GPU with the last layer also holds the output layer. A GPU whose free
 * bytes equal what it is given takes it.
 */
export function splitAcrossGpus(req: MemoryRequirements, gpuFreeBytes: readonly number[], options: SplitOptions = {}): GpuSplit {
  const layers = req.layers;
  if (layers.length === 0) {
    // Nothing but the compute buffer (and the output layer, if offloaded) goes on a GPU.
    const need = req.fixedBytes;
    const gpus = gpuFreeBytes.map((freeBytes, gpu): GpuShare => ({ gpu, layers: null, holdsOutput: false, bytes: 0, freeBytes }));
    const gpu = gpuFreeBytes.findIndex((free) => free >= need);
    if (gpu >= 0) {
      gpus[gpu] = { gpu, layers: null, holdsOutput: req.outputWeightsBytes > 0, bytes: need, freeBytes: gpuFreeBytes[gpu] };
      return { fits: true, gpus, totalBytes: need };
    }
    return shortfall(req, gpuFreeBytes, gpus, 0);
  }

  const full = fill(req, gpuFreeBytes, 1);
  if (full.next < layers.length) return shortfall(req, gpuFreeBytes, full.gpus, full.next);
  let best = full.gpus;
  if ((options.mode ?? 'balance') === 'balance') {
    // The smallest fraction of every GPU's free memory that still holds everything.
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 40; i++) {
      const mid = (lo + hi) / 2;
      const attempt = fill(req, gpuFreeBytes, mid);
      if (attempt.next === layers.length) {
        hi = mid;
        best = attempt.gpus;
      } else {
        lo = mid;
      }
    }
  }
  return { fits: true, gpus: best, totalBytes: best.reduce((a, g) => a + g.bytes, 0) };
}

function shortfall(req: MemoryRequirements, gpuFreeBytes: readonly number[], gpus: GpuShare[], next: number): GpuSplit {
  const { baseBytes, outputExtraBytes } = req.perGpu;
  const rest = req.layers.slice(next);
  const restBytes = rest.reduce((a, l) => a + l.bytes, 0);
  const shortfallBytes = restBytes + baseBytes + outputExtraBytes;
  const freeTotal = gpuFreeBytes.reduce((a, b) => a + b, 0);
  const unplacedLayers: [number, number] | null = rest.length > 0 ? [rest[0].index, rest[rest.length - 1].index] : null;
  const what = unplacedLayers
    ? `layers ${unplacedLayers[0]}–${unplacedLayers[1]} (${gib(restBytes)})${req.outputWeightsBytes > 0 ? ' and the output layer' : ''}`
    : 'the compute buffer';
  return {
    fits: false,
    gpus,
    unplacedLayers,
    shortfallBytes,
    message:
      `insufficient GPU memory: needs ${gib(req.totalBytes)} on one GPU, ${gib(freeTotal)} free on ${gpuFreeBytes.length} GPU(s); ` +
      `${what} do not fit, about ${gib(shortfallBytes)} more on another GPU`,
  };
}
