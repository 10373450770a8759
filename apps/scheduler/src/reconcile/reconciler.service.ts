import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { RedisKeys, errorSummary } from '@gridline/common';
import {
  DEPLOYMENT_EVENTS_KEPT,
  DeploymentCondition,
  DeploymentEvent,
  DeploymentMember,
  DeploymentRecord,
  DeploymentRepository,
  DeploymentStatus,
  FencedError,
  LeaseRepository,
  ModelRecord,
  ModelRepository,
  NodeRecord,
  NodeRepository,
  ReplicaGroup,
  ReplicaGroupWorker,
  ReplicaRecord,
  ReplicaRepository,
  ReplicaSettings,
} from '@gridline/db';
import { ModelShape, plannedRequirements } from '@gridline/models';
import {
  DeploymentPhaseView,
  GpuLedger,
  INSTANCE_TYPES,
  ObservedReplica,
  PlacementPolicy,
  PlannedReplica,
  ReplicaReport,
  ResidentReplica,
  Toleration,
  deploymentPhase,
  freeTunnelPort,
  nudgeChannel,
  planDeployment,
  planLoadOnDemand,
  planNodeOf,
  spanningRelease,
  reconcileDeployment,
  replicaRequirementOf,
} from '@gridline/scheduling';
import { WaitingJobs } from '../dispatch/waiting-jobs';
import { Leadership } from '../leadership/leadership.service';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

const GIB = 1024 ** 3;
const gib = (bytes: number) => (bytes / GIB).toFixed(2);

/** A new replica to write: where the plan put it, and the event that says why. */
interface Placement {
  nodeId: string;
  planned: PlannedReplica;
  event: DeploymentEvent;
  /** A replica spanning nodes: its group, and each worker's row id and tunnel port (in `planned.nodes` order after the leader). */
  group?: { id: string; workers: { replicaId: string; host: string; port: number }[] };
}

/** A worker of a spanning replica put on another node, its predecessor lost. */
interface MemberReplacement {
  leader: ReplicaRecord;
  group: Extract<ReplicaGroup, { role: 'leader' }>;
  worker: ReplicaGroupWorker;
  gpus: ReplicaRecord['gpus'];
  estimateBytes: number;
  /** The lost worker's row (to unload), or null when it is already gone. */
  replaces: ReplicaRecord | null;
}

/** What happened to a spanning replica's members this pass. */
interface GroupCheck {
  replacements: MemberReplacement[];
  /** Per leader row: why its group cannot serve now (a member lost), shown as its state `Degraded`. */
  degraded: Map<string, string>;
  events: DeploymentEvent[];
}

/** First and last layer a planned node holds (null: the fixed part only). */
function layerRange(gpus: readonly { layers: readonly [number, number] | null }[]): [number, number] | null {
  const held = gpus.flatMap((g) => (g.layers ? [g.layers[0], g.layers[1]] : []));
  return held.length > 0 ? [Math.min(...held), Math.max(...held)] : null;
}

const rowBytes = (gpus: readonly { bytes: number }[]) => gpus.reduce((a, g) => a + g.bytes, 0);

/**
 * Makes what runs match what deployments ask, while this scheduler leads. Every
 * `GRIDLINE_RECONCILE_SECONDS` (and at once when jobs wait for a model loaded on demand) it
 * reads deployments, replica rows and nodes, decides per deployment (`reconcileDeployment`),
 * places missing replicas with the same planner the api validates with, over GPU memory net of
 * every replica row (placed or loaded), and writes rows, status, conditions and events in one
 * transaction fenced by its lease token. Agents learn their desired state from their next
 * heartbeat's answer; the scheduler nudges them so that it comes at once.
 */
@Injectable()
export class Reconciler implements OnApplicationShutdown {
  private readonly logger = new Logger('Reconciler');
  private fence: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  /** Model names of deployments that load on demand (from the last pass). */
  private onDemandModels = new Set<string>();
  /** Per deployment: nodes where its load failed, kept off until the time given. */
  private readonly backoff = new Map<string, Map<string, { until: number; failures: number }>>();
  /** Per deployment: loads failed in a row without a replica becoming ready. */
  private readonly failures = new Map<string, number>();
  /** Per deployment: the replicas evicted to make room for it, until it is placed. */
  private readonly evicting = new Map<string, string[]>();
  /** This pass's evictions, for an event on each victim's deployment. */
  private evicted: { replicaId: string; nodeId?: string; forModel: string; at: string }[] = [];
  /** Spanning replicas whose leader's llama.cpp died while serving and has not been Ready since. */
  private readonly leaderDied = new Set<string>();
  /** Spanning replicas whose leader has been Ready at least once. */
  private readonly leaderServed = new Set<string>();
  /** This pass's spanning replicas: leader row id → its workers' row ids. */
  private workersOf = new Map<string, readonly string[]>();
  /** This pass's tunnel ports taken per node (by every group worker row still present). */
  private portsInUse = new Map<string, Set<number>>();

