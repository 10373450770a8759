import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { GpuDto, TaintDto } from './agent.dto';

export const NODE_STATUSES = ['Pending', 'Ready', 'NotReady', 'Lost', 'Draining', 'Drained', 'Cordoned'] as const;
export type PresentedNodeStatus = (typeof NODE_STATUSES)[number];

export class CreateJoinTokenDto {
  @ApiPropertyOptional({ example: 'rack 4, December' }) @IsOptional() @IsString() @MaxLength(200) description?: string;
  @ApiPropertyOptional({ default: 86400, description: 'Seconds until the token expires (60 s to 30 days)' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(30 * 86400)
  ttlSeconds?: number;
  @ApiPropertyOptional({ default: 1, nullable: true, type: Number, description: 'Joins allowed (1: single use); null for any number until it expires' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100000)
  maxUses?: number | null;
  @ApiPropertyOptional({ default: false, description: 'Approve nodes joining with it at once instead of leaving them Pending' })
  @IsOptional()
  @IsBoolean()
  autoApprove?: boolean;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Labels every node joining with it gets' })
  @IsOptional()
  @IsObject()
  labels?: Record<string, string>;
}

export class JoinTokenDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'gljt_Ab3x', description: 'The first characters of the token, to recognise it' }) prefix!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ nullable: true, type: Number }) maxUses!: number | null;
  @ApiProperty() uses!: number;
  @ApiProperty() autoApprove!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revokedAt!: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked', 'used'] }) state!: 'active' | 'expired' | 'revoked' | 'used';
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class CreatedJoinTokenDto extends JoinTokenDto {
  @ApiProperty({ description: 'The token: shown once, never stored' }) token!: string;
  @ApiProperty({ description: 'What to run on the GPU host' }) installCommand!: string;
}

export class JoinTokenListDto {
  @ApiProperty({ type: [JoinTokenDto] }) items!: JoinTokenDto[];
}

export class UpdateNodeDto {
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Replaces the labels' }) @IsOptional() @IsObject() labels?: Record<string, string>;
  @ApiPropertyOptional({ type: [TaintDto], description: 'Replaces the taints' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => TaintDto)
  taints?: TaintDto[];
}

export class CreateReplicaDto {
  @ApiProperty({ example: 'llama-3.1-8b-q4', description: 'A catalog model with a file the control plane serves' }) @IsString() @MaxLength(128) model!: string;
  @ApiPropertyOptional({ default: 4096 }) @IsOptional() @IsInt() @Min(64) @Max(1_048_576) contextSize?: number;
  @ApiPropertyOptional({ default: 4, description: 'Parallel sequences (the context is shared among them)' }) @IsOptional() @IsInt() @Min(1) @Max(64) parallel?: number;
  @ApiPropertyOptional({ default: 'auto', description: 'Layers on the GPU: a number, auto or max', oneOf: [{ type: 'integer' }, { type: 'string', enum: ['auto', 'max'] }] })
  @IsOptional()
  @Matches(/^(auto|max|\d{1,4})$/, { message: 'must be auto, max or a number of layers' })
  gpuLayers?: string;
  @ApiPropertyOptional({ default: 0, description: 'CPU threads; 0 lets llama.cpp choose' }) @IsOptional() @IsInt() @Min(0) @Max(1024) threads?: number;
}

export class ReplicaMemoryDto {
  @ApiProperty({ nullable: true, type: Number, description: 'What the control plane planned' }) estimateBytes!: number | null;
  @ApiProperty({ description: 'What the load took on the GPUs' }) gpuBytes!: number;
  @ApiProperty({ description: 'What the load took in host memory' }) cpuBytes!: number;
}

export class PullDto {
  @ApiProperty() bytes!: number;
  @ApiProperty() totalBytes!: number;
  @ApiProperty() percent!: number;
  @ApiProperty() bytesPerSecond!: number;
}

export class ReplicaDto {
  @ApiProperty() id!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['local', 'control-plane'] }) origin!: string;
  @ApiProperty({ enum: ['Loaded', 'Unloaded'], description: 'What the control plane wants' }) desired!: string;
  @ApiProperty({ enum: ['Pending', 'Pulling', 'Loading', 'Ready', 'Failed', 'Unloading'], description: 'What the agent last reported (Pending: not reported yet)' }) state!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) settings!: Record<string, unknown> | null;
  @ApiProperty() parallel!: number;
  @ApiProperty() busySequences!: number;
  @ApiProperty() queueDepth!: number;
  @ApiProperty({ nullable: true, type: Number }) tokensPerSecond!: number | null;
  @ApiProperty({ nullable: true, type: Number }) gpuLayers!: number | null;
  @ApiProperty({ nullable: true, type: Number }) totalLayers!: number | null;
  @ApiProperty({ type: [Number] }) gpuIndexes!: number[];
  @ApiProperty({ nullable: true, type: Number, description: 'The runner process serving it' }) pid!: number | null;
  @ApiProperty({ type: ReplicaMemoryDto, nullable: true }) memory!: ReplicaMemoryDto | null;
  @ApiProperty({ type: PullDto, nullable: true }) pull!: PullDto | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'A member of a replica spanning nodes: its group id and role (leader or worker)' }) group?: { id: string; role: 'leader' | 'worker' };
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "A spanning replica's leader: layers llama.cpp put on this node, and on each worker" }) span?: { localLayers: number; workerLayers: number[] };
}

