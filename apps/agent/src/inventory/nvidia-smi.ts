import { execFile } from 'node:child_process';

/** One GPU as nvidia-smi reports it; a field it reports as `[N/A]` (or not at all) is null. */
export interface NvidiaSmiGpu {
  index: number;
  name: string;
  uuid: string | null;
  totalMemoryBytes: number | null;
  freeMemoryBytes: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
}

export const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,name,uuid,memory.total,memory.free,utilization.gpu,temperature.gpu',
  '--format=csv,noheader,nounits',
] as const;

const MiB = 1024 ** 2;

const numberOrNull = (field: string): number | null => {
  const n = Number(field);
  return field !== '' && Number.isFinite(n) ? n : null;
};
const textOrNull = (field: string): string | null => (field === '' || /^\[.*\]$/.test(field) ? null : field);

/**
 * Rows of `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` (memory in MiB). Lines that are not a GPU
 * row (a warning, a truncated line) are skipped; `[N/A]`, `[Not Supported]` and the like become null.
 */
export function parseNvidiaSmiCsv(text: string): NvidiaSmiGpu[] {
  const gpus: NvidiaSmiGpu[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length !== 7 || !/^\d+$/.test(fields[0]) || !fields[1]) continue;
    const [index, name, uuid, total, free, utilization, temperature] = fields;
    const mib = (f: string) => {
      const n = numberOrNull(f);
      return n === null ? null : n * MiB;
    };
    gpus.push({
      index: Number(index),
      name,
      uuid: textOrNull(uuid),
      totalMemoryBytes: mib(total),
      freeMemoryBytes: mib(free),
      utilizationPercent: numberOrNull(utilization),
      temperatureC: numberOrNull(temperature),
    });
  }
  return gpus;
}

/** The host's NVIDIA GPUs per nvidia-smi, or null when nvidia-smi is missing, fails or hangs past the timeout. */
export function queryNvidiaSmi(options: { command?: string; timeoutMs?: number } = {}): Promise<NvidiaSmiGpu[] | null> {
  return new Promise((resolve) => {
    execFile(options.command ?? 'nvidia-smi', NVIDIA_SMI_ARGS, { timeout: options.timeoutMs ?? 5000, maxBuffer: 1024 * 1024, windowsHide: true }, (error, stdout) => {
      resolve(error ? null : parseNvidiaSmiCsv(stdout));
    });
  });
}
