import { Logger } from '@nestjs/common';
import { createServer } from 'node:net';
import { Counter } from 'prom-client';
import { metricsTokenMatches } from './metrics-auth';
import { MetricsListener } from './metrics-listener';
import { WithMetricsListener, metricsListenerOptions } from './metrics-listener-config';
import { RedisConfig } from '../config/common-config';
import { loadConfig } from '../config/load-config';
import { createMetricsRegistry } from './metrics-registry';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('metricsTokenMatches', () => {
  it('lets anything through when no token is set, and only the bearer token when one is', () => {
    expect(metricsTokenMatches(undefined, undefined)).toBe(true);
    expect(metricsTokenMatches('Bearer x', '')).toBe(true);
    expect(metricsTokenMatches('Bearer s3cret', 's3cret')).toBe(true);
    expect(metricsTokenMatches('bearer s3cret', 's3cret')).toBe(true);
    expect(metricsTokenMatches(undefined, 's3cret')).toBe(false);
    expect(metricsTokenMatches('Bearer s3cre', 's3cret')).toBe(false);
    expect(metricsTokenMatches('Bearer s3cret extra', 's3cret')).toBe(false);
    expect(metricsTokenMatches('Basic s3cret', 's3cret')).toBe(false);
  });
});

describe('MetricsListener', () => {
  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

  it('serves the registry at /metrics behind the token, 404 elsewhere, and closes', async () => {
    const registry = createMetricsRegistry({ node: 'n1' });
    new Counter({ name: 'gridline_test_things_total', help: 'things', registers: [registry] }).inc(3);
    const port = await freePort();
    const listener = new MetricsListener(registry, { name: 'test', port, host: '127.0.0.1', token: 'tok' });
    await listener.onApplicationBootstrap();
    try {
      expect(listener.port).toBe(port);
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer tok' } });
      expect(ok.status).toBe(200);
      const text = await ok.text();
      expect(text).toContain('gridline_test_things_total{node="n1"} 3');
      expect(text).toContain('# TYPE process_cpu_seconds_total counter');
      expect((await fetch(`${url}/other`, { headers: { authorization: 'Bearer tok' } })).status).toBe(404);
    } finally {
      await listener.onApplicationShutdown();
    }
    expect(listener.port).toBeNull();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('the default port in use is a warning and the process runs without metrics', async () => {
    const port = await freePort();
    const first = new MetricsListener(createMetricsRegistry(), { name: 'test', port, host: '127.0.0.1' });
    await first.onApplicationBootstrap();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    try {
      const second = new MetricsListener(createMetricsRegistry(), { name: 'test', port, host: '127.0.0.1', explicit: false });
      await expect(second.onApplicationBootstrap()).resolves.toBeUndefined();
      expect(second.port).toBeNull();
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/runs without metrics.*GRIDLINE_METRICS_PORT/));
      await second.onApplicationShutdown();
    } finally {
      warn.mockRestore();
      await first.onApplicationShutdown();
    }
  });

  it('port 0 is off; a port in use fails the start naming the variable', async () => {
    const off = new MetricsListener(createMetricsRegistry(), { name: 'test', port: 0, host: '127.0.0.1' });
    await off.onApplicationBootstrap();
    expect(off.port).toBeNull();
    const port = await freePort();
    const first = new MetricsListener(createMetricsRegistry(), { name: 'test', port, host: '127.0.0.1' });
    await first.onApplicationBootstrap();
    try {
      await expect(new MetricsListener(createMetricsRegistry(), { name: 'test', port, host: '127.0.0.1' }).onApplicationBootstrap()).rejects.toThrow(/GRIDLINE_METRICS_PORT.*EADDRINUSE/);
      await expect(new MetricsListener(createMetricsRegistry(), { name: 'test', port, host: '127.0.0.1', explicit: true }).onApplicationBootstrap()).rejects.toThrow(/GRIDLINE_METRICS_PORT.*EADDRINUSE/);
    } finally {
      await first.onApplicationShutdown();
    }
  });
});

describe('WithMetricsListener', () => {
  class Config extends WithMetricsListener(RedisConfig) {}

  it('binds loopback by default; the default port is not explicit, a set one is', () => {
    const defaults = loadConfig(Config, {});
    expect(defaults.GRIDLINE_METRICS_HOST).toBe('127.0.0.1');
    expect(metricsListenerOptions(defaults, 'agent', 9465)).toEqual({ name: 'agent', port: 9465, explicit: false, host: '127.0.0.1', token: undefined });
    const set = loadConfig(Config, { GRIDLINE_METRICS_PORT: '9500', GRIDLINE_METRICS_HOST: '0.0.0.0', GRIDLINE_METRICS_TOKEN: 't' });
    expect(metricsListenerOptions(set, 'agent', 9465)).toEqual({ name: 'agent', port: 9500, explicit: true, host: '0.0.0.0', token: 't' });
    expect(metricsListenerOptions(loadConfig(Config, { GRIDLINE_METRICS_PORT: '0' }), 'agent', 9465)).toMatchObject({ port: 0, explicit: true });
    expect(() => loadConfig(Config, { GRIDLINE_METRICS_PORT: 'x' })).toThrow(/GRIDLINE_METRICS_PORT/);
    expect(() => loadConfig(Config, { GRIDLINE_METRICS_PORT: '70000' })).toThrow(/GRIDLINE_METRICS_PORT/);
  });
});
