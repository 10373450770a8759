import { NodeGpu } from '@gridline/contract';

/** Why GRIDLINE_SIMULATE_GPUS (or `--simulate-gpus`) was refused; the message names the bad item. */
export class SimulatedGpuSpecError extends Error {
  override readonly name = 'SimulatedGpuSpecError';
  readonly code = 'invalid_simulated_gpus';
}

export const MAX_SIMULATED_GPUS_PER_ITEM = 16;
export const MAX_SIMULATED_GPUS = 64;
const MAX_MEMORY_GB = 1024;

// `[<count>x]<model>-<memory>GB`, e.g. `2xH100-80GB`, `L4-24GB`, `1xRTX-4090-24GB`.
const ITEM = /^(?:(\d+)x)?([A-Za-z0-9][A-Za-z0-9_.-]*?)-(\d+(?:\.\d+)?)(?:GB|GiB|G)$/i;

const NVIDIA = /^(?:[ABHLKPTV]\d{1,4}[A-Z]{0,3}|G[BH]\d{3}[A-Z]?|RTX|GTX|TITAN|QUADRO|TESLA|JETSON)/i;
const AMD = /^(?:MI\d{2,3}[A-Z]?|RADEON|RX\d)/i;

function vendorOf(model: string): { vendor: string; brand: string } {
  const bare = model.replace(/^(NVIDIA|AMD)[-_ ]?/i, '');
  if (/^NVIDIA/i.test(model) || NVIDIA.test(bare)) return { vendor: 'nvidia', brand: 'NVIDIA' };
  if (/^AMD/i.test(model) || AMD.test(bare)) return { vendor: 'amd', brand: 'AMD' };
  return { vendor: 'unknown', brand: '' };
}

/**
 * `2xH100-80GB`, `1xL4-24GB,2xA100-40GB`, `H100-80GB` → GPUs numbered from 0, marked simulated, all memory free.
 * A spec's `80GB` means 80 GiB (80 × 1024³ bytes): drivers report VRAM in MiB, and the marketing figure is the
 * binary one (an A100 40GB reports 40960 MiB), so simulated nodes plan like real ones of that size.
 * The uuid is `GPU-sim-<node>-<index>` when the node's name is given.
 */
export function parseSimulatedGpus(spec: string, nodeName?: string): NodeGpu[] {
  const gpus: NodeGpu[] = [];
  const items = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new SimulatedGpuSpecError(`simulated GPUs "${spec}": expected e.g. 2xH100-80GB or 1xL4-24GB,2xA100-40GB`);
  for (const item of items) {
    const fail = (why: string) => new SimulatedGpuSpecError(`simulated GPUs "${item}": ${why}`);
    const m = ITEM.exec(item);
    if (!m) throw fail('expected [<count>x]<model>-<memory>GB, e.g. 2xH100-80GB');
    const count = m[1] === undefined ? 1 : Number(m[1]);
    const memoryGb = Number(m[3]);
    if (!Number.isInteger(count) || count < 1 || count > MAX_SIMULATED_GPUS_PER_ITEM) throw fail(`the count must be 1-${MAX_SIMULATED_GPUS_PER_ITEM}`);
    if (!(memoryGb > 0 && memoryGb <= MAX_MEMORY_GB)) throw fail(`the memory must be more than 0 and at most ${MAX_MEMORY_GB}GB`);
    if (gpus.length + count > MAX_SIMULATED_GPUS) throw fail(`at most ${MAX_SIMULATED_GPUS} simulated GPUs in all`);
    const model = m[2];
    const { vendor, brand } = vendorOf(model);
    const display = model.replace(/^(NVIDIA|AMD)[-_ ]?/i, '').replace(/[-_]/g, ' ');
    const totalMemoryBytes = Math.round(memoryGb * 1024 ** 3);
    for (let i = 0; i < count; i++) {
      const index = gpus.length;
      gpus.push({
        index,
        name: `${brand ? `${brand} ` : ''}${display} ${m[3]}GB (simulated)`,
        vendor,
        uuid: nodeName ? `GPU-sim-${nodeName}-${index}` : null,
        totalMemoryBytes,
        freeMemoryBytes: totalMemoryBytes,
        utilizationPercent: null,
        temperatureC: null,
        simulated: true,
      });
    }
  }
  return gpus;
}
