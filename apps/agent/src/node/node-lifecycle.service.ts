import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { freemem, totalmem } from 'node:os';
import { firstValueFrom, timeout } from 'rxjs';
import { QueueConsumers, Queues } from '@gridline/messaging';
import { AgentHeartbeat, AgentRpc, PrefixedClientRedis, RegisterAgentReply, RegisterAgentRequest } from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';
import { JobRunner } from '../jobs/job-runner.service';
import { ModelHost } from './model-host';
import { NodeIdentity } from './node-identity';

export const AGENT_VERSION = '0.1.0';

/**
 * The node's life: start the model, register, heartbeat (inventory and the jobs running),
 * consume the node's queue; on shutdown stop taking jobs and let the running ones finish.
 */
@Injectable()
export class NodeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Agent');
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private stopping = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly host: ModelHost,
    private readonly identity: NodeIdentity,
    private readonly jobs: JobRunner,
    private readonly consumers: QueueConsumers,
    private readonly rpc: PrefixedClientRedis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.host.start();
    await this.rpc.connect();
    const reply = await this.register();
    this.identity.set(reply.nodeId);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), reply.heartbeatIntervalSeconds * 1000);
    const model = this.host.model;
    if (model) this.consumers.start(Queues.node, reply.nodeId, model.parallel);
    this.logger.log(`node ${this.config.GRIDLINE_NODE_NAME} registered as ${reply.nodeId}; serving ${model?.name ?? 'nothing'}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.consumers.close();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.rpc.close();
  }

  private registration(): RegisterAgentRequest {
    return {
      nodeName: this.config.GRIDLINE_NODE_NAME,
      agentVersion: AGENT_VERSION,
      backend: this.host.backend,
      gpus: this.host.gpus(),
      totalMemoryBytes: totalmem(),
      freeMemoryBytes: freemem(),
      models: this.host.model ? [this.host.model] : [],
    };
  }

  /** Registers, retrying until a scheduler answers. */
  private async register(): Promise<RegisterAgentReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await firstValueFrom(this.rpc.send<RegisterAgentReply, RegisterAgentRequest>(AgentRpc.Register, this.registration()).pipe(timeout(5000)));
      } catch (e) {
        if (this.stopping) throw e;
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`registration not answered yet (${(e as Error).message || 'timeout'}); retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private heartbeat(): void {
    const beat: AgentHeartbeat = {
      nodeId: this.identity.id,
      gpus: this.host.gpus(),
      freeMemoryBytes: freemem(),
      loadedModels: this.host.loadedModels(),
      runningJobs: this.jobs.runningJobs(),
    };
    this.rpc.emit(AgentRpc.Heartbeat, beat).subscribe({ error: (e: Error) => this.logger.warn(`heartbeat failed: ${e.message}`) });
  }
}
