import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import type { LoadReport, NodeInventory, ReplicaReport, ReplicaSpec } from '@gridline/scheduling';
import type { NodeGpu, RunningJob } from '@gridline/contract';

export const NODE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export class GpuDto implements NodeGpu {
  @ApiProperty() @IsInt() @Min(0) index!: number;
  @ApiProperty() @IsString() @MaxLength(200) name!: string;
  @ApiProperty() @IsString() @MaxLength(40) vendor!: string;
  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(100) uuid?: string | null;
  @ApiProperty() @IsNumber() @Min(0) totalMemoryBytes!: number;
  @ApiProperty() @IsNumber() @Min(0) freeMemoryBytes!: number;
  @ApiPropertyOptional({ nullable: true, type: Number }) @IsOptional() @IsNumber() utilizationPercent?: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) @IsOptional() @IsNumber() temperatureC?: number | null;
  @ApiPropertyOptional({ description: 'A GPU the agent pretends to have (GRIDLINE_SIMULATE_GPUS): memory is accounted, models run on the CPU' })
  @IsOptional()
  @IsBoolean()
  simulated?: boolean;
}

export class RpcEndpointDto {
  @ApiProperty({ example: '10.0.0.12' }) @IsString() @MaxLength(253) @Matches(/^[A-Za-z0-9.:_-]+$/, { message: 'must be a host name or an IP address' }) address!: string;
  @ApiProperty({ type: [Number], example: [7400, 7499], description: 'First and last port the control plane may assign' })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(65535, { each: true })
  ports!: [number, number];
}

