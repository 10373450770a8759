import { parseNvidiaSmiCsv, queryNvidiaSmi } from './nvidia-smi';

const MiB = 1024 ** 2;

// As printed by nvidia-smi 550 on a mixed host: the second GPU is in MIG mode, where utilisation is not reported.
const SAMPLE = [
  '0, NVIDIA H100 80GB HBM3, GPU-4b9a3f2e-7c1d-5e8f-9a0b-1c2d3e4f5a6b, 81559, 80820, 37, 41',
  '1, NVIDIA A100-SXM4-40GB, GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b, 40960, 40337, [N/A], 33',
  '2, NVIDIA L4, [N/A], 23034, [N/A], [Not Supported], [N/A]',
  '',
].join('\n');

describe('parseNvidiaSmiCsv', () => {
  it('reads each GPU, memory in bytes, unreported fields as null', () => {
    expect(parseNvidiaSmiCsv(SAMPLE)).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-4b9a3f2e-7c1d-5e8f-9a0b-1c2d3e4f5a6b', totalMemoryBytes: 81559 * MiB, freeMemoryBytes: 80820 * MiB, utilizationPercent: 37, temperatureC: 41 },
      { index: 1, name: 'NVIDIA A100-SXM4-40GB', uuid: 'GPU-0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b', totalMemoryBytes: 40960 * MiB, freeMemoryBytes: 40337 * MiB, utilizationPercent: null, temperatureC: 33 },
      { index: 2, name: 'NVIDIA L4', uuid: null, totalMemoryBytes: 23034 * MiB, freeMemoryBytes: null, utilizationPercent: null, temperatureC: null },
    ]);
  });

  it('skips lines that are not GPU rows (CRLF, warnings, a truncated row)', () => {
    const text = 'WARNING: infoROM is corrupted at gpu 0000:01:00.0\r\n0, NVIDIA L4, GPU-1, 23034, 22000, 0, 30\r\n1, NVIDIA L4, GPU-2, 23034\r\n';
    expect(parseNvidiaSmiCsv(text).map((g) => g.uuid)).toEqual(['GPU-1']);
    expect(parseNvidiaSmiCsv('No devices were found\n')).toEqual([]);
  });
});

describe('queryNvidiaSmi', () => {
  it('is null when nvidia-smi is not installed', async () => {
    await expect(queryNvidiaSmi({ command: 'gridline-no-such-nvidia-smi' })).resolves.toBeNull();
  });

  it('is null when the command fails', async () => {
    await expect(queryNvidiaSmi({ command: 'false' })).resolves.toBeNull();
  });
});
