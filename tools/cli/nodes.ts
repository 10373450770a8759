import { formatBytes, renderProgressBar } from './progress-bar';

/** A node as `GET /api/v1/nodes` shows it (the fields the CLI prints). */
export interface NodeView {
  id: string;
  name: string;
  status: string;
  reason: string | null;
  labels: Record<string, string>;
  gpus: { name: string; totalMemoryBytes: number; freeMemoryBytes: number; simulated?: boolean }[];
  inventory: { backend: string; cpuCores: number; totalMemoryBytes: number; freeMemoryBytes: number };
  replicas: {
    id: string;
    model: string;
    state: string;
    reason: string | null;
    busySequences: number;
    parallel: number;
    group?: { id: string; role: 'leader' | 'worker' };
    span?: { localLayers: number; workerLayers: number[] };
    pull: { bytes: number; totalBytes: number; percent: number; bytesPerSecond: number } | null;
  }[];
  runningJobs: unknown[];
  lastHeartbeatAt: string;
}

/** One GPU line per kind: `2× NVIDIA H100 80GB (simulated) 150.0 GiB/160.0 GiB free`. */
export function gpuSummary(n: NodeView): string {
  if (n.gpus.length === 0) return `CPU ${n.inventory.cpuCores} cores, ${formatBytes(n.inventory.freeMemoryBytes)}/${formatBytes(n.inventory.totalMemoryBytes)} RAM free`;
  const kinds = new Map<string, { count: number; free: number; total: number }>();
  for (const g of n.gpus) {
    const key = `${g.name}${g.simulated && !/simulated/i.test(g.name) ? ' (simulated)' : ''}`;
    const k = kinds.get(key) ?? { count: 0, free: 0, total: 0 };
    k.count++;
    k.free += g.freeMemoryBytes;
    k.total += g.totalMemoryBytes;
    kinds.set(key, k);
  }
  return [...kinds].map(([name, k]) => `${k.count}× ${name} ${formatBytes(k.free)}/${formatBytes(k.total)} free`).join('; ');
}

/** The table `gridline nodes` prints. */
export function nodesTable(nodes: NodeView[], now = Date.now()): string {
  const rows = nodes.map((n) => [
    n.name,
    n.reason && n.status !== 'Ready' ? `${n.status} (${n.reason})` : n.status,
    gpuSummary(n),
    n.replicas.map((r) => `${r.model}${r.group ? ` (${r.group.role}${r.span ? ` ${r.span.localLayers}+${r.span.workerLayers.join('+')} layers` : ''})` : ''} ${r.state}${r.state === 'Ready' && r.group?.role !== 'worker' ? ` ${r.busySequences}/${r.parallel}` : ''}`).join(', ') || '-',
    String(n.runningJobs.length),
    `${Math.max(0, Math.round((now - Date.parse(n.lastHeartbeatAt)) / 1000))} s ago`,
    n.id,
  ]);
  const head = ['NAME', 'STATUS', 'GPUS', 'REPLICAS', 'JOBS', 'HEARTBEAT', 'ID'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return `${[head, ...rows].map(line).join('\n')}\n(${rows.length} node${rows.length === 1 ? '' : 's'})\n`;
}

/**
 * Follows a replica until it is Ready or Failed, drawing the pull's progress bar while the
 * agent downloads the file. Returns the final state.
 */
export async function followReplica(get: () => Promise<NodeView>, replicaId: string, out: NodeJS.WriteStream, timeoutMs = 30 * 60_000): Promise<NodeView['replicas'][number]> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = (await get()).replicas.find((x) => x.id === replicaId);
    if (!r) throw new Error(`replica ${replicaId} is gone from the node`);
    const line = r.state === 'Pulling' && r.pull ? `pulling ${r.model} ${renderProgressBar(r.pull)}` : `${r.model}: ${r.state}`;
    if (line !== last) {
      out.write(out.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
      last = line;
    }
    if (r.state === 'Ready' || r.state === 'Failed') {
      if (out.isTTY) out.write('\n');
      return r;
    }
    if (Date.now() > deadline) throw new Error(`replica ${replicaId} is still ${r.state} after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((res) => setTimeout(res, 500));
  }
}