export class InventoryDto implements NodeInventory {
  @ApiProperty() @IsString() @MaxLength(40) agentVersion!: string;
  @ApiProperty({ example: 'cuda' }) @IsString() @MaxLength(20) backend!: string;
  @ApiProperty({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(80) llamaCppVersion!: string | null;
  @ApiProperty({ type: [GpuDto] }) @IsArray() @ArrayMaxSize(64) @ValidateNested({ each: true }) @Type(() => GpuDto) gpus!: GpuDto[];
  @ApiProperty() @IsInt() @Min(0) cpuCores!: number;
  @ApiProperty() @IsNumber() @Min(0) totalMemoryBytes!: number;
  @ApiProperty() @IsNumber() @Min(0) freeMemoryBytes!: number;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsNumber() diskFreeBytes!: number | null;
  @ApiProperty({ type: [String] }) @IsArray() @ArrayMaxSize(32) @IsString({ each: true }) capabilities!: string[];
  @ApiPropertyOptional({ type: [String], description: 'sha256 of the complete model files in the node store' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @Matches(/^[0-9a-f]{64}$/, { each: true, message: 'each must be a lower-case hex sha256' })
  storedModels?: string[];
  @ApiPropertyOptional({ type: () => RpcEndpointDto, description: 'Where the node\'s replica-group tunnels listen (nodes that can run spanning replicas)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => RpcEndpointDto)
  rpc?: RpcEndpointDto;
  @ApiProperty() @IsString() @MaxLength(40) platform!: string;
  @ApiProperty() @IsString() @MaxLength(40) arch!: string;
}

export class TaintDto {
  @ApiProperty() @IsString() @MaxLength(253) key!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(63) value?: string;
  @ApiProperty({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }) @IsIn(['NoSchedule', 'PreferNoSchedule', 'NoExecute']) effect!: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export class JoinDto {
  @ApiProperty({ description: 'The join token an admin created' }) @IsString() @MaxLength(200) token!: string;
  @ApiProperty({ example: 'gpu-01' }) @Matches(NODE_NAME_PATTERN, { message: 'must be 1-63 letters, digits, . _ -, starting with a letter or digit' }) nodeName!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) @IsObject() labels!: Record<string, string>;
  @ApiProperty({ type: [TaintDto] }) @IsArray() @ArrayMaxSize(32) @ValidateNested({ each: true }) @Type(() => TaintDto) taints!: TaintDto[];
  @ApiProperty({ type: InventoryDto }) @ValidateNested() @Type(() => InventoryDto) inventory!: InventoryDto;
}

export class JoinReplyDto {
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty({ description: 'The node credential: signs every later request; shown once' }) accessKey!: string;
  @ApiProperty() secretKey!: string;
  @ApiProperty({ example: 'Pending' }) status!: string;
  @ApiProperty() heartbeatIntervalSeconds!: number;
}

export class RunningJobDto implements RunningJob {
  @ApiProperty({ format: 'uuid' }) @IsUUID() jobId!: string;
  @ApiProperty() @IsInt() @Min(1) attempt!: number;
  @ApiPropertyOptional({ description: 'The replica running it' }) @IsOptional() @IsString() @MaxLength(64) replicaId?: string;
}

const REPLICA_STATES = ['Pulling', 'Loading', 'Ready', 'Failed', 'Unloading'] as const;

export class ReplicaReportDto implements ReplicaReport {
  @ApiProperty() @IsString() @MaxLength(64) id!: string;
  @ApiProperty() @IsString() @MaxLength(128) model!: string;
  @ApiProperty({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(64) sha256!: string | null;
  @ApiProperty({ enum: ['local', 'control-plane'] }) @IsIn(['local', 'control-plane']) origin!: 'local' | 'control-plane';
  @ApiProperty({ enum: REPLICA_STATES }) @IsIn(REPLICA_STATES) state!: (typeof REPLICA_STATES)[number];
  @ApiProperty({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(1000) reason!: string | null;
  @ApiProperty() @IsInt() @Min(0) parallel!: number;
  @ApiProperty() @IsInt() @Min(0) busySequences!: number;
  @ApiProperty() @IsInt() @Min(0) queueDepth!: number;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsNumber() tokensPerSecond!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsInt() gpuLayers!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsInt() totalLayers!: number | null;
  @ApiProperty({ type: [Number] }) @IsArray() @ArrayMaxSize(64) @IsInt({ each: true }) gpuIndexes!: number[];
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsInt() pid!: number | null;
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true }) @IsOptional() @IsObject() memory!: ReplicaReport['memory'];
  @ApiProperty({ nullable: true, type: 'object', additionalProperties: true }) @IsOptional() @IsObject() pull!: ReplicaReport['pull'];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) @IsOptional() @IsObject() announcement?: ReplicaReport['announcement'];
  @ApiPropertyOptional({ description: 'Failed while serving: the agent starts it again after a pause' }) @IsOptional() @IsBoolean() restarting?: boolean;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A member of a spanning replica: its group and role' }) @IsOptional() @IsObject() group?: ReplicaReport['group'];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A leader\'s load: layers on this node and on each worker' }) @IsOptional() @IsObject() span?: ReplicaReport['span'];
}

export class LoadReportDto implements LoadReport {
  @ApiProperty({ format: 'uuid' }) @IsUUID() loadId!: string;
  @ApiProperty({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(64) replicaId!: string | null;
  @ApiProperty() @IsString() @MaxLength(128) model!: string;
  @ApiProperty({ enum: ['loaded', 'failed'] }) @IsIn(['loaded', 'failed']) outcome!: 'loaded' | 'failed';
  @ApiProperty({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(1000) reason!: string | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsNumber() estimateBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsNumber() gpuBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsNumber() cpuBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsInt() gpuLayers!: number | null;
  @ApiProperty({ nullable: true, type: Number }) @IsOptional() @IsInt() loadMs!: number | null;
}

export class HeartbeatDto {
  @ApiProperty({ format: 'uuid', description: 'Must be the node the credential belongs to' }) @IsUUID() nodeId!: string;
  @ApiProperty({ type: InventoryDto }) @ValidateNested() @Type(() => InventoryDto) inventory!: InventoryDto;
  @ApiProperty({ type: [ReplicaReportDto] }) @IsArray() @ArrayMaxSize(64) @ValidateNested({ each: true }) @Type(() => ReplicaReportDto) replicas!: ReplicaReportDto[];
  @ApiProperty({ type: [RunningJobDto] }) @IsArray() @ArrayMaxSize(1000) @ValidateNested({ each: true }) @Type(() => RunningJobDto) runningJobs!: RunningJobDto[];
  @ApiProperty({ type: [LoadReportDto] }) @IsArray() @ArrayMaxSize(100) @ValidateNested({ each: true }) @Type(() => LoadReportDto) loads!: LoadReportDto[];
  @ApiProperty() @IsBoolean() shuttingDown!: boolean;
}

export class ReplicaSpecDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ format: 'uuid' }) modelId!: string;
  @ApiProperty() sha256!: string;
  @ApiProperty() sizeBytes!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) settings!: { contextSize: number; parallel: number; gpuLayers: number | 'auto' | 'max'; threads: number };
  @ApiProperty({ nullable: true, type: Number }) estimateBytes!: number | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Its part in a replica spanning nodes' }) group?: ReplicaSpec['group'];
}

export class HeartbeatReplyDto {
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty() status!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty() heartbeatIntervalSeconds!: number;
  @ApiProperty() schedulable!: boolean;
  @ApiProperty({ type: [ReplicaSpecDto] }) replicas!: ReplicaSpecDto[];
}
