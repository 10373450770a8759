import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { freemem, totalmem } from 'node:os';
import { basename } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { RedisKeys } from '@gridline/common';
import { loadabilityProblems, modelFacts, readGgufHeader } from '@gridline/models';
import {
  AgentHeartbeat,
  AgentRpc,
  ChunkBatcher,
  JobProducer,
  LoadedModel,
  ModelAnnouncement,
  NodeGpu,
  PrefixedClientRedis,
  RegisterAgentReply,
  RegisterAgentRequest,
  nodeQueueName,
  parseJobData,
} from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';
import { RunnerClient, RunnerError, RunnerGpuInfo } from '@gridline/runtime';

export const AGENT_VERSION = '0.1.0';

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function gpusFrom(info: RunnerGpuInfo): NodeGpu[] {
  if (info.backend === 'cpu') return [];
  const n = Math.max(1, info.deviceNames.length);
  const vendor = info.backend === 'cuda' ? 'nvidia' : info.backend === 'metal' ? 'apple' : 'unknown';
  return Array.from({ length: n }, (_, index) => ({
    index,
    name: info.deviceNames[index] ?? info.backend,
    vendor,
    totalMemoryBytes: Math.floor(info.vramTotalBytes / n),
    freeMemoryBytes: Math.floor(info.vramFreeBytes / n),
  }));
}

/**
 * The agent's life: start llama.cpp, check and load the configured model, register the node,
 * heartbeat, and run jobs from the node's queue with as many in flight as the replica has slots.
 */
