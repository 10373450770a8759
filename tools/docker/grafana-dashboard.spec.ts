import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { parse } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- this check builds each app's metrics to know what the processes export */
import { AgentConfig } from '../../apps/agent/src/agent.config';
import { AgentMetrics } from '../../apps/agent/src/metrics/agent-metrics';
import { ApiMetrics } from '../../apps/api/src/metrics/api-metrics';
import { Leadership } from '../../apps/scheduler/src/leadership/leadership.service';
import { SchedulerMetrics } from '../../apps/scheduler/src/metrics/scheduler-metrics';
import { SchedulerConfig } from '../../apps/scheduler/src/scheduler.config';
/* eslint-enable @nx/enforce-module-boundaries */
import { loadConfig } from '@gridline/common';
import type { MetricsRepository, NodeRepository } from '@gridline/db';
import { MetricsPage, exportsMetric, parsePrometheusText, promqlMetricNames } from '@gridline/testing';

const ROOT = join(__dirname, '..', '..');
const DASHBOARDS = join(ROOT, 'docker/grafana/dashboards');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface DashboardJson {
  uid: string;
  panels: PanelJson[];
  templating: { list: { name: string; type: string; query?: unknown; current?: { value?: unknown } }[] };
}

const FILES = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));
const dashboardText = (file: string) => readFileSync(join(DASHBOARDS, file), 'utf8');

/**
 * Type-checks dashboard JSONs against Grafana's own dashboard schema: the `Dashboard` type of
 * `@grafana/schema` (generated from Grafana's CUE kinds). Each JSON is written into a TypeScript
 * source as an object literal that must satisfy the type, so wrong types, unknown enum values,
 * missing required fields and misspelled properties (excess properties) are all errors.
 * Returns the compiler's messages for each JSON (none: valid), from one compilation.
 */
