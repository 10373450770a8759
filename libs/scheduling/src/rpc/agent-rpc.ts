import type { LoadedModel, NodeGpu, RunningJob, ServedContext } from '@gridline/contract';

/** @nestjs/microservices patterns between agents and the scheduler (Redis transport, prefixed channels). */
export const AgentRpc = {
  /** Request/reply: an agent announces itself and gets its node id. */
  Register: 'agent.register',
  /** Event: periodic liveness and inventory. */
  Heartbeat: 'agent.heartbeat',
} as const;

/** A model an agent serves: facts of its file, and how it is served (its context per sequence). */
export interface ModelAnnouncement extends ServedContext {
  name: string;
  sha256: string | null;
  sizeBytes: number;
  architecture: string;
  contextLength: number | null;
  layers: number | null;
  embedding: number | null;
  parameterBytes: number;
  parallel: number;
}

export interface RegisterAgentRequest {
  nodeName: string;
  agentVersion: string;
  backend: string;
  gpus: NodeGpu[];
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  models: ModelAnnouncement[];
}

export interface RegisterAgentReply {
  nodeId: string;
  /** Seconds between heartbeats the scheduler expects. */
  heartbeatIntervalSeconds: number;
}

export interface AgentHeartbeat {
  nodeId: string;
  gpus: NodeGpu[];
  freeMemoryBytes: number;
  loadedModels: LoadedModel[];
  /** The jobs the agent is running now; the scheduler reconciles them with what it dispatched. */
  runningJobs: RunningJob[];
}