@Injectable()
export class AgentService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Agent');
  private readonly runner = new RunnerClient();
  private readonly producer: JobProducer;
  private gpu: RunnerGpuInfo | null = null;
  private model: ModelAnnouncement | null = null;
  private nodeId: string | null = null;
  private worker: Worker | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private stopping = false;

  constructor(
    private readonly config: AgentConfig,
    private readonly rpc: PrefixedClientRedis,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
  ) {
    this.producer = new JobProducer(redis, keys.bullPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.runner.on('exit', (err: Error) => {
      if (this.stopping) return;
      this.logger.error(`${err.message}; the agent stops so its supervisor can restart it`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    });
    this.gpu = await this.runner.start(this.config.GRIDLINE_GPU);
    this.logger.log(`llama.cpp backend: ${this.gpu.backend}${this.gpu.deviceNames.length ? ` (${this.gpu.deviceNames.join(', ')})` : ''}`);
    if (this.config.GRIDLINE_MODEL_PATH) this.model = await this.loadModel(this.config.GRIDLINE_MODEL_PATH);
    else this.logger.warn('GRIDLINE_MODEL_PATH is not set: this node serves no model');

    await this.rpc.connect();
    const reply = await this.register();
    this.nodeId = reply.nodeId;
    this.heartbeatTimer = setInterval(() => this.heartbeat(), reply.heartbeatIntervalSeconds * 1000);
    if (this.model) {
      this.worker = new Worker(nodeQueueName(reply.nodeId), (job) => this.run(job), {
        connection: this.redis.duplicate({ maxRetriesPerRequest: null }),
        prefix: this.keys.bullPrefix,
        concurrency: this.model.parallel,
      });
      this.worker.on('error', (e) => this.logger.error(`queue worker error: ${e.message}`));
    }
    this.logger.log(`node ${this.config.GRIDLINE_NODE_NAME} registered as ${reply.nodeId}; serving ${this.model?.name ?? 'nothing'}`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.worker?.close();
    await this.producer.close();
    await this.runner.stop();
    await this.rpc.close();
  }

  private async loadModel(path: string): Promise<ModelAnnouncement> {
    const header = await readGgufHeader(path);
    const problems = loadabilityProblems(header);
    if (problems.length > 0) throw new Error(`refusing to load ${path}: ${problems.join('; ')}`);
    const [sha256, { size }] = await Promise.all([sha256File(path), stat(path)]);
    const gpuLayers = /^\d+$/.test(this.config.GRIDLINE_GPU_LAYERS) ? Number(this.config.GRIDLINE_GPU_LAYERS) : (this.config.GRIDLINE_GPU_LAYERS as 'auto' | 'max');
    const started = Date.now();
    const loaded = await this.runner.load({
      modelPath: path,
      gpuLayers: this.gpu?.backend === 'cpu' ? 0 : gpuLayers,
      contextSize: this.config.GRIDLINE_CONTEXT_SIZE,
      parallel: this.config.GRIDLINE_PARALLEL,
      threads: this.config.GRIDLINE_THREADS,
    });
    const facts = modelFacts(header);
    const name = this.config.GRIDLINE_MODEL_NAME ?? basename(path).replace(/\.gguf$/i, '');
    this.logger.log(
      `loaded ${name} in ${Date.now() - started} ms: ${loaded.gpuLayers}/${loaded.totalLayers} layers on GPU, context ${loaded.contextSize}, ${loaded.parallel} parallel sequences`,
    );
    return {
      name,
      sha256,
      sizeBytes: size,
      architecture: facts.architecture,
      contextLength: facts.contextLength,
      layers: facts.layers,
      embedding: facts.embedding,
      parameterBytes: facts.parameterBytes,
      parallel: loaded.parallel,
    };
  }

  private registration(): RegisterAgentRequest {
    return {
      nodeName: this.config.GRIDLINE_NODE_NAME,
      agentVersion: AGENT_VERSION,
      backend: this.gpu?.backend ?? 'cpu',
      gpus: this.gpu ? gpusFrom(this.gpu) : [],
      totalMemoryBytes: totalmem(),
      freeMemoryBytes: freemem(),
      models: this.model ? [this.model] : [],
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

  private loadedModels(): LoadedModel[] {
    return this.model ? [{ name: this.model.name, sha256: this.model.sha256, parallel: this.model.parallel }] : [];
  }

  private heartbeat(): void {
    if (!this.nodeId) return;
    const beat: AgentHeartbeat = {
      nodeId: this.nodeId,
      gpus: this.gpu ? gpusFrom(this.gpu) : [],
      freeMemoryBytes: freemem(),
      loadedModels: this.loadedModels(),
      inFlight: this.inFlight,
    };
    this.rpc.emit(AgentRpc.Heartbeat, beat).subscribe({ error: (e: Error) => this.logger.warn(`heartbeat failed: ${e.message}`) });
  }

  private async run(job: Job): Promise<void> {
    if (job.name !== 'generate') throw new Error(`unexpected job ${job.name}`);
    const data = parseJobData('generate', job.data);
    const events = new ChunkBatcher(this.redis, this.keys.jobEvents(data.jobId));
    const fail = async (code: string, message: string) => {
      await events.finish({ type: 'error', code, message });
      await this.producer.enqueue('job.finished', { jobId: data.jobId, nodeId: this.nodeId, status: 'failed', errorCode: code, errorMessage: message });
    };
    if (!this.model || data.model !== this.model.name) return fail('model_not_loaded', `this node does not serve ${data.model}`);
    this.inFlight++;
    try {
      const r = data.request;
      const result = await this.runner.generate(
        data.jobId,
        { messages: r.messages, maxTokens: r.maxTokens, temperature: r.temperature, topP: r.topP, seed: r.seed, stop: r.stop },
        (text) => events.push(text),
      );
      await events.finish({ type: 'done', result });
      this.logger.log(
        { jobId: data.jobId, requestId: data.requestId, promptTokens: result.promptTokens, completionTokens: result.completionTokens, firstTokenMs: Math.round(result.firstTokenMs), totalMs: Math.round(result.totalMs) },
        'job done',
      );
      await this.producer.enqueue('job.finished', { jobId: data.jobId, nodeId: this.nodeId, status: 'succeeded', result });
    } catch (e) {
      const code = e instanceof RunnerError ? e.code : 'agent_error';
      this.logger.error({ jobId: data.jobId, requestId: data.requestId, code }, `generation failed: ${(e as Error).message}`);
      await fail(code, 'generation failed on the node');
    } finally {
      this.inFlight--;
    }
  }
}