function schemaErrors(...jsons: string[]): string[][] {
  const file = join(ROOT, 'dashboard-schema-check.ts');
  let source = "import type { Dashboard } from '@grafana/schema';\n";
  const starts: number[] = [];
  jsons.forEach((json, i) => {
    starts.push(source.length);
    source += `export const dashboard${i} = ${json.trim()} satisfies Dashboard;\n`;
  });
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, types: [], lib: ['lib.es2022.d.ts'] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError) => (name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const errors: string[][] = jsons.map(() => []);
  for (const d of ts.getPreEmitDiagnostics(program, program.getSourceFile(file))) {
    const at = d.start ?? 0;
    const index = starts.findLastIndex((s) => s <= at);
    (errors[index] ?? errors[0]).push(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  return errors;
}

/** Every metric the three processes register (their /metrics pages with nothing observed yet). */
async function registeredMetrics(): Promise<MetricsPage[]> {
  const figures = { jobFigures: async () => [], teamNames: async () => new Map() } as unknown as MetricsRepository;
  const nodes = { list: async () => [] } as unknown as NodeRepository;
  const leadership = { leading: false } as Leadership;
  const registries = [
    new ApiMetrics(figures).registry,
    new SchedulerMetrics(loadConfig(SchedulerConfig, {}), figures, nodes, leadership).registry,
    new AgentMetrics(loadConfig(AgentConfig, {})).registry,
  ];
  return Promise.all(registries.map(async (r) => parsePrometheusText(await r.metrics())));
}

describe('Grafana dashboards in docker/grafana/dashboards', () => {
  /** The broken variants of the Gridline dashboard the schema check must refuse. */
  const BROKEN: [string, (d: Record<string, unknown> & { panels: Record<string, unknown>[] }) => void][] = [
    ['a required field missing', (d) => delete d.schemaVersion],
    ['a wrong type', (d) => (d.refresh = 30)],
    ['a misspelled property', (d) => (d.pannels = d.panels)],
    ['a value outside an enum', (d) => (d.graphTooltip = 'shared')],
    ['a grid position of the wrong type', (d) => ((d.panels[1].gridPos as Record<string, unknown>).w = '8')],
    ['an unknown variable type', (d) => ((d.templating as { list: Record<string, unknown>[] }).list[0].type = 'dropdown')],
  ];
  /** Every schema check of this block from one compilation, made once (@grafana/schema takes the compiler seconds). */
  let files: Map<string, string[]>;
  let broken: string[][];

  beforeAll(() => {
    const good = JSON.parse(dashboardText('gridline.json')) as Record<string, unknown> & { panels: Record<string, unknown>[] };
    const variants = BROKEN.map(([, change]) => {
      const d = structuredClone(good);
      change(d);
      return JSON.stringify(d, null, 2);
    });
    const errors = schemaErrors(...FILES.map(dashboardText), ...variants);
    files = new Map(FILES.map((f, i) => [f, errors[i]]));
    broken = errors.slice(FILES.length);
  }, 120_000);

  it('there is the Gridline dashboard', () => {
    expect(FILES).toContain('gridline.json');
  });

  it.each(FILES)('%s validates against Grafana\'s dashboard schema (@grafana/schema)', (file) => {
    expect(files.get(file)).toEqual([]);
  });

  it('the schema check fails on a broken dashboard', () => {
    const [noVersion, refreshNumber, misspelled, tooltip, gridPos, variable] = broken;
    expect(noVersion.join('\n')).toMatch(/schemaVersion/);
    expect(refreshNumber.join('\n')).toMatch(/'number' is not assignable to type 'string'/);
    expect(misspelled.join('\n')).toMatch(/pannels/);
    expect(tooltip.join('\n')).toMatch(/DashboardCursorSync/);
    expect(gridPos.join('\n')).toMatch(/'string' is not assignable to type 'number'/);
    expect(variable.join('\n')).toMatch(/VariableType|dropdown/);
  });

  it.each(FILES)('%s: panel ids are unique, panels fit the 24-column grid, every query names the templated Prometheus data source', (file) => {
    const d = JSON.parse(dashboardText(file)) as DashboardJson;
    const ids = d.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect([p.title, p.gridPos.x + p.gridPos.w <= 24, p.gridPos.w > 0, p.gridPos.h > 0]).toEqual([p.title, true, true, true]);
      if (p.type === 'row') continue;
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.datasource).toEqual(p.datasource);
        // Balanced brackets: a cut or mangled expression is caught here (Prometheus would refuse it).
        for (const [open, close] of ['()', '{}', '[]']) expect([t.expr, t.expr.split(open).length]).toEqual([t.expr, t.expr.split(close).length]);
      }
    }
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus', current: { value: 'gridline-prometheus' } });
  });

  it('every metric the dashboard queries is registered by the api, the scheduler or the agent', async () => {
    const pages = await registeredMetrics();
    const d = JSON.parse(dashboardText('gridline.json')) as DashboardJson;
    const used = new Set(d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => promqlMetricNames(t.expr))));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((name) => !pages.some((page) => exportsMetric(page, name)))).toEqual([]);
    // And the names follow Prometheus's conventions: gridline_ prefix, counters end in _total, units in base units.
    for (const page of pages) {
      for (const [name, type] of page.types) {
        if (/^(process|nodejs)_/.test(name)) continue;
        expect(name).toMatch(/^gridline_[a-z0-9_]+$/);
        if (type === 'counter') expect(name).toMatch(/_total$/);
        else expect(name).not.toMatch(/_total$/);
        expect(name).not.toMatch(/_(ms|milliseconds|kb|mb|gb|mib|gib)(_|$)/);
      }
    }
  });

  it('the PromQL name extraction sees metrics and leaves functions, labels and variables out', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le, team) (rate(gridline_queue_wait_seconds_bucket{job=~"$scheduler_job", team=~"$team"}[$__rate_interval])))')).toEqual(['gridline_queue_wait_seconds_bucket']);
    expect(promqlMetricNames('max by (state) (sum without (team, model) (gridline_jobs{state=~"queued|running"})) / on (state) group_left gridline_nodes')).toEqual(['gridline_jobs', 'gridline_nodes']);
  });
});

