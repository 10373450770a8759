import { ApiProperty } from '@nestjs/swagger';

export class InstanceTypeDto {
  @ApiProperty({ example: 'Standard_NC24ads_A100_v4' }) name!: string;
  @ApiProperty({ enum: ['azure', 'aws', 'gcp'] }) provider!: string;
  @ApiProperty({ example: 'NVIDIA A100 80GB PCIe' }) gpuModel!: string;
  @ApiProperty({ example: 1 }) gpuCount!: number;
  @ApiProperty({ description: 'Memory of one GPU, in bytes (the vendor\'s nominal figure)' }) gpuMemoryBytes!: number;
}

export class InstanceTypeListDto {
  @ApiProperty({ type: [InstanceTypeDto] }) items!: InstanceTypeDto[];
}
