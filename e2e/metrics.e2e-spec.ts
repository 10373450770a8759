import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsPage, REPO_ROOT, RunningStack, StackClient, exportsMetric, promqlMetricNames, scrapeMetrics, startStack, sumSamples, until } from '@gridline/testing';

interface Job {
  id: string;
  status: string;
}

const TOKEN = 'metrics-e2e-scrape-token';
const MODEL = 'tiny-metrics';

/**
 * /metrics of the three real processes after real load: their figures agree with the jobs
 * table, and every metric the Grafana dashboard queries is one of them.
 */
describe('metrics (real stack)', () => {
  let stack: RunningStack;
  let client: StackClient;
  let team: string;
  let node: string;
  const scrape = (url: string) => scrapeMetrics(url, TOKEN);
  const chat = (content: string, max = 6) => ({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: max, temperature: 0 });

  beforeAll(async () => {
    const withToken = { GRIDLINE_METRICS_TOKEN: TOKEN };
    stack = await startStack({
      modelName: MODEL,
      parallel: 2,
      // The node is paused for a moment below: it must stay Ready meanwhile.
      env: { GRIDLINE_NODE_TIMEOUT_SECONDS: '120' },
      apiEnv: { ...withToken, GRIDLINE_QUOTA_CACHE_MS: '0' },
      schedulerEnv: withToken,
      agentEnv: { ...withToken, GRIDLINE_SIMULATE_GPUS: '1xL4-24GB' },
    });
    client = new StackClient(stack, stack.url);
    node = (await client.sql<{ name: string }>('SELECT name FROM nodes'))[0].name;
  }, 120_000);

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('serves /metrics without HMAC signing, behind the bearer token when one is set', async () => {
    for (const url of Object.values(stack.metrics)) {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toContain('text/plain');
      const page = await ok.text();
      // Node's default process metrics too.
      expect(page).toContain('# TYPE process_cpu_seconds_total counter');
      expect(page).toContain('# TYPE nodejs_eventloop_lag_p99_seconds gauge');
    }
    // The token never reaches a log line.
    for (const p of [stack.api, stack.scheduler, stack.agent]) expect(p.output).not.toContain(TOKEN);
  });

  it('after load (completions, streams, async jobs, a quota refusal, a cancellation) the figures agree with the jobs table', async () => {
    const whoami = (await client.json<{ teamId: string }>('GET', '/api/v1/whoami')).body;
    team = (await client.sql<{ name: string }>('SELECT name FROM teams WHERE id = $1', [whoami.teamId]))[0].name;

    // Synchronous completions: three whole, two streamed, one plain completion.
    for (const q of ['Tell me about rivers.', 'And about lakes?', 'And seas?']) expect((await client.json('POST', '/v1/chat/completions', chat(q))).status).toBe(200);
    for (const q of ['Stream me a river.', 'Stream me a lake.']) {
      const s = await client.stream(chat(q));
      expect(s.status).toBe(200);
      expect(s.done).toBe(true);
    }
    expect((await client.json('POST', '/v1/completions', { model: MODEL, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 })).status).toBe(200);

    // Asynchronous jobs, each to success.
    const asyncIds: string[] = [];
    for (const q of ['one', 'two', 'three']) {
      const res = await client.json<Job>('POST', '/api/v1/jobs', chat(`Async job ${q}.`, 8));
      expect(res.status).toBe(202);
      asyncIds.push(res.body.id);
    }

    // A quota refusal: a token limited to one request a minute (a second one is refused, or a
    // third when the first two straddle a UTC minute).
    const key = (await client.json<{ id: string; token: string }>('POST', '/api/v1/tokens', { name: 'metrics-rpm', scope: 'inference' })).body;
    expect((await client.json('PUT', `/api/v1/teams/${whoami.teamId}/quotas`, { keys: [{ kind: 'token', id: key.id, limits: { requestsPerMinute: 1 } }] })).status).toBe(200);
    let bearerOk = 0;
    let refused = 0;
    for (let i = 0; i < 3 && refused === 0; i++) {
      const res = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key.token}` }, body: JSON.stringify(chat('Quota?', 2)) });
      await res.text();
      if (res.status === 200) bearerOk++;
      else if (res.status === 429) refused++;
      else throw new Error(`unexpected ${res.status}`);
    }
    expect(refused).toBe(1);

    // A cancellation while queued: the node holds still, its two sequences taken by two jobs; a
    // third waits at the scheduler and is cancelled there (it never reaches the node).
    stack.agent.child.kill('SIGSTOP');
    let held: string[];
    let cancelledId: string;
    try {
      held = [];
      for (const q of ['held one', 'held two']) held.push((await client.json<Job>('POST', '/api/v1/jobs', chat(q, 4))).body.id);
      await until('both to be dispatched', async () => ((await client.sql<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND dispatched_at IS NOT NULL`, [held]))[0].n === 2 ? true : undefined));
      cancelledId = (await client.json<Job>('POST', '/api/v1/jobs', chat('waits, then is cancelled', 4))).body.id;
      const cancelled = await client.json<Job>('DELETE', `/api/v1/jobs/${cancelledId}`);
      expect(cancelled.body.status).toBe('cancelled');
    } finally {
      stack.agent.child.kill('SIGCONT');
    }
    const all = [...asyncIds, ...held];
    await until('the asynchronous jobs to succeed', async () => ((await client.sql<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1) AND status = 'succeeded'`, [all]))[0].n === all.length ? true : undefined), 60_000);
    expect((await client.sql<{ dispatched_at: Date | null; status: string }>('SELECT status, dispatched_at FROM jobs WHERE id = $1', [cancelledId]))[0]).toEqual({ status: 'cancelled', dispatched_at: null });
    await until('no open job', async () => ((await client.openJobs()) === 0 ? true : undefined));

    // What the jobs table says.
    const byStatus = new Map((await client.sql<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM jobs GROUP BY status')).map((r) => [r.status, r.n]));
    const [db] = await client.sql<{ jobs: number; sync: number; async: number; dispatched: number; prompt: number; completion: number }>(
      `SELECT count(*)::int AS jobs, count(*) FILTER (WHERE mode = 'sync')::int AS sync, count(*) FILTER (WHERE mode = 'async')::int AS async,
              count(*) FILTER (WHERE dispatched_at IS NOT NULL)::int AS dispatched,
              coalesce(sum(prompt_tokens), 0)::int AS prompt, coalesce(sum(completion_tokens), 0)::int AS completion FROM jobs`,
    );
    const syncCompletions = 3 + 2 + 1 + bearerOk;
    expect(db).toMatchObject({ jobs: syncCompletions + asyncIds.length + 3, sync: syncCompletions, async: asyncIds.length + 3, dispatched: syncCompletions + asyncIds.length + 2 });
    expect(byStatus.get('succeeded')).toBe(db.dispatched);
    expect(byStatus.get('cancelled')).toBe(1);
    const [gpu] = (await client.sql<{ gpus: { name: string; totalMemoryBytes: number; freeMemoryBytes: number }[] }>('SELECT gpus FROM nodes WHERE name = $1', [node]))[0].gpus;

    // The agent counts a job as it ends, a moment after its events: wait for it to catch up.
    let api!: MetricsPage;
    let scheduler!: MetricsPage;
    let agent!: MetricsPage;
    const read = async () => ([api, scheduler, agent] = await Promise.all([scrape(stack.metrics.api), scrape(stack.metrics.scheduler), scrape(stack.metrics.agent)]));
    await until(
      'the figures to settle',
      async () => {
        await read();
        // The scheduler reuses the jobs table's figures for a few seconds (JOB_FIGURES_TTL_MS).
        const schedulerSettled = sumSamples(scheduler, 'gridline_jobs') === db.jobs && sumSamples(scheduler, 'gridline_jobs', { state: 'succeeded' }) === byStatus.get('succeeded');
        return sumSamples(agent, 'gridline_agent_jobs_total') === db.dispatched && sumSamples(api, 'gridline_jobs_submitted_total') === db.jobs && sumSamples(scheduler, 'gridline_node_heartbeats_missed') === 0 && schedulerSettled ? true : undefined;
      },
      15_000,
    ).catch(() => undefined);

    // api: jobs submitted, refusals, requests and errors by route template, overhead and first-token histograms.
    expect(sumSamples(api, 'gridline_jobs_submitted_total')).toBe(db.jobs);
    expect(sumSamples(api, 'gridline_jobs_submitted_total', { team, model: MODEL, mode: 'sync' })).toBe(db.sync);
    expect(sumSamples(api, 'gridline_jobs_submitted_total', { team, model: MODEL, mode: 'async' })).toBe(db.async);
    expect(sumSamples(api, 'gridline_quota_refusals_total')).toBe(1);
    expect(sumSamples(api, 'gridline_quota_refusals_total', { team, scope: 'key', limit: 'requests_per_minute' })).toBe(1);
    expect(sumSamples(api, 'gridline_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '200' })).toBe(3 + 2 + bearerOk);
    expect(sumSamples(api, 'gridline_http_requests_total', { method: 'POST', route: '/v1/chat/completions', status: '429' })).toBe(1);
    expect(sumSamples(api, 'gridline_http_errors_total', { route: '/v1/chat/completions', status: '429', code: 'rate_limit_exceeded' })).toBe(1);
    expect(sumSamples(api, 'gridline_http_requests_total', { method: 'POST', route: '/v1/completions', status: '200' })).toBe(1);
    expect(sumSamples(api, 'gridline_http_requests_total', { method: 'POST', route: '/api/v1/jobs', status: '202' })).toBe(asyncIds.length + 3);
    expect(sumSamples(api, 'gridline_http_requests_total', { method: 'DELETE', route: '/api/v1/jobs/:id', status: '200' })).toBe(1);
    // Route templates, never raw paths: no job id in any label.
    expect(api.samples.filter((s) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(Object.values(s.labels).join(' ')))).toEqual([]);
    expect(sumSamples(api, 'gridline_request_overhead_seconds_count')).toBe(syncCompletions);
    expect(sumSamples(api, 'gridline_request_overhead_seconds_count', { route: 'chat', stream: 'true' })).toBe(2);
    expect(sumSamples(api, 'gridline_time_to_first_token_seconds_count', { model: MODEL })).toBe(syncCompletions);
    expect(sumSamples(api, 'gridline_time_to_first_token_seconds_sum', { model: MODEL })).toBeGreaterThan(0);

    // scheduler: jobs by state and tokens straight from the table; queue; fleet; GPUs.
    for (const state of ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'expired']) {
      expect([state, sumSamples(scheduler, 'gridline_jobs', { state })]).toEqual([state, byStatus.get(state) ?? 0]);
    }
    expect(sumSamples(scheduler, 'gridline_jobs', { team, model: MODEL })).toBe(db.jobs);
    expect(sumSamples(scheduler, 'gridline_job_tokens_total', { kind: 'prompt' })).toBe(db.prompt);
    expect(sumSamples(scheduler, 'gridline_job_tokens_total', { kind: 'completion', team, model: MODEL })).toBe(db.completion);
    expect(sumSamples(scheduler, 'gridline_queue_depth')).toBe(0);
    expect(sumSamples(scheduler, 'gridline_queue_wait_seconds_count', { team })).toBe(db.dispatched);
    expect(sumSamples(scheduler, 'gridline_nodes', { status: 'Ready' })).toBe(1);
    expect(sumSamples(scheduler, 'gridline_nodes')).toBe(1);
    expect(sumSamples(scheduler, 'gridline_node_heartbeats_missed', { node })).toBe(0);
    expect(sumSamples(scheduler, 'gridline_replicas', { state: 'Ready', model: MODEL, node })).toBe(1);
    const gpuLabels = { node, gpu: '0', gpu_name: gpu.name, simulated: 'true' };
    expect(sumSamples(scheduler, 'gridline_gpu_memory_total_bytes', gpuLabels)).toBe(gpu.totalMemoryBytes);
    expect(sumSamples(scheduler, 'gridline_gpu_memory_free_bytes', gpuLabels)).toBe(gpu.freeMemoryBytes);
    expect(sumSamples(scheduler, 'gridline_gpu_memory_used_bytes', gpuLabels)).toBe(gpu.totalMemoryBytes - gpu.freeMemoryBytes);
    expect(gpu.totalMemoryBytes).toBe(24 * 1024 ** 3);
    expect(sumSamples(scheduler, 'gridline_scheduler_leader')).toBe(1);

    // agent: every dispatched job ran here once; tokens as the table recorded them.
    expect(sumSamples(agent, 'gridline_agent_jobs_total', { node, model: MODEL, outcome: 'succeeded' })).toBe(byStatus.get('succeeded'));
    expect(sumSamples(agent, 'gridline_agent_jobs_total')).toBe(db.dispatched);
    expect(sumSamples(agent, 'gridline_agent_generated_tokens_total', { node, model: MODEL })).toBe(db.completion);
    expect(sumSamples(agent, 'gridline_agent_prompt_tokens_total', { model: MODEL })).toBe(db.prompt);
    expect(sumSamples(agent, 'gridline_agent_replica_loads_total', { model: MODEL, outcome: 'loaded' })).toBe(1);
    expect(sumSamples(agent, 'gridline_agent_replicas', { model: MODEL, state: 'Ready' })).toBe(1);
    expect(sumSamples(agent, 'gridline_agent_replica_sequences', { model: MODEL })).toBe(2);
    expect(sumSamples(agent, 'gridline_agent_replica_jobs_in_flight')).toBe(0);
    expect(sumSamples(agent, 'gridline_agent_gpu_memory_total_bytes', { node, gpu: '0', gpu_name: gpu.name, simulated: 'true' })).toBe(gpu.totalMemoryBytes);

    // Every metric the dashboard queries is exported by one of the three processes.
    const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docker/grafana/dashboards/gridline.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const used = new Set(dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => promqlMetricNames(t.expr))));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((name) => ![api, scheduler, agent].some((page) => exportsMetric(page, name)))).toEqual([]);
  }, 180_000);
});
