import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { sha256File } from '@gridline/common';
import type { InferenceRequest, JobResume, JobTrace, NodeGpu } from '@gridline/contract';
import { GgufHeader, estimateRequirements, loadabilityProblems, modelFacts, modelShape, readGgufHeader } from '@gridline/models';
import { ChunkSink, RpcWorkerClient, RunnerClient, RunnerGenerationDone, RunnerGpuInfo, RunnerLoadedInfo, RunnerSpan, groupTunnelKey, tunnelIdentity } from '@gridline/runtime';
import type { LoadReport, ReplicaReport, ReplicaSpec } from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';
import { AgentMetrics } from '../metrics/agent-metrics';
import { Replica, placeOnSimulatedGpus, reportOf } from './replica';

/** Where replica files come from: the node's model store (or a stand-in in tests). */
export interface ModelFiles {
  ensure(item: { name: string; sha256: string; sizeBytes: number; modelId: string }, onProgress: (p: { bytes: number; totalBytes: number; percent: number; bytesPerSecond: number }) => void): Promise<string>;
  pin(sha256: string): () => void;
}

/** What a node needs to take part in replicas spanning nodes: its RPC binaries and its own credential (the key of groups it leads). */
export interface SpanningSetup {
  llamaServer: string;
  rpcServer: string;
  nodeId: string;
  secretKey: string;
  /** Where workers' tunnels listen. */
  bind: string;
}

/** Pauses before a crashed runner is started again: from 2 s, doubling to a minute. */
const restartDelayMs = (restarts: number) => Math.min(60_000, 2000 * 2 ** Math.max(0, restarts - 1));

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

/**
 * The node's replicas, each in its own runner child process: loads and unloads them to match
 * what the control plane wants, and survives anything a runner does. A malformed file is
 * refused before any runner sees it; a runner that dies (abort, out of memory, SIGKILL) fails
 * its replica only, and is started again after a pause when it had been serving.
 */
