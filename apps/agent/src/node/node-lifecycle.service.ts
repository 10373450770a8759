import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { NodeGpu } from '@gridline/contract';
import { RedisKeys } from '@gridline/common';
import { QueueConsumers, Queues } from '@gridline/messaging';
import { LlamaRpcRole, llamaCacheRoot, llamaRpcCapability, rpcBinaries, RunnerClient, RunnerGpuInfo } from '@gridline/runtime';
import { HeartbeatReply, NodeInventory, nudgeChannel, parseLabels, parseTaints } from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';
import { hostInventory } from '../inventory/host-inventory';
import { mergeGpus } from '../inventory/merge-gpus';
import { NvidiaSmiGpu, queryNvidiaSmi } from '../inventory/nvidia-smi';
import { parseSimulatedGpus } from '../inventory/simulated-gpus';
import { JobRunner } from '../jobs/job-runner.service';
import { AgentMetrics } from '../metrics/agent-metrics';
import { ReplicaManager } from '../replicas/replica-manager';
import { ModelStore } from '../store';
import { ControlPlane, ControlPlaneError } from './control-plane';
import { NodeCredential, NodeCredentialFile } from './node-credentials';
import { NodeIdentity } from './node-identity';

export const AGENT_VERSION = '0.2.0';

/** Sequences the node's queue may hand out at once: the scheduler only routes to free ones, so this is a ceiling. */
const MAX_CONCURRENT_JOBS = 256;

/** A configuration problem the agent cannot start with: said in one line, exit code 1. */
export class AgentStartError extends Error {}

/**
 * The node's life: find what the host has, join with a join token (once) or start with the
 * stored node credential, heartbeat the inventory and replicas, load and unload what the
 * control plane asks for, take the node's jobs; on shutdown report it, stop taking jobs, let
 * the running ones finish, unload.
 */
