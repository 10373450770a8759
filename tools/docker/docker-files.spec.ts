import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- this check reads each app's config class to keep the compose file honest */
import { AgentConfig } from '../../apps/agent/src/agent.config';
import { parseSimulatedGpus } from '../../apps/agent/src/inventory/simulated-gpus';
import { ApiConfig } from '../../apps/api/src/api.config';
import { SchedulerConfig } from '../../apps/scheduler/src/scheduler.config';
/* eslint-enable @nx/enforce-module-boundaries */
import { loadConfig } from '@gridline/common';
import { parseLabels, parseTaints } from '@gridline/scheduling';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
  volumes?: string[];
  profiles?: string[];
  deploy?: { resources?: { reservations?: { devices?: { driver?: string; count?: unknown; capabilities?: string[] }[] } } };
}
const compose = parse(read('docker/compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };

const AGENT = { config: AgentConfig, main: 'dist/apps/agent/src/main.js' };
/** Each compose service that runs Gridline, with the config class its process reads. */
const APPS = {
  api: { config: ApiConfig, main: 'dist/apps/api/src/main.js' },
  scheduler: { config: SchedulerConfig, main: 'dist/apps/scheduler/src/main.js' },
  'agent-1': AGENT,
  'agent-2': AGENT,
  'agent-cuda': AGENT,
} as const;
const AGENTS = ['agent-1', 'agent-2', 'agent-cuda'] as const;

/** A compose value with `${VAR:-default}` replaced by its default. */
const withDefaults = (v: unknown) => String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

/** Dockerfile instructions (continuation lines joined, comments dropped) as [keyword, arguments]. */
function instructions(dockerfile: string): [string, string][] {
  return dockerfile
    .replace(/\\\n(\s*#.*\n)*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

/** Variables the agent image's entrypoint reads itself (not the agent's config class). */
const IMAGE_ONLY = new Set(['GRIDLINE_DEMO_MODEL']);

describe('docker/ files agree with the code', () => {
  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s: compose sets only variables its config class reads, and valid values', (name) => {
    const svc = compose.services[name];
    const known = Object.keys(new APPS[name].config());
    const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, withDefaults(v)]));
    for (const key of Object.keys(env)) {
      if (!IMAGE_ONLY.has(key)) expect(known).toContain(key);
    }
    const appEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !IMAGE_ONLY.has(k)));
    expect(() => loadConfig(APPS[name].config as new () => object, { ...appEnv, NODE_ENV: 'production' })).not.toThrow();
  });

  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s: its Dockerfile exists, builds the workspace and starts the built entry point', (name) => {
    const svc = compose.services[name];
    expect(svc.build?.context).toBe('..');
    const dockerfile = read(svc.build?.dockerfile ?? '');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain(APPS[name].main);
    for (const copied of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of copied[1].split(/\s+/)) expect(existsSync(join(ROOT, src))).toBe(true);
    }
  });

  it('the build output layout matches what the images start', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    // The ESM runner keeps the repository layout under dist/ (it sits next to the agent's code) ...
    const runner = JSON.parse(read('libs/runtime/tsconfig.runner.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    expect(runner.compilerOptions).toMatchObject({ outDir: '../../dist', rootDir: '../..' });
    // ... and reaches the inference contract through package.json's `imports`, so images ship package.json with dist/.
    const pkg = JSON.parse(read('package.json')) as { imports: Record<string, { default: string }> };
    expect(pkg.imports['#gridline/contract'].default).toBe('./dist/libs/contract/src/index.js');
    for (const name of Object.keys(APPS)) expect(read(compose.services[name].build?.dockerfile ?? '')).toMatch(/^COPY --from=build \/app\/package\.json \.\/$/m);
  });

  it('api and scheduler share one database and Redis namespace; the agents reach the same Redis and join the api', () => {
    const { api, scheduler } = compose.services;
    expect(api.environment?.DATABASE_URL).toBe(scheduler.environment?.DATABASE_URL);
    for (const name of AGENTS) {
      const agent = compose.services[name];
      expect(api.environment?.GRIDLINE_REDIS_PREFIX).toBe(agent.environment?.GRIDLINE_REDIS_PREFIX);
      expect(api.environment?.REDIS_URL).toBe(agent.environment?.REDIS_URL);
      expect(agent.environment?.GRIDLINE_SERVER).toBe(`http://api:${api.environment?.PORT}`);
      // The join token is a secret: it comes from the environment (or .env), never from the compose file.
      expect(agent.environment?.GRIDLINE_JOIN_TOKEN).toBe('${GRIDLINE_JOIN_TOKEN:-}');
      expect(agent.depends_on).toHaveProperty('api');
    }
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis']));
    expect(read('docker/api.Dockerfile')).toContain('/readyz');
  });

  it('the agents are distinct nodes with their own data volumes; one reports simulated GPUs', () => {
    const agents = AGENTS.map((name) => compose.services[name]);
    const names = agents.map((a) => a.environment?.GRIDLINE_NODE_NAME);
    expect(new Set(names).size).toBe(AGENTS.length);
    const dataVolumes = agents.map((a) => (a.volumes ?? []).find((v) => v.endsWith(`:${a.environment?.GRIDLINE_DATA_DIR}`))?.split(':')[0]);
    expect(new Set(dataVolumes).size).toBe(AGENTS.length);
    for (const volume of dataVolumes) expect(compose.volumes).toHaveProperty(String(volume));
    for (const a of agents) {
      expect(() => parseLabels(a.environment?.GRIDLINE_NODE_LABELS ?? '')).not.toThrow();
      expect(() => parseTaints(a.environment?.GRIDLINE_NODE_TAINTS ?? '')).not.toThrow();
    }
    const simulated = agents.filter((a) => a.environment?.GRIDLINE_SIMULATE_GPUS);
    expect(simulated).toHaveLength(1);
    expect(simulated[0].profiles).toBeUndefined();
    expect(parseSimulatedGpus(simulated[0].environment?.GRIDLINE_SIMULATE_GPUS ?? '').length).toBeGreaterThan(0);
  });

  it('the CUDA agent runs on a CUDA runtime image with node-llama-cpp\'s prebuilt CUDA binaries, and compose gives it the GPUs', () => {
    const steps = instructions(read('docker/agent-cuda.Dockerfile'));
    const froms = steps.filter(([k]) => k === 'FROM').map(([, a]) => a);
    const [base] = froms[froms.length - 1].split(' ');
    const cudaMajor = /^nvidia\/cuda:(\d+)\.\d+\.\d+-runtime-ubuntu\d+\.\d+$/.exec(base)?.[1];
    expect(cudaMajor).toBeDefined();
    // The prebuilt binary is linked against one CUDA runtime major; the image must carry that one.
    const llamaCpp = JSON.parse(read('node_modules/node-llama-cpp/package.json')) as { optionalDependencies: Record<string, string> };
    const cudaBinary = readFileSync(join(ROOT, 'node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda/libggml-cuda.so')).toString('latin1');
    expect(/libcudart\.so\.(\d+)/.exec(cudaBinary)?.[1]).toBe(cudaMajor);

    const run = steps.filter(([k]) => k === 'RUN').map(([, a]) => a).join('\n');
    expect(run).toContain('npm ci');
    expect(run).toContain('npm run build');
    const prune = /find node_modules\/@node-llama-cpp .*-exec rm -rf/.exec(run)?.[0] ?? '';
    const kept = [...prune.matchAll(/! -name (\S+)/g)].map((m) => m[1]);
    expect(kept).toEqual(expect.arrayContaining(['linux-x64-cuda', 'linux-x64-cuda-ext']));
    for (const pkg of kept) expect(llamaCpp.optionalDependencies).toHaveProperty(`@node-llama-cpp/${pkg}`);
    expect(run).not.toMatch(/cmake|node-llama-cpp source|--gpu cuda/);

    const copies = steps.filter(([k]) => k === 'COPY').map(([, a]) => a);
    expect(copies).toEqual(expect.arrayContaining(['--from=build /app/dist dist', '--from=build /app/node_modules node_modules', '--from=build /app/package.json ./']));
    const env = steps.filter(([k]) => k === 'ENV').map(([, a]) => a).join(' ');
    expect(env).toContain('GRIDLINE_GPU=cuda');
    expect(env).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility/);
    expect(steps.filter(([k]) => k === 'CMD').pop()?.[1]).toBe('["node", "dist/apps/agent/src/main.js"]');
    expect(steps.some(([k, a]) => k === 'USER' && a !== 'root')).toBe(true);

    const cuda = compose.services['agent-cuda'];
    expect(cuda.build?.dockerfile).toBe('docker/agent-cuda.Dockerfile');
    expect(cuda.environment?.GRIDLINE_GPU).toBe('cuda');
    expect(cuda.deploy?.resources?.reservations?.devices).toEqual([{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }]);
  });
});
