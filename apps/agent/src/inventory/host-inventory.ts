import { readFile, statfs } from 'node:fs/promises';
import { arch, availableParallelism, freemem, platform, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface HostInventory {
  cpuCores: number;
  totalMemoryBytes: number;
  /** What new work can use: MemAvailable on Linux (page cache counts as free), os.freemem() elsewhere. */
  freeMemoryBytes: number;
  /** Free space for an unprivileged user on the model store's file system; null when it cannot be read. */
  diskFreeBytes: number | null;
  platform: NodeJS.Platform;
  arch: string;
}

/** MemAvailable from /proc/meminfo in bytes, or null when the text has none. */
export function parseMemAvailable(meminfo: string): number | null {
  const m = /^MemAvailable:\s+(\d+)\s*kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : null;
}

async function availableMemory(): Promise<number> {
  if (platform() === 'linux') {
    const fromProc = parseMemAvailable(await readFile('/proc/meminfo', 'utf8').catch(() => ''));
    if (fromProc !== null) return fromProc;
  }
  return freemem();
}

/** Free bytes on the file system that holds `dir`, or, before the store exists, its nearest existing parent. Creates nothing. */
async function diskFree(dir: string): Promise<number | null> {
  for (let path = resolve(dir); ; path = dirname(path)) {
    try {
      const s = await statfs(path);
      return s.bavail * s.bsize;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(path) === path) return null;
    }
  }
}

/** CPU, memory and disk of this host, for the agent's heartbeat. */
export async function hostInventory(storeDir: string): Promise<HostInventory> {
  const [freeMemoryBytes, diskFreeBytes] = await Promise.all([availableMemory(), diskFree(storeDir)]);
  return { cpuCores: availableParallelism(), totalMemoryBytes: totalmem(), freeMemoryBytes, diskFreeBytes, platform: platform(), arch: arch() };
}