export class NodeInventoryDto {
  @ApiProperty() agentVersion!: string;
  @ApiProperty() backend!: string;
  @ApiProperty({ nullable: true, type: String }) llamaCppVersion!: string | null;
  @ApiProperty() cpuCores!: number;
  @ApiProperty() totalMemoryBytes!: number;
  @ApiProperty() freeMemoryBytes!: number;
  @ApiProperty({ nullable: true, type: Number }) diskFreeBytes!: number | null;
  @ApiProperty({ type: [String] }) capabilities!: string[];
  @ApiProperty() platform!: string;
  @ApiProperty() arch!: string;
  @ApiProperty() queueDepth!: number;
  @ApiProperty({ nullable: true, type: Number }) tokensPerSecond!: number | null;
}

export class RunningJobViewDto {
  @ApiProperty({ format: 'uuid' }) jobId!: string;
  @ApiProperty() attempt!: number;
  @ApiPropertyOptional() replicaId?: string;
}

export class NodeDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: NODE_STATUSES }) status!: PresentedNodeStatus;
  @ApiProperty({ nullable: true, type: String, example: 'no heartbeat for 21 s' }) reason!: string | null;
  @ApiProperty() approved!: boolean;
  @ApiProperty() cordoned!: boolean;
  @ApiProperty() draining!: boolean;
  @ApiProperty() revoked!: boolean;
  @ApiProperty({ description: 'Whether new jobs and replicas may go to the node now' }) schedulable!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) labels!: Record<string, string>;
  @ApiProperty({ type: [TaintDto] }) taints!: TaintDto[];
  @ApiProperty({ type: [GpuDto] }) gpus!: GpuDto[];
  @ApiProperty({ type: NodeInventoryDto }) inventory!: NodeInventoryDto;
  @ApiProperty({ type: [ReplicaDto] }) replicas!: ReplicaDto[];
  @ApiProperty({ type: [RunningJobViewDto], description: 'Jobs in flight on the node, as its last heartbeat listed them' }) runningJobs!: RunningJobViewDto[];
  @ApiProperty({ format: 'date-time' }) lastHeartbeatAt!: string;
  @ApiProperty({ format: 'date-time' }) registeredAt!: string;
}

export class NodeListDto {
  @ApiProperty({ type: [NodeDto] }) items!: NodeDto[];
}

export class ModelLoadDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty({ nullable: true, type: String }) replicaId!: string | null;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['loaded', 'failed'] }) outcome!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Memory the control plane planned' }) estimateBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Memory the load took on the GPUs' }) gpuBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Memory the load took in host memory' }) cpuBytes!: number | null;
  @ApiProperty({ nullable: true, type: Number }) gpuLayers!: number | null;
  @ApiProperty({ nullable: true, type: Number }) loadMs!: number | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class LoadsQueryDto {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() nodeId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(128) model?: string;
}

export class ModelLoadListDto {
  @ApiProperty({ type: [ModelLoadDto] }) items!: ModelLoadDto[];
}
