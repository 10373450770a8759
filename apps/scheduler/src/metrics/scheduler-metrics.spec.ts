import { loadConfig } from '@gridline/common';
import type { JobFigures, MetricsRepository, NodeRecord, NodeRepository } from '@gridline/db';
import { parsePrometheusText, sumSamples } from '@gridline/testing';
import type { Leadership } from '../leadership/leadership.service';
import { SchedulerConfig } from '../scheduler.config';
import { JOB_FIGURES_TTL_MS, SchedulerMetrics } from './scheduler-metrics';

/** The clock the metrics read: fixed, moved by the tests. */
const NOW = Date.parse('2026-01-01T12:00:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo);

function node(name: string, status: NodeRecord['status'], silentMs: number, extra: Partial<NodeRecord> = {}): NodeRecord {
  return { name, status, lastHeartbeatAt: at(silentMs), revokedAt: null, gpus: [], replicaReports: [], ...extra } as NodeRecord;
}

const h100 = { index: 0, name: 'H100 80GB (simulated)', vendor: 'nvidia', totalMemoryBytes: 80e9, freeMemoryBytes: 60e9, simulated: true };

describe('SchedulerMetrics', () => {
  let now: number;
  let jobs: JobFigures[];
  let jobReads: number;
  let metrics: SchedulerMetrics;
  const nodes = [
    node('a', 'Ready', 500, { gpus: [h100], replicaReports: [{ model: 'm1', state: 'Ready' }, { model: 'm2', state: 'Loading' }] }),
    node('b', 'NotReady', 12_500),
    // Lost: counted as a node, but its last report of replicas and GPUs no longer stands.
    node('lost', 'Lost', 400_000, { gpus: [{ ...h100, name: 'L4' }], replicaReports: [{ model: 'm1', state: 'Ready' }] }),
    node('gone', 'Lost', 900_000, { revokedAt: at(0) }),
  ];
  const scrape = async () => parsePrometheusText(await metrics.registry.metrics());

  beforeEach(() => {
    now = NOW;
    jobReads = 0;
    jobs = [
      { status: 'queued', team: 'red', model: 'm1', jobs: 3, promptTokens: 0, completionTokens: 0, oldestCreatedAt: at(40_000) },
      { status: 'queued', team: 'red', model: 'm2', jobs: 1, promptTokens: 0, completionTokens: 0, oldestCreatedAt: at(90_000) },
      { status: 'succeeded', team: 'red', model: 'm1', jobs: 5, promptTokens: 50, completionTokens: 20, oldestCreatedAt: at(500_000) },
      { status: 'failed', team: 'blue', model: 'm1', jobs: 2, promptTokens: 7, completionTokens: 0, oldestCreatedAt: at(500_000) },
    ];
    metrics = new SchedulerMetrics(
      loadConfig(SchedulerConfig, { GRIDLINE_HEARTBEAT_SECONDS: '5' }),
      {
        jobFigures: async () => {
          jobReads += 1;
          return jobs;
        },
        teamNames: async () => new Map([['t-red', 'red']]),
      } as unknown as MetricsRepository,
      { list: async () => nodes } as unknown as NodeRepository,
      { leading: true } as Leadership,
      () => now,
    );
  });

  it('reports the jobs table by state, team and model, its tokens, and the queue per team', async () => {
    const page = await scrape();
    expect(sumSamples(page, 'gridline_jobs', { state: 'queued' })).toBe(4);
    expect(sumSamples(page, 'gridline_jobs', { state: 'succeeded', team: 'red', model: 'm1' })).toBe(5);
    expect(sumSamples(page, 'gridline_jobs', { team: 'blue' })).toBe(2);
    expect(sumSamples(page, 'gridline_job_tokens_total', { kind: 'prompt' })).toBe(57);
    expect(sumSamples(page, 'gridline_job_tokens_total', { kind: 'completion', team: 'red' })).toBe(20);
    expect(sumSamples(page, 'gridline_queue_depth', { team: 'red' })).toBe(4);
    expect(sumSamples(page, 'gridline_queue_depth', { team: 'blue' })).toBe(0);
    expect(sumSamples(page, 'gridline_queue_oldest_wait_seconds', { team: 'red' })).toBe(90);
    now += 2500;
    expect(sumSamples(await scrape(), 'gridline_queue_oldest_wait_seconds', { team: 'red' })).toBe(92.5);
  });

  it('reads the jobs table once for the scrapes within JOB_FIGURES_TTL_MS, then again', async () => {
    await scrape();
    jobs = [{ status: 'queued', team: 'red', model: 'm1', jobs: 7, promptTokens: 0, completionTokens: 0, oldestCreatedAt: at(1000) }];
    now += JOB_FIGURES_TTL_MS - 1;
    expect(sumSamples(await scrape(), 'gridline_jobs', { state: 'queued' })).toBe(4);
    expect(jobReads).toBe(1);
    now += 1;
    expect(sumSamples(await scrape(), 'gridline_jobs', { state: 'queued' })).toBe(7);
    expect(jobReads).toBe(2);
  });

  it('reports nodes by status and missed heartbeats; replicas and GPU memory of nodes that still report (revoked nodes left out, Lost ones counted as nodes only)', async () => {
    const page = await scrape();
    expect(sumSamples(page, 'gridline_nodes', { status: 'Ready' })).toBe(1);
    expect(sumSamples(page, 'gridline_nodes', { status: 'NotReady' })).toBe(1);
    expect(sumSamples(page, 'gridline_nodes', { status: 'Lost' })).toBe(1);
    expect(sumSamples(page, 'gridline_node_heartbeats_missed', { node: 'a' })).toBe(0);
    expect(sumSamples(page, 'gridline_node_heartbeats_missed', { node: 'b' })).toBe(2);
    expect(page.samples.some((s) => s.labels.node === 'gone')).toBe(false);
    expect(sumSamples(page, 'gridline_replicas', { node: 'a', state: 'Ready', model: 'm1' })).toBe(1);
    expect(sumSamples(page, 'gridline_replicas', { state: 'Loading' })).toBe(1);
    expect(sumSamples(page, 'gridline_replicas', { state: 'Ready' })).toBe(1);
    const gpu = { node: 'a', gpu: '0', simulated: 'true' };
    expect(sumSamples(page, 'gridline_gpu_memory_total_bytes', gpu)).toBe(80e9);
    expect(sumSamples(page, 'gridline_gpu_memory_used_bytes', gpu)).toBe(20e9);
    expect(sumSamples(page, 'gridline_gpu_memory_free_bytes', gpu)).toBe(60e9);
    expect(sumSamples(page, 'gridline_gpu_memory_total_bytes')).toBe(80e9);
    expect(page.samples.filter((s) => s.labels.node === 'lost').map((s) => s.name)).toEqual(['gridline_node_heartbeat_age_seconds', 'gridline_node_heartbeats_missed']);
    expect(sumSamples(page, 'gridline_scheduler_leader')).toBe(1);
  });

  it("observes a job's queue wait per team by name, on its first attempt only", async () => {
    await metrics.observeQueueWait('t-red', 1, 1.5);
    await metrics.observeQueueWait('t-red', 2, 30);
    const page = await scrape();
    expect(sumSamples(page, 'gridline_queue_wait_seconds_count', { team: 'red' })).toBe(1);
    expect(sumSamples(page, 'gridline_queue_wait_seconds_sum', { team: 'red' })).toBe(1.5);
  });
});
