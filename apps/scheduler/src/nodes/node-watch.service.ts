import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { errorSummary } from '@gridline/common';
import { JobRepository, NodeRepository } from '@gridline/db';
import type { ReplicaReport } from '@gridline/scheduling';
import { Leadership } from '../leadership/leadership.service';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

/**
 * Rebuilds the live view at start (nodes and their replicas from their last heartbeats, the
 * jobs they hold), again from the jobs table when this scheduler becomes the leader (the jobs the
 * previous leader dispatched since the nodes' last heartbeats), and, while leading, marks silent
 * nodes NotReady, then Lost. `warm()` says when the view has heard every live node.
 */
@Injectable()
export class NodeWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Nodes');
  private timer: NodeJS.Timeout | null = null;
  private warmAt = 0;
  private startedAt = 0;
  /** Nodes that were live when this scheduler started: once each has heartbeated, the view is complete. */
  private expected: string[] = [];

  constructor(
    private readonly config: SchedulerConfig,
    private readonly nodes: NodeRepository,
    private readonly jobs: JobRepository,
    private readonly replicas: ReplicaRegistry,
    private readonly leadership: Leadership,
  ) {
    leadership.register({ lead: () => this.rebuild(), follow: async () => undefined });
  }

  async onApplicationBootstrap(): Promise<void> {
    const now = Date.now();
    this.startedAt = now;
    // One heartbeat interval and a half: every live node has reported what it runs by then.
    this.warmAt = now + this.config.GRIDLINE_HEARTBEAT_SECONDS * 1500;
    const timeoutMs = this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000;
    for (const node of await this.nodes.list()) {
      const at = node.lastHeartbeatAt.getTime();
      if (node.status !== 'Ready' || now - at > timeoutMs) continue;
      this.expected.push(node.id);
      const reports = node.replicaReports as ReplicaReport[];
      this.replicas.beat(
        {
          nodeId: node.id,
          at,
          // Counted, not routed to: whether the node takes work comes with its next heartbeat (the api decides it).
          schedulable: false,
          replicas: reports.map((r) => ({ id: r.id, model: r.model, parallel: r.parallel, ready: r.state === 'Ready' })),
          runningJobs: node.runningJobs,
        },
        this.config.GRIDLINE_HEARTBEAT_SECONDS * 2000,
      );
    }
    this.timer = setInterval(() => void this.markStale(), Math.max(1000, (this.config.GRIDLINE_HEARTBEAT_SECONDS * 1000) / 2));
  }

  /**
   * Becoming the leader: counts every attempt the jobs table says is on a node (what the last
   * leader dispatched after the nodes' latest heartbeats), and expects a heartbeat from every
   * live node it has not heard within the last interval before routing.
   */
  private async rebuild(): Promise<void> {
    const now = Date.now();
    const intervalMs = this.config.GRIDLINE_HEARTBEAT_SECONDS * 1500;
    for (const job of await this.jobs.listOpen(['dispatched', 'running'])) {
      if (job.nodeId) this.replicas.hold(job.nodeId, job.id, job.attempt, job.model, job.replicaId, (job.dispatchedAt ?? job.createdAt).getTime());
    }
    const timeoutMs = this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000;
    const live = (await this.nodes.list()).filter((n) => n.status === 'Ready' && now - n.lastHeartbeatAt.getTime() <= timeoutMs).map((n) => n.id);
    this.startedAt = now - intervalMs;
    this.expected = live.filter((id) => !this.replicas.heardSince(id, this.startedAt));
    this.warmAt = Math.max(this.warmAt, this.expected.length > 0 ? now + intervalMs : now);
  }

  /** Whether the live view has heard from every live node since this scheduler started. */
  warm(now = Date.now()): boolean {
    if (now >= this.warmAt) return true;
    this.expected = this.expected.filter((id) => !this.replicas.heardSince(id, this.startedAt));
    return this.expected.length === 0;
  }

  /** Milliseconds until `warm()`. */
  warmInMs(now = Date.now()): number {
    return Math.max(0, this.warmAt - now);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async markStale(): Promise<void> {
    if (!this.leadership.leading) return;
    try {
      const now = Date.now();
      const { notReady, lost } = await this.nodes.markStale(new Date(now - this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000), new Date(now - this.config.GRIDLINE_NODE_LOST_SECONDS * 1000));
      for (const id of notReady) this.logger.warn(`node ${id} missed its heartbeats: NotReady`);
      for (const id of lost) this.logger.warn(`node ${id} has been silent for ${this.config.GRIDLINE_NODE_LOST_SECONDS} s: Lost`);
    } catch (e) {
      this.logger.warn(`heartbeat watch failed: ${errorSummary(e)}`);
    }
  }
}
