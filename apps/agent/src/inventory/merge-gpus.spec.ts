import type { RunnerGpuInfo } from '@gridline/runtime';
import { mergeGpus } from './merge-gpus';
import { NvidiaSmiGpu, parseNvidiaSmiCsv } from './nvidia-smi';
import { parseSimulatedGpus } from './simulated-gpus';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

const smi: NvidiaSmiGpu[] = parseNvidiaSmiCsv(
  '0, NVIDIA H100 80GB HBM3, GPU-aaaa, 81559, 60000, 87, 64\n1, NVIDIA H100 80GB HBM3, GPU-bbbb, 81559, [N/A], 0, 35\n',
);
const cuda: RunnerGpuInfo = { backend: 'cuda', deviceNames: ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3'], vramTotalBytes: 160 * GiB, vramFreeBytes: 150 * GiB };

describe('mergeGpus', () => {
  it('a CPU-only host reports no GPUs', () => {
    expect(mergeGpus({ llama: { backend: 'cpu', deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 }, nvidiaSmi: null })).toEqual([]);
    expect(mergeGpus({ llama: null, nvidiaSmi: null })).toEqual([]);
  });

  it('nvidia-smi wins for per-GPU memory, uuid, utilisation and temperature; llama.cpp fills memory it leaves out', () => {
    expect(mergeGpus({ llama: cuda, nvidiaSmi: smi })).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', vendor: 'nvidia', uuid: 'GPU-aaaa', totalMemoryBytes: 81559 * MiB, freeMemoryBytes: 60000 * MiB, utilizationPercent: 87, temperatureC: 64 },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', vendor: 'nvidia', uuid: 'GPU-bbbb', totalMemoryBytes: 81559 * MiB, freeMemoryBytes: 75 * GiB, utilizationPercent: 0, temperatureC: 35 },
    ]);
  });

  it('keeps only the GPUs llama.cpp sees when CUDA_VISIBLE_DEVICES hides some', () => {
    const rows = parseNvidiaSmiCsv('0, NVIDIA L4, GPU-0, 23034, 23000, 0, 30\n1, NVIDIA A100-SXM4-40GB, GPU-1, 40960, 40000, 0, 30\n');
    const llama: RunnerGpuInfo = { backend: 'cuda', deviceNames: ['NVIDIA A100-SXM4-40GB'], vramTotalBytes: 40 * GiB, vramFreeBytes: 39 * GiB };
    expect(mergeGpus({ llama, nvidiaSmi: rows }).map((g) => g.uuid)).toEqual(['GPU-1']);
  });

  it('reports a GPU llama.cpp cannot use as no GPU', () => {
    expect(mergeGpus({ llama: { backend: 'cpu', deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 }, nvidiaSmi: smi })).toEqual([]);
  });

  it('without nvidia-smi, shares llama.cpp\'s summed VRAM out over its devices', () => {
    const vulkan: RunnerGpuInfo = { backend: 'vulkan', deviceNames: ['AMD Radeon RX 7900 XTX', 'AMD Radeon RX 7900 XTX'], vramTotalBytes: 48 * GiB, vramFreeBytes: 40 * GiB };
    expect(mergeGpus({ llama: vulkan, nvidiaSmi: null })).toEqual([0, 1].map((index) => ({
      index, name: 'AMD Radeon RX 7900 XTX', vendor: 'amd', uuid: null, totalMemoryBytes: 24 * GiB, freeMemoryBytes: 20 * GiB, utilizationPercent: null, temperatureC: null,
    })));
    const metal: RunnerGpuInfo = { backend: 'metal', deviceNames: ['Apple M2 Max'], vramTotalBytes: 32 * GiB, vramFreeBytes: 30 * GiB };
    expect(mergeGpus({ llama: metal, nvidiaSmi: [] })).toEqual([expect.objectContaining({ name: 'Apple M2 Max', vendor: 'apple', totalMemoryBytes: 32 * GiB })]);
  });

  it('simulated GPUs, when configured, replace what the host has; their free memory is total minus what replicas hold', () => {
    const simulated = parseSimulatedGpus('2xH100-80GB', 'sim-1');
    const gpus = mergeGpus({ llama: { backend: 'cpu', deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 }, nvidiaSmi: smi, simulated, allocatedBytes: [30 * GiB, 100 * GiB] });
    expect(gpus.map((g) => [g.uuid, g.totalMemoryBytes, g.freeMemoryBytes, g.simulated])).toEqual([
      ['GPU-sim-sim-1-0', 80 * GiB, 50 * GiB, true],
      ['GPU-sim-sim-1-1', 80 * GiB, 0, true],
    ]);
    expect(mergeGpus({ llama: null, nvidiaSmi: null, simulated }).map((g) => g.freeMemoryBytes)).toEqual([80 * GiB, 80 * GiB]);
  });
});
