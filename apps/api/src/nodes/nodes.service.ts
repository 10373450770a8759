import { Inject, Injectable, Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createHash, randomBytes } from 'node:crypto';
import { AuthError, SecretBox, UNKNOWN_CREDENTIAL, generateKeypair } from '@gridline/auth';
import { ApiError, RedisKeys, errorSummary, quote } from '@gridline/common';
import { withChecksum } from '../models/model-checksum';
import { DesiredReplica, JoinTokenRecord, JoinTokenRefusal, JoinTokenRepository, ModelRepository, NodeRecord, NodeRepository, ReplicaRecord, ReplicaRepository } from '@gridline/db';
import { ModelShape, plannedRequirements } from '@gridline/models';
import { groupTunnelKey } from '@gridline/runtime';
import { AgentRpc, HeartbeatReply, JoinReply, ModelAnnouncement, ReplicaReport, ReplicaSpec, labelProblem, nudgeChannel, taintProblem } from '@gridline/scheduling';
import { ApiConfig } from '../api.config';
import { AuditService } from '../audit/audit.service';
import { Principal } from '../auth/principal';
import { notFound } from '../common/resource-errors';
import { RequestOrigin } from '../common/request-origin';
import { HeartbeatDto, JoinDto } from './dto/agent.dto';
import { CreateJoinTokenDto, CreateReplicaDto, CreatedJoinTokenDto, JoinTokenDto, ModelLoadDto, NodeDto, ReplicaDto, UpdateNodeDto } from './dto/node.dto';
import { NodeCredentials, NodePrincipal } from './node-credentials';
import { NodeState, NodeTiming, beatOf, presentReplicas, presentStatus, toNodeDto } from './node-view';

const TOKEN_PREFIX = 'gljt_';
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const REFUSALS: Record<JoinTokenRefusal, ['join_token_invalid' | 'join_token_expired' | 'join_token_revoked' | 'join_token_used', string]> = {
  unknown: ['join_token_invalid', 'the join token is not known'],
  expired: ['join_token_expired', 'the join token has expired: ask an admin for a new one'],
  revoked: ['join_token_revoked', 'the join token was revoked: ask an admin for a new one'],
  used_up: ['join_token_used', 'the join token was already used as many times as it allows'],
};

function tokenState(t: JoinTokenRecord, now: number): JoinTokenDto['state'] {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt.getTime() <= now) return 'expired';
  return t.maxUses !== null && t.uses >= t.maxUses ? 'used' : 'active';
}

function toTokenDto(t: JoinTokenRecord, now = Date.now()): JoinTokenDto {
  return {
    id: t.id,
    prefix: t.prefix,
    description: t.description,
    expiresAt: t.expiresAt.toISOString(),
    maxUses: t.maxUses,
    uses: t.uses,
    autoApprove: t.autoApprove,
    labels: t.labels,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    state: tokenState(t, now),
    createdAt: t.createdAt.toISOString(),
  };
}

/** Labels as given, checked like Kubernetes labels; the error names the field. */
function checkedLabels(labels: Record<string, unknown>, param: string): Record<string, string> {
  for (const [key, value] of Object.entries(labels)) {
    const problem = typeof value === 'string' ? labelProblem(key, value) : 'the value must be a string';
    if (problem) throw new ApiError('validation_failed', `label ${quote(key)}: ${problem}`, { param });
  }
  return labels as Record<string, string>;
}

/** Taints as given, checked like Kubernetes taints (one per key and effect); the error names the taint. */
function checkedTaints<T extends { key: string; value?: string; effect: string }>(taints: T[], param: string): T[] {
  taints.forEach((t, i) => {
    const problem = taintProblem(t) ?? (taints.findIndex((o) => o.key === t.key && o.effect === t.effect) < i ? `${t.key} with effect ${t.effect} is given twice` : null);
    if (problem) throw new ApiError('validation_failed', `taint ${quote(t.key)}: ${problem}`, { param: `${param}[${i}]` });
  });
  return taints;
}

