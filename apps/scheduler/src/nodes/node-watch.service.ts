import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { JobRepository, NodeRepository } from '@gridline/db';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';
import { errorSummary } from '@gridline/common';

/** Rebuilds the live view at start (nodes, and the jobs they hold) and marks silent nodes NotReady. */
@Injectable()
export class NodeWatch implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Nodes');
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: SchedulerConfig,
    private readonly nodes: NodeRepository,
    private readonly jobs: JobRepository,
    private readonly replicas: ReplicaRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const timeoutMs = this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000;
    for (const node of await this.nodes.list()) {
      if (node.status === 'Ready' && Date.now() - node.lastHeartbeatAt.getTime() <= timeoutMs) {
        this.replicas.seen(node.id, node.loadedModels, node.lastHeartbeatAt.getTime());
      }
    }
    for (const job of await this.jobs.listOpen(['dispatched', 'running'])) {
      if (job.nodeId) this.replicas.hold(job.nodeId, job.id, job.attempt, job.model, (job.dispatchedAt ?? job.createdAt).getTime());
    }
    this.timer = setInterval(() => void this.markStale(), Math.max(1000, (this.config.GRIDLINE_HEARTBEAT_SECONDS * 1000) / 2));
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async markStale(): Promise<void> {
    try {
      const stale = await this.nodes.markStale(new Date(Date.now() - this.config.GRIDLINE_NODE_TIMEOUT_SECONDS * 1000));
      for (const id of stale) this.logger.warn(`node ${id} missed its heartbeats: NotReady`);
    } catch (e) {
      this.logger.warn(`heartbeat watch failed: ${errorSummary(e)}`);
    }
  }
}
