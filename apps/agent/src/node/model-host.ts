import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LoadedModel, NodeGpu } from '@gridline/contract';
import { loadabilityProblems, modelFacts, readGgufHeader } from '@gridline/models';
import { RunnerClient, RunnerGpuInfo } from '@gridline/runtime';
import type { ModelAnnouncement } from '@gridline/scheduling';
import { AgentConfig } from '../agent.config';

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

/** The llama.cpp runner child process and the model it serves. */
@Injectable()
export class ModelHost implements OnApplicationShutdown {
  private readonly logger = new Logger('ModelHost');
  readonly runner = new RunnerClient();
  private gpu: RunnerGpuInfo | null = null;
  private announced: ModelAnnouncement | null = null;
  private stopping = false;

  constructor(private readonly config: AgentConfig) {}

  /** Starts llama.cpp and loads the configured model; a runner that dies later stops the agent. */
  async start(): Promise<void> {
    this.runner.on('exit', (err: Error) => {
      if (this.stopping) return;
      this.logger.error(`${err.message}; the agent stops so its supervisor can restart it`);
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    });
    this.gpu = await this.runner.start(this.config.GRIDLINE_GPU);
    this.logger.log(`llama.cpp backend: ${this.gpu.backend}${this.gpu.deviceNames.length ? ` (${this.gpu.deviceNames.join(', ')})` : ''}; runner pid ${this.runner.pid}`);
    if (this.config.GRIDLINE_MODEL_PATH) this.announced = await this.load(this.config.GRIDLINE_MODEL_PATH);
    else this.logger.warn('GRIDLINE_MODEL_PATH is not set: this node serves no model');
  }

  get backend(): string {
    return this.gpu?.backend ?? 'cpu';
  }

  gpus(): NodeGpu[] {
    return this.gpu ? gpusFrom(this.gpu) : [];
  }

  get model(): ModelAnnouncement | null {
    return this.announced;
  }

  loadedModels(): LoadedModel[] {
    const m = this.announced;
    return m ? [{ name: m.name, sha256: m.sha256, parallel: m.parallel }] : [];
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.runner.stop();
  }

  private async load(path: string): Promise<ModelAnnouncement> {
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
      `loaded ${name} in ${Date.now() - started} ms: ${loaded.gpuLayers}/${loaded.totalLayers} layers on GPU, context ${loaded.contextSize} per sequence, ${loaded.parallel} parallel sequences, longest token ${loaded.maxTokenBytes ?? 'unbounded'} bytes`,
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
      contextTokens: loaded.contextSize,
      maxTokenBytes: loaded.maxTokenBytes,
    };
  }
}
