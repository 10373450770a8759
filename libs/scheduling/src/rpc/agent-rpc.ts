import type { NodeGpu, RunningJob, ServedContext } from '@gridline/contract';
import type { Taint } from '../placement/node-match';

/**
 * The agent protocol. Agents talk to the api over HTTP: they join with a join token
 * (`POST /api/v1/agent/join`), then sign every request with their node credential (HMAC,
 * shared/HMAC.md): heartbeats (`POST /api/v1/agent/heartbeat`) carry the node's inventory and
 * the actual state of its replicas, and each answer carries the replicas the control plane
 * wants on the node (desired state, reconciled by the agent). The api passes what routing
 * needs on to the scheduler over Redis (`AgentRpc.NodeBeat`).
 */
export const AgentRpc = {
  /** Event, api → scheduler: a node's routing view after a verified heartbeat or an admin's change. */
  NodeBeat: 'node.beat',
  /** Event, api → agents: look at your desired state now (sent on the node's own channel). */
  Nudge: 'node.nudge',
} as const;

export const AGENT_PATHS = {
  join: '/api/v1/agent/join',
  heartbeat: '/api/v1/agent/heartbeat',
  /** The file of a catalog model, for the node's model store (Range supported). */
  modelFile: (modelId: string) => `/api/v1/agent/models/${encodeURIComponent(modelId)}/file`,
} as const;

/** The channel an agent listens on for nudges (prefixed like every channel). */
export const nudgeChannel = (nodeId: string) => `${AgentRpc.Nudge}.${nodeId}`;

/** A model an agent serves from a local file of its own: facts of its file, and how it is served. */
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

export interface NodeInventory {
  agentVersion: string;
  /** llama.cpp compute backend: cuda, vulkan, metal or cpu. */
  backend: string;
  llamaCppVersion: string | null;
  gpus: NodeGpu[];
  cpuCores: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  /** Free disk where the model store lives. */
  diskFreeBytes: number | null;
  /** What the node can run beyond a plain replica (e.g. `simulated-gpus`). */
  capabilities: string[];
  /** sha256 of the complete model files in the node's store: placement prefers nodes that hold a model's file. */
  storedModels?: string[];
  /**
   * With the `llama-rpc@<release>` capability: the address other nodes reach this node's
   * replica-group tunnels at, and the ports the control plane may assign them.
   */
  rpc?: { address: string; ports: [number, number] };
  platform: string;
  arch: string;
}

export interface ReplicaRuntimeSettings {
  contextSize: number;
  parallel: number;
  gpuLayers: number | 'auto' | 'max';
  threads: number;
}

/** A replica the control plane wants on the node. */
export interface ReplicaSpec {
  id: string;
  model: string;
  /** Catalog id: the file comes from `AGENT_PATHS.modelFile(modelId)`. */
  modelId: string;
  sha256: string;
  sizeBytes: number;
  settings: ReplicaRuntimeSettings;
  /** The memory planned for it; simulated GPUs account this much. */
  estimateBytes: number | null;
  /** Its part in a replica spanning nodes (absent for a replica on one node). */
  group?: ReplicaGroupSpec;
}

/**
 * A member of a replica spanning nodes, as its agent runs it. The leader loads the model (its
 * first layers here, the rest on the workers' devices through llama.cpp's RPC backend) and serves
 * the replica's jobs; each worker runs an RPC server for the group behind the group's tunnel.
 * The tunnel key is derived from the leader node's credential and the group
 * (`groupTunnelKey`): the leader derives it itself, a worker is told it in its heartbeat's answer.
 */
export type ReplicaGroupSpec =
  | { id: string; role: 'leader'; layers: [number, number]; workers: { nodeId: string; host: string; port: number; layers: [number, number] }[] }
  | { id: string; role: 'worker'; leaderNodeId: string; port: number; layers: [number, number]; leaderKeyHex: string };

export type ReplicaState = 'Pulling' | 'Loading' | 'Ready' | 'Failed' | 'Unloading';

export interface PullReport {
  bytes: number;
  totalBytes: number;
  percent: number;
  bytesPerSecond: number;
}

/** A replica as the agent reports it. */
export interface ReplicaReport {
  id: string;
  model: string;
  sha256: string | null;
  /** `local`: the agent's own file (GRIDLINE_MODEL_PATH); `control-plane`: a ReplicaSpec. */
  origin: 'local' | 'control-plane';
  state: ReplicaState;
  reason: string | null;
  parallel: number;
  busySequences: number;
  /** Jobs handed to the replica that wait for a sequence. */
  queueDepth: number;
  /** Tokens generated per second over the last heartbeat interval. */
  tokensPerSecond: number | null;
  gpuLayers: number | null;
  totalLayers: number | null;
  /** GPU indexes the replica's memory is on. */
  gpuIndexes: number[];
  /** The runner process serving it (for operators: its logs, its memory). */
  pid: number | null;
  /** What the load took, next to what was planned. */
  memory: { estimateBytes: number | null; gpuBytes: number; cpuBytes: number } | null;
  pull: PullReport | null;
  /** For local replicas: the facts the catalog records. */
  announcement?: ModelAnnouncement;
  /** Failed while serving (its process died): the agent starts it again after a pause. */
  restarting?: boolean;
  /** A member of a spanning replica: its role and group. A worker serves no jobs of its own. */
  group?: { id: string; role: 'leader' | 'worker' };
  /** A leader's load as llama.cpp made it: layers kept on this node, and on each worker in order. */
  span?: { localLayers: number; workerLayers: number[] };
}

/** One load (successful or not), reported until a heartbeat carrying it is answered. */
export interface LoadReport {
  loadId: string;
  replicaId: string | null;
  model: string;
  outcome: 'loaded' | 'failed';
  reason: string | null;
  estimateBytes: number | null;
  gpuBytes: number | null;
  cpuBytes: number | null;
  gpuLayers: number | null;
  loadMs: number | null;
}

export interface JoinRequest {
  token: string;
  nodeName: string;
  labels: Record<string, string>;
  taints: Taint[];
  inventory: NodeInventory;
}

export interface JoinReply {
  nodeId: string;
  accessKey: string;
  secretKey: string;
  /** `Pending` until approved. */
  status: string;
  heartbeatIntervalSeconds: number;
}

export interface HeartbeatRequest {
  nodeId: string;
  inventory: NodeInventory;
  replicas: ReplicaReport[];
  runningJobs: RunningJob[];
  loads: LoadReport[];
  /** The agent is shutting down: it takes no new jobs. */
  shuttingDown: boolean;
}

export interface HeartbeatReply {
  nodeId: string;
  status: string;
  reason: string | null;
  heartbeatIntervalSeconds: number;
  /** Whether the node may take jobs now (approved, not cordoned or draining). */
  schedulable: boolean;
  /** Replicas the control plane wants loaded; anything else the agent loaded for it is unloaded. */
  replicas: ReplicaSpec[];
}

/** A replica as routing sees it. */
export interface BeatReplica {
  id: string;
  model: string;
  parallel: number;
  ready: boolean;
  /** Tokens its KV cache holds in all (context per sequence × sequences), when known: bounds what routing believes it still caches. */
  cacheTokens?: number;
}

/** api → scheduler, after a verified heartbeat (with `runningJobs`) or an admin's change to the node (without). */
export interface NodeBeat {
  nodeId: string;
  at: number;
  /** The heartbeat is fresh and the node is approved, not cordoned, draining, revoked or shutting down. */
  schedulable: boolean;
  replicas: BeatReplica[];
  runningJobs?: RunningJob[];
}