@Injectable()
export class ReplicaManager {
  private readonly logger = new Logger('Replicas');
  private readonly replicas = new Map<string, Replica>();
  private readonly loads: LoadReport[] = [];
  private gpu: RunnerGpuInfo | null = null;
  private simulated: NodeGpu[] | null = null;
  private files: ModelFiles | null = null;
  private spanning: SpanningSetup | null = null;
  private stopping = false;
  /** Called when something worth a heartbeat now happened (a load ended, a runner died). */
  onChange: () => void = () => undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly metrics: AgentMetrics,
  ) {
    metrics.watchReplicas(() => this.replicas.values());
  }

  /** What llama.cpp can use on this host, and the simulated GPUs when configured. */
  setup(gpu: RunnerGpuInfo, simulated: NodeGpu[] | null, files: ModelFiles): void {
    this.gpu = gpu;
    this.simulated = simulated;
    this.files = files;
  }

  /** The node has llama.cpp's RPC binaries: it can lead and serve as a worker in spanning replicas. */
  enableSpanning(setup: SpanningSetup): void {
    this.spanning = setup;
  }

  /** The backend runners are started with: simulated GPUs run on the CPU. */
  private get runnerGpu(): AgentConfig['GRIDLINE_GPU'] {
    return this.simulated ? 'cpu' : this.config.GRIDLINE_GPU;
  }

  reports(now = Date.now()): ReplicaReport[] {
    return [...this.replicas.values()].map((r) => reportOf(r, now));
  }

  /** Loads reported since the last answered heartbeat. */
  pendingLoads(): LoadReport[] {
    return [...this.loads];
  }

  /** A heartbeat carrying these loads was answered: they are recorded. */
  loadsRecorded(ids: string[]): void {
    const done = new Set(ids);
    for (let i = this.loads.length - 1; i >= 0; i--) if (done.has(this.loads[i].loadId)) this.loads.splice(i, 1);
  }

  /** GPU bytes held per GPU index, for the simulated GPUs' free memory. */
  allocatedBytes(): number[] {
    const out: number[] = [];
    for (const r of this.replicas.values()) for (const [i, b] of r.allocated) out[i] = (out[i] ?? 0) + b;
    return out;
  }

  /** The replica a job goes to: the one it was routed to, else a Ready one of its model. */
  forJob(replicaId: string | undefined, model: string): Replica | null {
    const r = replicaId ? this.replicas.get(replicaId) : [...this.replicas.values()].find((x) => x.model === model && x.state === 'Ready' && x.runner);
    return r && r.model === model && r.state === 'Ready' && r.runner ? r : null;
  }

  /** Runs one job on the replica's runner (continuing `resume`'s text when given), counting it for the replica's load figures. */
  async generate(r: Replica, jobId: string, request: InferenceRequest, onChunk: ChunkSink, resume?: JobResume, trace?: JobTrace): Promise<RunnerGenerationDone> {
    const runner = r.runner;
    if (!runner) throw new Error('the replica has no runner');
    r.inFlight++;
    try {
      const result = await runner.generate(jobId, request, onChunk, resume, trace);
      r.tokens += result.completionTokens;
      this.metrics.generatedBy(r, result.promptTokens, result.completionTokens);
      return result;
    } finally {
      r.inFlight--;
      if (r.state === 'Unloading' && r.inFlight === 0) void this.finishUnload(r);
    }
  }

  cancel(jobId: string): void {
    for (const r of this.replicas.values()) r.runner?.cancel(jobId);
  }

  /** The agent's own model (GRIDLINE_MODEL_PATH): loaded at start, never unloaded by the control plane. */
  async startLocal(path: string, name: string | undefined): Promise<void> {
    const modelName = name ?? basename(path).replace(/\.gguf$/i, '');
    const r = this.add(`local-${modelName.replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 64), modelName, 'local', null, this.config.GRIDLINE_PARALLEL);
    await this.load(r, async () => path);
  }

  /** Makes the node's replicas match the control plane's wish: loads what is missing, unloads what is no longer wanted. */
  reconcile(desired: ReplicaSpec[]): void {
    if (this.stopping) return;
    const wanted = new Map(desired.map((s) => [s.id, s]));
    for (const spec of desired) {
      const have = this.replicas.get(spec.id);
      if (have) {
        // A spanning replica whose members changed (a lost worker replaced): its leader reloads with the new group.
        if (have.origin === 'control-plane' && have.state !== 'Unloading' && JSON.stringify(have.spec?.group ?? null) !== JSON.stringify(spec.group ?? null)) void this.respec(have, spec);
        continue;
      }
      const r = this.add(spec.id, spec.model, 'control-plane', spec, spec.settings.parallel);
      void this.start(r);
    }
    for (const r of this.replicas.values()) {
      if (r.origin === 'control-plane' && !wanted.has(r.id) && r.state !== 'Unloading') void this.unload(r);
    }
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    for (const r of this.replicas.values()) r.state = 'Unloading';
    await Promise.all([...this.replicas.values()].map((r) => this.stopRunner(r)));
  }

  private add(id: string, model: string, origin: Replica['origin'], spec: ReplicaSpec | null, parallel: number): Replica {
    const r: Replica = {
      id,
      model,
      origin,
      spec,
      state: origin === 'local' ? 'Loading' : 'Pulling',
      reason: null,
      sha256: spec?.sha256 ?? null,
      runner: null,
      worker: null,
      loaded: null,
      parallel,
      inFlight: 0,
      allocated: new Map(),
      estimateBytes: spec?.estimateBytes ?? null,
      memory: null,
      pull: null,
      tokens: 0,
      tokensSince: Date.now(),
      tokensPerSecond: null,
      restarts: 0,
      generation: 0,
      release: null,
      restartTimer: null,
    };
    this.replicas.set(id, r);
    return r;
  }

  /** Loads a control-plane replica: a model in a runner, or, for a worker of a spanning replica, its RPC server. */
  private start(r: Replica): Promise<void> {
    const spec = r.spec as ReplicaSpec;
    return spec.group?.role === 'worker' ? this.startWorker(r) : this.load(r, () => this.fetchFile(r, spec));
  }

  /** The replica's spec changed: what runs stops, and it starts again as the new spec says. */
  private async respec(r: Replica, spec: ReplicaSpec): Promise<void> {
    r.spec = spec;
    r.generation++;
    r.restarts = 0;
    r.state = 'Loading';
    r.reason = null;
    this.logger.log(`replica ${r.id} of ${r.model}: its group changed; reloading`);
    await this.stopRunner(r);
    if (this.replicas.get(r.id) !== r || this.stopping || r.spec !== spec) return;
    await this.start(r);
  }

  /**
   * A worker of a spanning replica: a supervised RPC server on loopback behind the group's
   * tunnel, which lets in the group's leader only. It holds the layers the plan gave it, so the
   * memory planned for it counts as allocated here.
   */
  private async startWorker(r: Replica): Promise<void> {
    const generation = ++r.generation;
    const current = () => this.replicas.get(r.id) === r && r.generation === generation && !this.stopping;
    const spec = r.spec as ReplicaSpec;
    const g = spec.group;
    let worker: RpcWorkerClient | null = null;
    try {
      if (g?.role !== 'worker') throw new Error('not a worker of a spanning replica');
      if (!this.spanning) throw new Error('this node has no llama.cpp RPC binaries (npm run llama:build-rpc): it cannot hold layers of a spanning replica');
      r.state = 'Loading';
      if (this.simulated) this.placeSimulated(r);
      worker = new RpcWorkerClient();
      const child = worker;
      r.worker = child;
      child.on('exit', (err: Error) => this.workerExited(r, child, err));
      // Counted for the log only: which address tried is the tunnel's business, the key never appears.
      child.on('refused', (why: string) => this.logger.warn(`replica ${r.id}: a connection to the group's tunnel was refused (${why})`));
      const threads = spec.settings.threads || this.config.GRIDLINE_THREADS;
      const { port } = await this.withinLoadTimeout(() =>
        child.start({
          rpcServerBinary: this.spanning?.rpcServer ?? '',
          listenHost: this.spanning?.bind ?? '127.0.0.1',
          listenPort: g.port,
          threads,
          ...(spec.estimateBytes ? { memoryBytes: spec.estimateBytes } : {}),
          leaderIdentity: tunnelIdentity(g.id, g.leaderNodeId),
          keyHex: g.leaderKeyHex,
        }),
      );
      if (!current()) return void (await child.stop().catch(() => undefined));
      r.memory = { gpuBytes: [...r.allocated.values()].reduce((a, b) => a + b, 0), cpuBytes: 0 };
      r.state = 'Ready';
      r.reason = null;
      this.logger.log(`worker of spanning replica ${g.id} (${r.model}, layers ${g.layers[0]}-${g.layers[1]}) ready: tunnel on port ${port}, RPC server pid ${child.pid}`);
    } catch (e) {
      if (!current()) return void (await worker?.stop().catch(() => undefined));
      this.fail(r, (e as Error).message || String(e));
      this.logger.error(`starting the worker ${r.id} of ${r.model} failed: ${r.reason}`);
    }
    this.onChange();
  }

  /** A worker's RPC server died: the replica fails (the control plane sees it) and starts again after a pause. */
  private workerExited(r: Replica, worker: RpcWorkerClient, err: Error): void {
    if (r.worker !== worker || this.stopping || r.state === 'Unloading') return;
    r.worker = null;
    r.restarts++;
    const delay = restartDelayMs(r.restarts);
    this.fail(r, `the RPC server exited (${err.message}); restart ${r.restarts} in ${Math.round(delay / 1000)} s`);
    this.logger.error(`replica ${r.id} of ${r.model}: ${r.reason}`);
    this.onChange();
    r.restartTimer = setTimeout(() => {
      r.restartTimer = null;
      if (this.replicas.get(r.id) === r && !this.stopping) void this.startWorker(r);
    }, delay);
  }

  /** A leader's view of its group for its runner: the tunnel key it derives from its own credential, and each worker's layers. */
  private spanOf(spec: ReplicaSpec | null): RunnerSpan | undefined {
    const g = spec?.group;
    if (g?.role !== 'leader') return undefined;
    if (!this.spanning) throw new Error('this node has no llama.cpp RPC binaries (npm run llama:build-rpc): it cannot lead a spanning replica');
    return {
      serverBinary: this.spanning.llamaServer,
      identity: tunnelIdentity(g.id, this.spanning.nodeId),
      keyHex: groupTunnelKey(this.spanning.secretKey, g.id, this.spanning.nodeId).toString('hex'),
      workers: g.workers.map((w) => ({ host: w.host, port: w.port, layers: w.layers[1] - w.layers[0] + 1 })),
    };
  }

  private async fetchFile(r: Replica, spec: ReplicaSpec): Promise<string> {
    if (!this.files) throw new Error('the model store is not ready');
    r.state = 'Pulling';
    const path = await this.files.ensure({ name: spec.model, sha256: spec.sha256, sizeBytes: spec.sizeBytes, modelId: spec.modelId }, (p) => (r.pull = p));
    r.pull = null;
    r.release ??= this.files.pin(spec.sha256);
    return path;
  }

  /** Pulls (when needed), checks and loads the replica; any failure fails this replica only. */
  private async load(r: Replica, file: () => Promise<string>): Promise<void> {
    const generation = ++r.generation;
    const loadId = randomUUID();
    const started = Date.now();
    let loadStarted = started;
    const settings = r.spec?.settings ?? { contextSize: this.config.GRIDLINE_CONTEXT_SIZE, parallel: this.config.GRIDLINE_PARALLEL, gpuLayers: this.configGpuLayers(), threads: this.config.GRIDLINE_THREADS };
    const current = () => this.replicas.get(r.id) === r && r.generation === generation && !this.stopping;
    let runner: RunnerClient | null = null;
    try {
      const path = await file();
      if (!current()) return;
      // The load's own time, the pull apart.
      loadStarted = Date.now();
      r.state = 'Loading';
      const header = await readGgufHeader(path).catch((e: Error) => {
        throw new Error(`not a readable GGUF file: ${e.message}`);
      });
      // llama.cpp aborts its process on some malformed headers: refuse them before a runner sees them.
      const problems = loadabilityProblems(header);
      if (problems.length > 0) throw new Error(`refusing to load ${r.model}: ${problems.join('; ')}`);
      r.estimateBytes ??= this.estimate(header, settings);
      if (!current()) return;
      if (this.simulated) this.placeSimulated(r);
      const child = new RunnerClient();
      runner = child;
      r.runner = child;
      child.on('exit', (err: Error) => this.runnerExited(r, child, err));
      const gpuLayers = this.runnerGpu === 'cpu' || this.gpu?.backend === 'cpu' ? 0 : settings.gpuLayers;
      const loaded = await this.withinLoadTimeout(async () => {
        await child.start(this.runnerGpu, { level: this.config.LOG_LEVEL, format: this.config.LOG_FORMAT });
        // A spec's threads 0 leaves the choice to the node (its GRIDLINE_THREADS; 0 there: llama.cpp's default).
        const span = this.spanOf(r.spec);
        return child.load({ modelPath: path, gpuLayers, contextSize: settings.contextSize, parallel: settings.parallel, threads: settings.threads || this.config.GRIDLINE_THREADS, ...(span ? { span } : {}) });
      });
      if (!current()) return this.stopIfOrphaned(r, runner);
      r.loaded = loaded;
      r.parallel = loaded.parallel;
      if (r.origin === 'local') await this.describeLocal(r, path, header, loaded);
      // Simulated GPUs hold what was planned; real ones what the runner measured around the load.
      r.memory = { gpuBytes: this.simulated ? [...r.allocated.values()].reduce((a, b) => a + b, 0) : loaded.memory.gpuBytes, cpuBytes: loaded.memory.cpuBytes };
      if (!this.simulated && loaded.gpuLayers > 0 && this.gpu) this.gpu.deviceNames.forEach((_, i) => r.allocated.set(i, Math.round((r.memory?.gpuBytes ?? 0) / Math.max(1, this.gpu?.deviceNames.length ?? 1))));
      r.state = 'Ready';
      r.reason = null;
      this.metrics.loaded(r.model, 'loaded');
      this.loads.push({ loadId, replicaId: r.origin === 'control-plane' ? r.id : null, model: r.model, outcome: 'loaded', reason: null, estimateBytes: r.estimateBytes, gpuBytes: r.memory.gpuBytes, cpuBytes: r.memory.cpuBytes, gpuLayers: loaded.gpuLayers, loadMs: Date.now() - loadStarted });
      this.logger.log(`loaded ${r.model} (replica ${r.id}, runner pid ${child.pid}) in ${Date.now() - loadStarted} ms: ${loaded.gpuLayers}/${loaded.totalLayers} layers on GPU, context ${loaded.contextSize} per sequence, ${loaded.parallel} sequences; memory planned ${r.estimateBytes === null ? 'unknown' : gib(r.estimateBytes)}, used ${gib(r.memory.gpuBytes)} GPU + ${gib(r.memory.cpuBytes)} host${loaded.span ? `; spanning: ${loaded.span.localLayers} layer(s) here, ${loaded.span.workerLayers.join(' + ')} on ${loaded.span.workerLayers.length} worker(s)` : ''}`);
    } catch (e) {
      if (!current()) return this.stopIfOrphaned(r, runner);
      const reason = (e as Error).message || String(e);
      this.fail(r, reason);
      this.metrics.loaded(r.model, 'failed');
      this.loads.push({ loadId, replicaId: r.origin === 'control-plane' ? r.id : null, model: r.model, outcome: 'failed', reason, estimateBytes: r.estimateBytes, gpuBytes: null, cpuBytes: null, gpuLayers: null, loadMs: Date.now() - loadStarted });
      this.logger.error(`loading ${r.model} (replica ${r.id}) failed: ${reason}`);
    }
    this.onChange();
  }

  /** A load overtaken by an unload or a shutdown: its runner must not outlive it. */
  private async stopIfOrphaned(r: Replica, runner: RunnerClient | null): Promise<void> {
    if (runner && (r.runner !== runner || this.replicas.get(r.id) !== r || this.stopping)) await runner.stop().catch(() => undefined);
  }

  private async withinLoadTimeout<T>(load: () => Promise<T>): Promise<T> {
    const seconds = this.config.GRIDLINE_LOAD_TIMEOUT_SECONDS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the load did not finish within ${seconds} s (GRIDLINE_LOAD_TIMEOUT_SECONDS)`)), seconds * 1000)));
    try {
      return await Promise.race([load(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private configGpuLayers(): number | 'auto' | 'max' {
    const v = this.config.GRIDLINE_GPU_LAYERS;
    return /^\d+$/.test(v) ? Number(v) : (v as 'auto' | 'max');
  }

  /** The requirement the node plans with when the control plane sent none (the agent's own model). */
  private estimate(header: GgufHeader, settings: { contextSize: number; parallel: number; gpuLayers: number | 'auto' | 'max' }): number | null {
    try {
      return estimateRequirements(modelShape(header), { contextSize: settings.contextSize, parallel: settings.parallel, ...(typeof settings.gpuLayers === 'number' ? { gpuLayers: settings.gpuLayers } : {}) }).totalBytes;
    } catch {
      return null;
    }
  }

  private placeSimulated(r: Replica): void {
    r.allocated.clear();
    if (!this.simulated || r.estimateBytes === null) return;
    const others = this.allocatedBytes();
    const placed = placeOnSimulatedGpus(this.simulated, (i) => others[i] ?? 0, r.estimateBytes);
    if (!placed) {
      const largest = Math.max(0, ...this.simulated.map((g) => g.totalMemoryBytes - (others[g.index] ?? 0)));
      throw new Error(`insufficient GPU memory (simulated): the replica needs ${gib(r.estimateBytes)}, the most free on this node is ${gib(largest)}`);
    }
    r.allocated = placed;
  }

  /** What the catalog records of the agent's own model: its file, and how it is served (the context and longest token requests are checked against before a job exists). */
  private async describeLocal(r: Replica, path: string, header: GgufHeader, loaded: RunnerLoadedInfo): Promise<void> {
    const [sha256, { size }] = await Promise.all([sha256File(path), stat(path)]);
    const facts = modelFacts(header);
    r.sha256 = sha256;
    r.announcement = {
      name: r.model,
      sha256,
      sizeBytes: size,
      architecture: facts.architecture,
      contextLength: facts.contextLength,
      layers: facts.layers,
      embedding: facts.embedding,
      parameterBytes: facts.parameterBytes,
      parallel: loaded.parallel,
      contextTokens: loaded.contextSize,
      maxTokenBytes: loaded.maxTokenBytes,
    };
  }

  private fail(r: Replica, reason: string): void {
    r.state = 'Failed';
    r.reason = reason;
    r.allocated.clear();
    r.memory = null;
    void this.stopRunner(r);
  }

  /** A runner died: its replica fails; one that was serving is started again after a pause (a load that killed it is not). */
  private runnerExited(r: Replica, runner: RunnerClient, err: Error): void {
    if (r.runner !== runner || this.stopping || r.state === 'Unloading') return;
    r.runner = null;
    const wasServing = r.state === 'Ready';
    if (!wasServing) return; // the pending load call rejects and reports it
    r.restarts++;
    const delay = restartDelayMs(r.restarts);
    this.fail(r, `the runner exited while serving ${err.message.replace(/^the runner exited /, '')}; restart ${r.restarts} in ${Math.round(delay / 1000)} s`);
    this.logger.error(`replica ${r.id} of ${r.model}: ${r.reason}`);
    this.onChange();
    r.restartTimer = setTimeout(() => {
      r.restartTimer = null;
      if (this.replicas.get(r.id) !== r || this.stopping) return;
      r.state = 'Loading';
      void (r.spec ? this.start(r) : this.load(r, async () => this.config.GRIDLINE_MODEL_PATH as string));
    }, delay);
  }

  /** Stops taking jobs on the replica, lets its jobs finish, then stops its runner. */
  private async unload(r: Replica): Promise<void> {
    r.state = 'Unloading';
    r.generation++;
    if (r.restartTimer) clearTimeout(r.restartTimer);
    if (r.inFlight === 0) await this.finishUnload(r);
  }

  private async finishUnload(r: Replica): Promise<void> {
    if (this.replicas.get(r.id) !== r) return;
    await this.stopRunner(r);
    this.replicas.delete(r.id);
    this.metrics.unloaded(r);
    this.logger.log(`unloaded ${r.model} (replica ${r.id})`);
    this.onChange();
  }

  private async stopRunner(r: Replica): Promise<void> {
    const runner = r.runner;
    const worker = r.worker;
    r.runner = null;
    r.worker = null;
    r.release?.();
    r.release = null;
    if (r.restartTimer) clearTimeout(r.restartTimer);
    // Everything above is synchronous: a restart timer set right after (runnerExited) must survive this call.
    await Promise.all([runner?.stop().catch(() => undefined), worker?.stop().catch(() => undefined)]);
  }
}
