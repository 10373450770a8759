import { loadConfig } from '@gridline/common';
import type { JobFigures, MetricsRepository, NodeRecord, NodeRepository } from '@gridline/db';
import { parsePrometheusText, sumSamples } from '@gridline/testing';
import type { Leadership } from '../leadership/leadership.service';
import { SchedulerConfig } from '../scheduler.config';
import { SchedulerMetrics } from './scheduler-metrics';

const at = (msAgo: number) => new Date(Date.now() - msAgo);

function node(name: string, status: NodeRecord['status'], silentMs: number, extra: Partial<NodeRecord> = {}): NodeRecord {
  return { name, status, lastHeartbeatAt: at(silentMs), revokedAt: null, gpus: [], replicaReports: [], ...extra } as NodeRecord;
}

describe('SchedulerMetrics', () => {
  const jobs: JobFigures[] = [
    { status: 'queued', team: 'red', model: 'm1', jobs: 3, promptTokens: 0, completionTokens: 0, oldestCreatedAt: at(40_000) },
    { status: 'queued', team: 'red', model: 'm2', jobs: 1, promptTokens: 0, completionTokens: 0, oldestCreatedAt: at(90_000) },
    { status: 'succeeded', team: 'red', model: 'm1', jobs: 5, promptTokens: 50, completionTokens: 20, oldestCreatedAt: at(500_000) },
    { status: 'failed', team: 'blue', model: 'm1', jobs: 2, promptTokens: 7, completionTokens: 0, oldestCreatedAt: at(500_000) },
  ];
  const nodes = [
    node('a', 'Ready', 500, {
      gpus: [{ index: 0, name: 'H100 80GB (simulated)', vendor: 'nvidia', totalMemoryBytes: 80e9, freeMemoryBytes: 60e9, simulated: true }],
      replicaReports: [{ model: 'm1', state: 'Ready' }, { model: 'm2', state: 'Loading' }],
    }),
    node('b', 'NotReady', 12_500),
    node('gone', 'Lost', 900_000, { revokedAt: new Date() }),
  ];
  const metrics = new SchedulerMetrics(
    loadConfig(SchedulerConfig, { GRIDLINE_HEARTBEAT_SECONDS: '5' }),
    { jobFigures: async () => jobs, teamNames: async () => new Map([['t-red', 'red']]) } as unknown as MetricsRepository,
    { list: async () => nodes } as unknown as NodeRepository,
    { leading: true } as Leadership,
  );
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());

  it('reports the jobs table by state, team and model, its tokens, and the queue per team', async () => {
    const page = await scrape();
    expect(sumSamples(page, 'gridline_jobs', { state: 'queued' })).toBe(4);
    expect(sumSamples(page, 'gridline_jobs', { state: 'succeeded', team: 'red', model: 'm1' })).toBe(5);
    expect(sumSamples(page, 'gridline_jobs', { team: 'blue' })).toBe(2);
    expect(sumSamples(page, 'gridline_job_tokens_total', { kind: 'prompt' })).toBe(57);
    expect(sumSamples(page, 'gridline_job_tokens_total', { kind: 'completion', team: 'red' })).toBe(20);
    expect(sumSamples(page, 'gridline_queue_depth', { team: 'red' })).toBe(4);
    expect(sumSamples(page, 'gridline_queue_depth', { team: 'blue' })).toBe(0);
    expect(Math.round(sumSamples(page, 'gridline_queue_oldest_wait_seconds', { team: 'red' }))).toBe(90);
  });

  it('reports nodes by status, missed heartbeats, replicas by state and GPU memory (revoked nodes left out)', async () => {
    const page = await scrape();
    expect(sumSamples(page, 'gridline_nodes', { status: 'Ready' })).toBe(1);
    expect(sumSamples(page, 'gridline_nodes', { status: 'NotReady' })).toBe(1);
    expect(sumSamples(page, 'gridline_nodes', { status: 'Lost' })).toBe(0);
    expect(sumSamples(page, 'gridline_node_heartbeats_missed', { node: 'a' })).toBe(0);
    expect(sumSamples(page, 'gridline_node_heartbeats_missed', { node: 'b' })).toBe(2);
    expect(page.samples.some((s) => s.labels.node === 'gone')).toBe(false);
    expect(sumSamples(page, 'gridline_replicas', { node: 'a', state: 'Ready', model: 'm1' })).toBe(1);
    expect(sumSamples(page, 'gridline_replicas', { state: 'Loading' })).toBe(1);
    const gpu = { node: 'a', gpu: '0', simulated: 'true' };
    expect(sumSamples(page, 'gridline_gpu_memory_total_bytes', gpu)).toBe(80e9);
    expect(sumSamples(page, 'gridline_gpu_memory_used_bytes', gpu)).toBe(20e9);
    expect(sumSamples(page, 'gridline_gpu_memory_free_bytes', gpu)).toBe(60e9);
    expect(sumSamples(page, 'gridline_scheduler_leader')).toBe(1);
  });

  it('observes queue waits per team by name', async () => {
    metrics.observeQueueWait('t-red', 1.5);
    await new Promise((r) => setTimeout(r, 10));
    const page = await scrape();
    expect(sumSamples(page, 'gridline_queue_wait_seconds_count', { team: 'red' })).toBe(1);
    expect(sumSamples(page, 'gridline_queue_wait_seconds_sum', { team: 'red' })).toBe(1.5);
  });
});