@Injectable()
export class NodeLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Agent');
  private readonly controlPlane: ControlPlane;
  private gpu: RunnerGpuInfo = { backend: 'cpu', deviceNames: [], vramTotalBytes: 0, vramFreeBytes: 0 };
  private simulated: NodeGpu[] | null = null;
  private nvidiaSmi: 'absent' | 'present' = 'present';
  private intervalMs = 5000;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  /** The node's model store (once started): its files are reported so placement prefers this node for them. */
  private store: ModelStore | null = null;
  private subscriber: Redis | null = null;
  private outage = false;
  /**
   * `llama-rpc@<release>` when the RPC binaries for the installed llama.cpp are built and
   * intact. Checked once at start: hashing them on every heartbeat would cost more than a
   * rebuild during the agent's life is worth (a rebuild is picked up at the next start).
   */
  private rpcCapability: string | null = null;
  private rpcPaths: Record<LlamaRpcRole, string> | null = null;
  /** The GPUs as the last inventory found them (the metrics' GPU memory figures). */
  private gpus: NodeGpu[] = [];

  constructor(
    private readonly config: AgentConfig,
    private readonly identity: NodeIdentity,
    private readonly replicas: ReplicaManager,
    private readonly jobs: JobRunner,
    private readonly consumers: QueueConsumers,
    private readonly keys: RedisKeys,
    metrics: AgentMetrics,
  ) {
    this.controlPlane = new ControlPlane(config.GRIDLINE_SERVER);
    metrics.watchGpus(() => this.gpus);
  }

  /** Called once the logger is in place (main.ts): joining and loading take a while and say what they do. */
  async start(): Promise<void> {
    const { labels, taints } = this.nodeSpec();
    this.gpu = await this.probeGpu();
    this.rpcCapability = await this.probeRpcBinaries();
    const credential = await this.credential(labels, taints);
    this.controlPlane.useCredential(credential);
    this.identity.set(credential.nodeId);
    if (this.rpcPaths) {
      this.replicas.enableSpanning({ llamaServer: this.rpcPaths['llama-server'], rpcServer: this.rpcPaths['rpc-server'], nodeId: credential.nodeId, secretKey: credential.secretKey, bind: this.config.GRIDLINE_RPC_BIND });
    }
    const store = (this.store = new ModelStore({ root: join(this.config.GRIDLINE_DATA_DIR, 'models'), maxBytes: this.config.GRIDLINE_MODEL_STORE_MAX_BYTES, fetch: this.controlPlane.fetch }));
    this.replicas.setup(this.gpu, this.simulated, {
      ensure: (item, onProgress) => store.ensure({ name: item.name, sha256: item.sha256, sizeBytes: item.sizeBytes, url: this.controlPlane.modelFileUrl(item.modelId) }, { onProgress }),
      pin: (sha256) => store.pin(sha256),
    });
    this.replicas.onChange = () => this.beatSoon();
    if (this.config.GRIDLINE_MODEL_PATH) await this.replicas.startLocal(this.config.GRIDLINE_MODEL_PATH, this.config.GRIDLINE_MODEL_NAME);
    else this.logger.log('GRIDLINE_MODEL_PATH is not set: this node serves what the control plane asks it to load');
    const first = await this.firstHeartbeat();
    this.consumers.start(Queues.node, credential.nodeId, MAX_CONCURRENT_JOBS);
    await this.listenForNudges(credential.nodeId);
    this.schedule();
    const gpus = this.simulated ? `${this.simulated.length} simulated GPU(s)` : this.gpu.backend === 'cpu' ? 'no GPU (CPU only)' : `${this.gpu.deviceNames.length} GPU(s): ${this.gpu.deviceNames.join(', ')}`;
    this.logger.log(`node ${credential.nodeName} registered as ${credential.nodeId}: ${first.status}${first.reason ? ` (${first.reason})` : ''}; ${gpus}; replicas: ${this.replicas.reports().map((r) => `${r.model} ${r.state}`).join(', ') || 'none'}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    // Draining: the control plane stops routing here while the jobs in flight finish.
    await this.heartbeatOnce().catch(() => undefined);
    await this.consumers.close();
    await this.subscriber?.quit().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replicas.shutdown();
    await this.heartbeatOnce().catch(() => undefined);
  }

  /** The node's labels, taints and simulated GPUs, checked before anything starts. */
  private nodeSpec() {
    try {
      if (this.config.GRIDLINE_SIMULATE_GPUS) this.simulated = parseSimulatedGpus(this.config.GRIDLINE_SIMULATE_GPUS, this.config.GRIDLINE_NODE_NAME);
      rpcPortRange(this.config.GRIDLINE_RPC_PORTS);
      return { labels: parseLabels(this.config.GRIDLINE_NODE_LABELS), taints: parseTaints(this.config.GRIDLINE_NODE_TAINTS) };
    } catch (e) {
      throw new AgentStartError((e as Error).message);
    }
  }

  /** What llama.cpp can use here, from a short-lived runner (never compiles: prebuilt binaries only). */
  private async probeGpu(): Promise<RunnerGpuInfo> {
    const probe = new RunnerClient();
    try {
      return await probe.start(this.simulated ? 'cpu' : this.config.GRIDLINE_GPU);
    } finally {
      await probe.stop();
    }
  }

  /** The stored node credential, or a new one from joining with the join token. */
  private async credential(labels: Record<string, string>, taints: ReturnType<typeof parseTaints>): Promise<NodeCredential> {
    const file = new NodeCredentialFile(this.config.GRIDLINE_DATA_DIR);
    const stored = await file.read();
    if (stored) {
      if (stored.nodeName !== this.config.GRIDLINE_NODE_NAME) {
        throw new AgentStartError(`${file.path} holds the credential of node ${stored.nodeName}, not ${this.config.GRIDLINE_NODE_NAME}: an agent acts only as its own node (use another GRIDLINE_DATA_DIR, or remove the file and join with a token)`);
      }
      return stored;
    }
    return this.join(file, labels, taints);
  }

  private async join(file: NodeCredentialFile, labels: Record<string, string>, taints: ReturnType<typeof parseTaints>): Promise<NodeCredential> {
    const token = this.config.GRIDLINE_JOIN_TOKEN;
    if (!token) throw new AgentStartError(`no node credential in ${this.config.GRIDLINE_DATA_DIR} and no GRIDLINE_JOIN_TOKEN: ask an admin for a join token (POST /api/v1/join-tokens, or gridline nodes join-token)`);
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.controlPlane.join({ token, nodeName: this.config.GRIDLINE_NODE_NAME, labels, taints, inventory: await this.inventory() });
        const credential: NodeCredential = { server: this.config.GRIDLINE_SERVER, nodeId: reply.nodeId, nodeName: this.config.GRIDLINE_NODE_NAME, accessKey: reply.accessKey, secretKey: reply.secretKey };
        await file.write(credential);
        this.intervalMs = reply.heartbeatIntervalSeconds * 1000;
        this.logger.log(`joined as node ${reply.nodeId} (${reply.status}); credential kept in ${file.path}`);
        return credential;
      } catch (e) {
        if (e instanceof ControlPlaneError && e.status < 500) throw new AgentStartError(`joining ${this.config.GRIDLINE_SERVER} was refused: ${e.code}: ${e.message}`);
        if (this.stopping) throw e;
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`the control plane at ${this.config.GRIDLINE_SERVER} does not answer yet (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async firstHeartbeat(): Promise<HeartbeatReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.heartbeatNow();
      } catch (e) {
        if (e instanceof ControlPlaneError && e.status < 500) throw this.refused(e);
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`first heartbeat not answered (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private refused(e: ControlPlaneError): AgentStartError {
    return new AgentStartError(
      e.credentialRefused
        ? `the control plane refused this node's credential (${e.code}: ${e.message}): the node was revoked, deleted, or joined again elsewhere under its name`
        : `the control plane refused a heartbeat: ${e.code}: ${e.message}`,
    );
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => this.beatSoon(), this.intervalMs);
  }

  /** A heartbeat now (or right after the one in flight), then on the interval again. */
  private beatSoon(): void {
    if (this.stopping) return;
    if (this.beating) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.beating = this.heartbeatOnce()
      .catch((e: unknown) => {
        if (e instanceof ControlPlaneError && e.credentialRefused) {
          this.logger.error(this.refused(e).message);
          void this.leave();
          return;
        }
        if (!this.outage) this.logger.warn(`heartbeat failed (${(e as Error).message}); retrying`);
        this.outage = true;
      })
      .finally(() => {
        this.beating = null;
        if (this.again) {
          this.again = false;
          this.beatSoon();
        } else this.schedule();
      });
  }

  /** Refused by the control plane: stop everything and exit 1, so that a supervisor shows the failure. */
  private async leave(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.race([this.consumers.close(), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
    await this.replicas.shutdown().catch(() => undefined);
    process.exit(1);
  }

  private async heartbeatOnce(): Promise<void> {
    await this.heartbeatNow();
    if (this.outage) this.logger.log('heartbeats answered again');
    this.outage = false;
  }

  private async heartbeatNow(): Promise<HeartbeatReply> {
    const loads = this.replicas.pendingLoads();
    const reply = await this.controlPlane.heartbeat({
      nodeId: this.identity.id,
      inventory: await this.inventory(),
      replicas: this.replicas.reports(),
      runningJobs: this.jobs.runningJobs(),
      loads,
      shuttingDown: this.stopping,
    });
    this.replicas.loadsRecorded(loads.map((l) => l.loadId));
    this.intervalMs = reply.heartbeatIntervalSeconds * 1000;
    // A node shutting down loads nothing new.
    if (!this.stopping) this.replicas.reconcile(reply.replicas);
    return reply;
  }

  private async inventory(): Promise<NodeInventory> {
    const host = await hostInventory(this.config.GRIDLINE_DATA_DIR);
    const gpus = mergeGpus({ llama: this.gpu, nvidiaSmi: await this.queryNvidiaSmi(), simulated: this.simulated, allocatedBytes: this.replicas.allocatedBytes() });
    this.gpus = gpus;
    return {
      agentVersion: AGENT_VERSION,
      backend: this.simulated ? 'cpu' : this.gpu.backend,
      llamaCppVersion: this.gpu.llamaCpp ?? null,
      gpus,
      cpuCores: host.cpuCores,
      totalMemoryBytes: host.totalMemoryBytes,
      freeMemoryBytes: host.freeMemoryBytes,
      diskFreeBytes: host.diskFreeBytes,
      capabilities: [...(this.simulated ? ['simulated-gpus'] : []), ...(this.rpcCapability ? [this.rpcCapability] : [])],
      storedModels: (await this.store?.storedSha256s().catch(() => [])) ?? [],
      ...(this.rpcCapability ? { rpc: { address: this.rpcAddress(), ports: rpcPortRange(this.config.GRIDLINE_RPC_PORTS) } } : {}),
      platform: host.platform,
      arch: host.arch,
    };
  }

  private async probeRpcBinaries(): Promise<string | null> {
    const rpc = await rpcBinaries(llamaCacheRoot(this.config.GRIDLINE_LLAMA_CACHE)).catch((e: unknown) => {
      this.logger.warn(`llama.cpp RPC binaries not checked: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    });
    if (rpc?.status === 'present') {
      this.logger.log(`llama.cpp ${rpc.release} RPC binaries: ${rpc.dir}`);
      this.rpcPaths = rpc.paths;
      return llamaRpcCapability(rpc.release);
    }
    if (rpc?.status === 'mismatch') this.logger.warn(`llama.cpp RPC binaries in ${rpc.dir} not used: ${rpc.reason} (npm run llama:build-rpc rebuilds them)`);
    return null;
  }

  /** Where other nodes reach this node's tunnels: GRIDLINE_RPC_ADDRESS, else the first non-internal IPv4 address. */
  private rpcAddress(): string {
    if (this.config.GRIDLINE_RPC_ADDRESS) return this.config.GRIDLINE_RPC_ADDRESS;
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    return external?.address ?? '127.0.0.1';
  }

  /** nvidia-smi's live view on CUDA hosts; once absent, not asked again. */
  private async queryNvidiaSmi(): Promise<NvidiaSmiGpu[] | null> {
    if (this.simulated || this.gpu.backend !== 'cuda' || this.nvidiaSmi === 'absent') return null;
    const rows = await queryNvidiaSmi();
    if (!rows) this.nvidiaSmi = 'absent';
    return rows;
  }

  /** The api's nudge (a replica added, the node approved) makes the next heartbeat come now. */
  private async listenForNudges(nodeId: string): Promise<void> {
    const sub = new Redis(this.config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null, connectionName: 'gridline-agent-nudges' });
    sub.on('error', () => undefined);
    sub.on('message', () => this.beatSoon());
    this.subscriber = sub;
    await sub.connect().catch(() => undefined);
    await sub.subscribe(`${this.keys.rpcPrefix}${nudgeChannel(nodeId)}`).catch((e: Error) => this.logger.warn(`nudges unavailable (${e.message}): changes reach the node on its next heartbeat`));
  }
}

/** `first-last` as a range; refused at start when it is not one. */
export function rpcPortRange(text: string): [number, number] {
  const [first, last] = text.split('-').map(Number);
  if (!(first >= 1 && last <= 65535 && first <= last)) throw new AgentStartError(`GRIDLINE_RPC_PORTS must be first-last with 1 ≤ first ≤ last ≤ 65535, got ${text}`);
  return [first, last];
}
