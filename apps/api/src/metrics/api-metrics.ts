import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Counter, Gauge, Histogram } from 'prom-client';
import { FAST_SECONDS_BUCKETS, LATENCY_SECONDS_BUCKETS, TeamNameLabels, createMetricsRegistry } from '@gridline/common';
import { JobMode, MetricsRepository, TeamScope } from '@gridline/db';

/** Where sendError leaves the error's code for the request's metrics. */
export const ERROR_CODE_LOCAL = 'gridlineErrorCode';

/** The OpenAI route a completion came through, for the overhead and first-token histograms. */
export type InferenceRoute = 'chat' | 'completion';

/** What the endpoint gauges show of one endpoint at a scrape. */
export interface EndpointFigures {
  name: string;
  kind: string;
  state: 'unknown' | 'healthy' | 'unhealthy';
  enabled: boolean;
  circuitOpen: boolean;
  models: number;
}

const ENDPOINT_STATES = ['unknown', 'healthy', 'unhealthy'] as const;

/**
 * The api's metrics: requests and errors by route template and status, the api's own overhead
 * and the time to first token of completions, quota refusals and jobs submitted. Each is one
 * cheap call on the request's path (team names are looked up off it, cached).
 */
@Injectable()
export class ApiMetrics {
  readonly registry = createMetricsRegistry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly errors: Counter<'method' | 'route' | 'status' | 'code'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly overhead: Histogram<'route' | 'stream'>;
  private readonly firstToken: Histogram<'model' | 'stream'>;
  private readonly refusals: Counter<'team' | 'scope' | 'limit'>;
  private readonly submitted: Counter<'team' | 'model' | 'mode'>;
  private readonly teams: TeamNameLabels;
  private readonly endpointRequests: Counter<'endpoint' | 'outcome'>;
  private readonly endpointChecks: Counter<'endpoint' | 'result'>;
  private readonly endpointCheckSeconds: Histogram<'endpoint'>;
  private endpointFigures: () => Promise<EndpointFigures[]> = async () => [];