describe('Prometheus and Grafana provisioning (compose profile `observability`)', () => {
  interface Service {
    image?: string;
    profiles?: string[];
    volumes?: string[];
    environment?: Record<string, string>;
    depends_on?: unknown;
    configs?: { source: string; target: string }[];
  }
  const compose = parse(read('docker/compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown>; configs?: Record<string, { content?: string }> };
  const prometheus = parse(read('docker/prometheus/prometheus.yml')) as {
    scrape_configs: { job_name: string; metrics_path?: string; authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[];
  };
  const dashboard = JSON.parse(dashboardText('gridline.json')) as DashboardJson;
  /** A bind mount's host path (relative to docker/) for a container path. */
  const mountOf = (svc: Service, target: string) => (svc.volumes ?? []).map((v) => v.split(':')).find(([, t]) => t === target)?.[0];

  it('prometheus and grafana run only under the observability profile, from pinned images, with their data in volumes', () => {
    for (const name of ['prometheus', 'grafana']) {
      const svc = compose.services[name];
      expect(svc.profiles).toEqual(['observability']);
      expect(svc.image).toMatch(/^(prom\/prometheus|grafana\/grafana):v?\d+\.\d+\.\d+$/);
    }
    expect(compose.volumes).toHaveProperty('prometheus-data');
    expect(compose.volumes).toHaveProperty('grafana-data');
    expect(mountOf(compose.services.prometheus, '/etc/prometheus/prometheus.yml')).toBe('./prometheus/prometheus.yml');
  });

  it('Prometheus scrapes every Gridline process of the compose file on the port its config sets, under the job names the dashboard selects', () => {
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]));
    const constant = (name: string) => dashboard.templating.list.find((v) => v.name === name)?.query;
    expect(Object.keys(jobs).sort()).toEqual([constant('agent_job'), constant('api_job'), constant('scheduler_job')].sort());
    const { api, scheduler } = compose.services;
    expect(jobs['gridline-api']).toEqual([`api:${api.environment?.PORT}`]);
    expect(loadConfig(SchedulerConfig, { GRIDLINE_METRICS_PORT: scheduler.environment?.GRIDLINE_METRICS_PORT }).GRIDLINE_METRICS_PORT).toBeGreaterThan(0);
    expect(jobs['gridline-scheduler']).toEqual([`scheduler:${scheduler.environment?.GRIDLINE_METRICS_PORT}`]);
    // Every agent that runs without a profile is a target.
    const agents = Object.entries(compose.services).filter(([name, svc]) => name.startsWith('agent') && !svc.profiles);
    expect(agents.length).toBeGreaterThan(0);
    expect(jobs['gridline-agent'].sort()).toEqual(agents.map(([name, svc]) => `${name}:${svc.environment?.GRIDLINE_METRICS_PORT}`).sort());
    for (const c of prometheus.scrape_configs) expect(c.metrics_path ?? '/metrics').toBe('/metrics');
  });

  it('every Gridline process guards /metrics with the token Prometheus sends; the listeners bind all interfaces only there', () => {
    const gridline = Object.entries(compose.services).filter(([name]) => name === 'api' || name === 'scheduler' || name.startsWith('agent'));
    const token = compose.configs?.['metrics-token']?.content;
    expect(token).toMatch(/^\$\{GRIDLINE_METRICS_TOKEN:-.+\}$/);
    for (const [name, svc] of gridline) expect({ name, token: svc.environment?.GRIDLINE_METRICS_TOKEN }).toEqual({ name, token });
    const file = compose.services.prometheus.configs?.find((c) => c.source === 'metrics-token')?.target;
    expect(file).toBe('/etc/prometheus/metrics-token');
    for (const c of prometheus.scrape_configs) expect({ job: c.job_name, file: c.authorization?.credentials_file }).toEqual({ job: c.job_name, file });
    // The listeners' own default is loopback: compose opens them to Prometheus explicitly.
    expect(loadConfig(SchedulerConfig, {}).GRIDLINE_METRICS_HOST).toBe('127.0.0.1');
    expect(loadConfig(AgentConfig, {}).GRIDLINE_METRICS_HOST).toBe('127.0.0.1');
    for (const [name, svc] of gridline.filter(([n]) => n !== 'api')) expect({ name, host: svc.environment?.GRIDLINE_METRICS_HOST }).toEqual({ name, host: '0.0.0.0' });
  });

  it('Grafana is provisioned with the Prometheus data source the dashboard names and a provider that loads the mounted dashboards', () => {
    const grafana = compose.services.grafana;
    const provisioning = mountOf(grafana, '/etc/grafana/provisioning');
    expect(provisioning).toBe('./grafana/provisioning');
    const datasources = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; type: string; url: string }[] };
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: 'gridline-prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = parse(read('docker/grafana/provisioning/dashboards/gridline.yml')) as { providers: { type: string; options: { path: string } }[] };
    const path = providers.providers[0].options.path;
    expect(providers.providers[0].type).toBe('file');
    expect(mountOf(grafana, path)).toBe('./grafana/dashboards');
    expect(grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${path}/gridline.json`);
  });
});
