/** Small helpers the benchmarks share: a seeded generator and nearest-rank quantiles. */

/** mulberry32: a seeded generator, so every run of a benchmark draws the same fleet and the same load. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The nearest-rank quantiles of `values` (sorted once): p in [0, 1]; NaN when there are none. */
export function quantiles(values: ArrayLike<number>): (p: number) => number {
  const sorted = Float64Array.from(values).sort();
  return (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
}

/** One nearest-rank quantile of `values`. */
export function quantile(values: ArrayLike<number>, p: number): number {
  return quantiles(values)(p);
}
