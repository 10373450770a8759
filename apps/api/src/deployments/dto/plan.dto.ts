import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageOf } from '../../common/dto/page.dto';
import { MemoryBreakdownDto } from '../../models/dto/requirements.dto';

export class PlanRuleDto {
  @ApiProperty({ example: 'capacity' }) rule!: string;
  @ApiProperty() passed!: boolean;
  @ApiProperty({ enum: ['plan', 'apply'], description: '`plan`: its failure makes the request infeasible; `apply`: the plan stands but cannot be applied yet' }) blocks!: string;
  @ApiProperty({ example: 'insufficient GPU memory: needs 142.0 GiB, 2 nodes × 2 GPUs × 48 GiB = 192 GiB, 60.5 GiB already allocated' }) message!: string;
}

export class PlannedGpuDto {
  @ApiProperty() index!: number;
  @ApiProperty({ type: [Number], nullable: true, description: 'First and last layer on this GPU; null: only the fixed part' }) layers!: number[] | null;
  @ApiProperty() bytes!: number;
}

export class PlannedNodeDto {
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: [PlannedGpuDto] }) gpus!: PlannedGpuDto[];
}

export class PlannedReplicaDto {
  @ApiProperty({ type: [PlannedNodeDto] }) nodes!: PlannedNodeDto[];
}

/** The owner team's GPU quota and what its stored deployments already hold (their planned GPU shares). */
export class PlanQuotaDto {
  @ApiProperty({ type: Number, nullable: true, description: 'GPUs the team may hold; null: no limit' }) gpus!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'GPU bytes the team may hold; null: no limit' }) gpuMemoryBytes!: number | null;
  @ApiProperty({ description: "Distinct GPUs the team's other deployments are planned on" }) usedGpus!: number;
  @ApiProperty({ description: "GPU bytes the team's other deployments are planned to hold" }) usedGpuMemoryBytes!: number;
}

/** A deployment plan: what goes where, every rule with its verdict, and the configuration as YAML. */
export class DeploymentPlanDto {
  @ApiProperty({ description: 'Every rule that decides feasibility passed' }) feasible!: boolean;
  @ApiProperty({ description: 'Feasible, and nothing keeps it from being applied' }) applicable!: boolean;
  @ApiProperty() targetNodeCount!: number;
  @ApiProperty({ type: [String] }) reasons!: string[];
  @ApiProperty({ type: [PlanRuleDto] }) rules!: PlanRuleDto[];
  @ApiProperty({ type: [PlannedReplicaDto] }) replicas!: PlannedReplicaDto[];
  @ApiProperty({ type: MemoryBreakdownDto }) memory!: MemoryBreakdownDto;
  @ApiProperty({ type: PlanQuotaDto, description: "The owner team's quota and use before this deployment (the quota rules check this plan against it)" }) quota!: PlanQuotaDto;
  @ApiProperty({ description: 'The deployment as it would be stored, for a person to review' }) yaml!: string;
}

export class DeploymentConditionDto {
  @ApiProperty({ enum: ['Pending', 'Placed', 'Loading', 'Ready', 'Degraded', 'Failed'] }) type!: string;
  @ApiProperty() status!: boolean;
  @ApiProperty() reason!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
}

export class DeploymentEventDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'Placed', description: 'Placed, Unschedulable, ReplicaLost, LoadFailed, MemberReplaced, Evicted, IdleUnloaded, ScaledDown, ScaledUp, Unloaded' }) reason!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ format: 'uuid' }) replicaId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) nodeId?: string;
}

export class DeploymentMemberDto {
  @ApiProperty({ format: 'uuid' }) replicaId!: string;
  @ApiProperty({ enum: ['leader', 'worker'], description: 'The leader loads the model and serves its jobs; a worker holds layers on its devices through llama.cpp RPC' }) role!: 'leader' | 'worker';
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty() nodeName!: string;
  @ApiProperty({ type: [Number], example: [0, 15], description: 'First and last layer on this node' }) layers!: [number, number];
  @ApiProperty({ nullable: true, type: Number, description: 'GPU memory planned on this node' }) bytes!: number | null;
  @ApiProperty({ example: 'Ready' }) state!: string;
}

export class DeploymentReplicaStatusDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) nodeId!: string;
  @ApiProperty() nodeName!: string;
  @ApiProperty({ example: 'Ready', description: 'Placed (not reported yet), Pulling, Loading, Ready, Failed, Unloading, Degraded (spanning: a member lost, being replaced), or Lost (its node is)' }) state!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiPropertyOptional({ type: [DeploymentMemberDto], description: 'A replica spanning nodes: its leader and workers, with the layers and memory on each' }) members?: DeploymentMemberDto[];
}

export class DeploymentStatusDto {
  @ApiProperty() readyReplicas!: number;
  @ApiProperty({ description: 'Replicas wanted now: `replicas`, or for on-demand deployments what the load asks (at least `minReplicas`)' }) desiredReplicas!: number;
  @ApiProperty({ type: [DeploymentReplicaStatusDto] }) replicas!: DeploymentReplicaStatusDto[];
  @ApiProperty({ format: 'date-time' }) observedAt!: string;
}

export class DeploymentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) teamId!: string;
  @ApiProperty() model!: string;
  @ApiProperty() replicas!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'null: all `replicas` stay loaded' }) minReplicas!: number | null;
  @ApiProperty() idleSeconds!: number;
  @ApiProperty() pinned!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true }) runtime!: Record<string, unknown>;
  @ApiProperty({ enum: ['binpack', 'spread'] }) placement!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) resource!: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) tolerations!: Record<string, unknown>[];
  @ApiProperty({ enum: ['Pending', 'Placed', 'Loading', 'Ready', 'Degraded', 'Failed'] }) phase!: string;
  @ApiProperty({ type: [DeploymentConditionDto] }) conditions!: DeploymentConditionDto[];
  @ApiProperty({ description: 'Replicas serving now' }) readyReplicas!: number;
  @ApiProperty({ type: DeploymentStatusDto, nullable: true, description: "The scheduler's latest observation; null until it has looked" }) status!: DeploymentStatusDto | null;
  @ApiProperty({ type: [DeploymentEventDto], description: "The scheduler's recent decisions and why, oldest first" }) events!: DeploymentEventDto[];
  @ApiPropertyOptional({ type: DeploymentPlanDto }) plan!: DeploymentPlanDto;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export const DeploymentPageDto = PageOf(DeploymentDto, 'DeploymentPageDto');
export type DeploymentPageDto = InstanceType<typeof DeploymentPageDto>;
