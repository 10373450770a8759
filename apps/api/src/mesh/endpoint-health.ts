import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisKeys, errorSummary } from '@gridline/common';
import { EndpointRecord, EndpointRepository } from '@gridline/db';
import { EndpointFailure, nextHealth } from '@gridline/mesh';
import { ApiConfig } from '../api.config';
import { ApiMetrics } from '../metrics/api-metrics';
import { EndpointConnector } from './endpoint-connector';
import { MeshViews } from './mesh-views';

/** How often the checker looks for endpoints whose check is due (in the mesh's one-second view of them). */
const TICK_MS = 1000;

/**
 * Active health checks: every endpoint's `GET /v1/models` each `intervalSeconds` (one api replica
 * checks it per interval, under a Redis lock), within `timeoutSeconds`. The outcome moves its
 * health by the thresholds (libs/mesh `nextHealth`) and, when it passed, refreshes its catalog
 * (the list it answered). A state change is logged and counted.
 */
@Injectable()
export class EndpointHealthChecker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EndpointHealth');
  private timer: NodeJS.Timeout | null = null;
  private readonly checking = new Map<string, Promise<unknown>>();
  private stopping = false;

  constructor(
    private readonly config: ApiConfig,
    private readonly endpoints: EndpointRepository,
    private readonly connector: EndpointConnector,
    private readonly views: MeshViews,
    private readonly metrics: ApiMetrics,
    private readonly keys: RedisKeys,
    @Inject(Redis) private readonly redis: Redis,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.GRIDLINE_ENDPOINT_CHECKS) return;
    this.timer = setInterval(() => void this.tick().catch((e: unknown) => this.logger.warn(`endpoint checks skipped: ${errorSummary(e)}`)), TICK_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.checking.values()]);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    for (const e of await this.views.endpointList()) {
      if (this.stopping || !e.enabled || this.checking.has(e.id)) continue;
      if (e.lastCheckAt && now - e.lastCheckAt.getTime() < e.health.intervalSeconds * 1000) continue;
      // One replica checks it this interval (the lock lapses a little before the next is due).
      const lockMs = Math.max(500, e.health.intervalSeconds * 1000 - TICK_MS);
      if ((await this.redis.set(this.keys.endpointCheckLock(e.id), randomUUID(), 'PX', lockMs, 'NX')) !== 'OK') continue;
      // A failure here (the database, a catalog that cannot be stored) is logged; it never ends the process.
      const run = this.check(e)
        .catch((err: unknown) => this.logger.warn({ endpoint: e.name }, `recording the endpoint's check failed: ${errorSummary(err)}`))
        .finally(() => this.checking.delete(e.id));
      this.checking.set(e.id, run);
    }
  }

  /** One active check of the endpoint, its outcome recorded. Also used on demand (a refresh). */
  async check(e: EndpointRecord): Promise<{ passed: boolean; error: string | null; models: string[] }> {
    const started = performance.now();
    let models: string[] = [];
    let error: string | null = null;
    try {
      models = await this.connector.client(e).listModels();
    } catch (err) {
      error = err instanceof EndpointFailure ? err.message : `the check failed: ${errorSummary(err)}`;
    }
    const passed = error === null;
    const at = new Date();
    // Read again: the check took a while, and another replica or an admin may have changed it.
    const current = await this.endpoints.get(e.id);
    if (!current) return { passed, error, models };
    const next = nextHealth(current, passed, current.health);
    await this.endpoints.recordCheck(e.id, { state: next.state, stateChanged: next.changed, consecutiveFailures: next.consecutiveFailures, consecutiveSuccesses: next.consecutiveSuccesses, lastError: error, at });
    if (passed) await this.endpoints.replaceCatalog(e.id, models, at, { offerNew: current.offerNewModels });
    this.metrics.endpointChecked(e.name, passed, (performance.now() - started) / 1000);
    if (next.changed) {
      this.views.forget();
      if (next.state === 'unhealthy') this.logger.warn({ endpoint: e.name, failures: next.consecutiveFailures }, `endpoint unhealthy: ${error}`);
      else this.logger.log({ endpoint: e.name }, `endpoint ${next.state}`);
    }
    return { passed, error, models };
  }
}
