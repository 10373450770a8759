/** Cloud GPU instance types: what a node of that type brings, as the providers publish it. */
export type CloudProvider = 'azure' | 'aws' | 'gcp';

export interface InstanceType {
  name: string;
  provider: CloudProvider;
  gpuModel: string;
  gpuCount: number;
  /** Memory of one GPU in bytes, the nominal figure (80 GB A100 = 80 GiB); the driver reports slightly less usable memory. */
  gpuMemoryBytes: number;
}

const GiB = 1024 ** 3;

/** One row per size of a family that shares the GPU model and memory. */
const family = (provider: CloudProvider, gpuModel: string, gpuGiB: number, sizes: Record<string, number>): InstanceType[] =>
  Object.entries(sizes).map(([name, gpuCount]) => ({ name, provider, gpuModel, gpuCount, gpuMemoryBytes: gpuGiB * GiB }));

/**
 * Whole-GPU instance types of Azure, AWS and GCP, from the providers' size pages. Fractional-GPU
 * sizes (Azure NVadsA10 v5 below NV36ads, NC A10 v4 partitions) are left out: a plan counts whole
 * GPUs. A node's reported inventory wins over this table; the table serves planning before a node
 * of the type exists. Served as GET /api/v1/instance-types.
 */
export const INSTANCE_TYPES: readonly InstanceType[] = [
  // Azure
  ...family('azure', 'NVIDIA T4', 16, { Standard_NC4as_T4_v3: 1, Standard_NC8as_T4_v3: 1, Standard_NC16as_T4_v3: 1, Standard_NC64as_T4_v3: 4 }),
  ...family('azure', 'NVIDIA A10', 24, { Standard_NV36ads_A10_v5: 1, Standard_NV72ads_A10_v5: 2 }),
  ...family('azure', 'NVIDIA A100 80GB PCIe', 80, { Standard_NC24ads_A100_v4: 1, Standard_NC48ads_A100_v4: 2, Standard_NC96ads_A100_v4: 4 }),
  ...family('azure', 'NVIDIA A100 40GB SXM', 40, { Standard_ND96asr_v4: 8 }),
  ...family('azure', 'NVIDIA A100 80GB SXM', 80, { Standard_ND96amsr_A100_v4: 8 }),
  ...family('azure', 'NVIDIA H100 NVL', 94, { Standard_NC40ads_H100_v5: 1, Standard_NC80adis_H100_v5: 2 }),
  ...family('azure', 'NVIDIA H100 80GB SXM', 80, { Standard_ND96isr_H100_v5: 8 }),
  // AWS
  ...family('aws', 'NVIDIA A100 40GB SXM', 40, { 'p4d.24xlarge': 8 }),
  ...family('aws', 'NVIDIA A100 80GB SXM', 80, { 'p4de.24xlarge': 8 }),
  ...family('aws', 'NVIDIA H100 80GB SXM', 80, { 'p5.48xlarge': 8 }),
  ...family('aws', 'NVIDIA A10G', 24, {
    'g5.xlarge': 1, 'g5.2xlarge': 1, 'g5.4xlarge': 1, 'g5.8xlarge': 1, 'g5.16xlarge': 1, 'g5.12xlarge': 4, 'g5.24xlarge': 4, 'g5.48xlarge': 8,
  }),
  ...family('aws', 'NVIDIA L4', 24, {
    'g6.xlarge': 1, 'g6.2xlarge': 1, 'g6.4xlarge': 1, 'g6.8xlarge': 1, 'g6.16xlarge': 1, 'g6.12xlarge': 4, 'g6.24xlarge': 4, 'g6.48xlarge': 8,
  }),
  ...family('aws', 'NVIDIA L40S', 48, {
    'g6e.xlarge': 1, 'g6e.2xlarge': 1, 'g6e.4xlarge': 1, 'g6e.8xlarge': 1, 'g6e.16xlarge': 1, 'g6e.12xlarge': 4, 'g6e.24xlarge': 4, 'g6e.48xlarge': 8,
  }),
  // GCP
  ...family('gcp', 'NVIDIA A100 40GB', 40, { 'a2-highgpu-1g': 1, 'a2-highgpu-2g': 2, 'a2-highgpu-4g': 4, 'a2-highgpu-8g': 8, 'a2-megagpu-16g': 16 }),
  ...family('gcp', 'NVIDIA A100 80GB', 80, { 'a2-ultragpu-1g': 1, 'a2-ultragpu-2g': 2, 'a2-ultragpu-4g': 4, 'a2-ultragpu-8g': 8 }),
  ...family('gcp', 'NVIDIA H100 80GB', 80, { 'a3-highgpu-1g': 1, 'a3-highgpu-2g': 2, 'a3-highgpu-4g': 4, 'a3-highgpu-8g': 8, 'a3-megagpu-8g': 8 }),
  ...family('gcp', 'NVIDIA L4', 24, {
    'g2-standard-4': 1, 'g2-standard-8': 1, 'g2-standard-12': 1, 'g2-standard-16': 1, 'g2-standard-32': 1, 'g2-standard-24': 2, 'g2-standard-48': 4, 'g2-standard-96': 8,
  }),
];

/** The instance type of that exact name (names are case-sensitive, as the providers spell them), or null. */
export function findInstanceType(table: readonly InstanceType[], name: string): InstanceType | null {
  return table.find((t) => t.name === name) ?? null;
}
