import { placeOnSimulatedGpus } from './replica';

const GiB = 1024 ** 3;
const gpus = [0, 1].map((index) => ({ index, name: 'H100', vendor: 'nvidia', totalMemoryBytes: 80 * GiB, freeMemoryBytes: 80 * GiB, simulated: true }));

describe('placeOnSimulatedGpus', () => {
  it('puts a replica on the first GPU with room', () => {
    expect(placeOnSimulatedGpus(gpus, () => 0, 10 * GiB)).toEqual(new Map([[0, 10 * GiB]]));
    expect(placeOnSimulatedGpus(gpus, (i) => (i === 0 ? 75 * GiB : 0), 10 * GiB)).toEqual(new Map([[1, 10 * GiB]]));
  });

  it('spreads one that no single GPU holds over the free memory of several, in order', () => {
    expect(placeOnSimulatedGpus(gpus, (i) => (i === 0 ? 20 * GiB : 0), 100 * GiB)).toEqual(new Map([[0, 60 * GiB], [1, 40 * GiB]]));
  });

  it('refuses what the node cannot hold, even at equality plus one byte', () => {
    expect(placeOnSimulatedGpus(gpus, () => 0, 160 * GiB)).not.toBeNull();
    expect(placeOnSimulatedGpus(gpus, () => 0, 160 * GiB + 1)).toBeNull();
  });
});
