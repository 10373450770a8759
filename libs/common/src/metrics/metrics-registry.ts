import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A process's own metrics registry, with Node's default process metrics (CPU, memory, event
 * loop, handles, GC) under their standard names (`process_*`, `nodejs_*`), so the usual
 * dashboards for Node processes work on Gridline's too. Each process registers its own
 * `gridline_*` metrics on it; nothing uses prom-client's global registry.
 */
export function createMetricsRegistry(defaultLabels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  if (Object.keys(defaultLabels).length > 0) registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Buckets (seconds) for what takes milliseconds: the api's own overhead on a request. */
export const FAST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Buckets (seconds) for waits a user feels: time to first token, queue waits, whole requests. */
export const LATENCY_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
