import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { LATENCY_SECONDS_BUCKETS, TeamNameLabels, createMetricsRegistry, scrapedGauge } from '@gridline/common';
import { JobFigures, MetricsRepository, NodeRecord, NodeRepository, NodeStatus, TeamScope } from '@gridline/db';
import { Leadership } from '../leadership/leadership.service';
import { SchedulerConfig } from '../scheduler.config';

const NODE_STATUSES: NodeStatus[] = ['Pending', 'Ready', 'NotReady', 'Lost'];

/** How long the jobs table's figures are reused: several Prometheus servers (or a dashboard's refresh) scan it once. */
export const JOB_FIGURES_TTL_MS = 5000;

/** Injection token of the clock the metrics read (epoch ms); Date.now unless a test provides one. */
export const SCHEDULER_METRICS_CLOCK = Symbol('SCHEDULER_METRICS_CLOCK');

/** What one scrape reads from Postgres, shared by every metric collected in it. */
interface Snapshot {
  jobs: JobFigures[];
  nodes: NodeRecord[];
  at: number;
}

/**
 * The scheduler's metrics. The jobs, queue, node, replica and GPU figures are read from
 * Postgres at each scrape, so they agree with the tables whichever scheduler (leader or
 * standby) is scraped; queue waits are observed by the leader as it dispatches.
 */
