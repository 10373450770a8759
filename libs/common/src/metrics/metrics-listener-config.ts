import type { FactoryProvider, Type as ClassOf } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { Registry } from 'prom-client';
import { MetricsListener, MetricsListenerOptions } from './metrics-listener';

/** The variables of a process's own metrics listener, as `metricsListenerOptions` reads them. */
export interface MetricsListenerVariables {
  GRIDLINE_METRICS_PORT?: number;
  GRIDLINE_METRICS_HOST: string;
  GRIDLINE_METRICS_TOKEN?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- TypeScript's rule for a mixin's base: a constructor taking `any[]`
type ConfigBase = abstract new (...args: any[]) => object;

/**
 * Adds the metrics listener's variables to a process's config class (the scheduler's and the
 * agent's, which extend different bases): `GET /metrics` on a port of its own, bound to
 * loopback unless GRIDLINE_METRICS_HOST says otherwise (its labels name teams and models).
 */
export function WithMetricsListener<TBase extends ConfigBase>(Base: TBase) {
  abstract class MetricsListenerConfig extends Base implements MetricsListenerVariables {
    /**
     * Port of the metrics listener (`GET /metrics`, Prometheus's text format); 0 turns it off.
     * Unset, the process's default port: if that one is taken, the process logs a warning and
     * runs without metrics; a port set here that is taken stops the start.
     */
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(0)
    @Max(65535)
    GRIDLINE_METRICS_PORT?: number = undefined;

    /** Address the metrics listener binds: loopback by default; `0.0.0.0` to be scraped from elsewhere (set a token). */
    @IsString()
    GRIDLINE_METRICS_HOST = '127.0.0.1';

    /** When set, a scrape of /metrics must send `Authorization: Bearer <token>` (Prometheus: `authorization.credentials_file`). */
    @IsOptional()
    @IsString()
    GRIDLINE_METRICS_TOKEN?: string = undefined;
  }
  return MetricsListenerConfig;
}

/** The listener's options from a config with WithMetricsListener's variables. */
export function metricsListenerOptions(config: MetricsListenerVariables, name: string, defaultPort: number): MetricsListenerOptions {
  const explicit = config.GRIDLINE_METRICS_PORT !== undefined;
  return { name, port: config.GRIDLINE_METRICS_PORT ?? defaultPort, explicit, host: config.GRIDLINE_METRICS_HOST, token: config.GRIDLINE_METRICS_TOKEN };
}

/** The MetricsListener provider of a process whose metrics class holds its registry. */
export function metricsListenerProvider(metrics: ClassOf<{ registry: Registry }>, config: MetricsListenerVariables, name: string, defaultPort: number): FactoryProvider<MetricsListener> {
  return {
    provide: MetricsListener,
    inject: [metrics],
    useFactory: (m: { registry: Registry }) => new MetricsListener(m.registry, metricsListenerOptions(config, name, defaultPort)),
  };
}
