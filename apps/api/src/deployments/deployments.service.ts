import { Injectable } from '@nestjs/common';
import { stringify } from 'yaml';
import { ApiError, quote } from '@gridline/common';
import { DeploymentRecord, DeploymentRepository, ModelRecord, ModelRepository, NodeRepository, TeamRepository, TeamScope } from '@gridline/db';
import { MemoryRequirements, ModelShape, RuntimeSettings, plannedRequirements } from '@gridline/models';
import { DeploymentPlan, INSTANCE_TYPES, PlanRuleResult, TeamQuota, Toleration, planDeployment, planNodeOf, replicaRequirementOf } from '@gridline/scheduling';
import { AuditService } from '../audit/audit.service';
import { Principal, scopeFor } from '../auth/principal';
import { PageQueryDto, toPageDto } from '../common/dto/page.dto';
import { isUniqueViolation, notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { CreateDeploymentDto, UpdateDeploymentDto } from './dto/deployment.dto';
import { memoryBreakdown } from '../models/dto/requirements.dto';
import { withChecksum } from '../models/model-checksum';
import { DeploymentDto, DeploymentPageDto, DeploymentPlanDto } from './dto/plan.dto';

interface Planned {
  dto: CreateDeploymentDto;
  teamId: string;
  model: ModelRecord;
  runtime: Required<Pick<RuntimeSettings, 'contextSize' | 'parallel'>> & RuntimeSettings;
  plan: DeploymentPlanDto;
}

/** A stored plan's GPU shares: what each node's GPUs are promised to, and what each team holds. */
interface Promised {
  bytes: Map<string, number>;
  teamGpus: Map<string, Set<string>>;
  teamBytes: Map<string, number>;
}

function toDeploymentDto(d: DeploymentRecord, modelName: string): DeploymentDto {
  return {
    id: d.id,
    name: d.name,
    teamId: d.teamId,
    model: modelName,
    replicas: d.replicas,
    minReplicas: d.minReplicas,
    idleSeconds: d.idleSeconds,
    pinned: d.pinned,
    runtime: d.runtime,
    placement: d.placement,
    resource: d.resource,
    tolerations: d.tolerations,
    phase: d.phase,
    conditions: d.conditions,
    readyReplicas: d.status?.readyReplicas ?? 0,
    status: d.status,
    events: d.events,
    plan: d.plan as unknown as DeploymentPlanDto,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/**
 * Deployments: desired state validated against the fleet before it is stored. A plan mirrors
 * the replica's memory (estimated from the model's GGUF shape at the requested runtime
 * settings) against the nodes' free GPU memory net of what other deployments were promised,
 * rule by rule with the numbers; a dry run returns it, applying stores it for the scheduler.
 */
@Injectable()
export class DeploymentsService {
  constructor(
    private readonly deployments: DeploymentRepository,
    private readonly models: ModelRepository,
    private readonly nodes: NodeRepository,
    private readonly teams: TeamRepository,
    private readonly audit: AuditService,
  ) {}

  /** `?dryRun=true`: the plan, or the same 422 applying would give. */
  async dryRun(p: Principal, dto: CreateDeploymentDto): Promise<DeploymentPlanDto> {
    const planned = await this.plan(p, dto);
    this.assertFeasible(planned.plan);
    return planned.plan;
  }

  async create(p: Principal, dto: CreateDeploymentDto, origin: RequestOrigin): Promise<DeploymentDto> {
    const planned = await this.plan(p, dto);
    this.assertFeasible(planned.plan);
    if (!planned.plan.applicable) {
      throw new ApiError('deployment_not_applicable', `the plan cannot be applied yet: ${planned.plan.rules.filter((r) => !r.passed).map((r) => r.message).join('; ')}`, { extra: { plan: planned.plan } });
    }
    // The scheduler hands nodes the file's digest to verify what they pull.
    await withChecksum(this.models, planned.model);
    const now = new Date().toISOString();
    let created: DeploymentRecord;
    try {
      created = await this.deployments.create({
        name: dto.name,
        teamId: planned.teamId,
        modelId: planned.model.id,
        replicas: dto.replicas ?? 1,
        minReplicas: dto.minReplicas ?? null,
        idleSeconds: dto.idleSeconds ?? 300,
        pinned: dto.pinned ?? false,
        runtime: planned.runtime as unknown as Record<string, unknown>,
        placement: dto.placement ?? 'binpack',
        resource: { ...dto.resource },
        tolerations: (dto.tolerations ?? []).map((t) => ({ ...t })),
        phase: 'Placed',
        conditions: [
          { type: 'Placed', status: true, reason: 'PlanAccepted', message: `${planned.plan.replicas.length} replica(s) planned on ${planned.plan.targetNodeCount} node(s); waiting for the scheduler to load them`, at: now },
        ],
        plan: planned.plan as unknown as Record<string, unknown>,
        createdBy: p.userId,
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new ApiError('deployment_exists', `the team has a deployment named ${quote(dto.name)}`, { param: 'name' });
      throw e;
    }
    await this.audit.record(p, origin, { action: 'deployment.create', targetType: 'deployment', targetId: created.id, teamId: created.teamId, details: { name: created.name, model: planned.model.name, replicas: created.replicas } });
    return toDeploymentDto(created, planned.model.name);
  }

  async list(p: Principal, q: PageQueryDto): Promise<DeploymentPageDto> {
    const page = await this.deployments.list(scopeFor(p), q);
    const names = await this.models.namesByIds(page.items.map((d) => d.modelId));
    return toPageDto(page, (d) => toDeploymentDto(d, names.get(d.modelId) ?? d.modelId));
  }

  async get(p: Principal, id: string): Promise<DeploymentDto> {
    const d = await this.deployments.get(scopeFor(p), id);
    if (!d) throw notFound('deployment', id, 'id');
    const model = await this.models.findById(d.modelId);
    return toDeploymentDto(d, model?.name ?? d.modelId);
  }

  async remove(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const d = await this.deployments.get(scopeFor(p), id);
    if (!d || !(await this.deployments.delete(scopeFor(p), id))) throw notFound('deployment', id, 'id');
    await this.audit.record(p, origin, { action: 'deployment.delete', targetType: 'deployment', targetId: id, teamId: d.teamId, details: { name: d.name } });
  }

  private assertFeasible(plan: DeploymentPlanDto): void {
    if (plan.feasible) return;
    const failed = plan.rules.filter((r) => !r.passed && r.blocks === 'plan').map((r) => r.message);
    throw new ApiError('deployment_infeasible', failed.join('; '), { extra: { plan } });
  }

  /** Changes a deployment: the whole request is planned again (without its own current share of the GPUs) before anything is stored. */
  async update(p: Principal, id: string, changes: UpdateDeploymentDto, origin: RequestOrigin): Promise<DeploymentDto> {
    const current = await this.deployments.get(scopeFor(p), id);
    if (!current) throw notFound('deployment', id, 'id');
    const model = await this.models.findById(current.modelId);
    const dto: CreateDeploymentDto = {
      name: current.name,
      model: model?.name ?? current.modelId,
      teamId: current.teamId,
      replicas: changes.replicas ?? current.replicas,
      minReplicas: changes.minReplicas !== undefined ? changes.minReplicas : (current.minReplicas ?? undefined),
      idleSeconds: changes.idleSeconds ?? current.idleSeconds,
      pinned: changes.pinned ?? current.pinned,
      runtime: { ...(current.runtime as CreateDeploymentDto['runtime']), ...changes.runtime },
      placement: changes.placement ?? (current.placement as CreateDeploymentDto['placement']),
      resource: changes.resource ?? (current.resource as CreateDeploymentDto['resource']),
      tolerations: changes.tolerations ?? (current.tolerations as CreateDeploymentDto['tolerations']),
    };
    const planned = await this.plan(p, dto, current.id);
    this.assertFeasible(planned.plan);
    if (!planned.plan.applicable) throw new ApiError('deployment_not_applicable', `the plan cannot be applied yet: ${planned.plan.rules.filter((r) => !r.passed).map((r) => r.message).join('; ')}`, { extra: { plan: planned.plan } });
    const condition = { type: 'Placed' as const, status: true, reason: 'PlanUpdated', message: `re-planned: ${planned.plan.replicas.length} replica(s) on ${planned.plan.targetNodeCount} node(s)`, at: new Date().toISOString() };
    const updated = await this.deployments.update(scopeFor(p), id, {
      replicas: dto.replicas,
      minReplicas: dto.minReplicas ?? null,
      idleSeconds: dto.idleSeconds ?? 300,
      pinned: dto.pinned ?? false,
      runtime: planned.runtime as unknown as Record<string, unknown>,
      placement: dto.placement,
      resource: { ...dto.resource },
      tolerations: (dto.tolerations ?? []).map((t) => ({ ...t })),
      phase: 'Placed',
      conditions: [...current.conditions, condition].slice(-20),
      plan: planned.plan as unknown as Record<string, unknown>,
    });
    if (!updated) throw notFound('deployment', id, 'id');
    await this.audit.record(p, origin, { action: 'deployment.update', targetType: 'deployment', targetId: id, teamId: updated.teamId, details: { ...changes } });
    return toDeploymentDto(updated, planned.model.name);
  }

  private async plan(p: Principal, dto: CreateDeploymentDto, replacing?: string): Promise<Planned> {
    if (dto.teamId && p.role !== 'superadmin' && dto.teamId !== p.teamId) throw new ApiError('forbidden', 'deployments are made for your own team', { param: 'teamId' });
    if (dto.minReplicas !== undefined && dto.minReplicas !== null && dto.minReplicas > (dto.replicas ?? 1)) {
      throw new ApiError('validation_failed', `minReplicas (${dto.minReplicas}) cannot exceed replicas (${dto.replicas ?? 1})`, { param: 'minReplicas' });
    }
    const teamId = p.role === 'superadmin' ? (dto.teamId ?? p.teamId) : p.teamId;
    const team = await this.teams.get(scopeFor(p), teamId);
    if (!team) throw notFound('team', teamId, 'teamId');
    const model = await this.models.findVisible(TeamScope.team(teamId), dto.model);
    if (!model) throw new ApiError('model_not_found', `the team has no model ${quote(dto.model)}`, { param: 'model' });
    const shape = (model.facts as { shape?: ModelShape }).shape;
    if (!shape) throw new ApiError('model_shape_unknown', `the catalog has no GGUF shape for ${quote(dto.model)}: register its file (POST /api/v1/models)`, { param: 'model' });
    for (const [key, value] of Object.entries(dto.resource?.labelSelector?.matchLabels ?? {})) {
      if (typeof value !== 'string') throw new ApiError('validation_failed', `matchLabels.${key.slice(0, 64)} must be a string`, { param: 'resource.labelSelector.matchLabels' });
    }
    let requirements: MemoryRequirements;
    try {
      requirements = plannedRequirements(shape, { ...dto.runtime, parallel: dto.runtime?.parallel ?? 1 }, model.memoryOverrideBytes);
    } catch (e) {
      if (e instanceof RangeError) throw new ApiError('validation_failed', e.message, { param: 'runtime' });
      throw e;
    }
    // What is stored and shown: the request's settings, with the context and sequences the estimate used.
    const runtime = { ...dto.runtime, contextSize: requirements.settings.contextSize, parallel: requirements.settings.parallel };
    const promised = await this.promised(replacing);
    const result = planDeployment({
      requirement: replicaRequirementOf(requirements),
      replicas: dto.replicas ?? 1,
      resource: { ...dto.resource },
      tolerations: (dto.tolerations ?? []) as Toleration[],
      placement: dto.placement,
      nodes: (await this.nodes.list()).map((n) => planNodeOf(n, (gpu) => promised.bytes.get(`${n.id}/${gpu}`) ?? 0)),
      quota: quotaOf(team, teamId, promised),
      instanceTypes: INSTANCE_TYPES,
    });
    const rules: PlanRuleResult[] = [...result.rules];
    if (model.headerOnly) rules.push({ rule: 'deployable' as PlanRuleResult['rule'], passed: false, blocks: 'apply', message: `${model.name} is a header-only file (no weights): it plans, and never deploys` });
    const plan: DeploymentPlan = { ...result, rules, applicable: result.applicable && !model.headerOnly };
    const quota = { gpus: team.quotaGpus, gpuMemoryBytes: team.quotaGpuMemoryBytes, usedGpus: promised.teamGpus.get(teamId)?.size ?? 0, usedGpuMemoryBytes: promised.teamBytes.get(teamId) ?? 0 };
    return { dto, teamId, model, runtime, plan: { ...plan, memory: memoryBreakdown(requirements), quota, yaml: this.yaml(dto, teamId, runtime, plan) } as DeploymentPlanDto };
  }

  /** GPU bytes promised to stored deployments (but the one being replaced), per node GPU and per team; on-demand replicas above their floor are not. */
  private async promised(replacing?: string): Promise<Promised> {
    const out: Promised = { bytes: new Map(), teamGpus: new Map(), teamBytes: new Map() };
    for (const d of await this.deployments.allPlans()) {
      if (d.id === replacing) continue;
      // Replicas loaded on demand above `minReplicas` are promised nothing: idle, they make room for others.
      const replicas = (d.plan as unknown as DeploymentPlan).replicas ?? [];
      for (const replica of d.minReplicas === null ? replicas : replicas.slice(0, d.minReplicas)) {
        for (const node of replica.nodes) {
          for (const gpu of node.gpus) {
            const key = `${node.nodeId}/${gpu.index}`;
            out.bytes.set(key, (out.bytes.get(key) ?? 0) + gpu.bytes);
            out.teamGpus.set(d.teamId, (out.teamGpus.get(d.teamId) ?? new Set()).add(key));
            out.teamBytes.set(d.teamId, (out.teamBytes.get(d.teamId) ?? 0) + gpu.bytes);
          }
        }
      }
    }
    return out;
  }

  private yaml(dto: CreateDeploymentDto, teamId: string, runtime: RuntimeSettings, plan: DeploymentPlan): string {
    return stringify({
      apiVersion: 'gridline.dev/v1',
      kind: 'Deployment',
      metadata: { name: dto.name, team: teamId },
      spec: {
        model: dto.model,
        replicas: dto.replicas ?? 1,
        ...(dto.minReplicas !== undefined && dto.minReplicas !== null ? { minReplicas: dto.minReplicas, idleSeconds: dto.idleSeconds ?? 300 } : {}),
        ...(dto.pinned ? { pinned: true } : {}),
        runtime,
        placement: dto.placement ?? 'binpack',
        ...(dto.resource ? { resource: dto.resource } : {}),
        ...(dto.tolerations?.length ? { tolerations: dto.tolerations } : {}),
      },
      plan: {
        feasible: plan.feasible,
        applicable: plan.applicable,
        targetNodeCount: plan.targetNodeCount,
        replicas: plan.replicas.map((r) => r.nodes.map((n) => ({ node: n.name, gpus: n.gpus.map((g) => ({ gpu: g.index, layers: g.layers ? `${g.layers[0]}-${g.layers[1]}` : 'fixed', gib: Number((g.bytes / 1024 ** 3).toFixed(2)) })) }))),
      },
    });
  }
}

function quotaOf(team: { quotaGpus: number | null; quotaGpuMemoryBytes: number | null }, teamId: string, promised: Promised): TeamQuota | null {
  if (team.quotaGpus === null && team.quotaGpuMemoryBytes === null) return null;
  return {
    gpus: team.quotaGpus ?? Number.MAX_SAFE_INTEGER,
    gpuMemoryBytes: team.quotaGpuMemoryBytes ?? Number.MAX_SAFE_INTEGER,
    usedGpus: promised.teamGpus.get(teamId)?.size ?? 0,
    usedGpuMemoryBytes: promised.teamBytes.get(teamId) ?? 0,
  };
}
