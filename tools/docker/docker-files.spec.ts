import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- this check reads each app's config class to keep the compose file honest */
import { AgentConfig } from '../../apps/agent/src/agent.config';
import { ApiConfig } from '../../apps/api/src/api.config';
import { SchedulerConfig } from '../../apps/scheduler/src/scheduler.config';
/* eslint-enable @nx/enforce-module-boundaries */
import { loadConfig } from '@gridline/common';

const ROOT = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

interface Service {
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, unknown>;
}
const compose = parse(read('docker/compose.yml'), { merge: true }) as { services: Record<string, Service> };

const APPS = {
  api: { config: ApiConfig, main: 'dist/apps/api/src/main.js' },
  scheduler: { config: SchedulerConfig, main: 'dist/apps/scheduler/src/main.js' },
  agent: { config: AgentConfig, main: 'dist/apps/agent/src/main.js' },
} as const;

/** Variables the agent image's entrypoint reads itself (not the agent's config class). */
const IMAGE_ONLY = new Set(['GRIDLINE_DEMO_MODEL']);

describe('docker/ files agree with the code', () => {
  it.each(Object.keys(APPS) as (keyof typeof APPS)[])('%s: compose sets only variables its config class reads, and valid values', (name) => {
    const svc = compose.services[name];
    const known = Object.keys(new APPS[name].config());
    const env = Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1')]));
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

  it('api and scheduler share one database and Redis namespace; the agent reaches the same Redis', () => {
    const { api, scheduler, agent } = compose.services;
    expect(api.environment?.DATABASE_URL).toBe(scheduler.environment?.DATABASE_URL);
    expect(api.environment?.GRIDLINE_REDIS_PREFIX).toBe(agent.environment?.GRIDLINE_REDIS_PREFIX);
    expect(api.environment?.REDIS_URL).toBe(agent.environment?.REDIS_URL);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'redis']));
    expect(read('docker/api.Dockerfile')).toContain('/readyz');
  });
});