  constructor(
    private readonly config: SchedulerConfig,
    private readonly deployments: DeploymentRepository,
    private readonly replicaRows: ReplicaRepository,
    private readonly nodes: NodeRepository,
    private readonly models: ModelRepository,
    private readonly leases: LeaseRepository,
    private readonly registry: ReplicaRegistry,
    private readonly waiting: WaitingJobs,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
    leadership: Leadership,
  ) {
    leadership.register({
      lead: async (fence) => {
        this.fence = fence;
        this.timer = setInterval(() => this.kick(), this.config.GRIDLINE_RECONCILE_SECONDS * 1000);
        this.kick();
      },
      follow: async () => {
        this.fence = null;
        if (this.timer) clearInterval(this.timer);
        this.timer = null;
        await this.running?.catch(() => undefined);
      },
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.fence = null;
    await this.running?.catch(() => undefined);
  }

  /** Whether a deployment loads `model` when jobs ask for it (a job for it waits instead of failing). */
  loadsOnDemand(model: string): boolean {
    return this.onDemandModels.has(model);
  }

  /** Jobs wait for `model`: look now (a model loaded on demand starts loading). */
  demand(model: string): void {
    if (this.onDemandModels.has(model)) this.kick();
  }

  /** Runs a pass now, or right after the one running. */
  kick(): void {
    if (this.fence === null) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((e) => {
        if (e instanceof FencedError) this.logger.warn(e.message);
        else this.logger.warn(`reconciling failed: ${errorSummary(e)}`);
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass over every deployment; exposed for tests. */
  async pass(now = Date.now()): Promise<void> {
    const fence = this.fence;
    if (fence === null) return;
    const [deployments, rows, nodeList] = await Promise.all([this.deployments.listAll(), this.replicaRows.listAll(), this.nodes.list()]);
    const models = new Map((await this.models.findByIds([...new Set(deployments.map((d) => d.modelId))])).map((m) => [m.id, m]));
    const nodes = new Map(nodeList.map((n) => [n.id, n]));
    this.onDemandModels = new Set(deployments.filter((d) => d.minReplicas !== null).map((d) => models.get(d.modelId)?.name ?? ''));
    const ledger = ledgerOf(nodeList, rows);
    this.portsInUse = new Map();
    for (const r of rows) if (r.group?.role === 'worker') this.portsInUse.set(r.nodeId, (this.portsInUse.get(r.nodeId) ?? new Set()).add(r.group.port));
    const nudged = new Set<string>();
    const byId = new Map(deployments.map((d) => [d.id, d]));
    const live = new Set(byId.keys());
    // A spanning replica is evicted as a whole, through its leader: its workers are not candidates of their own.
    const resident = rows.filter((r) => r.desired === 'Loaded' && r.group?.role !== 'worker').map((r) => this.resident(r, nodes.get(r.nodeId), byId.get(r.deploymentId ?? ''), now));
    this.workersOf = new Map(rows.flatMap((r) => (r.group?.role === 'leader' ? [[r.id, r.group.workers.map((w) => w.replicaId)] as const] : [])));
    this.evicted = [];
    // An eviction is done once its replicas' rows are gone (their nodes stopped reporting them).
    const rowIds = new Set(rows.map((r) => r.id));
    for (const [id, ids] of this.evicting) if (!live.has(id) || !ids.some((x) => rowIds.has(x))) this.evicting.delete(id);

    const orphans = rows.filter((r) => r.deploymentId !== null && r.desired === 'Loaded' && !live.has(r.deploymentId));
    if (orphans.length > 0) {
      await this.leases.fenced(fence, (m) => this.replicaRows.markManyUnloaded(orphans.map((r) => r.id), m));
      for (const r of orphans) nudged.add(r.nodeId);
    }
    for (const [id] of this.backoff) if (!live.has(id)) this.backoff.delete(id);
    for (const set of [this.leaderDied, this.leaderServed]) for (const id of set) if (!rowIds.has(id)) set.delete(id);

    for (const d of deployments) {
      const model = models.get(d.modelId);
      const shape = (model?.facts as { shape?: ModelShape } | undefined)?.shape;
      if (!model || !shape || !model.sha256) continue;
      try {
        await this.reconcileOne(fence, d, model, shape, rows.filter((r) => r.deploymentId === d.id && r.desired === 'Loaded'), nodes, ledger, resident, nudged, now);
      } catch (e) {
        if (e instanceof FencedError) throw e;
        this.logger.warn({ deploymentId: d.id }, `reconciling the deployment failed: ${errorSummary(e)}`);
      }
    }
    await this.recordEvictions(fence, rows, byId);
    for (const nodeId of nudged) await this.redis.publish(`${this.keys.rpcPrefix}${nudgeChannel(nodeId)}`, '1').catch(() => undefined);
  }

  private async reconcileOne(
    fence: number,
    d: DeploymentRecord,
    model: ModelRecord,
    shape: ModelShape,
    mine: ReplicaRecord[],
    nodes: Map<string, NodeRecord>,
    ledger: GpuLedger,
    resident: readonly ResidentReplica[],
    nudged: Set<string>,
    now: number,
  ): Promise<void> {
    const runtime = d.runtime as { contextSize: number; parallel: number; gpuLayers?: number };
    const requirements = plannedRequirements(shape, { ...runtime, parallel: runtime.parallel ?? 1 }, model.memoryOverrideBytes);
    // A replica spanning nodes counts once, as its leader row; its workers are its members.
    const leaders = mine.filter((r) => r.group?.role !== 'worker');
    const rowsById = new Map(mine.map((r) => [r.id, r]));
    const groups = this.checkGroups(leaders, rowsById, nodes, ledger, requirements, now);
    const observed = leaders.map((r) => this.observeGroup(r, rowsById, nodes, groups.degraded, now));
    const decision = reconcileDeployment({ replicas: d.replicas, minReplicas: d.minReplicas, idleMs: d.idleSeconds * 1000 }, observed, this.waiting.waitingFor(model.name), now);
    const events: DeploymentEvent[] = [...groups.events];
    const at = new Date(now).toISOString();
    for (const x of [...decision.forget, ...decision.unload]) events.push({ at, reason: x.reason, message: x.message, replicaId: x.id, nodeId: x.nodeId });
    for (const nodeId of decision.failedOn) this.noteFailure(d.id, nodeId, now);
    // A group that goes takes its workers along (their nodes may well be alive).
    const gone = new Set([...decision.forget, ...decision.unload].map((x) => x.id));
    const workersGone = leaders.flatMap((l) => (gone.has(l.id) && l.group?.role === 'leader' ? l.group.workers.map((w) => rowsById.get(w.replicaId)).filter((w): w is ReplicaRecord => !!w) : []));
    const replacements = groups.replacements.filter((x) => !gone.has(x.leader.id));
    const placements: Placement[] = [];
    let unschedulable: string | null = null;
    const evict: string[] = [];
    for (let i = 0; i < decision.place; i++) {
      const placed = this.place(d, model.name, model.sha256, requirements, nodes, ledger, resident, now, `${d.id}#${i}`);
      if ('unschedulable' in placed) {
        unschedulable = placed.unschedulable;
        if (placed.evict && !this.evicting.has(d.id)) {
          evict.push(...placed.evict);
          this.evicting.set(d.id, placed.evict);
          unschedulable = `making room on ${nodes.get(placed.nodeId ?? '')?.name ?? placed.nodeId}: unloading ${placed.evict.length} idle replica(s)`;
          events.push({ at, reason: 'Evicting', message: `${placed.message ?? ''}`.trim() || unschedulable, nodeId: placed.nodeId });
        } else if (this.evicting.has(d.id)) {
          unschedulable = `waiting for ${this.evicting.get(d.id)?.length} evicted replica(s) to unload`;
        }
        break;
      }
      this.evicting.delete(d.id);
      placements.push(placed);
      events.push(placed.event);
    }
    const readyNow = decision.kept.some((r) => r.state === 'Ready');
    if (readyNow) this.failures.set(d.id, 0);
    const view = deploymentPhase({ desired: decision.desired, kept: decision.kept, unschedulable, consecutiveFailures: this.failures.get(d.id) ?? 0, onDemand: d.minReplicas !== null });
    const lastEvent = d.events.at(-1);
    if (unschedulable && !(lastEvent?.reason === 'Unschedulable' && lastEvent.message === unschedulable)) events.push({ at, reason: 'Unschedulable', message: unschedulable });

    const settings: ReplicaSettings = { contextSize: requirements.settings.contextSize, parallel: requirements.settings.parallel, gpuLayers: runtime.gpuLayers ?? 'max', threads: 0 };
    const status = observation(decision.desired, view, decision.kept, now);
    for (const entry of status.replicas) {
      const row = rowsById.get(entry.id);
      if (row?.group?.role !== 'leader') continue;
      const replaced = replacements.find((x) => x.leader.id === row.id);
      const fresh = new Map((replaced ? [replaced] : []).map((x) => [x.worker.replicaId, x.estimateBytes]));
      entry.members = membersOf(row.id, row.nodeId, replaced?.group ?? row.group, nodes, (id) => {
        const member = rowsById.get(id);
        return member ? { bytes: rowBytes(member.gpus), state: reportFor(member, nodes.get(member.nodeId))?.state ?? null } : { bytes: fresh.get(id) ?? null, state: null };
      });
    }
    const changed = events.length > 0 || placements.length > 0 || replacements.length > 0 || workersGone.length > 0 || !sameStatus(d.status, status) || d.phase !== view.phase;
    if (!changed) return;
    await this.leases.fenced(fence, async (m) => {
      await this.replicaRows.deleteMany(decision.forget.map((x) => x.id), m);
      await this.replicaRows.markManyUnloaded([...decision.unload.map((x) => x.id), ...evict, ...evict.flatMap((id) => this.workersOf.get(id) ?? []), ...workersGone.map((w) => w.id), ...replacements.flatMap((x) => (x.replaces ? [x.replaces.id] : []))], m);
      const base = { deploymentId: d.id, modelId: model.id, modelName: model.name, settings, createdBy: null };
      for (const x of replacements) {
        await this.replicaRows.create({ ...base, id: x.worker.replicaId, nodeId: x.worker.nodeId, gpus: x.gpus, estimateBytes: x.estimateBytes, group: workerRow(x.group, x.leader.nodeId, x.worker) }, m);
        await this.replicaRows.setGroup(x.leader.id, x.group, m);
      }
      for (const p of placements) {
        const [node, ...workerNodes] = p.planned.nodes;
        const shareOf = (n: PlannedReplica['nodes'][number]) => n.gpus.map((g) => ({ index: g.index, bytes: g.bytes, layers: g.layers ? ([g.layers[0], g.layers[1]] as [number, number]) : null }));
        let group: ReplicaGroup | null = null;
        const spanning = p.group;
        if (spanning) {
          const workers = workerNodes.map((n, i): ReplicaGroupWorker => ({ ...spanning.workers[i], nodeId: n.nodeId, layers: layerRange(n.gpus) ?? [0, -1] }));
          group = { id: spanning.id, role: 'leader', layers: layerRange(node.gpus) ?? [0, -1], workers };
        }
        const created = await this.replicaRows.create(
          { ...base, nodeId: p.nodeId, gpus: shareOf(node), estimateBytes: group ? rowBytes(node.gpus) : requirements.totalBytes, group },
          m,
        );
        if (group?.role === 'leader') {
          for (const [i, w] of group.workers.entries()) {
            await this.replicaRows.create({ ...base, id: w.replicaId, nodeId: w.nodeId, gpus: shareOf(workerNodes[i]), estimateBytes: rowBytes(workerNodes[i].gpus), group: workerRow(group, p.nodeId, w) }, m);
          }
        }
        p.event.replicaId = created.id;
        const planned = new Map([[created.id, rowBytes(node.gpus)], ...(group?.role === 'leader' ? group.workers.map((w, i) => [w.replicaId, rowBytes(workerNodes[i].gpus)] as const) : [])]);
        const members = group?.role === 'leader' ? membersOf(created.id, p.nodeId, group, nodes, (id) => ({ bytes: planned.get(id) ?? null, state: null })) : undefined;
        status.replicas.push({ id: created.id, nodeId: p.nodeId, nodeName: node.name, state: 'Placed', reason: null, ...(members ? { members } : {}) });
      }
      await this.deployments.observe(d.id, { status, phase: view.phase, conditions: withCondition(d.conditions, view, at), events: [...d.events, ...events].slice(-DEPLOYMENT_EVENTS_KEPT) }, m);
    });
    for (const x of [...decision.forget, ...decision.unload]) nudged.add(x.nodeId);
    for (const w of workersGone) nudged.add(w.nodeId);
    for (const x of replacements) {
      nudged.add(x.leader.nodeId);
      nudged.add(x.worker.nodeId);
      if (x.replaces) nudged.add(x.replaces.nodeId);
    }
    for (const p of placements) for (const n of p.planned.nodes) nudged.add(n.nodeId);
    for (const id of evict) {
      const victim = resident.find((r) => r.id === id);
      if (victim) nudged.add(victim.nodeId);
      this.evicted.push({ replicaId: id, nodeId: victim?.nodeId, forModel: model.name, at });
    }
    for (const p of placements) nudged.add(p.nodeId);
    for (const e of events) this.logger.log({ deploymentId: d.id, nodeId: e.nodeId, replicaId: e.replicaId }, `${d.name}: ${e.reason}: ${e.message}`);
  }

  /**
   * Places one replica with the api's planner, over GPU memory net of every replica row, off the
   * nodes where the deployment's load failed recently, nodes that hold the model's file first
   * (after the admin's preferred ones). The share is reserved in the pass's ledger at once (under
   * `key`), so the next replica of this pass, of any deployment, plans against it: placements never
   * over-commit, and a plan the ledger refuses is not written.
   * When no node has room, names the idle replicas of models loaded on demand (least recently
   * used first, never one with jobs in flight, loading, or pinned) whose unloading makes room on
   * one node: they are unloaded now, and the replica is placed once their memory is given back.
   */
  private place(
    d: DeploymentRecord,
    modelName: string,
    sha256: string | null,
    requirements: ReturnType<typeof plannedRequirements>,
    nodes: Map<string, NodeRecord>,
    ledger: GpuLedger,
    resident: readonly ResidentReplica[],
    now: number,
    key: string,
  ): Placement | { unschedulable: string; evict?: string[]; nodeId?: string; message?: string } {
    const avoid = this.backoff.get(d.id);
    const candidates = [...nodes.values()].filter((n) => (avoid?.get(n.id)?.until ?? 0) <= now);
    const resource = d.resource as { count?: number; instanceType?: string; preferredNodes?: string[]; labelSelector?: never };
    const holders = candidates.filter((n) => sha256 !== null && (n.inventory.storedModels ?? []).includes(sha256)).map((n) => n.id);
    const planNodes = candidates.map((n) => planNodeOf(n, (gpu) => ledger.allocatedBytes(n.id, gpu)));
    const plan = planDeployment({
      requirement: replicaRequirementOf(requirements),
      replicas: 1,
      resource: { ...resource, count: undefined },
      tolerations: d.tolerations as unknown as Toleration[],
      placement: d.placement as PlacementPolicy,
      nodes: planNodes,
      quota: null,
      instanceTypes: INSTANCE_TYPES,
      favouredNodes: holders,
    });
    const planned = plan.replicas[0];
    if (!plan.feasible || !planned) {
      const failed = plan.rules.filter((r) => !r.passed && r.blocks === 'plan').map((r) => r.message);
      const avoided = avoid && avoid.size > 0 ? `; ${avoid.size} node(s) kept off after failed loads` : '';
      const unschedulable = `no node can take another replica: ${failed.join('; ') || 'no candidate node'}${avoided}`;
      // Memory is short: idle replicas of models loaded on demand may make room.
      const room = planLoadOnDemand({ model: modelName, requirement: replicaRequirementOf(requirements), nodes: planNodes, resident, resource, tolerations: d.tolerations as unknown as Toleration[] });
      if (room.nodeId === null || room.evict.length === 0) return { unschedulable };
      return { unschedulable, evict: room.evict, nodeId: room.nodeId, message: room.reason };
    }
    let group: Placement['group'];
    if (planned.nodes.length > 1) {
      const spanning = this.spanningGroup(planned, nodes);
      if ('unschedulable' in spanning) return spanning;
      group = spanning;
    }
    const reserved = ledger.reserve(key, planned);
    if (!reserved.ok) return { unschedulable: reserved.refusal.message };
    if (group) for (const [i, w] of group.workers.entries()) this.portsInUse.set(planned.nodes[i + 1].nodeId, (this.portsInUse.get(planned.nodes[i + 1].nodeId) ?? new Set()).add(w.port));
    const node = planned.nodes[0];
    const whereOn = (n: PlannedReplica['nodes'][number]) => n.gpus.map((g) => `GPU ${g.index}: ${g.layers ? `layers ${g.layers[0]}-${g.layers[1]}, ` : ''}${gib(g.bytes)} GiB`).join('; ');
    const where = group ? planned.nodes.map((n, i) => `${n.name}${i === 0 ? ' (leader)' : ''}: ${whereOn(n)}`).join(' | ') : whereOn(node);
    const why = plan.rules.find((r) => r.rule === 'placement')?.message;
    return {
      nodeId: node.nodeId,
      planned,
      group,
      event: {
        at: new Date(now).toISOString(),
        reason: 'Placed',
        message: `${group ? `placed across ${planned.nodes.length} nodes (no single node holds it)` : `placed on ${node.name}`} (${where}) by ${d.placement}${holders.includes(node.nodeId) ? ', where the file already is' : ''}${why ? `: ${why}` : ''}`,
        nodeId: node.nodeId,
      },
    };
  }

  /**
   * A plan spanning nodes as a group: every node must run spanning replicas with the same
   * llama.cpp release (the RPC protocol changes between releases), and each worker node gets a
   * free port of its tunnel range.
   */
  private spanningGroup(planned: PlannedReplica, nodes: Map<string, NodeRecord>): NonNullable<Placement['group']> | { unschedulable: string } {
    const records = planned.nodes.map((n) => nodes.get(n.nodeId));
    const releases = records.map((n) => (n ? spanningRelease(n.inventory) : null));
    const unable = planned.nodes.filter((_, i) => releases[i] === null).map((n) => n.name);
    if (unable.length > 0) return { unschedulable: `the replica needs ${planned.nodes.length} nodes and ${unable.join(', ')} cannot run a spanning replica (no llama.cpp RPC binaries or no tunnel address)` };
    if (new Set(releases).size > 1) return { unschedulable: `the replica needs ${planned.nodes.length} nodes and they run different llama.cpp releases (${[...new Set(releases)].join(', ')}): a group needs one` };
    const workers: NonNullable<Placement['group']>['workers'] = [];
    for (const n of records.slice(1)) {
      const rpc = n?.inventory.rpc;
      const port = rpc ? freeTunnelPort(rpc.ports, this.portsInUse.get(n.id) ?? new Set()) : null;
      if (!n || !rpc || port === null) return { unschedulable: `${n?.name ?? 'a worker node'} has no free tunnel port left in its range` };
      workers.push({ replicaId: randomUUID(), host: rpc.address, port });
    }
    return { id: randomUUID(), workers };
  }

  /**
   * Checks the members of each spanning replica. A worker is lost when its row or node is gone,
   * its node is not Ready (a group cannot serve without it, so waiting for the node to be Lost
   * would only lengthen the outage), leaving, or its RPC server failed. A lost worker alone is
   * replaced, on another node with room for its layers (its tunnel port assigned there); the
   * leader is told its new member and reloads; the other members stay as they are. With no room
   * elsewhere the member is kept, and the group serves again when its node returns.
   */
  private checkGroups(
    leaders: readonly ReplicaRecord[],
    rowsById: Map<string, ReplicaRecord>,
    nodes: Map<string, NodeRecord>,
    ledger: GpuLedger,
    requirements: ReturnType<typeof plannedRequirements>,
    now: number,
  ): GroupCheck {
    const out: GroupCheck = { replacements: [], degraded: new Map(), events: [] };
    const at = new Date(now).toISOString();
    for (const leader of leaders) {
      const g = leader.group;
      if (g?.role !== 'leader') continue;
      let workers = g.workers;
      const problems: string[] = [];
      // The leader's llama.cpp died (as it does the moment a worker's RPC server goes): a worker whose
      // node has also missed two heartbeats is taken as lost now, not only once the node is NotReady.
      // Died: failed while serving, or not Ready since it last was (its Failed report lasts only
      // until the agent restarts it, which a pass may not see).
      const leaderReport = reportFor(leader, nodes.get(leader.nodeId));
      if (leaderReport?.state === 'Ready') {
        this.leaderServed.add(leader.id);
        this.leaderDied.delete(leader.id);
      } else if (leaderReport?.restarting || this.leaderServed.has(leader.id)) {
        this.leaderDied.add(leader.id);
      }
      const leaderDied = this.leaderDied.has(leader.id);
      const silentSince = now - 2 * this.config.GRIDLINE_HEARTBEAT_SECONDS * 1000;
      for (const w of g.workers) {
        const row = rowsById.get(w.replicaId);
        const node = nodes.get(w.nodeId);
        const why = memberLoss(row, node) ?? (leaderDied && node && node.lastHeartbeatAt.getTime() < silentSince ? 'the leader lost it and its node missed two heartbeats' : null);
        if (!why) continue;
        const name = node?.name ?? w.nodeId;
        const taken = new Set([leader.nodeId, ...workers.map((x) => x.nodeId)]);
        const replacement = this.placeMember(w, taken, nodes, ledger, requirements, `${w.replicaId}>`);
        if ('unschedulable' in replacement) {
          problems.push(`worker on ${name} (layers ${w.layers[0]}-${w.layers[1]}) lost: ${why}; ${replacement.unschedulable}`);
          continue;
        }
        const next: ReplicaGroupWorker = { replicaId: randomUUID(), nodeId: replacement.nodeId, host: replacement.host, port: replacement.port, layers: w.layers };
        workers = workers.map((x) => (x.replicaId === w.replicaId ? next : x));
        problems.push(`worker on ${name} lost (${why}): replaced on ${replacement.nodeName}`);
        out.replacements.push({ leader, group: { ...g, workers }, worker: next, gpus: replacement.gpus, estimateBytes: rowBytes(replacement.gpus), replaces: row ?? null });
        out.events.push({ at, reason: 'MemberReplaced', message: `worker on ${name} (layers ${w.layers[0]}-${w.layers[1]}) lost: ${why}; replaced on ${replacement.nodeName} (port ${next.port}); the leader reloads`, replicaId: leader.id, nodeId: next.nodeId });
      }
      // Later replacements of the same group carry the earlier ones.
      const mineNow = out.replacements.filter((x) => x.leader.id === leader.id);
      for (const x of mineNow) x.group = { ...g, workers };
      if (problems.length > 0) out.degraded.set(leader.id, problems.join('; '));
    }
    return out;
  }

  /** Places one lost worker's layers on a node outside its group, alone on that node (a node with spanning capability, same release as the group's). */
  private placeMember(
    lost: ReplicaGroupWorker,
    taken: ReadonlySet<string>,
    nodes: Map<string, NodeRecord>,
    ledger: GpuLedger,
    requirements: ReturnType<typeof plannedRequirements>,
    key: string,
  ): { nodeId: string; nodeName: string; host: string; port: number; gpus: ReplicaRecord['gpus'] } | { unschedulable: string } {
    const layers = requirements.layers.filter((l) => l.index >= lost.layers[0] && l.index <= lost.layers[1]);
    const base = requirements.perGpu.baseBytes;
    const requirement = { totalBytes: base + layers.reduce((a, l) => a + l.bytes, 0), fixedBytes: base, perGpuBytes: base, layers: layers.map((l) => ({ index: l.index, bytes: l.bytes })) };
    const candidates = [...nodes.values()].filter((n) => !taken.has(n.id) && spanningRelease(n.inventory) !== null);
    const plan = planDeployment({
      requirement,
      replicas: 1,
      resource: {},
      tolerations: [],
      nodes: candidates.map((n) => planNodeOf(n, (gpu) => ledger.allocatedBytes(n.id, gpu))),
      quota: null,
      instanceTypes: INSTANCE_TYPES,
    });
    const planned = plan.replicas[0];
    const need = `${gib(requirement.totalBytes)} GiB`;
    if (!plan.feasible || !planned || planned.nodes.length !== 1) return { unschedulable: `no other node has room for its ${need}: waiting for it to return` };
    const node = nodes.get(planned.nodes[0].nodeId);
    const rpc = node?.inventory.rpc;
    const port = rpc ? freeTunnelPort(rpc.ports, this.portsInUse.get(planned.nodes[0].nodeId) ?? new Set()) : null;
    if (!node || !rpc || port === null) return { unschedulable: `no other node has a free tunnel port for its ${need}` };
    // Its first and last layer as the lost worker had them, wherever the planner put them on the new node.
    const gpus = planned.nodes[0].gpus.map((g) => ({ index: g.index, bytes: g.bytes, layers: g.layers ? ([g.layers[0], g.layers[1]] as [number, number]) : null }));
    const reserved = ledger.reserve(key, planned);
    if (!reserved.ok) return { unschedulable: reserved.refusal.message };
    this.portsInUse.set(node.id, (this.portsInUse.get(node.id) ?? new Set()).add(port));
    return { nodeId: node.id, nodeName: node.name, host: rpc.address, port, gpus };
  }

  /** A replica as the decision sees it; a spanning one is Ready only when every member is, and Degraded while a member is lost. */
  private observeGroup(leader: ReplicaRecord, rowsById: Map<string, ReplicaRecord>, nodes: Map<string, NodeRecord>, degraded: Map<string, string>, now: number): ObservedReplica {
    const base = this.observe(leader, nodes.get(leader.nodeId), now);
    const g = leader.group;
    if (g?.role !== 'leader') return base;
    const lost = degraded.get(leader.id);
    // The leader's llama.cpp dies with a lost worker: that is the group's loss, not a failed load to move elsewhere.
    if (lost) return { ...base, state: 'Degraded', reason: lost };
    // Its llama.cpp died while serving, as it does the moment a worker's RPC server goes: the agent
    // restarts it; moving the whole group elsewhere would only lengthen the outage (KAITO's way).
    if (base.state === 'Failed' && reportFor(leader, nodes.get(leader.nodeId))?.restarting) return { ...base, state: 'Degraded', reason: `the leader's llama.cpp exited while serving (${base.reason ?? 'no reason given'}); its agent restarts it` };
    if (base.state !== 'Ready') return base;
    const waiting = g.workers.filter((w) => {
      const row = rowsById.get(w.replicaId);
      return !row || reportFor(row, nodes.get(w.nodeId))?.state !== 'Ready';
    });
    if (waiting.length === 0) return base;
    return { ...base, state: 'Loading', reason: `waiting for ${waiting.length} worker(s): ${waiting.map((w) => nodes.get(w.nodeId)?.name ?? w.nodeId).join(', ')}` };
  }

  /**
   * A replica as eviction sees it. Only an idle replica of a deployment that loads on demand and
   * is not pinned may be evicted: a fixed deployment's replica (or an admin's) would only be
   * placed again.
   */
  private resident(r: ReplicaRecord, node: NodeRecord | undefined, d: DeploymentRecord | undefined, now: number): ResidentReplica {
    const report = reportFor(r, node);
    const usage = this.registry.usage(r.id, r.createdAt.getTime());
    return {
      id: r.id,
      nodeId: r.nodeId,
      model: r.modelName,
      gpus: r.gpus.map((g) => ({ index: g.index, bytes: g.bytes })),
      inFlight: Math.max(usage.inFlight, report?.busySequences ?? 0),
      lastUsedAt: Math.min(now, usage.lastUsedAt),
      pinned: !d || d.minReplicas === null || d.pinned,
      loading: report?.state !== 'Ready',
    };
  }

  /** An `Evicted` event on each evicted replica's deployment. */
  private async recordEvictions(fence: number, rows: ReplicaRecord[], byId: Map<string, DeploymentRecord>): Promise<void> {
    for (const e of this.evicted) {
      const d = byId.get(rows.find((r) => r.id === e.replicaId)?.deploymentId ?? '');
      if (!d) continue;
      const event: DeploymentEvent = { at: e.at, reason: 'Evicted', message: `idle: unloaded to make room for ${e.forModel}`, replicaId: e.replicaId, nodeId: e.nodeId };
      await this.leases.fenced(fence, (m) => this.deployments.appendEvents(d.id, [event], DEPLOYMENT_EVENTS_KEPT, m));
      this.logger.log({ deploymentId: d.id, replicaId: e.replicaId }, `${d.name}: Evicted: ${event.message}`);
    }
  }

  private noteFailure(deploymentId: string, nodeId: string, now: number): void {
    const byNode = this.backoff.get(deploymentId) ?? new Map<string, { until: number; failures: number }>();
    const failures = (byNode.get(nodeId)?.failures ?? 0) + 1;
    byNode.set(nodeId, { failures, until: now + this.config.GRIDLINE_LOAD_RETRY_SECONDS * 1000 * Math.min(16, 2 ** (failures - 1)) });
    this.backoff.set(deploymentId, byNode);
    this.failures.set(deploymentId, (this.failures.get(deploymentId) ?? 0) + 1);
  }

  private observe(r: ReplicaRecord, node: NodeRecord | undefined, now: number): ObservedReplica {
    const report = reportFor(r, node);
    const usage = this.registry.usage(r.id, r.createdAt.getTime());
    return {
      id: r.id,
      nodeId: r.nodeId,
      nodeName: node?.name ?? r.nodeId,
      nodeStatus: !node || node.revokedAt ? 'Gone' : node.status,
      nodeLeaving: !!node && (node.draining || !!node.inventory.shuttingDown),
      state: report?.state ?? null,
      reason: report?.reason ?? null,
      inFlight: Math.max(usage.inFlight, report?.busySequences ?? 0),
      lastUsedAt: Math.min(now, usage.lastUsedAt),
    };
  }
}

/** Why a spanning replica's worker is lost, or null while it stands. */
function memberLoss(row: ReplicaRecord | undefined, node: NodeRecord | undefined): string | null {
  if (!row || row.desired !== 'Loaded') return 'its row is gone';
  if (!node || node.revokedAt) return 'its node is gone';
  if (node.status !== 'Ready') return `its node is ${node.status}`;
  if (node.draining || node.inventory.shuttingDown) return 'its node is leaving';
  const report = reportFor(row, node);
  if (report?.state === 'Failed') return `its RPC server failed${report.reason ? ` (${report.reason})` : ''}`;
  return null;
}

function reportFor(row: ReplicaRecord, node: NodeRecord | undefined): ReplicaReport | null {
  return (node?.replicaReports as ReplicaReport[] | undefined)?.find((x) => x.id === row.id) ?? null;
}

/** A worker's own row: its group, its leader, its tunnel port and layers. */
function workerRow(group: Extract<ReplicaGroup, { role: 'leader' }>, leaderNodeId: string, w: ReplicaGroupWorker): ReplicaGroup {
  return { id: group.id, role: 'worker', leaderNodeId, host: w.host, port: w.port, layers: w.layers };
}

/** A spanning replica's members as its deployment shows them: node, role, layers, GPU memory planned, state. */
function membersOf(
  leaderId: string,
  leaderNodeId: string,
  group: Extract<ReplicaGroup, { role: 'leader' }>,
  nodes: Map<string, NodeRecord>,
  member: (replicaId: string) => { bytes: number | null; state: string | null },
): DeploymentMember[] {
  const one = (replicaId: string, role: DeploymentMember['role'], nodeId: string, layers: [number, number]): DeploymentMember => {
    const m = member(replicaId);
    return { replicaId, role, nodeId, nodeName: nodes.get(nodeId)?.name ?? nodeId, layers, bytes: m.bytes, state: m.state ?? 'Placed' };
  };
  return [one(leaderId, 'leader', leaderNodeId, group.layers), ...group.workers.map((w) => one(w.replicaId, 'worker', w.nodeId, w.layers))];
}

/** What the deployment's status shows: its replicas, each with its node and state. */
function observation(desired: number, view: DeploymentPhaseView, kept: readonly ObservedReplica[], now: number): DeploymentStatus {
  return {
    readyReplicas: view.readyReplicas,
    desiredReplicas: desired,
    replicas: kept.map((r) => ({ id: r.id, nodeId: r.nodeId, nodeName: r.nodeName, state: r.nodeStatus === 'Ready' ? (r.state ?? 'Placed') : `${r.state ?? 'Placed'} (node ${r.nodeStatus})`, reason: r.reason })),
    observedAt: new Date(now).toISOString(),
  };
}

/** Whether two observations differ in anything but their time. */
function sameStatus(a: DeploymentStatus | null, b: DeploymentStatus): boolean {
  if (!a) return false;
  return JSON.stringify({ ...a, observedAt: '' }) === JSON.stringify({ ...b, observedAt: '' });
}

/** Appends the phase as a condition when it (or its reason) changed; the history is bounded. */
function withCondition(conditions: DeploymentCondition[], view: DeploymentPhaseView, at: string): DeploymentCondition[] {
  const last = conditions.at(-1);
  if (last && last.type === view.phase && last.reason === view.reason) return conditions;
  return [...conditions, { type: view.phase, status: true, reason: view.reason, message: view.message, at }].slice(-20);
}

/**
 * This pass's GPU ledger. Every replica row holds its share until its node stops reporting it (an
 * unloading replica still holds memory); what a GPU uses beyond its rows (another process, a
 * replica an admin placed by hand) is counted too. Rows are reserved before the GPUs get their
 * real size: a GPU promised beyond its size (it shrank, or rows were written by hand) keeps its
 * rows and has no room left, rather than losing track of them.
 */
function ledgerOf(nodes: readonly NodeRecord[], rows: readonly ReplicaRecord[]): GpuLedger {
  const ledger = new GpuLedger();
  const rowBytes = new Map<string, number>();
  for (const r of rows) {
    for (const g of r.gpus) {
      ledger.setGpu(r.nodeId, g.index, Number.MAX_SAFE_INTEGER);
      rowBytes.set(`${r.nodeId}/${g.index}`, (rowBytes.get(`${r.nodeId}/${g.index}`) ?? 0) + g.bytes);
    }
  }
  for (const r of rows) {
    if (r.gpus.length > 0) ledger.reserve(r.id, { nodes: [{ nodeId: r.nodeId, name: r.nodeId, gpus: r.gpus.map((g) => ({ index: g.index, bytes: g.bytes, layers: g.layers })) }] });
  }
  for (const n of nodes) {
    for (const g of n.gpus) ledger.setGpu(n.id, g.index, g.totalMemoryBytes, Math.max(0, g.totalMemoryBytes - g.freeMemoryBytes - (rowBytes.get(`${n.id}/${g.index}`) ?? 0)));
  }
  return ledger;
}
