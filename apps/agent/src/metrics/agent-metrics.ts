import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { createMetricsRegistry, scrapedGauge } from '@gridline/common';
import type { NodeGpu } from '@gridline/contract';
import { AgentConfig } from '../agent.config';
import type { Replica } from '../replicas/replica';

/**
 * How one job's attempt ended on this node: `succeeded`; `cancelled` (the client, a deadline or
 * a fence stopped it while it ran); `failed` (with the job error code); `not_started` (cancelled,
 * expired or taken over before it started here).
 */
export type JobOutcome = 'succeeded' | 'cancelled' | 'failed' | 'not_started';

/**
 * The agent's metrics (every series carries the node's name as `node`): jobs by outcome, tokens
 * and tokens/s per replica, replica loads and unloads, replicas by state, GPU memory per GPU.
 * Counters are bumped where things happen; gauges are read from the replicas and the last
 * inventory at scrape time.
 */
@Injectable()
export class AgentMetrics {
  readonly registry;
  private readonly jobs: Counter<'model' | 'outcome' | 'code'>;
  private readonly generated: Counter<'model' | 'replica'>;
  private readonly prompted: Counter<'model' | 'replica'>;
  private readonly loads: Counter<'model' | 'outcome'>;
  private readonly unloads: Counter<'model'>;
  private replicaSource: () => Iterable<Replica> = () => [];
  private gpuSource: () => readonly NodeGpu[] = () => [];

  constructor(config: AgentConfig) {
    const registry = (this.registry = createMetricsRegistry({ node: config.GRIDLINE_NODE_NAME }));
    const registers = [registry];
    this.jobs = new Counter({ name: 'gridline_agent_jobs_total', help: "Jobs' attempts run on this node by outcome (succeeded, cancelled, failed, not_started) and error code", labelNames: ['model', 'outcome', 'code'] as const, registers });
    this.generated = new Counter({ name: 'gridline_agent_generated_tokens_total', help: 'Tokens generated per replica (rate() of it: tokens per second)', labelNames: ['model', 'replica'] as const, registers });
    this.prompted = new Counter({ name: 'gridline_agent_prompt_tokens_total', help: "Prompt tokens of the jobs each replica ran", labelNames: ['model', 'replica'] as const, registers });
    this.loads = new Counter({ name: 'gridline_agent_replica_loads_total', help: 'Replica loads by outcome (loaded, failed)', labelNames: ['model', 'outcome'] as const, registers });
    this.unloads = new Counter({ name: 'gridline_agent_replica_unloads_total', help: 'Replicas unloaded', labelNames: ['model'] as const, registers });

    /** A gauge read at scrape time from the replicas and the last inventory. */
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (g: Gauge<L>) => void): void => {
      scrapedGauge(registry, { name, help, labelNames }, () => undefined, (g) => fill(g));
    };
    const eachReplica = (set: (labels: { model: string; replica: string }, r: Replica) => void) => {
      for (const r of this.replicaSource()) set({ model: r.model, replica: r.id }, r);
    };
    gauge('gridline_agent_replicas', 'Replicas on this node by state', ['model', 'state'], (g) => {
      for (const r of this.replicaSource()) g.inc({ model: r.model, state: r.state });
    });
    gauge('gridline_agent_replica_tokens_per_second', 'Tokens per second each replica generated between its last two heartbeats', ['model', 'replica'], (g) =>
      eachReplica((labels, r) => r.tokensPerSecond !== null && g.set(labels, r.tokensPerSecond)),
    );
    gauge('gridline_agent_replica_jobs_in_flight', 'Jobs handed to each replica that have not ended', ['model', 'replica'], (g) => eachReplica((labels, r) => g.set(labels, r.inFlight)));
    gauge('gridline_agent_replica_sequences', 'Sequences (parallel slots) of each replica', ['model', 'replica'], (g) => eachReplica((labels, r) => g.set(labels, r.parallel)));

    const gpuLabels = ['gpu', 'gpu_name', 'simulated'] as const;
    const eachGpu = (set: (labels: { gpu: string; gpu_name: string; simulated: string }, gpu: NodeGpu) => void) => {
      for (const gpu of this.gpuSource()) set({ gpu: String(gpu.index), gpu_name: gpu.name, simulated: String(gpu.simulated === true) }, gpu);
    };
    gauge('gridline_agent_gpu_memory_total_bytes', 'Memory of each GPU as the last inventory found it (simulated=true: a GPU the agent pretends to have)', gpuLabels, (g) => eachGpu((labels, gpu) => g.set(labels, gpu.totalMemoryBytes)));
    gauge('gridline_agent_gpu_memory_used_bytes', 'Memory in use on each GPU (total less free)', gpuLabels, (g) => eachGpu((labels, gpu) => g.set(labels, Math.max(0, gpu.totalMemoryBytes - gpu.freeMemoryBytes))));
    gauge('gridline_agent_gpu_memory_free_bytes', 'Memory free on each GPU', gpuLabels, (g) => eachGpu((labels, gpu) => g.set(labels, gpu.freeMemoryBytes)));
  }

  /** Where the replica gauges are read from at each scrape. */
  watchReplicas(source: () => Iterable<Replica>): void {
    this.replicaSource = source;
  }

  /** Where the GPU gauges are read from at each scrape (the last inventory sent). */
  watchGpus(source: () => readonly NodeGpu[]): void {
    this.gpuSource = source;
  }

  jobEnded(model: string, outcome: JobOutcome, code = ''): void {
    this.jobs.inc({ model, outcome, code });
  }

  generatedBy(r: Pick<Replica, 'id' | 'model'>, promptTokens: number, completionTokens: number): void {
    const labels = { model: r.model, replica: r.id };
    this.generated.inc(labels, completionTokens);
    this.prompted.inc(labels, promptTokens);
  }

  loaded(model: string, outcome: 'loaded' | 'failed'): void {
    this.loads.inc({ model, outcome });
  }

  /** The replica is gone: its own series go with it (label values stay bounded by what is loaded). */
  unloaded(r: Pick<Replica, 'id' | 'model'>): void {
    this.unloads.inc({ model: r.model });
    this.generated.remove({ model: r.model, replica: r.id });
    this.prompted.remove({ model: r.model, replica: r.id });
  }
}
