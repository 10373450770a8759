import { need, size } from './format';
import { PlanNodeGpu, PlannedReplica } from './plan-deployment';

/** Why the ledger refused a reservation; one catalogue, the message carries the numbers. */
export type LedgerRefusalCode =
  /** The planned replica names a GPU the ledger was never told about (`setGpu`). */
  | 'gpu_unknown'
  /** A GPU of the planned replica has less free memory than the replica puts on it. */
  | 'gpu_full'
  /** The replica id already holds a different reservation: release it first. */
  | 'replica_reserved';

export interface LedgerRefusal {
  code: LedgerRefusalCode;
  nodeId: string;
  /** The GPU refused; for `replica_reserved`, the first GPU of the reservation already held. */
  gpuIndex: number;
  /** What the replica puts on that GPU. */
  neededBytes: number;
  /** Free on that GPU at the time (0 for an unknown GPU). */
  freeBytes: number;
  totalBytes: number;
  message: string;
}

export type ReserveResult = { ok: true; refusal?: undefined } | { ok: false; refusal: LedgerRefusal };

/** One GPU's share of a replica's reservation. */
export interface GpuShare {
  nodeId: string;
  index: number;
  bytes: number;
}

interface LedgerGpu {
  totalBytes: number;
  /** Taken by what the ledger does not track: other processes, the driver, memory a node reports in use. */
  usedOutsideBytes: number;
  /** Bytes reserved on this GPU by each replica id. */
  byReplica: Map<string, number>;
}

/**
 * The scheduler's record of GPU memory per node GPU, each reservation owned by a replica id.
 *
 * Placements are computed against a snapshot (`planNodeGpus`), which may be stale by the time
 * they are committed: two plans made from one snapshot can pick the same free bytes. `reserve`
 * re-checks every GPU against the ledger as it is now and records the whole replica or nothing,
 * so the second commit is refused (with the GPU and the numbers) and its caller plans again.
 * Node's single thread makes the check-and-record one step; keep `reserve` synchronous.
 *
 * Re-reserving an id is idempotent when the placement is the same (a retried commit) and refused
 * with `replica_reserved` when it differs: moving a replica is a release then a reserve, so a
 * replica never holds two placements and a stray retry never doubles its bytes.
 */
export class GpuLedger {
  /** Node id → GPU index → GPU. */
  private readonly nodes = new Map<string, Map<number, LedgerGpu>>();
  private readonly reservations = new Map<string, GpuShare[]>();

  /**
   * Tells the ledger a GPU's size and what is used on it outside the ledger's replicas (not their
   * own memory, or it counts twice). Reservations stay: a GPU that shrinks below them has no free
   * memory until they are released.
   */
  setGpu(nodeId: string, index: number, totalBytes: number, usedOutsideBytes = 0): void {
    if (!(totalBytes >= 0) || !(usedOutsideBytes >= 0)) throw new RangeError(`GPU bytes must be ≥ 0, got total ${totalBytes}, used outside ${usedOutsideBytes}`);
    const gpus = this.nodes.get(nodeId) ?? new Map<number, LedgerGpu>();
    this.nodes.set(nodeId, gpus);
    const gpu = gpus.get(index);
    if (gpu) Object.assign(gpu, { totalBytes, usedOutsideBytes });
    else gpus.set(index, { totalBytes, usedOutsideBytes, byReplica: new Map() });
  }

  /** Records the planned replica's bytes on every GPU it uses, or refuses without recording anything. */
  reserve(replicaId: string, planned: PlannedReplica): ReserveResult {
    const shares = sharesOf(planned);
    const held = this.reservations.get(replicaId);
    if (held) return sameShares(held, shares) ? { ok: true } : { ok: false, refusal: this.alreadyReserved(replicaId, held) };
    for (const share of shares) {
      const refusal = this.refusalFor(share, nameOf(planned, share.nodeId));
      if (refusal) return { ok: false, refusal };
    }
    for (const share of shares) this.gpu(share.nodeId, share.index)?.byReplica.set(replicaId, share.bytes);
    this.reservations.set(replicaId, shares);
    return { ok: true };
  }

  /** Frees what the replica holds; false when it held nothing. */
  release(replicaId: string): boolean {
    const held = this.reservations.get(replicaId);
    if (!held) return false;
    for (const share of held) this.gpu(share.nodeId, share.index)?.byReplica.delete(replicaId);
    this.reservations.delete(replicaId);
    return true;
  }

