import type { NodeGpu } from '@gridline/contract';
import type { RunnerGpuInfo } from '@gridline/runtime';
import type { NvidiaSmiGpu } from './nvidia-smi';

export interface GpuSources {
  /** What llama.cpp sees (the runner's `ready` message); null before the runner started. */
  llama: RunnerGpuInfo | null;
  /** queryNvidiaSmi()'s rows; null when nvidia-smi is absent or failed. */
  nvidiaSmi: NvidiaSmiGpu[] | null;
  /** parseSimulatedGpus()'s GPUs when GRIDLINE_SIMULATE_GPUS is set. */
  simulated?: NodeGpu[] | null;
  /** Bytes the loaded replicas hold on each GPU, by index: what a simulated GPU has no driver to count. */
  allocatedBytes?: readonly number[];
}

function vendorOfBackend(backend: RunnerGpuInfo['backend'], deviceName: string): string {
  if (backend === 'cuda' || /nvidia|geforce|quadro|tesla|rtx/i.test(deviceName)) return 'nvidia';
  if (backend === 'metal') return 'apple';
  if (/amd|radeon|instinct/i.test(deviceName)) return 'amd';
  if (/intel/i.test(deviceName)) return 'intel';
  return 'unknown';
}

/**
 * The nvidia-smi rows llama.cpp uses. When CUDA_VISIBLE_DEVICES hides some GPUs llama.cpp lists fewer devices
 * than nvidia-smi; each of its device names then takes the first unused row of that name.
 */
function rowsLlamaUses(rows: NvidiaSmiGpu[], llama: RunnerGpuInfo | null): NvidiaSmiGpu[] {
  if (!llama || llama.deviceNames.length === 0 || llama.deviceNames.length >= rows.length) return rows;
  const left = [...rows];
  const used: NvidiaSmiGpu[] = [];
  for (const name of llama.deviceNames) {
    const at = left.findIndex((r) => r.name === name);
    if (at >= 0) used.push(...left.splice(at, 1));
  }
  return used.length === llama.deviceNames.length ? used.sort((a, b) => a.index - b.index) : rows;
}

/**
 * The node's GPUs for its heartbeat:
 * - simulated GPUs when configured, their free memory being total − what loaded replicas hold on them;
 * - otherwise, when llama.cpp runs on the CPU, none: a GPU it cannot use is no capacity;
 * - otherwise nvidia-smi's rows when it answered (per-GPU memory, uuid, utilisation, temperature), with
 *   llama.cpp's per-device share of VRAM where nvidia-smi reports no memory;
 * - otherwise llama.cpp's devices, its VRAM (summed over devices by node-llama-cpp) shared out evenly.
 */
export function mergeGpus({ llama, nvidiaSmi, simulated, allocatedBytes = [] }: GpuSources): NodeGpu[] {
  if (simulated?.length) {
    return simulated.map((g) => ({ ...g, freeMemoryBytes: Math.max(0, g.totalMemoryBytes - (allocatedBytes[g.index] ?? 0)) }));
  }
  if (llama?.backend === 'cpu') return [];
  const devices = Math.max(1, llama?.deviceNames.length ?? 0);
  const share = (bytes: number | undefined) => (bytes === undefined ? 0 : Math.floor(bytes / devices));
  if (nvidiaSmi?.length) {
    return rowsLlamaUses(nvidiaSmi, llama).map((r) => ({
      index: r.index,
      name: r.name,
      vendor: 'nvidia',
      uuid: r.uuid,
      totalMemoryBytes: r.totalMemoryBytes ?? share(llama?.vramTotalBytes),
      freeMemoryBytes: r.freeMemoryBytes ?? share(llama?.vramFreeBytes),
      utilizationPercent: r.utilizationPercent,
      temperatureC: r.temperatureC,
    }));
  }
  if (!llama) return [];
  const names = llama.deviceNames.length ? llama.deviceNames : [llama.backend];
  return names.map((name, index) => ({
    index,
    name,
    vendor: vendorOfBackend(llama.backend, name),
    uuid: null,
    totalMemoryBytes: share(llama.vramTotalBytes),
    freeMemoryBytes: share(llama.vramFreeBytes),
    utilizationPercent: null,
    temperatureC: null,
  }));
}
