import { Controller, Get, HttpCode, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly db: DataSource,
    private readonly redis: Redis,
  ) {}

  /** Liveness: the process serves HTTP. */
  @Get('healthz')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is alive' })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and Redis answer. */
  @Get('readyz')
  @ApiOkResponse({ description: 'Postgres and Redis are reachable' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is unreachable' })
  async readyz(): Promise<{ status: 'ok'; checks: Record<string, 'ok'> }> {
    const within = async <T>(p: Promise<T>): Promise<T> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        return await Promise.race([p, new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), 2000)))]);
      } finally {
        clearTimeout(timer);
      }
    };
    const [pg, rd] = await Promise.allSettled([within(this.db.query('SELECT 1')), within(this.redis.ping())]);
    const checks = { postgres: pg.status === 'fulfilled' ? 'ok' : 'unreachable', redis: rd.status === 'fulfilled' ? 'ok' : 'unreachable' };
    if (checks.postgres !== 'ok' || checks.redis !== 'ok') throw new ServiceUnavailableException({ message: `not ready: ${JSON.stringify(checks)}` });
    return { status: 'ok', checks: checks as Record<string, 'ok'> };
  }
}