  /** What the replica holds, GPU by GPU; empty when nothing. */
  reservationOf(replicaId: string): readonly GpuShare[] {
    return this.reservations.get(replicaId) ?? [];
  }

  /** Taken on the GPU: the replicas' reservations plus what is used outside the ledger (0 for an unknown GPU). */
  allocatedBytes(nodeId: string, index: number): number {
    const gpu = this.gpu(nodeId, index);
    return gpu ? allocatedOn(gpu) : 0;
  }

  /** What a new reservation may still take on the GPU (0 for an unknown GPU). */
  freeBytes(nodeId: string, index: number): number {
    const gpu = this.gpu(nodeId, index);
    return gpu ? freeOn(gpu) : 0;
  }

  /** The node's GPUs as the planner reads them (`PlanNode.gpus`), by index: a snapshot to plan against. */
  planNodeGpus(nodeId: string): PlanNodeGpu[] {
    return [...(this.nodes.get(nodeId) ?? new Map<number, LedgerGpu>()).entries()]
      .map(([index, gpu]) => ({ index, totalBytes: gpu.totalBytes, allocatedBytes: allocatedOn(gpu) }))
      .sort((a, b) => a.index - b.index);
  }

  private gpu(nodeId: string, index: number): LedgerGpu | undefined {
    return this.nodes.get(nodeId)?.get(index);
  }

  private refusalFor(share: GpuShare, nodeName: string): LedgerRefusal | null {
    const gpu = this.gpu(share.nodeId, share.index);
    const where = `${nodeName} GPU ${share.index}`;
    const base = { nodeId: share.nodeId, gpuIndex: share.index, neededBytes: share.bytes };
    if (!gpu) return { ...base, code: 'gpu_unknown', freeBytes: 0, totalBytes: 0, message: `${where} is not in the ledger: no memory is known for it` };
    const free = freeOn(gpu);
    if (share.bytes <= free) return null;
    return {
      ...base,
      code: 'gpu_full',
      freeBytes: free,
      totalBytes: gpu.totalBytes,
      message: `${where} has ${size(free)} free of ${size(gpu.totalBytes)} (${size(allocatedOn(gpu))} allocated), the replica needs ${need(share.bytes)} there: plan again`,
    };
  }

  private alreadyReserved(replicaId: string, held: readonly GpuShare[]): LedgerRefusal {
    const first = held[0];
    const gpu = first ? this.gpu(first.nodeId, first.index) : undefined;
    const where = held.map((s) => `${s.nodeId} GPU ${s.index} ${need(s.bytes)}`).join(', ');
    return {
      code: 'replica_reserved',
      nodeId: first?.nodeId ?? '',
      gpuIndex: first?.index ?? -1,
      neededBytes: first?.bytes ?? 0,
      freeBytes: gpu ? freeOn(gpu) : 0,
      totalBytes: gpu?.totalBytes ?? 0,
      message: `replica ${replicaId} already holds a different reservation (${where || 'no GPU'}): release it before reserving again`,
    };
  }
}

const allocatedOn = (gpu: LedgerGpu): number => [...gpu.byReplica.values()].reduce((a, b) => a + b, gpu.usedOutsideBytes);
const freeOn = (gpu: LedgerGpu): number => Math.max(0, gpu.totalBytes - allocatedOn(gpu));

/** The planned replica's bytes per GPU (a GPU named twice is summed), in plan order. */
function sharesOf(planned: PlannedReplica): GpuShare[] {
  const shares: GpuShare[] = [];
  for (const node of planned.nodes) {
    for (const gpu of node.gpus) {
      if (!(gpu.bytes >= 0)) throw new RangeError(`planned bytes must be ≥ 0, got ${gpu.bytes} on ${node.name} GPU ${gpu.index}`);
      const same = shares.find((s) => s.nodeId === node.nodeId && s.index === gpu.index);
      if (same) same.bytes += gpu.bytes;
      else shares.push({ nodeId: node.nodeId, index: gpu.index, bytes: gpu.bytes });
    }
  }
  return shares;
}

function sameShares(a: readonly GpuShare[], b: readonly GpuShare[]): boolean {
  return a.length === b.length && a.every((s) => b.some((t) => t.nodeId === s.nodeId && t.index === s.index && t.bytes === s.bytes));
}

const nameOf = (planned: PlannedReplica, nodeId: string): string => planned.nodes.find((n) => n.nodeId === nodeId)?.name ?? nodeId;