/**
 * Nodes: join tokens, joining, heartbeats (desired state back), and what admins do to nodes
 * and their replicas. Every change that matters to routing is passed to the scheduler at once.
 */
@Injectable()
export class NodesService {
  private readonly logger = new Logger('Nodes');
  private readonly timing: NodeTiming;
  /** Local models this api has recorded in the catalog, so a heartbeat costs no catalog write. */
  private readonly cataloged = new LRUCache<string, true>({ max: 10_000 });

  constructor(
    private readonly config: ApiConfig,
    private readonly nodes: NodeRepository,
    private readonly tokens: JoinTokenRepository,
    private readonly replicas: ReplicaRepository,
    private readonly models: ModelRepository,
    private readonly secrets: SecretBox,
    private readonly credentials: NodeCredentials,
    private readonly audit: AuditService,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
  ) {
    this.timing = { timeoutMs: config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000, lostMs: config.GRIDLINE_NODE_LOST_SECONDS * 1000 };
  }

  // --- join tokens ---

  async createToken(p: Principal, dto: CreateJoinTokenDto, origin: RequestOrigin, serverUrl: string): Promise<CreatedJoinTokenDto> {
    const labels = checkedLabels(dto.labels ?? {}, 'labels');
    const token = `${TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
    const created = await this.tokens.create({
      prefix: token.slice(0, TOKEN_PREFIX.length + 4),
      tokenHash: hashToken(token),
      description: dto.description ?? '',
      expiresAt: new Date(Date.now() + (dto.ttlSeconds ?? 86400) * 1000),
      maxUses: dto.maxUses === undefined ? 1 : dto.maxUses,
      autoApprove: dto.autoApprove ?? false,
      labels,
      createdBy: p.userId,
    });
    await this.audit.record(p, origin, { action: 'join_token.create', targetType: 'join_token', targetId: created.id, teamId: null, details: { prefix: created.prefix, maxUses: created.maxUses, autoApprove: created.autoApprove } });
    return { ...toTokenDto(created), token, installCommand: `gridline-agent install --server ${serverUrl} --join-token ${token}` };
  }

  async listTokens(): Promise<JoinTokenDto[]> {
    const now = Date.now();
    return (await this.tokens.list()).map((t) => toTokenDto(t, now));
  }

  async revokeToken(p: Principal, id: string, origin: RequestOrigin): Promise<JoinTokenDto> {
    const revoked = await this.tokens.revoke(id, new Date());
    if (!revoked) throw notFound('join token', id, 'id');
    await this.audit.record(p, origin, { action: 'join_token.revoke', targetType: 'join_token', targetId: id, teamId: null });
    return toTokenDto(revoked);
  }

  // --- the agent's side ---

  async join(dto: JoinDto): Promise<JoinReply> {
    const labels = checkedLabels(dto.labels, 'labels');
    const taints = checkedTaints(dto.taints, 'taints');
    const at = new Date();
    const used = await this.tokens.use(hashToken(dto.token), at);
    if ('refused' in used) {
      const [code, detail] = REFUSALS[used.refused];
      this.logger.warn(`a join as ${quote(dto.nodeName)} was refused: ${used.refused}`);
      throw new ApiError(code, detail, { param: 'token' });
    }
    const credential = generateKeypair();
    const inv = dto.inventory;
    const node = await this.nodes.join(
      {
        name: dto.nodeName,
        labels: { ...used.token.labels, ...labels },
        taints,
        accessKey: credential.accessKey,
        secretSealed: this.secrets.seal(credential.secretKey, credential.accessKey),
        approved: used.token.autoApprove,
        joinTokenId: used.token.id,
        agentVersion: inv.agentVersion,
        backend: inv.backend,
        gpus: inv.gpus,
        totalMemoryBytes: inv.totalMemoryBytes,
        freeMemoryBytes: inv.freeMemoryBytes,
        inventory: this.inventoryFacts(dto.inventory, [], false),
      },
      at,
    );
    if (!node) throw new ApiError('node_revoked', `the node ${quote(dto.nodeName)} was revoked: an admin must delete it before a node joins under its name`, { param: 'nodeName' });
    this.logger.log(`node ${node.name} (${node.id}) joined with token ${used.token.prefix}…: ${node.approved ? 'approved by its token' : 'Pending until an admin approves it'}`);
    await this.publish(node);
    return { nodeId: node.id, accessKey: credential.accessKey, secretKey: credential.secretKey, status: presentStatus(node, Date.now(), this.timing).status, heartbeatIntervalSeconds: this.config.GRIDLINE_HEARTBEAT_SECONDS };
  }

  async heartbeat(caller: NodePrincipal, dto: HeartbeatDto): Promise<HeartbeatReply> {
    if (dto.nodeId !== caller.nodeId) throw new ApiError('node_mismatch', `this credential belongs to node ${quote(caller.nodeName)}, not to ${quote(dto.nodeId)}`, { param: 'nodeId' });
    const inv = dto.inventory;
    const at = new Date();
    const inventory = this.inventoryFacts(inv, dto.replicas, dto.shuttingDown);
    // First, before anything else is written: the guard verified the signature with a key it
    // may have looked up long ago, and this write is what refuses a revoked or replaced one.
    const beat = await this.nodes.heartbeat(
      caller.nodeId,
      caller.accessKey,
      {
        agentVersion: inv.agentVersion,
        backend: inv.backend,
        gpus: inv.gpus,
        totalMemoryBytes: inv.totalMemoryBytes,
        freeMemoryBytes: inv.freeMemoryBytes,
        inventory,
        replicaReports: dto.replicas,
        runningJobs: dto.runningJobs,
      },
      at,
    );
    if (!beat) throw await this.refusal(caller);
    const node: NodeState = { ...beat.node, revokedAt: null, lastHeartbeatAt: at, inventory, replicaReports: dto.replicas, runningJobs: dto.runningJobs };
    await this.catalogLocalModels(node.id, dto.replicas);
    await this.nodes.recordLoads(
      node.id,
      dto.loads.map((l) => ({ id: l.loadId, replicaId: l.replicaId, modelName: l.model, outcome: l.outcome, reason: l.reason, estimateBytes: l.estimateBytes, gpuBytes: l.gpuBytes, cpuBytes: l.cpuBytes, gpuLayers: l.gpuLayers, loadMs: l.loadMs })),
    );
    const reported = new Set(dto.replicas.map((r) => r.id));
    // Replicas asked to go that the node no longer reports are gone: their rows go too.
    const gone = new Set(beat.desired.filter((w) => w.desired === 'Unloaded' && !reported.has(w.id)).map((w) => w.id));
    await this.replicas.forgetUnloaded([...gone]);
    const wanted = beat.desired.filter((w) => !gone.has(w.id));
    await this.publish(node, wanted, true);
    const { status, reason } = presentStatus(node, Date.now(), this.timing);
    return {
      nodeId: node.id,
      status,
      reason,
      heartbeatIntervalSeconds: this.config.GRIDLINE_HEARTBEAT_SECONDS,
      schedulable: status === 'Ready',
      replicas: specsOf(wanted, (sealed, accessKey) => this.secrets.open(sealed, accessKey)),
    };
  }

  /**
   * Why a heartbeat's write did not land: the node was revoked, or its credential is unknown now
   * (replaced by a new join, or the node deleted), which is what the guard answers from the next
   * request on, once the key is forgotten.
   */
  private async refusal(caller: NodePrincipal): Promise<ApiError> {
    this.credentials.forget(caller.accessKey);
    const n = await this.nodes.get(caller.nodeId);
    return n?.revokedAt ? new ApiError('node_revoked', 'the node credential was revoked') : new AuthError('signature_mismatch', UNKNOWN_CREDENTIAL);
  }

  // --- admins ---

  async list(): Promise<NodeDto[]> {
    const all = await this.nodes.list();
    const wanted = await this.replicas.listByNodes(all.map((n) => n.id));
    const now = Date.now();
    return all.map((n) => toNodeDto(n, wanted.filter((w) => w.nodeId === n.id), now, this.timing));
  }

  async get(id: string): Promise<NodeDto> {
    const n = await this.found(id);
    return toNodeDto(n, await this.replicas.listByNode(id), Date.now(), this.timing);
  }

  async approve(p: Principal, id: string, origin: RequestOrigin): Promise<NodeDto> {
    const n = await this.found(id);
    if (n.revokedAt) throw new ApiError('node_revoked', `node ${quote(n.name)} was revoked; it cannot be approved`, { param: 'id' });
    return this.changed(p, origin, 'node.approve', await this.nodes.approve(id));
  }

  async setFlags(p: Principal, id: string, flags: { cordoned?: boolean; draining?: boolean }, action: string, origin: RequestOrigin): Promise<NodeDto> {
    await this.found(id);
    return this.changed(p, origin, action, await this.nodes.update(id, flags));
  }

  async update(p: Principal, id: string, dto: UpdateNodeDto, origin: RequestOrigin): Promise<NodeDto> {
    await this.found(id);
    const changes = { ...(dto.labels ? { labels: checkedLabels(dto.labels, 'labels') } : {}), ...(dto.taints ? { taints: checkedTaints(dto.taints, 'taints') } : {}) };
    return this.changed(p, origin, 'node.update', await this.nodes.update(id, changes), changes);
  }

  /** Revokes the node's credential: its agent is refused from the next request on, and the node cannot join again under its name. */
  async revoke(p: Principal, id: string, origin: RequestOrigin): Promise<NodeDto> {
    const n = await this.found(id);
    return this.changed(p, origin, 'node.revoke', n.revokedAt ? n : await this.nodes.update(id, { revokedAt: new Date() }));
  }

  /** Only a node that holds nothing (drained, no replica loaded, no job) or is Lost. */
  async remove(p: Principal, id: string, origin: RequestOrigin): Promise<void> {
    const n = await this.found(id);
    const { status } = presentStatus(n, Date.now(), this.timing);
    const busy = n.runningJobs.length > 0 || n.replicaReports.length > 0;
    if (status !== 'Lost' && !(n.revokedAt && status !== 'Ready') && !(n.draining && !busy)) {
      throw new ApiError('node_not_removable', `node ${quote(n.name)} is ${status}${busy ? ` with ${n.replicaReports.length} replica(s) and ${n.runningJobs.length} job(s)` : ''}: drain it and wait until it holds nothing, or until it is Lost`, { param: 'id' });
    }
    await this.nodes.delete(id);
    await this.audit.record(p, origin, { action: 'node.delete', targetType: 'node', targetId: id, teamId: null, details: { name: n.name } });
    // Routing forgets its replicas at once (a deleted node is not schedulable and serves nothing).
    await this.publish({ ...n, revokedAt: n.revokedAt ?? new Date(), replicaReports: [] }, []);
  }

  async addReplica(p: Principal, id: string, dto: CreateReplicaDto, origin: RequestOrigin): Promise<ReplicaDto> {
    const n = await this.found(id);
    const { status } = presentStatus(n, Date.now(), this.timing);
    if (status !== 'Ready') throw new ApiError('node_not_schedulable', `node ${quote(n.name)} is ${status}: replicas go to Ready nodes only`, { param: 'id' });
    const model = await this.models.findByName(dto.model);
    if (!model) throw notFound('model', dto.model, 'model');
    if (model.headerOnly || !model.source?.startsWith('file:')) {
      throw new ApiError('model_not_deployable', `${quote(dto.model)} has no file the control plane serves (${model.headerOnly ? 'header only' : 'not uploaded or registered from a file'})`, { param: 'model' });
    }
    await withChecksum(this.models, model);
    const gpuLayers = dto.gpuLayers === undefined ? 'auto' : /^\d+$/.test(dto.gpuLayers) ? Number(dto.gpuLayers) : (dto.gpuLayers as 'auto' | 'max');
    const settings = { contextSize: dto.contextSize ?? 4096, parallel: dto.parallel ?? 4, gpuLayers, threads: dto.threads ?? 0 };
    const shape = (model.facts as { shape?: ModelShape }).shape;
    const estimate = shape
      ? plannedRequirements(shape, { contextSize: settings.contextSize, parallel: settings.parallel, ...(typeof gpuLayers === 'number' ? { gpuLayers } : {}) }, model.memoryOverrideBytes).totalBytes
      : null;
    const created = await this.replicas.create({ nodeId: id, modelId: model.id, modelName: model.name, settings, estimateBytes: estimate, createdBy: p.userId });
    await this.audit.record(p, origin, { action: 'replica.create', targetType: 'replica', targetId: created.id, teamId: null, details: { node: n.name, model: model.name } });
    await this.nudge(id);
    return presentReplicas(n, [created])[0];
  }

  async removeReplica(p: Principal, nodeId: string, replicaId: string, origin: RequestOrigin): Promise<void> {
    const r = await this.replicas.get(replicaId);
    if (!r || r.nodeId !== nodeId) throw notFound('replica', replicaId, 'replicaId');
    await this.replicas.markUnloaded(replicaId);
    await this.audit.record(p, origin, { action: 'replica.delete', targetType: 'replica', targetId: replicaId, teamId: null, details: { model: r.modelName } });
    const n = await this.nodes.get(nodeId);
    // Routing stops sending it jobs now; the agent unloads it once its jobs are done.
    if (n) await this.publish(n);
    await this.nudge(nodeId);
  }

  async loads(filter: { nodeId?: string; model?: string }): Promise<ModelLoadDto[]> {
    const rows = await this.nodes.listLoads({ nodeId: filter.nodeId, modelName: filter.model });
    return rows.map((l) => ({ id: l.id, nodeId: l.nodeId, replicaId: l.replicaId, model: l.modelName, outcome: l.outcome, reason: l.reason, estimateBytes: l.estimateBytes, gpuBytes: l.gpuBytes, cpuBytes: l.cpuBytes, gpuLayers: l.gpuLayers, loadMs: l.loadMs, at: l.createdAt.toISOString() }));
  }

  // --- helpers ---

  private async found(id: string): Promise<NodeRecord> {
    const n = await this.nodes.get(id);
    if (!n) throw notFound('node', id, 'id');
    return n;
  }

  private async changed(p: Principal, origin: RequestOrigin, action: string, n: NodeRecord | null, details?: Record<string, unknown>): Promise<NodeDto> {
    if (!n) throw new ApiError('not_found', 'the node was deleted meanwhile');
    await this.audit.record(p, origin, { action, targetType: 'node', targetId: n.id, teamId: null, details: { name: n.name, ...details } });
    const wanted = await this.replicas.listByNode(n.id);
    await this.publish(n, wanted);
    await this.nudge(n.id);
    return toNodeDto(n, wanted, Date.now(), this.timing);
  }

  private inventoryFacts(inv: HeartbeatDto['inventory'], replicas: ReplicaReport[], shuttingDown: boolean) {
    const rates = replicas.map((r) => r.tokensPerSecond).filter((v): v is number => typeof v === 'number');
    return {
      cpuCores: inv.cpuCores,
      diskFreeBytes: inv.diskFreeBytes,
      llamaCppVersion: inv.llamaCppVersion,
      capabilities: inv.capabilities,
      platform: inv.platform,
      arch: inv.arch,
      queueDepth: replicas.reduce((sum, r) => sum + r.queueDepth, 0),
      tokensPerSecond: rates.length ? rates.reduce((a, b) => a + b, 0) : null,
      shuttingDown,
      storedModels: inv.storedModels ?? [],
      ...(inv.rpc ? { rpc: { address: inv.rpc.address, ports: [inv.rpc.ports[0], inv.rpc.ports[1]] as [number, number] } } : {}),
    };
  }

  /** A node's own model is recorded in the catalog when this api first sees it Ready (each api once: the upsert is idempotent). */
  private async catalogLocalModels(nodeId: string, replicas: ReplicaReport[]): Promise<void> {
    for (const r of replicas) {
      const key = `${nodeId}/${r.id}/${r.sha256}/${r.announcement?.contextTokens}`;
      if (r.origin !== 'local' || r.state !== 'Ready' || !r.announcement || this.cataloged.has(key)) continue;
      await this.models.upsert(catalogEntry(r.announcement));
      this.cataloged.set(key, true);
    }
  }

  /** Tells the scheduler what routing needs about the node (a lost message is repaired by the next heartbeat). */
  private async publish(n: NodeState, wanted?: Pick<ReplicaRecord, 'id' | 'desired' | 'settings'>[], withJobs = false): Promise<void> {
    const beat = beatOf(n, wanted ?? (await this.replicas.listByNode(n.id)), Date.now(), this.timing, withJobs);
    await this.redis.publish(`${this.keys.rpcPrefix}${AgentRpc.NodeBeat}`, JSON.stringify({ pattern: AgentRpc.NodeBeat, data: beat })).catch((e) => this.logger.warn(`telling the scheduler about node ${n.id} failed: ${errorSummary(e)}`));
  }

  /** Asks the node's agent to heartbeat now, so that a change reaches it without waiting for the interval. */
  private async nudge(nodeId: string): Promise<void> {
    await this.redis.publish(`${this.keys.rpcPrefix}${nudgeChannel(nodeId)}`, '1').catch(() => undefined);
  }
}

/**
 * What the agent is asked to load: the replicas still wanted whose catalog model has a file with
 * a known digest. A worker of a spanning replica is given its group's tunnel key, derived from its
 * leader node's credential (`open` unseals it); a worker whose leader node is gone or revoked gets
 * nothing to run.
 */
function specsOf(wanted: DesiredReplica[], open: (sealed: string, accessKey: string) => string): ReplicaSpec[] {
  const out: ReplicaSpec[] = [];
  for (const w of wanted) {
    if (w.desired !== 'Loaded' || w.modelId === null || !w.model?.sha256) continue;
    const spec: ReplicaSpec = { id: w.id, model: w.modelName, modelId: w.modelId, sha256: w.model.sha256, sizeBytes: w.model.sizeBytes, settings: w.settings, estimateBytes: w.estimateBytes };
    const g = w.group;
    if (g?.role === 'leader') {
      spec.group = { id: g.id, role: 'leader', layers: g.layers, workers: g.workers.map((x) => ({ nodeId: x.nodeId, host: x.host, port: x.port, layers: x.layers })) };
    } else if (g?.role === 'worker') {
      if (!w.leaderCredential) continue;
      const key = groupTunnelKey(open(w.leaderCredential.secretSealed, w.leaderCredential.accessKey), g.id, g.leaderNodeId);
      spec.group = { id: g.id, role: 'worker', leaderNodeId: g.leaderNodeId, port: g.port, layers: g.layers, leaderKeyHex: key.toString('hex') };
    }
    out.push(spec);
  }
  return out;
}

function catalogEntry(m: ModelAnnouncement) {
  const positive = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  return {
    name: m.name,
    sha256: m.sha256,
    sizeBytes: m.sizeBytes,
    facts: {
      architecture: m.architecture,
      contextLength: m.contextLength,
      layers: m.layers,
      embedding: m.embedding,
      parameterBytes: m.parameterBytes,
      ...(positive(m.contextTokens) ? { serving: { contextTokens: m.contextTokens, maxTokenBytes: positive(m.maxTokenBytes) ? m.maxTokenBytes : null } } : {}),
    },
  };
}
