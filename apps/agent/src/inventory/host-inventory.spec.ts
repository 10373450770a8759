import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { hostInventory, parseMemAvailable } from './host-inventory';

describe('parseMemAvailable', () => {
  it('reads MemAvailable in bytes', () => {
    const meminfo = 'MemTotal:       65843092 kB\nMemFree:         1203456 kB\nMemAvailable:   40187904 kB\nBuffers:          523412 kB\n';
    expect(parseMemAvailable(meminfo)).toBe(40187904 * 1024);
  });

  it('is null on kernels without it', () => {
    expect(parseMemAvailable('MemTotal:       65843092 kB\nMemFree:         1203456 kB\n')).toBeNull();
  });
});

describe('hostInventory', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gridline-inventory-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports this host', async () => {
    const inv = await hostInventory(dir);
    expect(inv).toMatchObject({ cpuCores: availableParallelism(), totalMemoryBytes: totalmem(), platform: process.platform, arch: process.arch });
    expect(inv.freeMemoryBytes).toBeGreaterThan(0);
    expect(inv.freeMemoryBytes).toBeLessThanOrEqual(inv.totalMemoryBytes);
    expect(inv.diskFreeBytes).toBeGreaterThan(0);
  });

  it('measures a store that does not exist yet on its parent, creating nothing', async () => {
    const store = join(dir, 'not', 'yet');
    expect((await hostInventory(store)).diskFreeBytes).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'not'))).toBe(false);
  });
});
