import { INSTANCE_TYPES, findInstanceType } from './instance-types';

const GiB = 1024 ** 3;

describe('INSTANCE_TYPES', () => {
  it('names each type once', () => {
    expect(new Set(INSTANCE_TYPES.map((t) => t.name)).size).toBe(INSTANCE_TYPES.length);
  });

  it.each([
    ['Standard_NC4as_T4_v3', 'azure', 'NVIDIA T4', 1, 16],
    ['Standard_NC64as_T4_v3', 'azure', 'NVIDIA T4', 4, 16],
    ['Standard_NV36ads_A10_v5', 'azure', 'NVIDIA A10', 1, 24],
    ['Standard_NC24ads_A100_v4', 'azure', 'NVIDIA A100 80GB PCIe', 1, 80],
    ['Standard_NC48ads_A100_v4', 'azure', 'NVIDIA A100 80GB PCIe', 2, 80],
    ['Standard_NC96ads_A100_v4', 'azure', 'NVIDIA A100 80GB PCIe', 4, 80],
    ['Standard_ND96asr_v4', 'azure', 'NVIDIA A100 40GB SXM', 8, 40],
    ['Standard_ND96amsr_A100_v4', 'azure', 'NVIDIA A100 80GB SXM', 8, 80],
    ['Standard_NC40ads_H100_v5', 'azure', 'NVIDIA H100 NVL', 1, 94],
    ['Standard_NC80adis_H100_v5', 'azure', 'NVIDIA H100 NVL', 2, 94],
    ['Standard_ND96isr_H100_v5', 'azure', 'NVIDIA H100 80GB SXM', 8, 80],
    ['p4d.24xlarge', 'aws', 'NVIDIA A100 40GB SXM', 8, 40],
    ['p4de.24xlarge', 'aws', 'NVIDIA A100 80GB SXM', 8, 80],
    ['p5.48xlarge', 'aws', 'NVIDIA H100 80GB SXM', 8, 80],
    ['g5.xlarge', 'aws', 'NVIDIA A10G', 1, 24],
    ['g5.48xlarge', 'aws', 'NVIDIA A10G', 8, 24],
    ['g6.12xlarge', 'aws', 'NVIDIA L4', 4, 24],
    ['g6e.48xlarge', 'aws', 'NVIDIA L40S', 8, 48],
    ['a2-highgpu-8g', 'gcp', 'NVIDIA A100 40GB', 8, 40],
    ['a2-ultragpu-8g', 'gcp', 'NVIDIA A100 80GB', 8, 80],
    ['a3-highgpu-8g', 'gcp', 'NVIDIA H100 80GB', 8, 80],
    ['g2-standard-96', 'gcp', 'NVIDIA L4', 8, 24],
  ])('%s: %s, %s × %i, %i GiB each', (name, provider, gpuModel, gpuCount, gib) => {
    expect(findInstanceType(INSTANCE_TYPES, name)).toEqual({ name, provider, gpuModel, gpuCount, gpuMemoryBytes: gib * GiB });
  });

  it('finds nothing for an unknown or differently cased name', () => {
    expect(findInstanceType(INSTANCE_TYPES, 'Standard_NC24ads_A100_v9')).toBeNull();
    expect(findInstanceType(INSTANCE_TYPES, 'P5.48XLARGE')).toBeNull();
  });
});