@Injectable()
export class SchedulerMetrics {
  readonly registry = createMetricsRegistry();
  private readonly queueWait = new Histogram({
    name: 'gridline_queue_wait_seconds',
    help: "Time from a job's acceptance at the api to its first dispatch to a replica, per team (observed by the leading scheduler; a requeued job's later dispatches are not observed)",
    labelNames: ['team'] as const,
    buckets: LATENCY_SECONDS_BUCKETS,
    registers: [this.registry],
  });
  private snapshotting: Promise<Snapshot> | null = null;
  private jobFigures: { jobs: Promise<JobFigures[]>; at: number } | null = null;
  private readonly teams: TeamNameLabels;
  private readonly now: () => number;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly figures: MetricsRepository,
    private readonly nodeRows: NodeRepository,
    leadership: Leadership,
    @Optional() @Inject(SCHEDULER_METRICS_CLOCK) now?: () => number,
  ) {
    this.now = now ?? Date.now;
    this.teams = new TeamNameLabels({ load: () => this.figures.teamNames(TeamScope.all()), now: this.now });
    const registers = [this.registry];
    /** A metric filled from the scrape's snapshot. */
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>, s: Snapshot) => void): Gauge<L> =>
      scrapedGauge(this.registry, { name, help, labelNames }, () => this.snapshot(), fill);
    const liveNodes = (s: Snapshot) => s.nodes.filter((n) => !n.revokedAt);
    /** Nodes whose last report still stands: a Lost node's replicas and GPUs are gone from the fleet (it stays in gridline_nodes). */
    const reportingNodes = (s: Snapshot) => liveNodes(s).filter((n) => n.status !== 'Lost');
    const gpus = (s: Snapshot) => reportingNodes(s).flatMap((n) => n.gpus.map((g) => ({ g, labels: { node: n.name, gpu: String(g.index), gpu_name: g.name, simulated: String(g.simulated === true) } })));

    gauge('gridline_jobs', 'Jobs in the jobs table by state, team and model', ['state', 'team', 'model'], (g, s) => {
      for (const f of s.jobs) g.set({ state: f.status, team: f.team, model: f.model }, f.jobs);
    });
    const tokens: Counter<'kind' | 'team' | 'model'> = new Counter({
      name: 'gridline_job_tokens_total',
      help: 'Tokens recorded on the jobs table (usage the nodes reported), by kind (prompt, completion), team and model',
      labelNames: ['kind', 'team', 'model'] as const,
      registers,
      collect: async () => {
        const s = await this.snapshot();
        tokens.reset();
        for (const f of s.jobs) {
          if (f.promptTokens > 0) tokens.inc({ kind: 'prompt', team: f.team, model: f.model }, f.promptTokens);
          if (f.completionTokens > 0) tokens.inc({ kind: 'completion', team: f.team, model: f.model }, f.completionTokens);
        }
      },
    });
    gauge('gridline_queue_depth', 'Jobs queued (accepted, not yet dispatched) per team', ['team'], (g, s) => {
      for (const f of s.jobs) if (f.status === 'queued') g.inc({ team: f.team }, f.jobs);
    });
    gauge('gridline_queue_oldest_wait_seconds', 'How long the oldest queued job of each team has waited', ['team'], (g, s) => {
      const oldest = new Map<string, number>();
      for (const f of s.jobs) if (f.status === 'queued') oldest.set(f.team, Math.min(oldest.get(f.team) ?? Infinity, f.oldestCreatedAt.getTime()));
      for (const [team, at] of oldest) g.set({ team }, Math.max(0, (s.at - at) / 1000));
    });

    gauge('gridline_nodes', 'Nodes by status (Pending, Ready, NotReady, Lost); revoked nodes are not counted', ['status'], (g, s) => {
      for (const status of NODE_STATUSES) g.set({ status }, 0);
      for (const n of liveNodes(s)) g.inc({ status: n.status });
    });
    gauge('gridline_node_heartbeat_age_seconds', "Seconds since each node's last heartbeat", ['node'], (g, s) => {
      for (const n of liveNodes(s)) g.set({ node: n.name }, Math.max(0, s.at - n.lastHeartbeatAt.getTime()) / 1000);
    });
    gauge('gridline_node_heartbeats_missed', 'Heartbeats each node has missed in a row (0 while it heartbeats on time)', ['node'], (g, s) => {
      const intervalMs = this.config.GRIDLINE_HEARTBEAT_SECONDS * 1000;
      for (const n of liveNodes(s)) g.set({ node: n.name }, Math.floor(Math.max(0, s.at - n.lastHeartbeatAt.getTime()) / intervalMs));
    });
    gauge('gridline_replicas', 'Replicas by state (Pulling, Loading, Ready, Failed, Unloading) as their nodes last reported them (Lost nodes left out)', ['state', 'model', 'node'], (g, s) => {
      for (const n of reportingNodes(s)) for (const r of n.replicaReports as { model?: string; state?: string }[]) g.inc({ state: String(r.state), model: String(r.model), node: n.name });
    });
    const gpuLabels = ['node', 'gpu', 'gpu_name', 'simulated'] as const;
    gauge('gridline_gpu_memory_total_bytes', "GPU memory per node and GPU, from the node's reported inventory (simulated=true: GPUs the agent pretends to have; Lost nodes left out)", gpuLabels, (g, s) => {
      for (const { g: gpu, labels } of gpus(s)) g.set(labels, gpu.totalMemoryBytes);
    });
    gauge('gridline_gpu_memory_used_bytes', 'GPU memory in use per node and GPU (total less free)', gpuLabels, (g, s) => {
      for (const { g: gpu, labels } of gpus(s)) g.set(labels, Math.max(0, gpu.totalMemoryBytes - gpu.freeMemoryBytes));
    });
    gauge('gridline_gpu_memory_free_bytes', 'GPU memory free per node and GPU', gpuLabels, (g, s) => {
      for (const { g: gpu, labels } of gpus(s)) g.set(labels, gpu.freeMemoryBytes);
    });

    const leader: Gauge = new Gauge({
      name: 'gridline_scheduler_leader',
      help: '1 while this scheduler holds the leadership lease',
      registers,
      collect: () => leader.set(leadership.leading ? 1 : 0),
    });
  }

  /**
   * A job's attempt was dispatched `seconds` after the job was accepted: observed for the first
   * attempt only (a requeued attempt's wait would count its earlier run). Resolves once observed.
   */
  async observeQueueWait(teamId: string, attempt: number, seconds: number): Promise<void> {
    if (attempt !== 1) return;
    const team = await this.teams.of(teamId);
    this.queueWait.observe({ team }, Math.max(0, seconds));
  }

  /**
   * The figures of one scrape: read once, shared by the metrics it collects (prom-client starts
   * every collect at once, so sharing the read in flight is enough); the jobs table's figures are
   * reused for JOB_FIGURES_TTL_MS.
   */
  private snapshot(): Promise<Snapshot> {
    this.snapshotting ??= Promise.all([this.jobs(), this.nodeRows.list()])
      .then(([jobs, nodes]) => ({ jobs, nodes, at: this.now() }))
      .finally(() => (this.snapshotting = null));
    return this.snapshotting;
  }

  private jobs(): Promise<JobFigures[]> {
    const now = this.now();
    if (!this.jobFigures || now - this.jobFigures.at >= JOB_FIGURES_TTL_MS) {
      const jobs = this.figures.jobFigures(TeamScope.all());
      this.jobFigures = { jobs, at: now };
      // A failed read is not reused.
      jobs.catch(() => {
        if (this.jobFigures?.jobs === jobs) this.jobFigures = null;
      });
    }
    return this.jobFigures.jobs;
  }
}
