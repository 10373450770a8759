import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { metricsTokenMatches } from './metrics-auth';

export interface MetricsListenerOptions {
  /** 0: no listener. */
  port: number;
  host: string;
  /** When set, a scrape must send `Authorization: Bearer <token>`. */
  token?: string;
  /** Who listens, for the log line (`scheduler`, `agent`). */
  name: string;
  /**
   * Whether GRIDLINE_METRICS_PORT was set (default true). A port in use fails the start when it
   * was; when it is only the default, the process logs a warning and runs without metrics.
   */
  explicit?: boolean;
}

/**
 * `GET /metrics` on a port of its own, for processes without an HTTP server (the scheduler,
 * the agent): Prometheus's text format, optionally behind a bearer token. Listens when the
 * app boots (a configured port in use fails the start, naming the variable; the default port in
 * use is a warning) and closes at shutdown.
 */
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | null = null;

  constructor(
    private readonly registry: Registry,
    private readonly options: MetricsListenerOptions,
  ) {}

  /** The port it listens on (null when off or not started yet). */
  get port(): number | null {
    return (this.server?.address() as AddressInfo | null)?.port ?? null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.port === 0) return;
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      if (!metricsTokenMatches(req.headers.authorization, this.options.token)) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' }).end('the metrics token is required\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (e: Error) => {
          this.logger.warn(`collecting metrics failed: ${e.message}`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end('collecting metrics failed\n');
        },
      );
    });
    const failed = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', (e: NodeJS.ErrnoException) => resolve(e));
      server.listen(this.options.port, this.options.host, () => resolve(null));
    });
    if (failed) {
      const where = `${this.options.host}:${this.options.port} (GRIDLINE_METRICS_PORT)`;
      if (this.options.explicit === false && failed.code === 'EADDRINUSE') {
        this.logger.warn(`${this.options.name} runs without metrics: the default metrics port ${where} is in use; set GRIDLINE_METRICS_PORT to another port, or 0 to turn the listener off`);
        return;
      }
      throw new Error(`the metrics listener could not listen on ${where}: ${failed.code ?? failed.message}`);
    }
    this.server = server;
    if (!this.options.token && !isLoopback(this.options.host)) this.logger.warn(`${this.options.name} metrics are open to anyone who reaches ${this.options.host}:${this.port}: set GRIDLINE_METRICS_TOKEN`);
    this.logger.log(`${this.options.name} metrics on http://${this.options.host}:${this.port}/metrics${this.options.token ? ' (bearer token required)' : ''}`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    // Prometheus keeps its connection open between scrapes: closing waits for none.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}

/** Whether a bind address only takes connections from this machine. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
