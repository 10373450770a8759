import { SimulatedGpuSpecError, parseSimulatedGpus } from './simulated-gpus';

const GiB = 1024 ** 3;

describe('parseSimulatedGpus', () => {
  it('reads counted items, numbering GPUs across items, all memory free', () => {
    const gpus = parseSimulatedGpus('1xL4-24GB, 2xA100-40GB', 'node-a');
    expect(gpus).toEqual([
      { index: 0, name: 'NVIDIA L4 24GB (simulated)', vendor: 'nvidia', uuid: 'GPU-sim-node-a-0', totalMemoryBytes: 24 * GiB, freeMemoryBytes: 24 * GiB, utilizationPercent: null, temperatureC: null, simulated: true },
      { index: 1, name: 'NVIDIA A100 40GB (simulated)', vendor: 'nvidia', uuid: 'GPU-sim-node-a-1', totalMemoryBytes: 40 * GiB, freeMemoryBytes: 40 * GiB, utilizationPercent: null, temperatureC: null, simulated: true },
      expect.objectContaining({ index: 2, name: 'NVIDIA A100 40GB (simulated)', uuid: 'GPU-sim-node-a-2' }),
    ]);
  });

  it('counts one GPU when the count is left out, and has no uuid without a node name', () => {
    expect(parseSimulatedGpus('H100-80GB')).toEqual([expect.objectContaining({ index: 0, name: 'NVIDIA H100 80GB (simulated)', uuid: null, totalMemoryBytes: 80 * GiB })]);
  });

  it('names vendors it knows, and others as unknown', () => {
    expect(parseSimulatedGpus('RTX-4090-24GB,MI300X-192GB,Gaudi3-128GB').map((g) => [g.name, g.vendor])).toEqual([
      ['NVIDIA RTX 4090 24GB (simulated)', 'nvidia'],
      ['AMD MI300X 192GB (simulated)', 'amd'],
      ['Gaudi3 128GB (simulated)', 'unknown'],
    ]);
  });

  it('accepts fractional sizes', () => {
    expect(parseSimulatedGpus('2xT4-7.5GB')[1].totalMemoryBytes).toBe(7.5 * GiB);
  });

  it.each([
    ['', 'expected e.g. 2xH100-80GB'],
    ['H100', 'simulated GPUs "H100": expected [<count>x]<model>-<memory>GB'],
    ['2xH100-80TB', 'simulated GPUs "2xH100-80TB": expected'],
    ['0xH100-80GB', 'simulated GPUs "0xH100-80GB": the count must be 1-16'],
    ['17xH100-80GB', 'the count must be 1-16'],
    ['L4-24GB,2xA100-0GB', 'simulated GPUs "2xA100-0GB": the memory must be more than 0'],
    ['H100-2000GB', 'at most 1024GB'],
    ['16xH100-80GB,16xH100-80GB,16xH100-80GB,16xH100-80GB,L4-24GB', 'simulated GPUs "L4-24GB": at most 64 simulated GPUs in all'],
  ])('refuses %j, naming the bad item', (spec, message) => {
    let error: unknown;
    try {
      parseSimulatedGpus(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimulatedGpuSpecError);
    expect((error as SimulatedGpuSpecError).code).toBe('invalid_simulated_gpus');
    expect((error as Error).message).toContain(message);
  });
});
