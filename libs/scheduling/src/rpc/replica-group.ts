import { createHmac } from 'node:crypto';

/**
 * Replicas spanning nodes (llama.cpp's RPC backend): what the api, the scheduler and the agents
 * agree on about a group's members, its tunnel's identity and key, and its ports.
 */

/** The capability prefix an agent reports when its RPC binaries are present and intact (`llama-rpc@<release>`). */
const RPC_CAPABILITY_PREFIX = 'llama-rpc@';

/** The identity the group's leader presents to its workers' tunnels: the group and the leader's node. */
export function groupTunnelIdentity(groupId: string, leaderNodeId: string): string {
  return `${groupId}/${leaderNodeId}`;
}

/**
 * The key of a group's tunnel: HMAC-SHA256 under the leader node's credential secret of the
 * group's identity. The leader derives it from its own credential; the api, which holds the
 * credential sealed, derives it for the workers and gives it to each in its heartbeat's answer
 * only (a signed request of that worker's node). It opens this group's workers only, and only
 * while the group exists (a new group has a new id); the credential itself never leaves its node.
 */
export function groupTunnelKey(leaderSecretKey: string, groupId: string, leaderNodeId: string): Buffer {
  return createHmac('sha256', leaderSecretKey).update(`gridline/rpc-tunnel/v1\n${groupTunnelIdentity(groupId, leaderNodeId)}`).digest();
}

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
