/**
 * Replicas spanning nodes (llama.cpp's RPC backend): what the api, the scheduler and the agents
 * agree on about a group's members and its ports (the tunnel's identity and key: libs/runtime's rpc-tunnel).
 */

/** The capability prefix an agent reports when its RPC binaries are present and intact (`llama-rpc@<release>`). */
const RPC_CAPABILITY_PREFIX = 'llama-rpc@';

/** The llama.cpp release a node can run spanning replicas with, or null (no binaries, or no tunnel address and ports). */
export function spanningRelease(inventory: { capabilities?: readonly string[]; rpc?: { address: string; ports: [number, number] } }): string | null {
  if (!inventory.rpc) return null;
  const cap = inventory.capabilities?.find((c) => c.startsWith(RPC_CAPABILITY_PREFIX));
  return cap ? cap.slice(RPC_CAPABILITY_PREFIX.length) : null;
}

/** The lowest port of the node's range that no member on it uses, or null when all are taken. */
export function freeTunnelPort(range: readonly [number, number], used: ReadonlySet<number>): number | null {
  for (let p = range[0]; p <= range[1]; p++) if (!used.has(p)) return p;
  return null;
}