  constructor(figures: MetricsRepository) {
    this.teams = new TeamNameLabels({ load: () => figures.teamNames(TeamScope.all()) });
    const registers = [this.registry];
    this.requests = new Counter({ name: 'gridline_http_requests_total', help: 'HTTP requests answered, by method, route template (unmatched: no API route, e.g. static files, 404s, bodies refused before routing) and status code', labelNames: ['method', 'route', 'status'] as const, registers });
    this.errors = new Counter({ name: 'gridline_http_errors_total', help: 'HTTP requests answered with an error, by method, route template, status and error code', labelNames: ['method', 'route', 'status', 'code'] as const, registers });
    this.duration = new Histogram({ name: 'gridline_http_request_duration_seconds', help: 'Time from a request’s arrival to the end of its response, by method and route template', labelNames: ['method', 'route'] as const, buckets: LATENCY_SECONDS_BUCKETS, registers });
    this.overhead = new Histogram({
      name: 'gridline_request_overhead_seconds',
      help: "The api's own time on a completion, outside the model's work (the x-gridline-overhead-ms header): up to the first output when streamed, the whole answer otherwise",
      labelNames: ['route', 'stream'] as const,
      buckets: FAST_SECONDS_BUCKETS,
      registers,
    });
    this.firstToken = new Histogram({ name: 'gridline_time_to_first_token_seconds', help: 'Time from a completion request’s arrival at the api to its first output', labelNames: ['model', 'stream'] as const, buckets: LATENCY_SECONDS_BUCKETS, registers });
    this.refusals = new Counter({ name: 'gridline_quota_refusals_total', help: 'Jobs refused by a quota (429), by team, the scope of the limit (team, key, model) and the limit', labelNames: ['team', 'scope', 'limit'] as const, registers });
    this.endpointRequests = new Counter({
      name: 'gridline_endpoint_requests_total',
      help: 'Requests sent to endpoints (peers, Backend.AI clusters, OpenAI-compatible servers), by endpoint and outcome (succeeded, cancelled, or why it failed: unreachable, timeout, credential_refused, rate_limited, client_error, server_error, protocol); each try counts',
      labelNames: ['endpoint', 'outcome'] as const,
      registers,
    });
    this.endpointChecks = new Counter({ name: 'gridline_endpoint_checks_total', help: "Active health checks of endpoints (GET /v1/models), by endpoint and result (passed, failed)", labelNames: ['endpoint', 'result'] as const, registers });
    this.endpointCheckSeconds = new Histogram({ name: 'gridline_endpoint_check_duration_seconds', help: 'How long active health checks of endpoints took, by endpoint', labelNames: ['endpoint'] as const, buckets: LATENCY_SECONDS_BUCKETS, registers });
    const endpointFigures = () => this.endpointFigures();
    new Gauge({
      name: 'gridline_endpoint_state',
      help: "Each endpoint's health as its active checks concluded: 1 for its current state (unknown, healthy, unhealthy), 0 for the others",
      labelNames: ['endpoint', 'kind', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const e of await endpointFigures()) for (const state of ENDPOINT_STATES) this.set({ endpoint: e.name, kind: e.kind, state }, e.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gridline_endpoint_up',
      help: 'Whether requests are routed to the endpoint now: 1 when enabled, not unhealthy and its circuit closed',
      labelNames: ['endpoint', 'kind'] as const,
      registers,
      async collect() {
        this.reset();
        for (const e of await endpointFigures()) this.set({ endpoint: e.name, kind: e.kind }, e.enabled && e.state !== 'unhealthy' && !e.circuitOpen ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gridline_endpoint_circuit_open',
      help: "Whether the endpoint's circuit breaker is open (failed requests keep requests away for a while)",
      labelNames: ['endpoint'] as const,
      registers,
      async collect() {
        this.reset();
        for (const e of await endpointFigures()) this.set({ endpoint: e.name }, e.circuitOpen ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gridline_endpoint_models',
      help: "Models each endpoint's last catalog listed",
      labelNames: ['endpoint'] as const,
      registers,
      async collect() {
        this.reset();
        for (const e of await endpointFigures()) this.set({ endpoint: e.name }, e.models);
      },
    });
    this.submitted = new Counter({ name: 'gridline_jobs_submitted_total', help: 'Submissions the api accepted (a row written and queued by the api), by team, model and mode (sync, async); a row the sweeper queues later, after an api crash, is not counted here', labelNames: ['team', 'model', 'mode'] as const, registers });
  }

  /** Counts the request when its response ends (the first middleware calls this). */
  track(req: Request, res: Response): void {
    const started = performance.now();
    res.once('close', () => {
      // The matched route's template (never the raw path: ids would make a series each).
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: unknown }).path)}` : 'unmatched';
      const status = String(res.statusCode);
      this.requests.inc({ method: req.method, route, status });
      this.duration.observe({ method: req.method, route }, (performance.now() - started) / 1000);
      const code = res.locals[ERROR_CODE_LOCAL] as string | undefined;
      if (code) this.errors.inc({ method: req.method, route, status, code });
    });
  }

  observeOverhead(route: InferenceRoute, stream: boolean, ms: number): void {
    this.overhead.observe({ route, stream: String(stream) }, ms / 1000);
  }

  observeFirstToken(model: string, stream: boolean, ms: number): void {
    this.firstToken.observe({ model, stream: String(stream) }, ms / 1000);
  }

  quotaRefused(teamId: string, scope: string, limit: string): void {
    void this.teams.of(teamId).then((team) => this.refusals.inc({ team, scope, limit }));
  }

  jobSubmitted(teamId: string, model: string, mode: JobMode): void {
    void this.teams.of(teamId).then((team) => this.submitted.inc({ team, model, mode }));
  }

  /** Where the endpoint gauges read their figures at a scrape (the mesh registers it). */
  readEndpointsWith(source: () => Promise<EndpointFigures[]>): void {
    // One read per scrape for the four gauges (they collect one after another, within a second).
    let last: { at: number; figures: Promise<EndpointFigures[]> } | null = null;
    this.endpointFigures = () => {
      if (!last || Date.now() - last.at > 1000) {
        const figures = source();
        last = { at: Date.now(), figures };
        figures.catch(() => (last = null));
      }
      return last.figures;
    };
  }

  endpointRequest(endpoint: string, outcome: string): void {
    this.endpointRequests.inc({ endpoint, outcome });
  }

  endpointChecked(endpoint: string, passed: boolean, seconds: number): void {
    this.endpointChecks.inc({ endpoint, result: passed ? 'passed' : 'failed' });
    this.endpointCheckSeconds.observe({ endpoint }, seconds);
  }
}
