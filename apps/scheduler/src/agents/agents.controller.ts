import { Controller, Logger } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ModelRepository, NodeRepository } from '@gridline/db';
import { ServedContext, assertShape } from '@gridline/contract';
import { AgentHeartbeat, AgentRpc, ModelAnnouncement, RegisterAgentReply, RegisterAgentRequest } from '@gridline/scheduling';
import { ReplicaRegistry } from '../replicas/replica-registry';
import { SchedulerConfig } from '../scheduler.config';

/** The serving facts of an announcement, when they are well-formed. */
function servedContext(m: ModelAnnouncement): ServedContext | null {
  const positive = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!positive(m.contextTokens)) return null;
  return { contextTokens: m.contextTokens, maxTokenBytes: positive(m.maxTokenBytes) ? m.maxTokenBytes : null };
}

/** Agents announce themselves and heartbeat over the Redis transport. */
@Controller()
export class AgentsController {
  private readonly logger = new Logger(AgentsController.name);

  constructor(
    private readonly config: SchedulerConfig,
    private readonly nodes: NodeRepository,
    private readonly models: ModelRepository,
    private readonly replicas: ReplicaRegistry,
  ) {}

  @MessagePattern(AgentRpc.Register)
  async register(@Payload() req: RegisterAgentRequest): Promise<RegisterAgentReply> {
    assertShape('register', req, { nodeName: 'string', agentVersion: 'string', backend: 'string', gpus: 'array', totalMemoryBytes: 'number', freeMemoryBytes: 'number', models: 'array' });
    for (const m of req.models) {
      const serving = servedContext(m);
      await this.models.upsert({
        name: m.name,
        sha256: m.sha256,
        sizeBytes: m.sizeBytes,
        facts: {
          architecture: m.architecture,
          contextLength: m.contextLength,
          layers: m.layers,
          embedding: m.embedding,
          parameterBytes: m.parameterBytes,
          // Agents from before the context check announce no serving facts: the api then leaves the check to the runner.
          ...(serving ? { serving } : {}),
        },
      });
    }
    const loaded = req.models.map((m) => ({ name: m.name, sha256: m.sha256, parallel: m.parallel }));
    const node = await this.nodes.register(
      { name: req.nodeName, agentVersion: req.agentVersion, backend: req.backend, gpus: req.gpus, totalMemoryBytes: req.totalMemoryBytes, freeMemoryBytes: req.freeMemoryBytes, loadedModels: loaded },
      new Date(),
    );
    this.replicas.seen(node.id, loaded, Date.now());
    this.logger.log(`node ${req.nodeName} (${node.id}) registered: ${req.backend}, ${req.gpus.length} GPU(s), models ${loaded.map((m) => m.name).join(', ') || 'none'}`);
    return { nodeId: node.id, heartbeatIntervalSeconds: this.config.GRIDLINE_HEARTBEAT_SECONDS };
  }

  @EventPattern(AgentRpc.Heartbeat)
  async heartbeat(@Payload() beat: AgentHeartbeat): Promise<void> {
    try {
      assertShape('heartbeat', beat, { nodeId: 'string', gpus: 'array', freeMemoryBytes: 'number', loadedModels: 'array', runningJobs: 'array' });
    } catch (e) {
      this.logger.warn(`ignored a malformed heartbeat: ${(e as Error).message}`);
      return;
    }
    const now = Date.now();
    if (!(await this.nodes.heartbeat(beat.nodeId, beat, new Date(now)))) return;
    this.replicas.seen(beat.nodeId, beat.loadedModels, now);
    const running = beat.runningJobs.filter((j) => typeof j?.jobId === 'string' && Number.isInteger(j?.attempt));
    this.replicas.report(beat.nodeId, running, now, this.config.GRIDLINE_HEARTBEAT_SECONDS * 2000);
  }
}
