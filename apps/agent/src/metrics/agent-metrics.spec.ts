import { loadConfig } from '@gridline/common';
import type { NodeGpu } from '@gridline/contract';
import { parsePrometheusText, sumSamples } from '@gridline/testing';
import { AgentConfig } from '../agent.config';
import type { Replica } from '../replicas/replica';
import { AgentMetrics } from './agent-metrics';

const replica = (id: string, extra: Partial<Replica> = {}) => ({ id, model: 'm', state: 'Ready', tokensPerSecond: null, inFlight: 0, parallel: 4, ...extra }) as Replica;

describe('AgentMetrics', () => {
  it('counts jobs and tokens per replica, reads replicas and GPUs at scrape time, and drops an unloaded replica\'s series', async () => {
    const metrics = new AgentMetrics(loadConfig(AgentConfig, { GRIDLINE_NODE_NAME: 'gpu-7' }));
    const replicas = [replica('r1', { tokensPerSecond: 12.5, inFlight: 3 }), replica('r2', { state: 'Loading' })];
    const gpus: NodeGpu[] = [{ index: 0, name: 'L4 24GB (simulated)', vendor: 'nvidia', totalMemoryBytes: 24e9, freeMemoryBytes: 20e9, simulated: true }];
    metrics.watchReplicas(() => replicas);
    metrics.watchGpus(() => gpus);
    metrics.jobEnded('m', 'succeeded');
    metrics.jobEnded('m', 'succeeded');
    metrics.jobEnded('m', 'failed', 'runner_crashed');
    metrics.generatedBy(replicas[0], 10, 7);
    metrics.generatedBy(replicas[0], 5, 3);
    metrics.loaded('m', 'loaded');
    const scrape = async () => parsePrometheusText(await metrics.registry.metrics());

    let page = await scrape();
    expect(sumSamples(page, 'gridline_agent_jobs_total', { node: 'gpu-7', outcome: 'succeeded', code: '' })).toBe(2);
    expect(sumSamples(page, 'gridline_agent_jobs_total', { outcome: 'failed', code: 'runner_crashed' })).toBe(1);
    expect(sumSamples(page, 'gridline_agent_generated_tokens_total', { replica: 'r1' })).toBe(10);
    expect(sumSamples(page, 'gridline_agent_prompt_tokens_total', { replica: 'r1' })).toBe(15);
    expect(sumSamples(page, 'gridline_agent_replicas', { state: 'Ready' })).toBe(1);
    expect(sumSamples(page, 'gridline_agent_replicas', { state: 'Loading' })).toBe(1);
    expect(sumSamples(page, 'gridline_agent_replica_tokens_per_second', { replica: 'r1' })).toBe(12.5);
    expect(sumSamples(page, 'gridline_agent_replica_jobs_in_flight', { replica: 'r1' })).toBe(3);
    expect(sumSamples(page, 'gridline_agent_replica_sequences')).toBe(8);
    expect(sumSamples(page, 'gridline_agent_gpu_memory_used_bytes', { gpu: '0', simulated: 'true' })).toBe(4e9);
    expect(sumSamples(page, 'gridline_agent_replica_loads_total', { outcome: 'loaded' })).toBe(1);

    metrics.unloaded(replicas[0]);
    replicas.shift();
    page = await scrape();
    expect(page.samples.filter((s) => s.labels.replica === 'r1')).toEqual([]);
    expect(sumSamples(page, 'gridline_agent_replica_unloads_total', { model: 'm' })).toBe(1);
    expect(sumSamples(page, 'gridline_agent_replicas')).toBe(1);
  });
});
