import { Controller, Get, Headers, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiError, metricsTokenMatches } from '@gridline/common';
import { ApiConfig } from '../api.config';
import { Public } from '../auth/auth.decorators';
import { ApiMetrics } from './api-metrics';

/**
 * `GET /metrics` for Prometheus: no HMAC signing (a scraper cannot sign); behind a bearer token
 * when GRIDLINE_METRICS_TOKEN is set; in production without one, not served unless
 * GRIDLINE_METRICS_PUBLIC is true. Kept out of the OpenAPI document: it is not the API.
 */
@ApiExcludeController()
@Public()
@Controller()
export class MetricsController {
  constructor(
    private readonly config: ApiConfig,
    private readonly metrics: ApiMetrics,
  ) {}

  @Get('metrics')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    const access = this.config.metricsAccess;
    if (access === 'hidden') throw new ApiError('metrics_not_exposed', 'GET /metrics is off in production without GRIDLINE_METRICS_TOKEN (or GRIDLINE_METRICS_PUBLIC=true)');
    if (access === 'token' && !metricsTokenMatches(authorization, this.config.GRIDLINE_METRICS_TOKEN)) {
      res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      throw new ApiError('authentication_required', 'GET /metrics needs the metrics token: Authorization: Bearer <GRIDLINE_METRICS_TOKEN>');
    }
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
