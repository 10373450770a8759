/** How placement texts write bytes and counts; one place so the planner, the ledger and eviction read alike. */
const GiB = 1024 ** 3;

/** A need: always one decimal ("142.0 GiB"). */
export const need = (bytes: number): string => `${(bytes / GiB).toFixed(1)} GiB`;
/** A size: one decimal, dropped when whole ("48 GiB", "60.5 GiB"). */
export const size = (bytes: number): string => `${(bytes / GiB).toFixed(1).replace(/\.0$/, '')} GiB`;
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
export const list = (items: readonly string[], max = 8): string =>
  items.length <= max ? items.join('; ') : `${items.slice(0, max).join('; ')}; and ${items.length - max} more`;

/** "a100 (GPU 0: layers 0–39, 37.5 GiB; GPU 1: layers 40–79, 37.5 GiB)": where a replica's layers sit on one node. */
export function describePlacedNode(node: { name: string; gpus: readonly { index: number; layers: readonly [number, number] | null; bytes: number }[] }): string {
  return `${node.name} (${node.gpus.map((g) => `GPU ${g.index}: ${g.layers ? `layers ${g.layers[0]}–${g.layers[1]}, ` : ''}${size(g.bytes)}`).join('; ')})`;
}
